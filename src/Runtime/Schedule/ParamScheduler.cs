namespace FastCallbacks;

/// <summary>
/// fastai's <c>ParamScheduler</c> (order 60, training batches only): before every training batch, sets each
/// scheduled hyper-parameter of the optimizer to its schedule's value at <see cref="Learner.PctTrain"/>, and
/// after the batch records the value the optimizer had.
/// </summary>
/// <remarks>
/// <para>Hyper-parameter names are fastai's: <c>lr</c>, <c>mom</c> (momentum, or beta1 for Adam-like optimizers),
/// <c>sqr_mom</c> (beta2), <c>eps</c>, <c>wd</c> (weight decay), and the algorithm-specific <c>beta</c> (RAdam),
/// <c>nu_1</c>, <c>nu_2</c> (QHAdam). A schedule drives every parameter group, or each group has its own (the
/// <see cref="ForGroups"/>, what <see cref="Learner.FitOneCycle"/> uses for discriminative rates); the recorded value
/// is the last group's, as fastai records <c>opt.hypers[-1]</c>.</para>
/// <para>The history of the current fit is in <see cref="Hps"/>; at the end of the fit it is also stored in
/// <see cref="Recorder.Hps"/> (fastai's <c>recorder.hps</c>) for <see cref="Recorder.PlotSched(IEnumerable{string}?, int?, int?)"/>.</para>
/// </remarks>
public partial class ParamScheduler : Callback
{
    /// <summary>The hyper-parameter names a schedule can drive (those of FastCallbacks' optimizers).</summary>
    public static IReadOnlyList<string> SupportedNames { get; } = ["lr", "mom", "sqr_mom", "eps", "wd", "beta", "nu_1", "nu_2"];

    private readonly string[] _names;
    private readonly Func<double, double>[][] _funcs;
    private readonly List<double>[] _history;
    private int[] _index = [];
    private int _lastGroup;

    /// <summary>Creates a scheduler whose schedules drive every parameter group.</summary>
    /// <param name="scheds">A schedule (see <see cref="Schedules"/>) per hyper-parameter name, for example
    /// <c>new() { ["lr"] = Schedules.SchedCos(1e-2, 1e-4) }</c>.</param>
    /// <exception cref="ArgumentException">A name is not one of <see cref="SupportedNames"/>, a schedule is null, or there are none.</exception>
    public ParamScheduler(Dictionary<string, Func<double, double>> scheds)
        : this(Check(scheds).ToDictionary(kv => kv.Key, kv => (IReadOnlyList<Func<double, double>>)new[] { kv.Value })) { }

    /// <summary>
    /// A scheduler with a schedule per parameter group (fastai's schedules over an array of rates): for each name, one
    /// schedule per group, first group first, or a single schedule for all groups.
    /// </summary>
    /// <param name="perGroup">The schedules of each hyper-parameter, per group.</param>
    /// <exception cref="ArgumentException">A name is not one of <see cref="SupportedNames"/>, a list is empty or holds a null, or there are none.</exception>
    public static ParamScheduler ForGroups(IReadOnlyDictionary<string, IReadOnlyList<Func<double, double>>> perGroup) => new(perGroup);

