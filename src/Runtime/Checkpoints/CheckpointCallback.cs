namespace FastCallbacks;

/// <summary>
/// Writes a training checkpoint (<c>Path/ModelDir/fname.pt</c>) at the end of every epoch and, with
/// <paramref name="everyNBatches"/>, after every n-th training batch: the model, the optimizer with its step counts, every
/// stateful callback's state (<see cref="IStatefulCallback"/>), torch's random generator, the loaders' positions, where
/// the fit is, and the learner's hyper-parameters. A fit killed at any moment resumes from it with
/// <c>resumeFrom: "checkpoint"</c> (<see cref="Learner.Fit"/>, <see cref="Learner.FitOneCycle"/>, ...) and ends as if it
/// had never stopped. Not in fastai, whose <c>learn.save</c> keeps the model and optimizer only.
/// </summary>
/// <remarks>
/// <para>It runs after every other callback (order <see cref="int.MaxValue"/>), so what it saves is the state after the
/// batch or epoch. Each write replaces the file atomically (see <see cref="Learner.Save"/>): a crash while writing leaves
/// the previous checkpoint whole. Only the main process of a distributed job writes (<see cref="Learner.IsMainProcess"/>);
/// every rank can resume from the file. It stands aside during <see cref="Learner.LrFind"/> and prediction runs.</para>
/// <para>A write costs about what <see cref="Learner.Save"/> with the optimizer costs (the benchmarks measure it); it
/// happens between events, never on the per-event path.</para>
/// </remarks>
/// <param name="fname">The checkpoint's name in <c>Path/ModelDir</c> (resume with the same name).</param>
/// <param name="everyNBatches">Also write after every n-th training batch of the fit (0: at epoch ends only).</param>
public sealed partial class CheckpointCallback(string fname = "checkpoint", int everyNBatches = 0) : Callback
{
    /// <summary>The checkpoint's name.</summary>
    public string Fname { get; } = string.IsNullOrWhiteSpace(fname)
        ? throw new ArgumentException("Name the checkpoint, for example fname: \"checkpoint\".", nameof(fname))
        : fname;

    /// <summary>Write after every n-th training batch too (0: at epoch ends only).</summary>
    public int EveryNBatches { get; } = everyNBatches >= 0
        ? everyNBatches
        : throw new ArgumentOutOfRangeException(nameof(everyNBatches), everyNBatches, "everyNBatches is a number of training batches; 0 writes at epoch ends only.");

    /// <inheritdoc/>
    public override int Order => int.MaxValue;

    /// <summary>The file last written, or null.</summary>
    public string? LastSavedPath { get; private set; }

    /// <summary>Checkpoints written by this callback.</summary>
    public int Written { get; private set; }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        Run = !learn.IsInferenceRun && learn.Cb<GatherPredsCallback>() is null && !learn.Cbs.Any(cb => cb is IDisablesTrackers);
        // A process killed while writing leaves the temporary file of the atomic write behind.
        if (Run && learn.IsMainProcess) AtomicFile.RemoveLeftovers(learn.CheckpointPath(Fname));
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        if (EveryNBatches == 0 || !learn.Training || learn.TrainIter % EveryNBatches != 0) return;
        Write(midEpoch: true);
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch() => Write(midEpoch: false);

    private void Write(bool midEpoch)
    {
        var learn = Attached;
        var path = learn.CheckpointPath(Fname);
        if (learn.IsMainProcess) TrainingCheckpoint.Write(learn, path, midEpoch);
        LastSavedPath = path;
        Written++;
    }
}
