using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

// fastai's optimizers (fastai/optimizer.py), each written as one fused pass per parameter: the ops and their order
// are fastai's stepper functions' (weight_decay or l2_reg, average_grad, average_sqr_grad, step_stat, then the
// algorithm's step), so the arithmetic matches fastai's op for op, but in place (mul_, add_, addcmul_, addcdiv_),
// with the group's scalars made once per group and step instead of once per parameter.

/// <summary>The step loop shared by fastai's optimizers: no grad, every group that trains, every parameter with a gradient.</summary>
internal abstract class FastaiOptimizer : Optimizer
{
    protected FastaiOptimizer(ParameterGroups groups, IEnumerable<KeyValuePair<string, double>> hypers, IEnumerable<string> bufferNames, bool decoupleWd)
        : base(groups, hypers, bufferNames)
    {
        DecoupleWd = decoupleWd;
    }

    /// <summary>True weight decay (fastai's <c>weight_decay</c>: <c>p *= 1 - lr·wd</c>) rather than L2 (<c>l2_reg</c>: <c>grad += wd·p</c>).</summary>
    public bool DecoupleWd { get; }

    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (closure is not null)
            throw new NotSupportedException($"{Name} takes no closure (fastai's optimizers do not support one); compute the loss before step().");
        using var noGrad = no_grad();
        for (var g = 0; g < GroupCount; g++)
            if (GroupTrains(g)) StepGroup(g);
        return null!;
    }

    /// <summary>One group's update; only parameters that <see cref="Optimizer.Trains"/> and have a gradient change.</summary>
    protected abstract void StepGroup(int group);

    /// <summary>fastai's <c>weight_decay</c> / <c>l2_reg</c> stepper for one parameter.</summary>
    protected void WeightDecay(Tensor p, Tensor grad, ParamState state, double wd, Scalar decay)
    {
        if (wd == 0 || !state.DoWd) return;
        if (DecoupleWd) p.mul_(decay);         // p *= 1 - lr·wd
        else grad.add_(p, alpha: decay);       // grad += wd·p
    }

    /// <summary>The scalar <see cref="WeightDecay"/> multiplies by: <c>1 - lr·wd</c> (true weight decay) or <c>wd</c> (L2).</summary>
    protected Scalar DecayScalar(double lr, double wd) => (DecoupleWd ? 1 - lr * wd : wd).ToScalar();

    /// <summary>A buffer of zeros like <paramref name="grad"/>, outside every dispose scope (it lives with the state).</summary>
    protected static Tensor ZerosLike(Tensor grad) => zeros_like(grad).DetachFromDisposeScope();

    /// <summary>fastai's <c>debias(mom, damp, step)</c>: <c>damp·(1 − mom^step)/(1 − mom)</c>, evaluated in fastai's order.</summary>
    protected static double Debias(double mom, double damp, long step) => damp * (1 - Math.Pow(mom, step)) / (1 - mom);
}

/// <summary>fastai's <c>SGD</c>: <c>p -= lr·grad</c>, or with momentum <c>grad_avg = mom·grad_avg + grad; p -= lr·grad_avg</c>.</summary>
internal sealed class SgdOptimizer : FastaiOptimizer
{
    private readonly bool _momentum;
    private readonly int _lr, _mom, _wd;

    public SgdOptimizer(ParameterGroups groups, double lr, double mom, double wd, bool decoupleWd)
        : base(groups, [new("lr", lr), new("mom", mom), new("wd", wd)], ["grad_avg"], decoupleWd)
    {
        // As fastai: momentum is part of the algorithm when it is not 0 at creation (a mom scheduled later from 0 does nothing).
        _momentum = mom != 0;
        (_lr, _mom, _wd) = (IndexOfHyper("lr"), IndexOfHyper("mom"), IndexOfHyper("wd"));
    }

    public override string Name => "SGD";

