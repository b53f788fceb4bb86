using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's optimizers (<c>fastai.optimizer</c>), with fastai's defaults and formulas. Each comes two ways: as an
/// optimizer factory for <c>new Learner(..., optFunc: Optimizers.SGD(mom: 0.9))</c> (fastai's
/// <c>opt_func=partial(SGD, mom=0.9)</c>), and as an optimizer over given parameters
/// (<c>Optimizers.SGD(model.parameters(), lr: 0.1)</c>, fastai's <c>SGD(params, lr)</c>).
/// </summary>
/// <remarks>
/// <para>Weight decay is true (decoupled) weight decay, <c>p *= 1 − lr·wd</c> before the step, unless
/// <c>decoupleWd: false</c> asks for L2 regularization (<c>grad += wd·p</c>). Debiasing uses the current, possibly
/// scheduled, <c>mom</c>. Hyper-parameters carry fastai's names: <c>lr</c>, <c>mom</c>, <c>sqr_mom</c>, <c>eps</c>,
/// <c>wd</c>, and <c>beta</c> (RAdam), <c>nu_1</c>/<c>nu_2</c> (QHAdam).</para>
/// <para>Parameters given as <see cref="ParameterGroups"/> keep their groups; any other sequence is one group.</para>
/// </remarks>
public static class Optimizers
{
    // ---- Factories, for Learner.OptFunc ----

    /// <summary>fastai's <c>SGD</c>: <c>p -= lr·grad</c>; with <paramref name="mom"/>, <c>grad_avg = mom·grad_avg + grad</c> (no dampening) and <c>p -= lr·grad_avg</c>.</summary>
    /// <param name="mom">Momentum (0: none; a momentum is part of the algorithm only when it is not 0 at creation, as in fastai).</param>
    /// <param name="wd">Weight decay (fastai's default for SGD: 0).</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> SGD(double mom = 0, double wd = 0, bool decoupleWd = true) =>
        (ps, lr) => SGD(ps, lr, mom, wd, decoupleWd);

    /// <summary>fastai's <c>RMSProp</c>: <c>sqr_avg = sqr_mom·sqr_avg + (1−sqr_mom)·grad²</c>, <c>p -= lr·(grad_avg or grad)/(√sqr_avg + eps)</c>.</summary>
    /// <param name="sqrMom">The squared gradients' average (fastai's <c>sqr_mom</c>, PyTorch's alpha).</param>
    /// <param name="mom">Momentum on the gradient (0: none).</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="eps">Added to the denominator (fastai's 1e-8).</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> RMSProp(double sqrMom = 0.99, double mom = 0, double wd = 0, double eps = 1e-8, bool decoupleWd = true) =>
        (ps, lr) => RMSProp(ps, lr, sqrMom, mom, wd, eps, decoupleWd);

    /// <summary>
    /// fastai's <c>Adam</c>, the learner's default: <c>grad_avg = mom·grad_avg + (1−mom)·grad</c>,
    /// <c>sqr_avg = sqr_mom·sqr_avg + (1−sqr_mom)·grad²</c>,
    /// <c>p -= lr/(1−mom^step) · grad_avg/(√(sqr_avg/(1−sqr_mom^step)) + eps)</c>, after <c>p *= 1 − lr·wd</c>.
    /// </summary>
    /// <param name="mom">beta1 (fastai's 0.9).</param>
    /// <param name="sqrMom">beta2 (fastai's 0.99, where PyTorch has 0.999).</param>
    /// <param name="eps">Added to the denominator (fastai's 1e-5, where PyTorch has 1e-8).</param>
    /// <param name="wd">Weight decay (fastai's 0.01).</param>
    /// <param name="decoupleWd">True weight decay (AdamW's); false for L2 regularization (PyTorch Adam's).</param>
    public static Func<ParameterGroups, double, optim.Optimizer> Adam(double mom = 0.9, double sqrMom = 0.99, double eps = 1e-5, double wd = 0.01, bool decoupleWd = true) =>
        (ps, lr) => Adam(ps, lr, mom, sqrMom, eps, wd, decoupleWd);

    /// <summary>fastai's <c>RAdam</c>: Adam with the variance rectification of Liu et al. (a momentum step while the rectification is undefined).</summary>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay (fastai's default for RAdam: 0).</param>
    /// <param name="beta">When not 0, the denominator goes through <c>softplus(·, beta)</c>.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> RAdam(double mom = 0.9, double sqrMom = 0.99, double eps = 1e-5, double wd = 0, double beta = 0, bool decoupleWd = true) =>
        (ps, lr) => RAdam(ps, lr, mom, sqrMom, eps, wd, beta, decoupleWd);

