using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>TensorBoardCallback</c> for scalars (order 51, just after the <see cref="Recorder"/>; training
/// batches only): writes the smoothed training loss and the learning rate (and momentum, when the optimizer has one)
/// after every training batch, and the validation loss and metrics after every epoch, to a TensorBoard event file
/// through TorchSharp's <c>torch.utils.tensorboard.SummaryWriter</c>. The step is the number of training batches
/// done (<see cref="Learner.TrainIter"/>).
/// </summary>
/// <remarks>
/// <para>Stands down during <see cref="Learner.LrFind"/> and prediction runs, as fastai's does.</para>
/// <para>Its state (<see cref="IStatefulCallback"/>) is the folder it writes: a fit resumed from a training checkpoint
/// writes on into the same folder, from the checkpoint's step (the restored <see cref="Learner.TrainIter"/>), in a new
/// event file. TensorBoard drops the points a crashed run wrote after that step when it sees the step go back (its
/// default <c>--purge_orphaned_data</c>).</para>
/// </remarks>
public sealed partial class TensorBoardCallback : Callback, IStatefulCallback
{
    private SummaryWriter? _writer;
    private string? _dir;

    /// <summary>Creates the callback.</summary>
    /// <param name="logDir">The folder of the event files (default: TorchSharp's <c>runs/&lt;date&gt;_&lt;host&gt;</c>).
    /// A relative path is under <see cref="Learner.Path"/>.</param>
    public TensorBoardCallback(string? logDir = null)
    {
        LogDir = logDir;
        RunValid = false;
    }

    /// <inheritdoc/>
    public override int Order => 51;

    /// <summary>The folder given to the constructor.</summary>
    public string? LogDir { get; }

    /// <summary>The folder being written (once the first value was written), or null.</summary>
    public string? OutputDir => _writer?.LogDir ?? _dir;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        Run = learn.IsMainProcess && !learn.IsInferenceRun && learn.Cb<GatherPredsCallback>() is null && !learn.Cbs.Any(cb => cb is IDisablesTrackers);
    }

    /// <summary>The writer, made at the first value (so a resumed fit, whose folder comes with its state, makes no other folder).</summary>
    private SummaryWriter Writer()
    {
        if (_writer is not null) return _writer;
        var dir = _dir ?? (LogDir is null ? null : System.IO.Path.GetFullPath(System.IO.Path.Combine(Attached.Path, LogDir)));
        _writer = utils.tensorboard.SummaryWriter(dir);
        _dir = _writer.LogDir;
        return _writer;
    }

    /// <summary>Saves the folder being written.</summary>
    /// <param name="state">Where to write.</param>
    public void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("log_dir", OutputDir);
    }

    /// <summary>Writes on into the checkpoint's folder.</summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    public void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var dir = state.Get<string?>("log_dir");
        // A writer open on another folder (from an earlier fit of this instance) is dropped: TorchSharp's writes each event through.
        if (_writer is not null && dir is not null && _writer.LogDir != dir) _writer = null;
        _dir = dir;
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        var writer = Writer();
        var step = learn.TrainIter;
        writer.add_scalar("train_loss", (float)learn.SmoothLoss, step);
        if (learn.Opt is not { } opt) return;
        writer.add_scalar("lr", (float)Hyperparameters.GetLr(opt), step);
        if (Hyperparameters.GetMom(opt) is { } mom) writer.add_scalar("mom", (float)mom, step);
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        if (learn.Recorder is not { } rec || rec.Values.Count == 0) return;
        var writer = Writer();
        // fastai logs metric_names[2:-1]: everything after train_loss, without the time.
        var names = rec.MetricNames.Skip(1).Where(n => n != "time").ToArray();
        var row = rec.Values[^1];
        for (var i = 1; i < names.Length && i < row.Count; i++)
        {
            if (row[i] is { } v) writer.add_scalar(names[i], (float)v, learn.TrainIter);
        }
    }
}
