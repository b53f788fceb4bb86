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

    /// <summary>The momentum (SGD, RMSprop) or beta1 (Adam-like), or null when the optimizer has neither.</summary>
    public static double? GetMom(optim.Optimizer opt) => opt switch
    {
        optim.IBetas b => b.Betas.Item1,
        optim.IMomentum m => m.Momentum,
        _ => null,
    };

    /// <summary>Sets the momentum (SGD, RMSprop) or beta1 (Adam-like); returns false when the optimizer has neither.</summary>
    public static bool SetMom(optim.Optimizer opt, double mom)
    {
        switch (opt)
        {
            case optim.IBetas b:
                b.Betas = (mom, b.Betas.Item2);
                return true;
            case optim.IMomentum m:
                m.Momentum = mom;
                return true;
            default:
                return false;
        }
    }

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