    /// <summary>Creates a scheduler with a schedule per parameter group (see <see cref="ForGroups"/>).</summary>
    /// <param name="perGroup">The schedules of each hyper-parameter, per group.</param>
    /// <exception cref="ArgumentException">A name is not one of <see cref="SupportedNames"/>, a list is empty or holds a null, or there are none.</exception>
    protected ParamScheduler(IReadOnlyDictionary<string, IReadOnlyList<Func<double, double>>> perGroup)
    {
        ArgumentNullException.ThrowIfNull(perGroup);
        if (perGroup.Count == 0)
            throw new ArgumentException("ParamScheduler needs at least one schedule, for example new() { [\"lr\"] = Schedules.SchedCos(1e-2, 1e-4) }.", nameof(perGroup));
        foreach (var (name, fs) in perGroup)
        {
            CheckName(name, nameof(perGroup));
            if (fs is null || fs.Count == 0) throw new ArgumentException($"ParamScheduler: there is no schedule for `{name}`.", nameof(perGroup));
            if (fs.Any(f => f is null)) throw new ArgumentException($"ParamScheduler: a schedule for `{name}` is null.", nameof(perGroup));
        }
        _names = [.. perGroup.Keys];
        _funcs = [.. _names.Select(n => perGroup[n].ToArray())];
        _history = [.. _names.Select(_ => new List<double>())];
        Scheds = _names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => _funcs[p.i][^1]);
        GroupScheds = _names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => (IReadOnlyList<Func<double, double>>)Array.AsReadOnly(_funcs[p.i]));
        RunValid = false;
    }

    private static Dictionary<string, Func<double, double>> Check(Dictionary<string, Func<double, double>> scheds)
    {
        ArgumentNullException.ThrowIfNull(scheds);
        if (scheds.Count == 0)
            throw new ArgumentException("ParamScheduler needs at least one schedule, for example new() { [\"lr\"] = Schedules.SchedCos(1e-2, 1e-4) }.", nameof(scheds));
        foreach (var (name, f) in scheds)
        {
            CheckName(name, nameof(scheds));
            if (f is null) throw new ArgumentException($"ParamScheduler: the schedule for `{name}` is null.", nameof(scheds));
        }
        return scheds;
    }

    private static void CheckName(string name, string param)
    {
        if (!SupportedNames.Contains(name))
            throw new ArgumentException(
                $"ParamScheduler cannot schedule `{name}`; the hyper-parameters it knows are {string.Join(", ", SupportedNames.Select(n => $"`{n}`"))}.", param);
    }

    /// <inheritdoc/>
    public override int Order => 60;

    /// <summary>The schedules, by hyper-parameter name (the last group's, for per-group schedules).</summary>
    public IReadOnlyDictionary<string, Func<double, double>> Scheds { get; }

    /// <summary>The schedules of every group, by hyper-parameter name (one entry: the same for all groups).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Func<double, double>>> GroupScheds { get; }

    /// <summary>The value of each scheduled hyper-parameter at every training batch of the current (or last) fit (the last group's).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Hps =>
        _names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => (IReadOnlyList<double>)_history[p.i].ToArray());

    /// <summary>The position in training the schedules are evaluated at; fastai's <c>pct_train</c>.</summary>
    protected virtual double Position => Attached.PctTrain;

    [On(Event.BeforeFit)]
    private void InitHistory()
    {
        foreach (var h in _history) h.Clear();
        var opt = Attached.Opt ?? throw new InvalidOperationException("ParamScheduler needs the learner's optimizer; Fit creates it before BeforeFit.");
        var index = new int[_names.Length];
        for (var i = 0; i < _names.Length; i++)
        {
            var name = _names[i];
            if (!opt.HasHyper(name))
                throw new InvalidOperationException(
                    $"ParamScheduler schedules `{name}`, but {opt.Name} has no such setting{Hint(name)}. " +
                    $"Remove `{name}` from the schedules or use an optimizer that has it (its hyper-parameters: {string.Join(", ", opt.HyperNames)}).");
            if (_funcs[i].Length != 1 && _funcs[i].Length != opt.GroupCount)
                throw new InvalidOperationException(
                    $"ParamScheduler has {_funcs[i].Length} schedules for `{name}`, but the optimizer has {opt.GroupCount} parameter groups; give one schedule, or one per group.");
            index[i] = opt.HyperIndex(name);
        }
        _index = index;
        _lastGroup = opt.GroupCount - 1;
    }

    private static string Hint(string name) => name switch
    {
        "mom" => " (neither momentum nor betas)",
        "sqr_mom" => " (no betas)",
        "wd" => " (no weight decay)",
        _ => "",
    };

    [On(Event.BeforeBatch)]
    private void SetHyperparameters()
    {
        var opt = Attached.Opt!;
        var pos = Position;
        for (var i = 0; i < _names.Length; i++)
        {
            var fs = _funcs[i];
            if (fs.Length == 1)
            {
                opt.SetHyperAt(_index[i], fs[0](pos));
                continue;
            }
            for (var g = 0; g < fs.Length; g++) opt.SetHyperAt(g, _index[i], fs[g](pos));
        }
    }

    [On(Event.AfterBatch)]
    private void RecordHyperparameters()
    {
        var opt = Attached.Opt!;
        for (var i = 0; i < _names.Length; i++) _history[i].Add(opt.HyperAt(_lastGroup, _index[i]));
    }

    [On(Event.AfterFit)]
    private void StoreInRecorder()
    {
        if (Attached.Recorder is { } recorder) recorder.Hps = Hps;
    }
}
