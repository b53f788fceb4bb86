using IOPath = System.IO.Path;

namespace FastCallbacks;

// Resuming a fit from a training checkpoint (CheckpointCallback writes them): read and check the file, apply it to the
// learner before the fit starts, and give the callbacks their states back once BeforeFit (and, mid-epoch, BeforeTrain)
// has run. The loop itself only starts at the checkpoint's epoch and batch.
public partial class Learner
{
    private (string Name, int Stage)? _recipe;
    private bool _optMadeForResume;

    /// <summary>The recipe of the current fit (<c>Fit</c>, <c>FitOneCycle</c>, <c>FineTune</c>'s stage, ...), which training checkpoints record.</summary>
    internal (string Name, int Stage) CurrentRecipe => _recipe ?? ("Fit", 0);

    /// <summary>
    /// Names the fits run until the scope ends after <paramref name="name"/> (the outermost recipe wins: FineTune's
    /// FitOneCycle stages are FineTune's).
    /// </summary>
    private IDisposable Recipe(string name, int stage = 0)
    {
        if (_recipe is not null) return new Scope(static () => { });
        _recipe = (name, stage);
        return new Scope(() => _recipe = null);
    }

    /// <summary>
    /// The file of <paramref name="resumeFrom"/>: a checkpoint's name in <c>Path/ModelDir</c> (as <see cref="CheckpointCallback"/>
    /// writes it), or a path to a <c>.pt</c> file (absolute, or relative to the current folder).
    /// </summary>
    private string ResumePath(string resumeFrom)
    {
        if (string.IsNullOrWhiteSpace(resumeFrom))
            throw new ArgumentException("Name the checkpoint to resume from, for example resumeFrom: \"checkpoint\", or pass null to start the fit afresh.", nameof(resumeFrom));
        return IOPath.IsPathRooted(resumeFrom) || resumeFrom.EndsWith(".pt", StringComparison.OrdinalIgnoreCase)
            ? IOPath.GetFullPath(resumeFrom)
            : CheckpointPath(resumeFrom);
    }

    /// <summary>
    /// Reads <paramref name="resumeFrom"/>, checks it against this learner and the fit about to run, and applies it (model,
    /// optimizer, callbacks, loaders, random generator, hyper-parameters); null when not resuming. Disposing the result
    /// ends the resumption (the fit's end).
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint does not fit; nothing changed.</exception>
    private Resumption? BeginResume(string? resumeFrom, int nEpoch, int startEpoch, bool resetOpt)
    {
        var madeForResume = _optMadeForResume;
        _optMadeForResume = false;
        if (resumeFrom is null) return null;
        if (startEpoch != 0)
            throw new ArgumentException("Pass resumeFrom or startEpoch, not both: the checkpoint says where the fit resumes.", nameof(startEpoch));
        if (resetOpt)
            throw new ArgumentException("resumeFrom restores the optimizer from the checkpoint, which resetOpt: true would throw away; pass one of them.", nameof(resetOpt));
        TrainingCheckpoint? checkpoint = null;
        Optimizer? made = null;
        try
        {
            checkpoint = TrainingCheckpoint.Read(ResumePath(resumeFrom));
            made = Opt is null ? MakeOpt(SplitModel()) : null;
            var (recipe, stage) = CurrentRecipe;
            checkpoint.ApplyTo(this, made ?? Opt!, recipe, stage, nEpoch);
        }
        catch
        {
            made?.Dispose();
            checkpoint?.Dispose();
            // A recipe made the optimizer only to read its rates: a refused resume leaves the learner without one, as it was.
            if (madeForResume)
            {
                Opt?.Dispose();
                Opt = null;
            }
            throw;
        }
        if (made is not null) Install(made);
        var cb = new ResumeCallback(checkpoint);
        AddCb(cb);
        return new Resumption(this, checkpoint, cb);
    }

    /// <summary>A resumed fit: where it starts, and what ends with it.</summary>
    private sealed class Resumption(Learner learn, TrainingCheckpoint checkpoint, ResumeCallback cb) : IDisposable
    {
        /// <summary>The epoch the fit starts at.</summary>
        public int Epoch => checkpoint.Epoch;

        /// <summary>The training batch of <see cref="Epoch"/> the fit starts at.</summary>
        public int Batch => checkpoint.Batch;

        public void Dispose()
        {
            learn.RemoveCb(cb);
            checkpoint.Dispose();
        }
    }
}

/// <summary>
/// Gives the stateful callbacks their checkpoint states back in a resumed fit: after every other BeforeFit handler (so
/// their resets do not undo it) and, for a checkpoint taken in the middle of an epoch, after every other BeforeTrain
/// handler of that epoch, with the learner's place in the fit (<see cref="Learner.TrainIter"/>, <see cref="Learner.PctTrain"/>).
/// </summary>
internal sealed partial class ResumeCallback(TrainingCheckpoint checkpoint) : Callback
{
    private bool _resumedEpoch;

    /// <inheritdoc/>
    public override int Order => int.MaxValue;

    /// <inheritdoc/>
    public override string Name => "resume";

    [On(Event.BeforeFit)]
    private void BeforeFit() => checkpoint.ApplyCallbackStates(Attached, midEpochPhase: false);

    [On(Event.BeforeTrain)]
    private void BeforeTrain()
    {
        var learn = Attached;
        if (_resumedEpoch || !checkpoint.MidEpoch || learn.Epoch != checkpoint.Epoch) return;
        _resumedEpoch = true;
        checkpoint.ApplyCallbackStates(learn, midEpochPhase: true);
    }
}
