using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchParamGroup = TorchSharp.Modules.ParamGroup;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>OptimWrapper</c>: a TorchSharp optimizer (such as <c>optim.SGD</c> or <c>optim.AdamW</c>) seen as a
/// FastCallbacks <see cref="Optimizer"/>, so schedulers, freezing, <see cref="Learner.Fit"/>'s learning rate and
/// checkpoints work with it. Its parameter groups are the TorchSharp optimizer's; its hyper-parameters are those
/// groups' settings under fastai's names (<c>lr</c>; <c>mom</c> for momentum or beta1; <c>sqr_mom</c> for beta2 or
/// RMSprop's alpha; <c>wd</c>; <c>eps</c>), written into the TorchSharp groups before every step.
/// </summary>
/// <remarks>
/// <para>The learner wraps the TorchSharp optimizer an <see cref="Learner.OptFunc"/> returns in one, so
/// <c>optFunc: (ps, lr) =&gt; optim.SGD(ps, lr, momentum: 0.9)</c> works as it is. The wrapper owns the TorchSharp
/// optimizer and disposes it; set hyper-parameters through the wrapper, not the wrapped optimizer.</para>
/// <para>As with fastai's wrapper, the algorithm is TorchSharp's: its weight decay is the optimizer's own (L2 for
/// <c>optim.Adam</c>), applied to every parameter of a group (<see cref="ParamState.DoWd"/> is not used), and a frozen
/// parameter that still holds a gradient from before it was frozen is stepped by TorchSharp's rules.</para>
/// </remarks>
public sealed class OptimWrapper : Optimizer
{
    private readonly TorchParamGroup[] _groups;
    private readonly HyperSlot[] _slots;

    /// <summary>Wraps <paramref name="opt"/>, which the wrapper then owns.</summary>
    /// <param name="opt">A TorchSharp optimizer with parameter groups (TorchSharp's managed optimizers all have them).</param>
    /// <exception cref="ArgumentException"><paramref name="opt"/> is one of FastCallbacks' own, or has no parameter groups.</exception>
    public OptimWrapper(optim.Optimizer opt) : this(opt, GroupsOf(opt)) { }

    private OptimWrapper(optim.Optimizer opt, TorchParamGroup[] groups)
        : base(new ParameterGroups(groups.Select(g => g.Parameters)), HypersOf(groups[0]))
    {
        Opt = opt;
        _groups = groups;
        _slots = HyperNames.Select(n => new HyperSlot(n, IndexOfHyper(n))).ToArray();
        for (var g = 0; g < groups.Length; g++)
            foreach (var slot in _slots)
                SetHyperAt(g, slot.Index, TorchSharpHypers.Get(groups[g], slot.Name) ?? double.NaN);
    }

    /// <summary>The TorchSharp optimizer.</summary>
    public optim.Optimizer Opt { get; }

    /// <summary>The TorchSharp optimizer's type name (<c>"SGD"</c>, <c>"AdamW"</c>, ...).</summary>
    public override string Name => Opt.GetType().Name;

    /// <summary>Writes the hyper-parameters into the TorchSharp groups, then runs TorchSharp's step.</summary>
    /// <param name="closure">Passed to TorchSharp's step.</param>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        PushHypers();
        return Opt.step(closure!);
    }

    private void PushHypers()
    {
        for (var g = 0; g < _groups.Length; g++)
            foreach (var slot in _slots)
                TorchSharpHypers.Set(_groups[g], slot.Name, HyperAt(g, slot.Index));
    }

    /// <summary>fastai's <c>clear_state</c>: TorchSharp's per-parameter state (averages, step counts) starts over.</summary>
    public override void ClearState()
    {
        base.ClearState();
        if (Opt is not OptimizerHelper helper) return;
        var sd = helper.state_dict();
        for (var g = 0; g < sd.Options.Count; g++)
            foreach (var i in sd.StateIndexRef[g])
                sd.State[i].Initialize(sd.Options[g]);
    }

    /// <summary>Saves TorchSharp's optimizer state after the hyper-parameters (TorchSharp's own format, inside FastCallbacks').</summary>
    /// <param name="writer">Where to write.</param>
    protected internal override void SaveExtra(BinaryWriter writer)
    {
        if (Opt is not OptimizerHelper helper)
        {
            writer.Write(0);
            return;
        }
        PushHypers();
        using var ms = new MemoryStream();
        using (var inner = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) helper.save_state_dict(inner);
        writer.Write(checked((int)ms.Length));
        writer.Write(ms.GetBuffer(), 0, (int)ms.Length);
    }

    /// <summary>Reads TorchSharp's optimizer state; it is loaded into the optimizer when the rest has been read.</summary>
    /// <param name="reader">Where to read.</param>
    /// <param name="pending">Tensors read so far (TorchSharp's state is kept as bytes until the commit).</param>
    protected internal override Action LoadExtra(BinaryReader reader, List<Tensor> pending)
    {
        var length = reader.ReadInt32();
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException();
        if (length == 0) return static () => { };
        if (Opt is not OptimizerHelper helper)
            throw new InvalidDataException($"The state holds TorchSharp optimizer state, and {Name} cannot load one.");
        return () =>
        {
            using var ms = new MemoryStream(bytes, writable: false);
            using var r = new BinaryReader(ms);
            try
            {
                helper.load_state_dict(r);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"TorchSharp could not load its {Name} state: {e.Message}", e);
            }
        };
    }

    /// <summary>Loads TorchSharp's own state format (<c>save_state_dict</c>), as checkpoints written before FastCallbacks had its own optimizers hold it.</summary>
    internal void LoadTorchSharpState(BinaryReader reader)
    {
        if (Opt is not OptimizerHelper helper)
            throw new InvalidOperationException($"{Name} cannot load TorchSharp optimizer state.");
        helper.load_state_dict(reader);
        for (var g = 0; g < _groups.Length; g++)
            foreach (var slot in _slots)
                SetHyperAt(g, slot.Index, TorchSharpHypers.Get(_groups[g], slot.Name) ?? double.NaN);
    }

    /// <summary>Frees the TorchSharp optimizer.</summary>
    /// <param name="disposing">True from <see cref="IDisposable.Dispose"/>.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing) Opt.Dispose();
        base.Dispose(disposing);
    }

    private static TorchParamGroup[] GroupsOf(optim.Optimizer opt)
    {
        ArgumentNullException.ThrowIfNull(opt);
        if (opt is Optimizer ours)
            throw new ArgumentException($"{ours.Name} is already a FastCallbacks optimizer; use it as it is.", nameof(opt));
        var groups = (opt.ParamGroups ?? []).OfType<TorchParamGroup>().ToArray();
        if (groups.Length == 0)
            throw new ArgumentException(
                $"{opt.GetType().Name} has no parameter groups FastCallbacks can read (TorchSharp's managed optimizers have them); use a FastCallbacks optimizer (Optimizers.SGD, Optimizers.Adam, ...) instead.",
                nameof(opt));
        return groups;
    }

    private static IEnumerable<KeyValuePair<string, double>> HypersOf(TorchParamGroup group) =>
        TorchSharpHypers.Names.Where(n => TorchSharpHypers.Get(group, n) is not null).Select(n => new KeyValuePair<string, double>(n, 0));

    private readonly record struct HyperSlot(string Name, int Index);
}

