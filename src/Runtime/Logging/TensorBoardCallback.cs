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
/// <remarks>Stands down during <see cref="Learner.LrFind"/> and prediction runs, as fastai's does.</remarks>
public sealed partial class TensorBoardCallback : Callback
{
    private SummaryWriter? _writer;

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

    /// <summary>The folder being written (after the first fit began), or null.</summary>
    public string? OutputDir => _writer?.LogDir;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        Run = learn.IsMainProcess && !learn.IsInferenceRun && learn.Cb<GatherPredsCallback>() is null && !learn.Cbs.Any(cb => cb is IDisablesTrackers);
        if (!Run || _writer is not null) return;
        var dir = LogDir is null ? null : System.IO.Path.GetFullPath(System.IO.Path.Combine(learn.Path, LogDir));
        _writer = utils.tensorboard.SummaryWriter(dir);
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        if (_writer is null) return;
        var step = learn.TrainIter;
        _writer.add_scalar("train_loss", (float)learn.SmoothLoss, step);
        if (learn.Opt is not { } opt) return;
        _writer.add_scalar("lr", (float)Hyperparameters.GetLr(opt), step);
        if (Hyperparameters.GetMom(opt) is { } mom) _writer.add_scalar("mom", (float)mom, step);
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        if (_writer is null || learn.Recorder is not { } rec || rec.Values.Count == 0) return;
        // fastai logs metric_names[2:-1]: everything after train_loss, without the time.
        var names = rec.MetricNames.Skip(1).Where(n => n != "time").ToArray();
        var row = rec.Values[^1];
        for (var i = 1; i < names.Length && i < row.Count; i++)
        {
            if (row[i] is { } v) _writer.add_scalar(names[i], (float)v, learn.TrainIter);
        }
    }
}
