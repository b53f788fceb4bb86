using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// Reads and sets an optimizer's hyper-parameters across TorchSharp's optimizer types (fastai's
/// <c>opt.hypers</c>/<c>set_hyper</c>): learning rate, momentum (beta1 for Adam-like optimizers) and weight decay.
/// </summary>
public static class Hyperparameters
{
    /// <summary>The learning rate of the last parameter group (what fastai's Recorder logs).</summary>
    public static double GetLr(optim.Optimizer opt) => opt.ParamGroups.Last().LearningRate;

    /// <summary>Sets every parameter group's learning rate.</summary>
    public static void SetLr(optim.Optimizer opt, double lr)
    {
        foreach (var g in opt.ParamGroups) g.LearningRate = lr;
    }

    /// <summary>
    /// The momentum (SGD, RMSprop) or beta1 (Adam-like) of the last parameter group, or null when the optimizer
    /// has neither.
    /// </summary>
    public static double? GetMom(optim.Optimizer opt) => opt.ParamGroups.LastOrDefault() switch
    {
        optim.IBetas b => b.Betas.Item1,
        optim.IMomentum m => m.Momentum,
        _ => opt switch
        {
            optim.IBetas b => b.Betas.Item1,
            optim.IMomentum m => m.Momentum,
            _ => null,
        },
    };

    /// <summary>
    /// Sets the momentum (SGD, RMSprop) or beta1 (Adam-like) of every parameter group, and the optimizer's
    /// default for groups added later; returns false when the optimizer has neither.
    /// </summary>
    /// <remarks>
    /// TorchSharp's optimizer-level <c>Betas</c>/<c>Momentum</c> setters change only the defaults, which
    /// <c>step()</c> does not read; the parameter groups' values are the ones used.
    /// </remarks>
    public static bool SetMom(optim.Optimizer opt, double mom)
    {
        var found = false;
        switch (opt)
        {
            case optim.IBetas b: b.Betas = (mom, b.Betas.Item2); found = true; break;
            case optim.IMomentum m: m.Momentum = mom; found = true; break;
        }
        foreach (var g in opt.ParamGroups)
        {
            switch (g)
            {
                case optim.IBetas gb: gb.Betas = (mom, gb.Betas.Item2); found = true; break;
                case optim.IMomentum gm: gm.Momentum = mom; found = true; break;
            }
        }
        return found;
    }

    /// <summary>The beta2 of an Adam-like optimizer's last parameter group (fastai's <c>sqr_mom</c>), or null for other optimizers.</summary>
    public static double? GetSqrMom(optim.Optimizer opt) => opt.ParamGroups.LastOrDefault() switch
    {
        optim.IBetas b => b.Betas.Item2,
        _ => (opt as optim.IBetas)?.Betas.Item2,
    };

    /// <summary>Sets beta2 (fastai's <c>sqr_mom</c>) of every parameter group of an Adam-like optimizer; returns false for other optimizers.</summary>
    public static bool SetSqrMom(optim.Optimizer opt, double sqrMom)
    {
        var found = false;
        if (opt is optim.IBetas b)
        {
            b.Betas = (b.Betas.Item1, sqrMom);
            found = true;
        }
        foreach (var g in opt.ParamGroups)
        {
            if (g is not optim.IBetas gb) continue;
            gb.Betas = (gb.Betas.Item1, sqrMom);
            found = true;
        }
        return found;
    }

    /// <summary>The weight decay of the last parameter group, or null when FastCallbacks does not know the optimizer's options.</summary>
    public static double? GetWeightDecay(optim.Optimizer opt) => (opt.ParamGroups.LastOrDefault() as ParamGroup)?.Options switch
    {
        Adam.Options o => o.weight_decay,
        AdamW.Options o => o.weight_decay,
        SGD.Options o => o.weight_decay,
        RMSProp.Options o => o.weight_decay,
        _ => null,
    };

    /// <summary>Sets weight decay on every parameter group of the optimizers that have one.</summary>
    /// <exception cref="NotSupportedException">The optimizer type has no weight decay setting FastCallbacks knows.</exception>
    public static void SetWeightDecay(optim.Optimizer opt, double wd)
    {
        foreach (var g in opt.ParamGroups)
        {
            switch ((g as ParamGroup)?.Options)
            {
                case Adam.Options o: o.weight_decay = wd; break;
                case AdamW.Options o: o.weight_decay = wd; break;
                case SGD.Options o: o.weight_decay = wd; break;
                case RMSProp.Options o: o.weight_decay = wd; break;
                default:
                    throw new NotSupportedException(
                        $"Weight decay cannot be set on {opt.GetType().Name}; pass it to the optimizer in optFunc instead.");
            }
        }
    }
}