    protected override void StepGroup(int group)
    {
        var h = HyperValues(group);
        double lr = h[_lr], mom = h[_mom], wd = h[_wd];
        using var decay = DecayScalar(lr, wd);
        using var negLr = (-lr).ToScalar();
        using var momentum = mom.ToScalar();
        foreach (var state in StatesOf(group))
        {
            if (!Trains(group, state)) continue;
            using var grad = state.Param.grad;
            if (grad is null) continue;
            var p = state.Param;
            WeightDecay(p, grad, state, wd, decay);
            if (!_momentum)
            {
                p.add_(grad, alpha: negLr);
                continue;
            }
            ref var gradAvg = ref state.Slot(0);
            gradAvg ??= ZerosLike(grad);
            gradAvg.mul_(momentum).add_(grad);  // average_grad without dampening
            p.add_(gradAvg, alpha: negLr);      // momentum_step
        }
    }
}

/// <summary>fastai's <c>RMSProp</c>: <c>sqr_avg = sqr_mom·sqr_avg + (1 − sqr_mom)·grad²; p -= lr·(grad_avg or grad)/(√sqr_avg + eps)</c>.</summary>
internal sealed class RmsPropOptimizer : FastaiOptimizer
{
    private const int GradAvg = 0, SqrAvg = 1;
    private readonly bool _momentum;
    private readonly int _lr, _mom, _sqrMom, _wd, _eps;

    public RmsPropOptimizer(ParameterGroups groups, double lr, double sqrMom, double mom, double wd, double eps, bool decoupleWd)
        : base(groups, [new("lr", lr), new("mom", mom), new("sqr_mom", sqrMom), new("eps", eps), new("wd", wd)], ["grad_avg", "sqr_avg"], decoupleWd)
    {
        _momentum = mom != 0;
        (_lr, _mom, _sqrMom, _wd, _eps) = (IndexOfHyper("lr"), IndexOfHyper("mom"), IndexOfHyper("sqr_mom"), IndexOfHyper("wd"), IndexOfHyper("eps"));
    }

    public override string Name => "RMSProp";

    protected override void StepGroup(int group)
    {
        var h = HyperValues(group);
        double lr = h[_lr], mom = h[_mom], sqrMom = h[_sqrMom], wd = h[_wd], eps = h[_eps];
        using var decay = DecayScalar(lr, wd);
        using var momentum = mom.ToScalar();
        using var sqrMomentum = sqrMom.ToScalar();
        using var sqrDamp = (1 - sqrMom).ToScalar();
        using var epsilon = eps.ToScalar();
        using var negLr = (-lr).ToScalar();
        foreach (var state in StatesOf(group))
        {
            if (!Trains(group, state)) continue;
            using var grad = state.Param.grad;
            if (grad is null) continue;
            var p = state.Param;
            WeightDecay(p, grad, state, wd, decay);
            Tensor? gradAvg = null;
            if (_momentum)
            {
                ref var avg = ref state.Slot(GradAvg);
                avg ??= ZerosLike(grad);
                avg.mul_(momentum).add_(grad);  // average_grad without dampening
                gradAvg = avg;
            }
            ref var sqrAvg = ref state.Slot(SqrAvg);
            sqrAvg ??= ZerosLike(grad);
            sqrAvg.mul_(sqrMomentum).addcmul_(grad, grad, value: sqrDamp);
            using var denom = sqrAvg.sqrt();
            denom.add_(epsilon);
            p.addcdiv_(gradAvg ?? grad, denom, value: negLr);
        }
    }
}

/// <summary>
/// fastai's Adam family, which share <c>average_grad</c> (with dampening), <c>average_sqr_grad</c> and
/// <c>step_stat</c> and differ in the step: <c>Adam</c>, <c>RAdam</c>, <c>QHAdam</c>, <c>Lamb</c>. Debiasing uses the
/// group's current (possibly scheduled) <c>mom</c> and <c>sqr_mom</c>, as fastai's does.
/// </summary>
internal sealed class AdamOptimizer : FastaiOptimizer
{
    public enum Variant { Adam, RAdam, QHAdam, Lamb }

    private const int GradAvg = 0, SqrAvg = 1;
    private readonly Variant _variant;
    private readonly int _lr, _mom, _sqrMom, _eps, _wd, _beta, _nu1, _nu2;

