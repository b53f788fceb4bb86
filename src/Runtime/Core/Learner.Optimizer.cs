using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

// The optimizer side of the learner (fastai's create_opt, freeze_to, and what fit does to the optimizer before it
// starts): parameter groups from the splitter, weight decay off for biases and normalization layers, normalization
// layers kept training when frozen, and the learning rate and weight decay applied at every fit. Every check runs
// before anything changes.
public partial class Learner
{
    /// <summary>Splits the model into parameter groups (fastai's <c>splitter</c>; default <see cref="Splitters.TrainableParams"/>, one group). The last group is the head.</summary>
    public Func<nn.Module, IEnumerable<IEnumerable<Parameter>>> Splitter { get; set; } = Splitters.TrainableParams;

    /// <summary>Apply weight decay to biases and normalization layers too (fastai's <c>wd_bn_bias</c>, default false).</summary>
    public bool WdBnBias { get; set; }

    /// <summary>Keep training normalization layers in frozen groups (fastai's <c>train_bn</c>, default true).</summary>
    public bool TrainBn { get; set; } = true;

    /// <summary>
    /// Creates the optimizer (fastai's <c>create_opt</c>): <see cref="OptFunc"/> on the <see cref="Splitter"/>'s groups
    /// and <see cref="Lr"/> (a TorchSharp optimizer is wrapped in an <see cref="OptimWrapper"/>), no weight decay on
    /// biases and normalization layers unless <see cref="WdBnBias"/>, normalization layers trained in frozen groups
    /// when <see cref="TrainBn"/>, and <see cref="Wd"/> when set. The optimizer it replaces is disposed; its frozen
    /// groups stay frozen when the new one has as many groups.
    /// </summary>
    /// <exception cref="ArgumentException">The splitter leaves out a trainable parameter or names one twice, or
    /// <see cref="Wd"/> is set and the optimizer has no weight decay.</exception>
    public void CreateOpt() => WithOpt(resetOpt: true, static _ => static () => { });

    /// <summary>
    /// fastai's <c>freeze_to</c>: the parameter groups before <paramref name="n"/> (a negative <paramref name="n"/>
    /// counts from the end) get no gradient and no update, the others train; normalization layers keep training when
    /// <see cref="TrainBn"/>. The optimizer is created if needed, and its state cleared (as fastai).
    /// </summary>
    /// <param name="n">Groups to freeze.</param>
    /// <exception cref="ArgumentOutOfRangeException">That is more groups than the model has (nothing changes).</exception>
    public void FreezeTo(int n) => WithOpt(resetOpt: false, opt =>
    {
        var count = opt.GroupCount;
        var idx = n >= 0 ? n : count + n;
        if (idx < 0 || idx > count)
            throw new ArgumentOutOfRangeException(nameof(n), n,
                $"FreezeTo({n}) would freeze {Math.Abs(n)} parameter group{(Math.Abs(n) == 1 ? "" : "s")}{(n < 0 ? " from the end" : "")}, but the model has {count}. " +
                $"Use a value from {-count} to {count}, or split the model into more groups with the Learner's splitter.");
        return () =>
        {
            opt.FreezeTo(n);
            opt.ClearState();
        };
    });

    /// <summary>fastai's <c>freeze</c>: only the last parameter group (the head) trains. Needs a splitter that makes at least two groups.</summary>
    /// <exception cref="InvalidOperationException">The model has one parameter group, so nothing would be frozen (nothing changes).</exception>
    public void Freeze() => WithOpt(resetOpt: false, opt =>
    {
        if (opt.GroupCount < 2)
            throw new InvalidOperationException(
                "Freeze trains only the last parameter group (the head), but this learner's optimizer has one group, so nothing would be frozen. " +
                "Pass a splitter to the Learner, for example splitter: Splitters.ByChildren(n) for a Sequential whose head starts at child n " +
                "(a TorchSharp optimizer gets all parameters in one group: use one of Optimizers' to keep the splitter's groups).");
        return () =>
        {
            opt.FreezeTo(-1);
            opt.ClearState();
        };
    });

