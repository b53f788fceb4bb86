using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// Reads and sets an optimizer's hyper-parameters under fastai's names (<c>opt.hypers</c>/<c>set_hyper</c>): learning
/// rate, momentum (beta1 for Adam-like optimizers), <c>sqr_mom</c> (beta2) and weight decay, for FastCallbacks'
/// <see cref="Optimizer"/>s (see <see cref="Optimizer.Hypers"/> and <see cref="Optimizer.SetHyper"/> for every name and
/// per-group values) and for TorchSharp's own optimizers.
/// </summary>
public static class Hyperparameters
{
    /// <summary>The learning rate of the last parameter group (what fastai's Recorder logs).</summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    public static double GetLr(optim.Optimizer opt) => opt is Optimizer ours ? ours.GetHyper("lr") : opt.ParamGroups.Last().LearningRate;

    /// <summary>Sets every parameter group's learning rate.</summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    /// <param name="lr">The new learning rate, the same for every group; a running schedule sets its own again at the next batch.</param>
    public static void SetLr(optim.Optimizer opt, double lr)
    {
        if (opt is Optimizer ours)
        {
            ours.SetHyper("lr", lr);
            return;
        }
        foreach (var g in opt.ParamGroups) g.LearningRate = lr;
    }

    /// <summary>
    /// The momentum (SGD, RMSprop) or beta1 (Adam-like) of the last parameter group, or null when the optimizer
    /// has neither.
    /// </summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    public static double? GetMom(optim.Optimizer opt) => Get(opt, "mom");

    /// <summary>
    /// Sets the momentum (SGD, RMSprop) or beta1 (Adam-like) of every parameter group; returns false when the
    /// optimizer has neither.
    /// </summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    /// <param name="mom">The new momentum (SGD, RMSprop) or beta1 (Adam-like) of every group; 0 for none.</param>
    /// <remarks>
    /// For a TorchSharp optimizer, the optimizer-level default is set too: TorchSharp's <c>Betas</c>/<c>Momentum</c>
    /// setters on the optimizer change only the default, which <c>step()</c> does not read.
    /// </remarks>
    public static bool SetMom(optim.Optimizer opt, double mom)
    {
        if (opt is not Optimizer)
        {
            switch (opt)
            {
                case optim.IBetas b: b.Betas = (mom, b.Betas.Item2); break;
                case optim.IMomentum m: m.Momentum = mom; break;
            }
        }
        return Set(opt, "mom", mom);
    }

    /// <summary>The beta2 of an Adam-like optimizer's last parameter group (fastai's <c>sqr_mom</c>), or null for other optimizers.</summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    public static double? GetSqrMom(optim.Optimizer opt) => Get(opt, "sqr_mom");

    /// <summary>Sets beta2 (fastai's <c>sqr_mom</c>) of every parameter group; returns false for optimizers without one.</summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    /// <param name="sqrMom">The new beta2 of every group: the decay of the squared gradients' average (fastai's 0.99).</param>
    public static bool SetSqrMom(optim.Optimizer opt, double sqrMom)
    {
        if (opt is optim.IBetas b and not Optimizer) b.Betas = (b.Betas.Item1, sqrMom);
        return Set(opt, "sqr_mom", sqrMom);
    }

    /// <summary>The weight decay of the last parameter group, or null when the optimizer has none FastCallbacks knows.</summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    public static double? GetWeightDecay(optim.Optimizer opt) => Get(opt, "wd");

    /// <summary>Sets weight decay on every parameter group.</summary>
    /// <param name="opt">A FastCallbacks <see cref="Optimizer"/> or a TorchSharp one (Adam, SGD, …), such as the learner's <see cref="Learner.Opt"/>.</param>
    /// <param name="wd">The new weight decay of every group; applied as the optimizer was made to (true weight decay or L2).</param>
    /// <exception cref="NotSupportedException">The optimizer has no weight decay setting FastCallbacks knows.</exception>
    public static void SetWeightDecay(optim.Optimizer opt, double wd)
    {
        if (!Set(opt, "wd", wd))
            throw new NotSupportedException($"Weight decay cannot be set on {opt.GetType().Name}; pass it to the optimizer in optFunc instead.");
    }

    /// <summary>The last group's value of <paramref name="name"/>, or null when the optimizer has no such setting.</summary>
    internal static double? Get(optim.Optimizer opt, string name)
    {
        if (opt is Optimizer ours) return ours.HasHyper(name) ? ours.GetHyper(name) : null;
        return opt.ParamGroups.LastOrDefault() is { } last ? TorchSharpHypers.Get(last, name) : null;
    }

    /// <summary>Sets <paramref name="name"/> on every group; false when the optimizer has no such setting.</summary>
    internal static bool Set(optim.Optimizer opt, string name, double value)
    {
        if (opt is Optimizer ours)
        {
            if (!ours.HasHyper(name)) return false;
            ours.SetHyper(name, value);
            return true;
        }
        var found = false;
        foreach (var g in opt.ParamGroups) found |= TorchSharpHypers.Set(g, name, value);
        return found;
    }
}
