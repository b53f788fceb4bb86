using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>TerminateOnNaNCallback</c> (order -9): stops the fit (<see cref="CancelFitException"/>) after a
/// batch whose loss is NaN or infinite, in training or validation.
/// </summary>
public sealed partial class TerminateOnNaNCallback : Callback
{
    /// <inheritdoc/>
    public override int Order => -9;

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        if (Attached.Loss is not { } loss) return;
        using var scope = NewDisposeScope();
        if (!isfinite(loss).all().item<bool>()) throw new CancelFitException();
    }
}
