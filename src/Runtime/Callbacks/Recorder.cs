using System.Diagnostics;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>Recorder</c> (a default callback, order 50): the smoothed training loss after every batch, the
/// learning rates, and one row per epoch of losses and metrics, sent to <see cref="Learner.Logger"/>.
/// </summary>
/// <remarks>
/// <para>Its history (losses, learning rates, rows, and the smoothed loss with the training metrics it is
/// accumulating) is part of its state (<see cref="IStatefulCallback"/>), so a fit resumed from a training checkpoint
/// records as if it had never stopped.</para>
/// During <see cref="Learner.GetPreds"/>, <see cref="Learner.Validate"/> and <see cref="Learner.Predict"/>
/// (<see cref="Learner.IsInferenceRun"/>) it keeps the last fit's history as it is: it computes the validation
/// loss and metrics of the run (what <see cref="Learner.Validate"/> returns) but clears, appends and logs nothing.
/// </remarks>
/// <param name="addTime">Add the epoch's duration to the log.</param>
/// <param name="trainMetrics">Also compute the metrics on the training set.</param>
/// <param name="validMetrics">Compute the validation loss and the metrics on the validation set.</param>
/// <param name="beta">Smoothing of the training loss.</param>
public sealed partial class Recorder(bool addTime = true, bool trainMetrics = false, bool validMetrics = true, double beta = 0.98) : Callback, IRemovedOnFetch
{
    [Persist("lrs")] private readonly List<double> _lrs = [];
    [Persist("iters")] private readonly List<int> _iters = [];
    [Persist("losses")] private readonly List<double> _losses = [];
    [Persist("values")] private readonly List<IReadOnlyList<double?>> _values = [];
    private readonly AvgLoss _loss = new();
    private readonly Stopwatch _timer = new();
    private Metric[] _trainMets = [];
    private Metric[] _validMets = [];
    private List<double?> _log = [];
    private string[] _metricNames = [];

    /// <summary>Whether the epoch's duration is logged.</summary>
    public bool AddTime { get; } = addTime;
    /// <summary>Whether metrics are computed on the training set.</summary>
    public bool TrainMetrics { get; } = trainMetrics;
    /// <summary>Whether the validation loss and metrics are computed.</summary>
    public bool ValidMetrics { get; } = validMetrics;
    /// <summary>The smoothed training loss metric (fastai's <c>recorder.smooth_loss</c>); its value is also the learner's <see cref="Learner.SmoothLoss"/>.</summary>
    public new AvgSmoothLoss SmoothLoss { get; } = new(beta);

    /// <inheritdoc/>
    public override int Order => 50;

    /// <summary>Column names: epoch, train_loss, valid_loss, metric names, time (fastai's <c>metric_names</c>).</summary>
    public IReadOnlyList<string> MetricNames => _metricNames;
    /// <summary>One row per epoch: train_loss, valid_loss, metrics; null where fastai logs None.</summary>
    public IReadOnlyList<IReadOnlyList<double?>> Values => _values;
    /// <summary>The smoothed training loss after each training batch (not reset between epochs).</summary>
    public IReadOnlyList<double> Losses => _losses;
    /// <summary>The learning rate of each training batch (the last parameter group's, as fastai records).</summary>
    public IReadOnlyList<double> Lrs => _lrs;
    /// <summary>The number of training batches done at the end of each epoch (cumulative).</summary>
    public IReadOnlyList<int> Iters => _iters;
    /// <summary>The columns of the last inference run: valid_loss and the metric names (empty without validation metrics).</summary>
    internal IReadOnlyList<string> InferenceNames { get; private set; } = [];
    /// <summary>The row of the last inference run (<see cref="Learner.Validate"/>'s values), or null before one.</summary>
    internal IReadOnlyList<double?>? InferenceRecord { get; private set; }

