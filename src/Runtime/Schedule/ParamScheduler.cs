using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>ParamScheduler</c> (order 60, training batches only): before every training batch, sets each
/// scheduled hyper-parameter of the optimizer to its schedule's value at <see cref="Learner.PctTrain"/>, and
/// after the batch records the value the optimizer had.
/// </summary>
/// <remarks>
/// <para>Hyper-parameter names are fastai's: <c>lr</c>, <c>mom</c> (momentum, or beta1 for Adam-like optimizers),
/// <c>sqr_mom</c> (beta2 of Adam-like optimizers) and <c>wd</c> (weight decay). Values apply to every parameter
/// group; the recorded value is the last group's, as fastai records <c>opt.hypers[-1]</c>.</para>
/// <para>The history of the current fit is in <see cref="Hps"/>; at the end of the fit it is also stored in
/// <see cref="Recorder.Hps"/> (fastai's <c>recorder.hps</c>) for <see cref="Recorder.PlotSched(IEnumerable{string}?, int?, int?)"/>.</para>
/// </remarks>
public partial class ParamScheduler : Callback
{
    /// <summary>The hyper-parameter names a schedule can drive.</summary>
    public static IReadOnlyList<string> SupportedNames { get; } = ["lr", "mom", "sqr_mom", "wd"];

    private readonly string[] _names;
    private readonly Func<double, double>[] _funcs;
    private readonly List<double>[] _history;

    /// <summary>Creates a scheduler.</summary>
    /// <param name="scheds">A schedule (see <see cref="Schedules"/>) per hyper-parameter name, for example
    /// <c>new() { ["lr"] = Schedules.SchedCos(1e-2, 1e-4) }</c>.</param>
    /// <exception cref="ArgumentException">A name is not one of <see cref="SupportedNames"/>, a schedule is null, or there are none.</exception>
    public ParamScheduler(Dictionary<string, Func<double, double>> scheds)
    {
        ArgumentNullException.ThrowIfNull(scheds);
        if (scheds.Count == 0)
            throw new ArgumentException("ParamScheduler needs at least one schedule, for example new() { [\"lr\"] = Schedules.SchedCos(1e-2, 1e-4) }.", nameof(scheds));
        foreach (var (name, f) in scheds)
        {
            if (!SupportedNames.Contains(name))
                throw new ArgumentException(
                    $"ParamScheduler cannot schedule `{name}`; the hyper-parameters it knows are {string.Join(", ", SupportedNames.Select(n => $"`{n}`"))}.", nameof(scheds));
            if (f is null) throw new ArgumentException($"ParamScheduler: the schedule for `{name}` is null.", nameof(scheds));
        }
        _names = [.. scheds.Keys];
        _funcs = [.. scheds.Values];
        _history = [.. _names.Select(_ => new List<double>())];
        Scheds = scheds.ToDictionary(kv => kv.Key, kv => kv.Value);
        RunValid = false;
    }

    /// <inheritdoc/>
    public override int Order => 60;

    /// <summary>The schedules, by hyper-parameter name.</summary>
    public IReadOnlyDictionary<string, Func<double, double>> Scheds { get; }

    /// <summary>The value of each scheduled hyper-parameter at every training batch of the current (or last) fit.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Hps =>
        _names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => (IReadOnlyList<double>)_history[p.i].ToArray());

    /// <summary>The position in training the schedules are evaluated at; fastai's <c>pct_train</c>.</summary>
    protected virtual double Position => Attached.PctTrain;

    [On(Event.BeforeFit)]
    private void InitHistory()
    {
        foreach (var h in _history) h.Clear();
        var opt = Attached.Opt ?? throw new InvalidOperationException("ParamScheduler needs the learner's optimizer; Fit creates it before BeforeFit.");
        foreach (var name in _names)
        {
            if (Get(opt, name) is null)
                throw new InvalidOperationException(
                    $"ParamScheduler schedules `{name}`, but {opt.GetType().Name} has no such setting{Hint(name)}. " +
                    $"Remove `{name}` from the schedules or use an optimizer that has it.");
        }
    }

    private static string Hint(string name) => name switch
    {
        "mom" => " (neither momentum nor betas)",
        "sqr_mom" => " (no betas)",
        "wd" => " that FastCallbacks can set",
        _ => "",
    };

    [On(Event.BeforeBatch)]
    private void SetHyperparameters()
    {
        var opt = Attached.Opt!;
        var pos = Position;
        for (var i = 0; i < _names.Length; i++) Set(opt, _names[i], _funcs[i](pos));
    }

    [On(Event.AfterBatch)]
    private void RecordHyperparameters()
    {
        var opt = Attached.Opt!;
        for (var i = 0; i < _names.Length; i++) _history[i].Add(Get(opt, _names[i]) ?? double.NaN);
    }

    [On(Event.AfterFit)]
    private void StoreInRecorder()
    {
        if (Attached.Recorder is { } recorder) recorder.Hps = Hps;
    }

    /// <summary>Reads a hyper-parameter by fastai name, or null when the optimizer has no such setting.</summary>
    internal static double? Get(optim.Optimizer opt, string name) => name switch
    {
        "lr" => Hyperparameters.GetLr(opt),
        "mom" => Hyperparameters.GetMom(opt),
        "sqr_mom" => Hyperparameters.GetSqrMom(opt),
        "wd" => Hyperparameters.GetWeightDecay(opt),
        _ => null,
    };

    /// <summary>Sets a hyper-parameter by fastai name on every parameter group.</summary>
    internal static void Set(optim.Optimizer opt, string name, double value)
    {
        switch (name)
        {
            case "lr": Hyperparameters.SetLr(opt, value); break;
            case "mom": Hyperparameters.SetMom(opt, value); break;
            case "sqr_mom": Hyperparameters.SetSqrMom(opt, value); break;
            case "wd": Hyperparameters.SetWeightDecay(opt, value); break;
        }
    }
}