    private AdamOptimizer(ParameterGroups groups, Variant variant, KeyValuePair<string, double>[] hypers, bool decoupleWd)
        : base(groups, hypers, ["grad_avg", "sqr_avg"], decoupleWd)
    {
        _variant = variant;
        (_lr, _mom, _sqrMom, _eps, _wd) = (IndexOfHyper("lr"), IndexOfHyper("mom"), IndexOfHyper("sqr_mom"), IndexOfHyper("eps"), IndexOfHyper("wd"));
        (_beta, _nu1, _nu2) = (IndexOfHyper("beta"), IndexOfHyper("nu_1"), IndexOfHyper("nu_2"));
    }

    public static AdamOptimizer Adam(ParameterGroups groups, double lr, double mom, double sqrMom, double eps, double wd, bool decoupleWd) =>
        new(groups, Variant.Adam, [new("lr", lr), new("mom", mom), new("sqr_mom", sqrMom), new("eps", eps), new("wd", wd)], decoupleWd);

    public static AdamOptimizer RAdam(ParameterGroups groups, double lr, double mom, double sqrMom, double eps, double wd, double beta, bool decoupleWd) =>
        new(groups, Variant.RAdam, [new("lr", lr), new("mom", mom), new("sqr_mom", sqrMom), new("eps", eps), new("wd", wd), new("beta", beta)], decoupleWd);

    public static AdamOptimizer QHAdam(ParameterGroups groups, double lr, double mom, double sqrMom, double nu1, double nu2, double eps, double wd, bool decoupleWd) =>
        new(groups, Variant.QHAdam,
            [new("lr", lr), new("mom", mom), new("sqr_mom", sqrMom), new("nu_1", nu1), new("nu_2", nu2), new("eps", eps), new("wd", wd)], decoupleWd);

    public static AdamOptimizer Lamb(ParameterGroups groups, double lr, double mom, double sqrMom, double eps, double wd, bool decoupleWd) =>
        new(groups, Variant.Lamb, [new("lr", lr), new("mom", mom), new("sqr_mom", sqrMom), new("eps", eps), new("wd", wd)], decoupleWd);

    public override string Name => _variant.ToString();

    protected override void StepGroup(int group)
    {
        var h = HyperValues(group);
        double lr = h[_lr], mom = h[_mom], sqrMom = h[_sqrMom], eps = h[_eps], wd = h[_wd];
        using var decay = DecayScalar(lr, wd);
        using var momentum = mom.ToScalar();
        using var damp = (1 - mom).ToScalar();
        using var sqrMomentum = sqrMom.ToScalar();
        using var sqrDamp = (1 - sqrMom).ToScalar();
        using var epsilon = eps.ToScalar();
        // The debiasing depends on the parameter's step count, the same for the whole group in practice: made once per distinct count.
        var debias = new DebiasScalars();
        try
        {
            foreach (var state in StatesOf(group))
            {
                if (!Trains(group, state)) continue;
                using var grad = state.Param.grad;
                if (grad is null) continue;
                var p = state.Param;
                WeightDecay(p, grad, state, wd, decay);
                ref var gradAvg = ref state.Slot(GradAvg);
                gradAvg ??= ZerosLike(grad);
                gradAvg.mul_(momentum).add_(grad, alpha: damp);                     // average_grad, dampening
                ref var sqrAvg = ref state.Slot(SqrAvg);
                sqrAvg ??= ZerosLike(grad);
                sqrAvg.mul_(sqrMomentum).addcmul_(grad, grad, value: sqrDamp);      // average_sqr_grad
                var step = ++state.Step;                                            // step_stat
                debias.For(step, mom, sqrMom);
                switch (_variant)
                {
                    case Variant.Adam:
                        AdamStep(p, gradAvg, sqrAvg, lr, epsilon, ref debias);
                        break;
                    case Variant.RAdam:
                        RAdamStep(p, gradAvg, sqrAvg, lr, sqrMom, eps, h[_beta], step, ref debias);
                        break;
                    case Variant.QHAdam:
                        QHAdamStep(p, grad, gradAvg, sqrAvg, lr, h[_nu1], h[_nu2], epsilon, ref debias);
                        break;
                    default:
                        LambStep(p, gradAvg, sqrAvg, lr, epsilon, ref debias);
                        break;
                }
            }
        }
        finally
        {
            debias.Dispose();
        }
    }