    /// <summary>Set when the current epoch's training phase was cancelled.</summary>
    public bool CancelTrain { get; private set; }
    /// <summary>Set when the current epoch's validation phase was cancelled.</summary>
    public bool CancelValid { get; private set; }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        if (learn.IsInferenceRun)
        {
            // GetPreds/Validate: compute this run's validation values, keep the fit's history and columns.
            _validMets = ValidMetrics ? [_loss, .. learn.Metrics] : [];
            InferenceNames = ValidMetrics ? ["valid_loss", .. learn.Metrics.Select(m => m.Name)] : [];
            InferenceRecord = null;
            return;
        }
        _lrs.Clear();
        _iters.Clear();
        _losses.Clear();
        _values.Clear();
        var metrics = learn.Metrics;
        var names = new List<string> { "train_loss" };
        if (TrainMetrics) names.AddRange(metrics.Select(m => "train_" + m.Name));
        if (ValidMetrics)
        {
            names.Add("valid_loss");
            names.AddRange(metrics.Select(m => (TrainMetrics ? "valid_" : "") + m.Name));
        }
        else if (!TrainMetrics)
        {
            // fastai lists the metric names even though nothing logs them.
            names.AddRange(metrics.Select(m => m.Name));
        }
        _metricNames = ["epoch", .. names, .. AddTime ? new[] { "time" } : []];
        _trainMets = [SmoothLoss, .. TrainMetrics ? metrics : []];
        _validMets = ValidMetrics ? [_loss, .. metrics] : [];
        SmoothLoss.Reset();
    }

    [On(Event.BeforeEpoch)]
    private void BeforeEpoch()
    {
        CancelTrain = CancelValid = false;
        _timer.Restart();
        _log = [];
    }

    [On(Event.BeforeTrain)]
    private void BeforeTrain()
    {
        // The smoothed loss runs across epochs; only the other training metrics restart.
        foreach (var m in _trainMets.Skip(1)) m.Reset();
    }

    [On(Event.BeforeValidate)]
    private void BeforeValidate()
    {
        foreach (var m in _validMets) m.Reset();
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        // No targets, or a batch cancelled before its loss: nothing to measure (fastai would count the previous
        // batch's loss again; its tensor is freed here).
        if (learn.Yb.Length == 0 || learn.Loss is null) return;
        foreach (var m in learn.Training ? _trainMets : _validMets) m.Accumulate(learn);
        if (!learn.Training) return;
        if (learn.Opt is { } opt) _lrs.Add(opt.GetHyper("lr"));   // the last group's, as fastai
        var smooth = SmoothLoss.Value ?? double.NaN;
        _losses.Add(smooth);
        learn.SmoothLoss = smooth;
    }

    [On(Event.AfterTrain)]
    private void AfterTrain() => _log.AddRange(_trainMets.Select(m => m.Value));

    [On(Event.AfterValidate)]
    private void AfterValidate() => _log.AddRange(_validMets.Select(m => m.Value));

    [On(Event.AfterCancelTrain)]
    private void AfterCancelTrain() => CancelTrain = true;

    [On(Event.AfterCancelValidate)]
    private void AfterCancelValidate() => CancelValid = true;

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        var row = _log.ToArray();
        if (learn.IsInferenceRun)
        {
            InferenceRecord = row;
            return;
        }
        learn.FinalRecord = row;
        _values.Add(row);
        if (learn.IsMainProcess) learn.Logger?.Invoke(new EpochLog(_metricNames, learn.Epoch, row, AddTime ? _timer.Elapsed : null));
        _iters.Add(SmoothLoss.Count);
    }

    // The smoothed loss runs across epochs, and training metrics across a phase: a checkpoint taken mid-epoch keeps
    // what they have accumulated. The metrics are the learner's (one set, reset at every phase).
    partial void OnSaveState(StateDict state)
    {
        state.Set("smooth_loss", Saved(SmoothLoss), StateCodecs.State);
        if (TrainMetrics) state.Set("train_metrics", Attached.Metrics.Select(Saved).ToList(), StateCodecs.List(StateCodecs.State));
    }

    partial void OnLoadState(StateDict state)
    {
        var smooth = state.Get("smooth_loss", StateCodecs.State) ?? new StateDict();
        var metrics = Attached.Metrics;
        List<StateDict>? train = null;
        if (TrainMetrics)
        {
            train = state.Get("train_metrics", StateCodecs.List(StateCodecs.State)) ?? [];
            if (train.Count != metrics.Count)
                throw new InvalidDataException($"The recorder's state has {train.Count} training metrics, and this learner has {metrics.Count} ({string.Join(", ", metrics.Select(m => m.Name))}).");
        }
        SmoothLoss.LoadState(smooth);
        for (var i = 0; i < (train?.Count ?? 0); i++) metrics[i].LoadState(train![i] ?? new StateDict());
    }

    private static StateDict Saved(Metric metric)
    {
        var state = new StateDict();
        metric.SaveState(state);
        return state;
    }
}