/// <summary>fastai's <c>pytorch_hp_map</c> on TorchSharp's parameter groups: each setting under fastai's name.</summary>
internal static class TorchSharpHypers
{
    /// <summary>The fastai names a TorchSharp optimizer can have, in this order.</summary>
    public static readonly string[] Names = ["lr", "mom", "sqr_mom", "eps", "wd"];

    /// <summary>The group's value of <paramref name="name"/>, or null when it has no such setting.</summary>
    public static double? Get(optim.ILearningRateController group, string name) => name switch
    {
        "lr" => group.LearningRate,
        "mom" => group switch
        {
            optim.IBetas b => b.Betas.Item1,
            optim.IMomentum m => m.Momentum,
            _ => null,
        },
        "sqr_mom" => group switch
        {
            optim.IBetas b => b.Betas.Item2,
            TorchParamGroup { Options: RMSProp.Options o } => o.alpha,
            _ => null,
        },
        "wd" => (group as TorchParamGroup)?.Options switch
        {
            Adam.Options o => o.weight_decay,
            AdamW.Options o => o.weight_decay,
            SGD.Options o => o.weight_decay,
            RMSProp.Options o => o.weight_decay,
            RAdam.Options o => o.weight_decay,
            NAdam.Options o => o.weight_decay,
            Adamax.Options o => o.weight_decay,
            Adagrad.Options o => o.weight_decay,
            Adadelta.Options o => o.weight_decay,
            ASGD.Options o => o.weight_decay,
            _ => null,
        },
        "eps" => (group as TorchParamGroup)?.Options switch
        {
            Adam.Options o => o.eps,
            AdamW.Options o => o.eps,
            RMSProp.Options o => o.eps,
            RAdam.Options o => o.eps,
            NAdam.Options o => o.eps,
            Adamax.Options o => o.eps,
            Adagrad.Options o => o.eps,
            Adadelta.Options o => o.eps,
            _ => null,
        },
        _ => null,
    };

    /// <summary>Sets <paramref name="name"/> on the group; false when it has no such setting.</summary>
    public static bool Set(optim.ILearningRateController group, string name, double value)
    {
        switch (name)
        {
            case "lr":
                group.LearningRate = value;
                return true;
            case "mom":
                switch (group)
                {
                    case optim.IBetas b: b.Betas = (value, b.Betas.Item2); return true;
                    case optim.IMomentum m: m.Momentum = value; return true;
                    default: return false;
                }
            case "sqr_mom":
                switch (group)
                {
                    case optim.IBetas b: b.Betas = (b.Betas.Item1, value); return true;
                    case TorchParamGroup { Options: RMSProp.Options o }: o.alpha = value; return true;
                    default: return false;
                }
            case "wd":
                switch ((group as TorchParamGroup)?.Options)
                {
                    case Adam.Options o: o.weight_decay = value; return true;
                    case AdamW.Options o: o.weight_decay = value; return true;
                    case SGD.Options o: o.weight_decay = value; return true;
                    case RMSProp.Options o: o.weight_decay = value; return true;
                    case RAdam.Options o: o.weight_decay = value; return true;
                    case NAdam.Options o: o.weight_decay = value; return true;
                    case Adamax.Options o: o.weight_decay = value; return true;
                    case Adagrad.Options o: o.weight_decay = value; return true;
                    case Adadelta.Options o: o.weight_decay = value; return true;
                    case ASGD.Options o: o.weight_decay = value; return true;
                    default: return false;
                }
            case "eps":
                switch ((group as TorchParamGroup)?.Options)
                {
                    case Adam.Options o: o.eps = value; return true;
                    case AdamW.Options o: o.eps = value; return true;
                    case RMSProp.Options o: o.eps = value; return true;
                    case RAdam.Options o: o.eps = value; return true;
                    case NAdam.Options o: o.eps = value; return true;
                    case Adamax.Options o: o.eps = value; return true;
                    case Adagrad.Options o: o.eps = value; return true;
                    case Adadelta.Options o: o.eps = value; return true;
                    default: return false;
                }
            default:
                return false;
        }
    }
}