    /// <summary>fastai's <c>QHAdam</c> (quasi-hyperbolic Adam).</summary>
    /// <param name="mom">beta1 (fastai's 0.999).</param>
    /// <param name="sqrMom">beta2 (fastai's 0.999).</param>
    /// <param name="nu1">The weight of the averaged gradient against the plain one.</param>
    /// <param name="nu2">The weight of the averaged squared gradient against the plain one.</param>
    /// <param name="eps">Added to the denominator (fastai's 1e-8).</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> QHAdam(double mom = 0.999, double sqrMom = 0.999, double nu1 = 0.7, double nu2 = 1.0, double eps = 1e-8, double wd = 0, bool decoupleWd = true) =>
        (ps, lr) => QHAdam(ps, lr, mom, sqrMom, nu1, nu2, eps, wd, decoupleWd);

    /// <summary>fastai's <c>Lamb</c>: Adam's update scaled per parameter by the trust ratio ‖p‖/‖update‖ (at most 10).</summary>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> Lamb(double mom = 0.9, double sqrMom = 0.99, double eps = 1e-5, double wd = 0, bool decoupleWd = true) =>
        (ps, lr) => Lamb(ps, lr, mom, sqrMom, eps, wd, decoupleWd);

    /// <summary>fastai's <c>Lookahead</c> around the optimizers <paramref name="inner"/> makes.</summary>
    /// <param name="inner">The optimizer factory to wrap, for example <c>Optimizers.RAdam()</c>.</param>
    /// <param name="k">Steps between two updates of the slow weights.</param>
    /// <param name="alpha">How far the slow weights move toward the fast ones.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> Lookahead(Func<ParameterGroups, double, optim.Optimizer> inner, int k = 6, double alpha = 0.5)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return (ps, lr) => Lookahead(AsOptimizer(inner(ps, lr)), k, alpha);
    }

    /// <summary>fastai's <c>ranger</c>: <see cref="Lookahead(Optimizer, int, double)"/> around <see cref="RAdam(double, double, double, double, double, bool)"/> with mom 0.95, wd 0.01, eps 1e-6.</summary>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="beta">RAdam's softplus beta (0: none).</param>
    /// <param name="k">Lookahead's steps between updates.</param>
    /// <param name="alpha">Lookahead's step toward the fast weights.</param>
    public static Func<ParameterGroups, double, optim.Optimizer> Ranger(double mom = 0.95, double sqrMom = 0.99, double eps = 1e-6, double wd = 0.01, double beta = 0, int k = 6, double alpha = 0.5) =>
        Lookahead(RAdam(mom, sqrMom, eps, wd, beta), k, alpha);

    // ---- Optimizers over given parameters ----

    /// <summary>fastai's <c>SGD(params, lr, mom, wd)</c>.</summary>
    /// <param name="parameters">The parameters (<see cref="ParameterGroups"/> for several groups).</param>
    /// <param name="lr">The learning rate every group starts with (the learner's schedules and <see cref="Optimizer.SetHyper"/> change it later).</param>
    /// <param name="mom">Momentum (0: none).</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Optimizer SGD(IEnumerable<Parameter> parameters, double lr, double mom = 0, double wd = 0, bool decoupleWd = true) =>
        new SgdOptimizer(ParameterGroups.Single(parameters), lr, mom, wd, decoupleWd);

    /// <summary>fastai's <c>RMSProp(params, lr, sqr_mom, mom, wd)</c>.</summary>
    /// <param name="parameters">The parameters (<see cref="ParameterGroups"/> for several groups).</param>
    /// <param name="lr">The learning rate every group starts with (the learner's schedules and <see cref="Optimizer.SetHyper"/> change it later).</param>
    /// <param name="sqrMom">The squared gradients' average.</param>
    /// <param name="mom">Momentum (0: none).</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Optimizer RMSProp(IEnumerable<Parameter> parameters, double lr, double sqrMom = 0.99, double mom = 0, double wd = 0, double eps = 1e-8, bool decoupleWd = true) =>
        new RmsPropOptimizer(ParameterGroups.Single(parameters), lr, sqrMom, mom, wd, eps, decoupleWd);

    /// <summary>fastai's <c>Adam(params, lr, mom, sqr_mom, eps, wd)</c>.</summary>
    /// <param name="parameters">The parameters (<see cref="ParameterGroups"/> for several groups).</param>
    /// <param name="lr">The learning rate every group starts with (the learner's schedules and <see cref="Optimizer.SetHyper"/> change it later).</param>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Optimizer Adam(IEnumerable<Parameter> parameters, double lr, double mom = 0.9, double sqrMom = 0.99, double eps = 1e-5, double wd = 0.01, bool decoupleWd = true) =>
        AdamOptimizer.Adam(ParameterGroups.Single(parameters), lr, mom, sqrMom, eps, wd, decoupleWd);

    /// <summary>fastai's <c>RAdam(params, lr, mom, sqr_mom, eps, wd, beta)</c>.</summary>
    /// <param name="parameters">The parameters (<see cref="ParameterGroups"/> for several groups).</param>
    /// <param name="lr">The learning rate every group starts with (the learner's schedules and <see cref="Optimizer.SetHyper"/> change it later).</param>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="beta">When not 0, the denominator goes through <c>softplus(·, beta)</c>.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Optimizer RAdam(IEnumerable<Parameter> parameters, double lr, double mom = 0.9, double sqrMom = 0.99, double eps = 1e-5, double wd = 0, double beta = 0, bool decoupleWd = true) =>
        AdamOptimizer.RAdam(ParameterGroups.Single(parameters), lr, mom, sqrMom, eps, wd, beta, decoupleWd);

    /// <summary>fastai's <c>QHAdam(params, lr, mom, sqr_mom, nu_1, nu_2, eps, wd)</c>.</summary>
    /// <param name="parameters">The parameters (<see cref="ParameterGroups"/> for several groups).</param>
    /// <param name="lr">The learning rate every group starts with (the learner's schedules and <see cref="Optimizer.SetHyper"/> change it later).</param>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="nu1">The weight of the averaged gradient.</param>
    /// <param name="nu2">The weight of the averaged squared gradient.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Optimizer QHAdam(IEnumerable<Parameter> parameters, double lr, double mom = 0.999, double sqrMom = 0.999, double nu1 = 0.7, double nu2 = 1.0, double eps = 1e-8, double wd = 0, bool decoupleWd = true) =>
        AdamOptimizer.QHAdam(ParameterGroups.Single(parameters), lr, mom, sqrMom, nu1, nu2, eps, wd, decoupleWd);

    /// <summary>fastai's <c>Lamb(params, lr, mom, sqr_mom, eps, wd)</c>.</summary>
    /// <param name="parameters">The parameters (<see cref="ParameterGroups"/> for several groups).</param>
    /// <param name="lr">The learning rate every group starts with (the learner's schedules and <see cref="Optimizer.SetHyper"/> change it later).</param>
    /// <param name="mom">beta1.</param>
    /// <param name="sqrMom">beta2.</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="wd">Weight decay.</param>
    /// <param name="decoupleWd">True weight decay; false for L2 regularization.</param>
    public static Optimizer Lamb(IEnumerable<Parameter> parameters, double lr, double mom = 0.9, double sqrMom = 0.99, double eps = 1e-5, double wd = 0, bool decoupleWd = true) =>
        AdamOptimizer.Lamb(ParameterGroups.Single(parameters), lr, mom, sqrMom, eps, wd, decoupleWd);

    /// <summary>fastai's <c>Lookahead(opt, k, alpha)</c>; the result owns <paramref name="opt"/>.</summary>
    /// <param name="opt">The optimizer to wrap.</param>
    /// <param name="k">Steps between two updates of the slow weights.</param>
    /// <param name="alpha">How far the slow weights move toward the fast ones.</param>
    public static Optimizer Lookahead(Optimizer opt, int k = 6, double alpha = 0.5) => new LookaheadOptimizer(opt, k, alpha);

    /// <summary>A FastCallbacks optimizer as it is, or a TorchSharp one in an <see cref="OptimWrapper"/>.</summary>
    /// <param name="opt">A FastCallbacks optimizer, returned as it is, or a TorchSharp one, wrapped (the wrapper steps it).</param>
    public static Optimizer AsOptimizer(optim.Optimizer opt)
    {
        ArgumentNullException.ThrowIfNull(opt);
        return opt as Optimizer ?? new OptimWrapper(opt);
    }
}