    /// <summary>fastai's <c>adam_step</c>: <c>p -= lr/debias1 · grad_avg / (√(sqr_avg/debias2) + eps)</c>.</summary>
    private static void AdamStep(Tensor p, Tensor gradAvg, Tensor sqrAvg, double lr, Scalar eps, ref DebiasScalars d)
    {
        using var denom = sqrAvg.div(d.Debias2);
        denom.sqrt_().add_(eps);
        p.addcdiv_(gradAvg, denom, value: d.NegLrOver1(lr));
    }

    /// <summary>fastai's <c>radam_step</c>: Adam's step scaled by the variance rectification when it is defined (r &gt; 5), a momentum step otherwise.</summary>
    private static void RAdamStep(Tensor p, Tensor gradAvg, Tensor sqrAvg, double lr, double sqrMom, double eps, double beta, long step, ref DebiasScalars d)
    {
        var rInf = 2 / (1 - sqrMom) - 1;
        var sqrMomStep = Math.Pow(sqrMom, step);
        var r = rInf - 2 * step * sqrMomStep / (1 - sqrMomStep);
        if (r > 5)
        {
            var v = Math.Sqrt((r - 4) * (r - 2) * rInf / ((rInf - 4) * (rInf - 2) * r));
            using var denom = sqrAvg.div(d.Debias2);
            denom.sqrt_();
            if (eps != 0) denom.add_(eps);
            using var soft = beta != 0 ? nn.functional.softplus(denom, beta) : null;
            using var value = (-lr * v / d.Value1).ToScalar();
            p.addcdiv_(gradAvg, soft ?? denom, value: value);
        }
        else
        {
            p.add_(gradAvg, alpha: d.NegLrOver1(lr));
        }
    }

    /// <summary>fastai's <c>qhadam_step</c>: the quasi-hyperbolic mix of the gradient and its debiased averages.</summary>
    private static void QHAdamStep(Tensor p, Tensor grad, Tensor gradAvg, Tensor sqrAvg, double lr, double nu1, double nu2, Scalar eps, ref DebiasScalars d)
    {
        using var scope = NewDisposeScope();
        var num = grad.mul(1 - nu1).add_(gradAvg.div(d.Debias1).mul_(nu1));
        var den = grad.pow(2).mul_(1 - nu2).add_(sqrAvg.div(d.Debias2).mul_(nu2)).sqrt_().add_(eps);
        p.addcdiv_(num, den, value: -lr);
    }

    /// <summary>fastai's <c>lamb_step</c>: Adam's update scaled by the trust ratio ‖p‖/‖update‖ (at most 10).</summary>
    private static void LambStep(Tensor p, Tensor gradAvg, Tensor sqrAvg, double lr, Scalar eps, ref DebiasScalars d)
    {
        using var scope = NewDisposeScope();
        var r1 = p.pow(2).mean().sqrt().item<float>();
        var update = gradAvg.div(d.Debias1).div_(sqrAvg.div(d.Debias2).sqrt_().add_(eps));
        var r2 = update.pow(2).mean().sqrt().item<float>();
        // fastai: q = 1 if r1 == 0 or r2 == 0 else min(r1/r2, 10), with r1/r2 a float32 tensor, so alpha = -lr·q in float32.
        double alpha;
        if (r1 == 0 || r2 == 0) alpha = -lr;
        else
        {
            var q = r1 / r2;
            alpha = 10 < q ? -lr * 10 : (float)-lr * q;
        }
        p.add_(update, alpha: alpha);
    }

    /// <summary>The debiasing terms of one step count and their scalars, remade only when the count changes.</summary>
    private struct DebiasScalars : IDisposable
    {
        private long _step;
        private double _lr;
        private Scalar? _debias1, _debias2, _negLrOver1;

        public double Value1 { get; private set; }
        public double Value2 { get; private set; }
        public readonly Scalar Debias1 => _debias1!;
        public readonly Scalar Debias2 => _debias2!;

