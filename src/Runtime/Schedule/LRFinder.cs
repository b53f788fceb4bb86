namespace FastCallbacks;

/// <summary>
/// fastai's <c>LRFinder</c>: a mock training whose learning rate grows exponentially from
/// <see cref="StartLr"/> to <see cref="EndLr"/> over <see cref="NumIt"/> batches, stopping early when the loss
/// diverges. The model's weights and the optimizer's state are put back when the fit ends, also when it fails.
/// Use it through <see cref="Learner.LrFind"/>.
/// </summary>
/// <remarks>
/// Validation is skipped (a <see cref="CancelValidException"/> in BeforeValidate). Trackers that implement
/// checkpoints or early stopping stand down while it is attached (<see cref="IDisablesTrackers"/>).
/// </remarks>
public sealed partial class LRFinder : ParamScheduler, IDisablesTrackers
{
    private ModelSnapshot? _snapshot;
    private Learner? _snapshotOf;
    private Action? _onFitEnded;

    /// <summary>Creates the finder.</summary>
    /// <param name="startLr">The first learning rate (&gt; 0).</param>
    /// <param name="endLr">The learning rate reached after <paramref name="numIt"/> batches (&gt; 0).</param>
    /// <param name="numIt">Training batches to run (at least 6, as in fastai).</param>
    /// <param name="stopDiv">Stop when the smoothed loss exceeds four times the best so far.</param>
    /// <exception cref="ArgumentOutOfRangeException">A rate is not positive and finite.</exception>
    public LRFinder(double startLr = 1e-7, double endLr = 10, int numIt = 100, bool stopDiv = true)
        : base(new Dictionary<string, Func<double, double>> { ["lr"] = Schedules.SchedExp(CheckLr(startLr, nameof(startLr)), CheckLr(endLr, nameof(endLr))) })
    {
        StartLr = startLr;
        EndLr = endLr;
        NumIt = Math.Max(numIt, 6);
        StopDiv = stopDiv;
    }

    private static double CheckLr(double lr, string name) =>
        lr > 0 && double.IsFinite(lr) ? lr : throw new ArgumentOutOfRangeException(name, lr, $"LRFinder: {name} must be a positive learning rate (the schedule is exponential).");

    /// <summary>The first learning rate.</summary>
    public double StartLr { get; }
    /// <summary>The learning rate after <see cref="NumIt"/> batches.</summary>
    public double EndLr { get; }
    /// <summary>Training batches to run (at least 6).</summary>
    public int NumIt { get; }
    /// <summary>Whether the run stops when the loss diverges.</summary>
    public bool StopDiv { get; }
    /// <summary>The lowest smoothed loss seen in this run.</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>fastai's <c>train_iter / num_it</c>.</summary>
    protected override double Position => (double)Attached.TrainIter / NumIt;

    [On(Event.BeforeFit)]
    private void SaveModel()
    {
        var learn = Attached;
        DropSnapshot();
        _snapshot = ModelSnapshot.Capture(learn.Model, learn.Opt);
        _snapshotOf = learn;
        _onFitEnded ??= RestoreModel;
        learn.FitEnded += _onFitEnded;
        BestLoss = double.PositiveInfinity;
    }

    [On(Event.AfterBatch)]
    private void StopWhenDone()
    {
        var learn = Attached;
        var loss = learn.SmoothLoss;
        if (loss < BestLoss) BestLoss = loss;
        if (StopDiv && loss > 4 * BestLoss) throw new CancelFitException();
        if (learn.TrainIter >= NumIt) throw new CancelFitException();
    }

    [On(Event.BeforeValidate)]
    private void SkipValidation() => throw new CancelValidException();

    [On(Event.AfterFit)]
    private void LoadModel()
    {
        Attached.Opt?.zero_grad();
        RestoreModel();
    }

    /// <summary>Puts the saved weights and optimizer state back, once; also runs when the fit fails.</summary>
    private void RestoreModel()
    {
        if (_snapshot is null || _snapshotOf is null) return;
        var learn = _snapshotOf;
        try
        {
            _snapshot.Restore(learn.Model, learn.Opt);
        }
        finally
        {
            DropSnapshot();
        }
    }

    private void DropSnapshot()
    {
        if (_snapshotOf is not null && _onFitEnded is not null) _snapshotOf.FitEnded -= _onFitEnded;
        _snapshot?.Dispose();
        _snapshot = null;
        _snapshotOf = null;
    }
}
