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
    private bool _hasBest;

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
    /// <summary>The best value seen (±infinity before the first epoch).</summary>
    public double Best { get; private set; }
    /// <summary>Whether the last epoch set a new best.</summary>
    public bool NewBest { get; private set; }
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

/// <summary>
/// fastai's <c>EarlyStoppingCallback</c> (order 63): stops the fit (<see cref="CancelFitException"/>) when the
/// monitored value has not improved for <c>patience</c> epochs, printing
/// <c>No improvement since epoch N: early stopping</c> through <see cref="Learner.Log"/>.
/// </summary>
public sealed partial class EarlyStoppingCallback : TrackerCallback
{
    private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The recorder column to watch.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b (default from the column's name).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="patience">Epochs without improvement before stopping (at least 1).</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    public EarlyStoppingCallback(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0,
        int patience = 1, bool resetOnFit = true) : base(monitor, comp, minDelta, resetOnFit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        Patience = patience;
    }

    /// <inheritdoc/>
    public override int Order => 63;

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>Epochs since the last improvement.</summary>
    public int Wait => _wait;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        if (Run) _wait = 0;
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        if (NewBest)
        {
            _wait = 0;
            return;
        }
        _wait++;
        if (_wait < Patience) return;
        var learn = Attached;
        learn.Log($"No improvement since epoch {learn.Epoch - _wait}: early stopping");
        throw new CancelFitException();
    }
}

/// <summary>
/// fastai's <c>SaveModelCallback</c> (order 61): saves the model (with <see cref="Learner.Save"/>, atomically)
/// whenever the monitored value improves, and loads that best model at the end of the fit. With
/// <c>everyEpoch</c> it saves <c>fname_epoch</c> every n-th epoch instead (and loads nothing); with
/// <c>atEnd</c> it saves once, at the end of the fit.
/// </summary>
public sealed partial class SaveModelCallback : TrackerCallback
{
    private bool _saved;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The recorder column to watch.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b (default from the column's name).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="fname">The checkpoint's name (in <c>Path/ModelDir</c>).</param>
    /// <param name="everyEpoch">0 (fastai's False): save on improvement. n ≥ 1: save <c>fname_epoch</c> at every
    /// epoch divisible by n (1 is fastai's True).</param>
    /// <param name="atEnd">Save once at the end of the fit instead of loading the best model.</param>
    /// <param name="withOpt">Save (and load) the optimizer's state too.</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    /// <exception cref="ArgumentException">Both <paramref name="everyEpoch"/> and <paramref name="atEnd"/> are set.</exception>
    public SaveModelCallback(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0,
        string fname = "model", int everyEpoch = 0, bool atEnd = false, bool withOpt = false, bool resetOnFit = true)
        : base(monitor, comp, minDelta, resetOnFit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(everyEpoch);
        if (string.IsNullOrWhiteSpace(fname)) throw new ArgumentException("Name the checkpoint file, for example fname: \"model\".", nameof(fname));
        if (everyEpoch > 0 && atEnd)
            throw new ArgumentException("SaveModelCallback saves either every n-th epoch (everyEpoch) or once at the end (atEnd), not both.", nameof(atEnd));
        Fname = fname;
        EveryEpoch = everyEpoch;
        AtEnd = atEnd;
        WithOpt = withOpt;
    }

    /// <inheritdoc/>
    public override int Order => 61;

    /// <summary>The checkpoint's name.</summary>
    public string Fname { get; }
    /// <summary>Save every n-th epoch (0: on improvement).</summary>
    public int EveryEpoch { get; }
    /// <summary>Save at the end of the fit.</summary>
    public bool AtEnd { get; }
    /// <summary>Whether the optimizer's state is saved and loaded too.</summary>
    public bool WithOpt { get; }
    /// <summary>The file last written, or null.</summary>
    public string? LastSavedPath { get; private set; }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        if (EveryEpoch > 0)
        {
            if (learn.Epoch % EveryEpoch == 0) Save($"{Fname}_{learn.Epoch}");
        }
        else if (NewBest)
        {
            learn.Log($"Better model found at epoch {learn.Epoch} with {Monitor} value: {Format(Best)}.");
            Save(Fname);
        }
    }

    [On(Event.AfterFit)]
    private void AfterFit()
    {
        if (AtEnd) Save(Fname);
        else if (EveryEpoch == 0 && _saved) Attached.Load(Fname, WithOpt);
    }

    private void Save(string name)
    {
        LastSavedPath = Attached.Save(name, WithOpt);
        _saved = true;
    }
}

/// <summary>
/// fastai's <c>ReduceLROnPlateau</c> (order 62): divides every parameter group's learning rate by
/// <c>factor</c> (not below <c>minLr</c>) when the monitored value has not improved for <c>patience</c> epochs,
/// printing <c>Epoch N: reducing lr to X</c> through <see cref="Learner.Log"/>.
/// </summary>
public sealed partial class ReduceLROnPlateau : TrackerCallback
{
    private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The recorder column to watch.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b (default from the column's name).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="patience">Epochs without improvement before reducing (at least 1).</param>
    /// <param name="factor">The divisor of the learning rate (above 1).</param>
    /// <param name="minLr">The learning rate is never reduced below this.</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    public ReduceLROnPlateau(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0,
        int patience = 1, double factor = 10, double minLr = 0, bool resetOnFit = true) : base(monitor, comp, minDelta, resetOnFit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        if (!(factor > 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau divides the learning rate by factor, so it must be above 1.");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "minLr must be zero or positive.");
        Patience = patience;
        Factor = factor;
        MinLr = minLr;
    }

    /// <inheritdoc/>
    public override int Order => 62;

    /// <summary>Epochs without improvement before reducing.</summary>
    public int Patience { get; }
    /// <summary>The divisor of the learning rate.</summary>
    public double Factor { get; }
    /// <summary>The lowest learning rate.</summary>
    public double MinLr { get; }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        if (Run) _wait = 0;
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        if (NewBest)
        {
            _wait = 0;
            return;
        }
        _wait++;
        if (_wait < Patience) return;
        var learn = Attached;
        var opt = learn.Opt ?? throw new InvalidOperationException("ReduceLROnPlateau needs the learner's optimizer, which does not exist yet.");
        var old = Hyperparameters.GetLr(opt);
        foreach (var g in opt.ParamGroups) g.LearningRate = Math.Max(g.LearningRate / Factor, MinLr);
        _wait = 0;
        var lr = Hyperparameters.GetLr(opt);
        if (lr < old) learn.Log($"Epoch {learn.Epoch}: reducing lr to {Format(lr)}");
    }
}