        public void For(long step, double mom, double sqrMom)
        {
            if (step == _step && _debias1 is not null) return;
            Dispose();
            _step = step;
            Value1 = Debias(mom, 1 - mom, step);
            Value2 = Debias(sqrMom, 1 - sqrMom, step);
            _debias1 = Value1.ToScalar();
            _debias2 = Value2.ToScalar();
        }

        /// <summary><c>-lr / debias1</c> (fastai's order of operations).</summary>
        public Scalar NegLrOver1(double lr)
        {
            if (_negLrOver1 is null || lr != _lr)
            {
                _negLrOver1?.Dispose();
                _lr = lr;
                _negLrOver1 = (-lr / Value1).ToScalar();
            }
            return _negLrOver1;
        }

        public void Dispose()
        {
            _debias1?.Dispose();
            _debias2?.Dispose();
            _negLrOver1?.Dispose();
            (_debias1, _debias2, _negLrOver1) = (null, null, null);
        }
    }
}

/// <summary>
/// fastai's <c>Lookahead</c>: steps the optimizer it wraps, and every <c>k</c> steps moves slow weights a fraction
/// <c>alpha</c> toward the fast ones and puts the fast weights back at the slow ones.
/// </summary>
internal sealed class LookaheadOptimizer : Optimizer
{
    private readonly Optimizer _inner;
    private Tensor[]? _slow;

    public LookaheadOptimizer(Optimizer inner, int k, double alpha) : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        _inner = inner;
        K = k;
        Alpha = alpha;
    }

    public int K { get; }
    public double Alpha { get; }
    public long Count { get; private set; }

    public override string Name => $"Lookahead({_inner.Name})";

    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (closure is not null) throw new NotSupportedException("Lookahead takes no closure (fastai's optimizers do not support one).");
        _slow ??= CopyWeights();
        _inner.step();
        Count++;
        if (Count % K != 0) return null!;
        using var noGrad = no_grad();
        var states = State;
        for (var i = 0; i < states.Count; i++)
        {
            var fast = states[i].Param;
            using var diff = fast.sub(_slow[i]);
            _slow[i].add_(diff, alpha: Alpha);
            fast.copy_(_slow[i]);
        }
        return null!;
    }

    private Tensor[] CopyWeights()
    {
        using var noGrad = no_grad();
        return State.Select(s => s.Param.clone().detach().DetachFromDisposeScope()).ToArray();
    }

    public override void ClearState()
    {
        _inner.ClearState();
        DropSlow();
        Count = 0;
    }

    protected internal override void SaveExtra(BinaryWriter writer)
    {
        _inner.SaveExtra(writer);
        writer.Write(Count);
        writer.Write(_slow is not null);
        if (_slow is null) return;
        foreach (var t in _slow) t.Save(writer);
    }

    protected internal override Action LoadExtra(BinaryReader reader, List<Tensor> pending)
    {
        var inner = _inner.LoadExtra(reader, pending);
        var count = reader.ReadInt64();
        Tensor[]? slow = null;
        if (reader.ReadBoolean())
        {
            var states = State;
            slow = new Tensor[states.Count];
            for (var i = 0; i < slow.Length; i++)
            {
                var t = Tensor.Load(reader).DetachFromDisposeScope();
                pending.Add(t);
                if (!t.shape.SequenceEqual(states[i].Param.shape))
                    throw new InvalidDataException($"Lookahead's slow weight {i} has shape [{string.Join(", ", t.shape)}], the parameter [{string.Join(", ", states[i].Param.shape)}].");
                slow[i] = t;
            }
        }
        return () =>
        {
            inner();
            DropSlow();
            Count = count;
            if (slow is null) return;
            var states = State;
            for (var i = 0; i < slow.Length; i++)
            {
                var kept = slow[i];
                pending.RemoveAll(t => ReferenceEquals(t, kept));
                var device = states[i].Param.device;
                slow[i] = slow[i].device == device ? slow[i] : slow[i].to(device).DetachFromDisposeScope();
            }
            _slow = slow;
        };
    }

    private void DropSlow()
    {
        if (_slow is null) return;
        foreach (var t in _slow) t.Dispose();
        _slow = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropSlow();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
