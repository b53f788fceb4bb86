using System.Globalization;

namespace FastCallbacks;

/// <summary>
/// Marks a callback during whose fits the <see cref="TrackerCallback"/>s stand aside (fastai's
/// <c>hasattr(self, 'lr_finder')</c> test): the learning-rate finder implements it.
/// </summary>
public interface IDisablesTrackers;

/// <summary>
/// fastai's <c>TrackerCallback</c> (order 60): after every epoch, reads the monitored column of the recorder's
/// last row and records whether it improved on the best value so far (<see cref="Best"/>, <see cref="NewBest"/>).
/// Base of <see cref="EarlyStoppingCallback"/>, <see cref="SaveModelCallback"/> and <see cref="ReduceLROnPlateau"/>.
/// The best value is part of its state (<see cref="IStatefulCallback"/>), so a resumed fit keeps it.
/// </summary>
/// <remarks>
/// It does not run during <see cref="Learner.GetPreds"/>, <see cref="Learner.Validate"/> or
/// <see cref="Learner.Predict"/> (<see cref="Learner.IsInferenceRun"/>), while a <see cref="GatherPredsCallback"/>
/// is attached, or during the fit of a callback marked <see cref="IDisablesTrackers"/> (the LR finder). fastai
/// runs trackers inside <c>validate()</c>; FastCallbacks does not, because a validation is not an epoch.
/// </remarks>
public partial class TrackerCallback : Callback, IRemovedOnFetch
{
    /// <summary>fastai's <c>np.less</c>: a is better than b when it is lower.</summary>
    public static readonly Func<double, double, bool> Less = static (a, b) => a < b;

    /// <summary>fastai's <c>np.greater</c>: a is better than b when it is higher.</summary>
    public static readonly Func<double, double, bool> Greater = static (a, b) => a > b;

    private readonly double _delta;
    [Persist] private bool _hasBest;

    /// <summary>Creates a tracker.</summary>
    /// <param name="monitor">The recorder column to watch: "valid_loss", "train_loss" or a metric's name.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b. Default: <see cref="Less"/> when
    /// <paramref name="monitor"/> contains "loss" or "error", otherwise <see cref="Greater"/>.</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    /// <exception cref="ArgumentException"><paramref name="monitor"/> is empty or <paramref name="minDelta"/> is negative or not a number.</exception>
    public TrackerCallback(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0, bool resetOnFit = true)
    {
        if (string.IsNullOrWhiteSpace(monitor))
            throw new ArgumentException($"`{GetType().Name}` needs a column to monitor, such as \"valid_loss\" or a metric's name.", nameof(monitor));
        if (!(minDelta >= 0))
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"`{GetType().Name}`: minDelta must be zero or positive.");
        Monitor = monitor;
        Comp = comp ?? (monitor.Contains("loss", StringComparison.Ordinal) || monitor.Contains("error", StringComparison.Ordinal) ? Less : Greater);
        MinDelta = minDelta;
        ResetOnFit = resetOnFit;
        // fastai negates min_delta for np.less; a comparison that prefers 0 to 1 is a "lower is better" one.
        LowerIsBetter = Comp(0, 1);
        _delta = LowerIsBetter ? -minDelta : minDelta;
        Best = LowerIsBetter ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <inheritdoc/>
    public override int Order => 60;

    /// <summary>The recorder column watched.</summary>
    public string Monitor { get; }
    /// <summary>comp(a, b) is true when a is better than b.</summary>
    public Func<double, double, bool> Comp { get; }
    /// <summary>The margin an improvement needs.</summary>
    public double MinDelta { get; }
    /// <summary>Whether the best value is forgotten at the start of every fit.</summary>
    public bool ResetOnFit { get; }
    /// <summary>Whether <see cref="Comp"/> prefers lower values.</summary>
    public bool LowerIsBetter { get; }
    /// <summary>The best value seen (±infinity before the first epoch); kept in training checkpoints.</summary>
    [Persist] public double Best { get; private set; }
    /// <summary>Whether the last epoch set a new best.</summary>
    [Persist] public bool NewBest { get; private set; }
    /// <summary>The index of <see cref="Monitor"/> in the recorder's rows (<see cref="Recorder.Values"/>).</summary>
    protected int MonitorIndex { get; private set; } = -1;

    [On(Event.BeforeFit)]
    private void TrackerBeforeFit()
    {
        var learn = Attached;
        Run = !learn.IsInferenceRun && learn.Cb<GatherPredsCallback>() is null && !learn.Cbs.Any(cb => cb is IDisablesTrackers);
        if (!Run) return;
        if (ResetOnFit || !_hasBest)
        {
            Best = LowerIsBetter ? double.PositiveInfinity : double.NegativeInfinity;
            _hasBest = true;
        }
        var recorder = learn.Recorder ?? throw new InvalidOperationException(
            $"`{GetType().Name}` reads `{Monitor}` from the Recorder, but the learner has none. Add one: learner.AddCb(new Recorder()).");
        var names = recorder.MetricNames;
        var index = -1;
        for (var i = 1; i < names.Count; i++)
            if (names[i] == Monitor) { index = i - 1; break; }
        if (index < 0)
            throw new InvalidOperationException(
                $"`{GetType().Name}` monitors `{Monitor}`, which is not a column of the recorder ({string.Join(", ", names.Skip(1))}). " +
                "Pass monitor: one of those; a metric's column is its Name (for example \"accuracy\").");
        MonitorIndex = index;
    }

    [On(Event.AfterEpoch)]
    private void TrackerAfterEpoch()
    {
        NewBest = false;
        var values = Attached.Recorder?.Values;
        if (values is null || values.Count == 0) return;
        var row = values[^1];
        if (MonitorIndex < 0 || MonitorIndex >= row.Count || row[MonitorIndex] is not { } value) return;
        if (Comp(value - _delta, Best))
        {
            Best = value;
            NewBest = true;
        }
    }

    /// <summary>A number as fastai prints it (shortest round-trip form).</summary>
    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