    /// <summary>fastai's <c>unfreeze</c>: every parameter group trains (the optimizer's state is cleared, as fastai).</summary>
    public void Unfreeze() => FreezeTo(0);

    /// <summary>
    /// What <c>fit</c> does to the optimizer before it starts (fastai): a new one when asked or when there is none,
    /// then <paramref name="wd"/> (or <see cref="Wd"/>) when set and <paramref name="lr"/> (or <see cref="Lr"/>) always.
    /// Everything is checked first: on bad input nothing changes.
    /// </summary>
    private void PrepareOpt(bool resetOpt, PerGroup? lr, double? wd) => WithOpt(resetOpt, opt =>
    {
        var rates = (lr ?? Lr).Resolve(opt.GroupCount, "lr");
        var decay = wd ?? Wd;
        CheckWd(opt, decay);
        return () =>
        {
            if (decay is { } d) opt.SetHyper("wd", d);
            opt.SetHyper("lr", rates);
        };
    });

    /// <summary>
    /// Runs <paramref name="check"/> on the optimizer the next step uses: the learner's, or a new one (made when
    /// <paramref name="resetOpt"/> or when there is none, installed only if the check passes). The check throws on bad
    /// input and returns what to apply once the new optimizer, if any, is installed; so a refused call changes nothing.
    /// </summary>
    private void WithOpt(bool resetOpt, Func<Optimizer, Action> check)
    {
        var made = resetOpt || Opt is null ? MakeOpt(SplitModel()) : null;
        var opt = made ?? Opt!;
        Action apply;
        try
        {
            apply = check(opt);
            if (made is not null) CheckWd(made, Wd);
        }
        catch
        {
            made?.Dispose();
            throw;
        }
        if (made is not null)
        {
            Install(made);
            if (Wd is { } wd) made.SetHyper("wd", wd);
        }
        apply();
    }

    /// <summary>The splitter's groups of the model, checked (every trainable parameter in exactly one group).</summary>
    private ParameterGroups SplitModel() =>
        ParameterGroups.Split(Model, Splitter ?? throw new InvalidOperationException("The learner's Splitter is null; set it, or leave the default (Splitters.TrainableParams)."));

    /// <summary>fastai's <c>create_opt</c> without installing: the optimizer, with do_wd and force_train set.</summary>
    private Optimizer MakeOpt(ParameterGroups groups)
    {
        var func = OptFunc ?? throw new InvalidOperationException("The learner's OptFunc is null; set it, or leave the default (Defaults.Adam).");
        var made = func(groups, Lr) ?? throw new InvalidOperationException("The learner's OptFunc returned null; it must return an optimizer.");
        var opt = Optimizers.AsOptimizer(made);
        if (!WdBnBias)
            foreach (var p in Splitters.NormBiasParams(Model, withBias: true))
                if (opt.StateOf(p) is { } s) s.DoWd = false;
        if (TrainBn)
            foreach (var p in Splitters.NormBiasParams(Model, withBias: false))
                if (opt.StateOf(p) is { } s) s.ForceTrain = true;
        return opt;
    }

    private static void CheckWd(Optimizer opt, double? wd)
    {
        if (wd is not null && !opt.HasHyper("wd"))
            throw new ArgumentException(
                $"Weight decay {wd} was asked for, but {opt.Name} has no weight decay setting. Leave wd (and the Learner's Wd) unset, or use an optimizer that has one.",
                nameof(wd));
    }

    /// <summary>Makes <paramref name="opt"/> the learner's optimizer, keeping the frozen groups of the one it replaces.</summary>
    private void Install(Optimizer opt)
    {
        var old = Opt;
        if (ReferenceEquals(old, opt)) return;
        var frozen = old is not null && old.GroupCount == opt.GroupCount ? old.FrozenIdx : 0;
        old?.Dispose();
        Opt = opt;
        if (frozen > 0) opt.FreezeTo(frozen);
    }
}
