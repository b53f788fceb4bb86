namespace FastCallbacks;

/// <summary>
/// fastai's <c>GradientAccumulation</c> (order 6, training only): steps the optimizer only once
/// <c>nAcc</c> samples have been seen, so several small batches act as one batch of <c>nAcc</c> samples.
/// </summary>
/// <remarks>
/// After the loss, <see cref="Learner.LossGrad"/> is scaled by <c>batch size / nAcc</c>, so the accumulated
/// gradient is the mean over the <c>nAcc</c> samples (for a loss that averages over the batch). Before the step,
/// while fewer than <c>nAcc</c> samples have been counted, it throws <see cref="CancelBatchException"/>: that skips
/// the step and also the <c>zero_grad</c> that follows it, which is what lets gradients accumulate. The count
/// starts at every fit and runs across epochs, as in fastai. The logged <see cref="Learner.Loss"/> is unscaled.
/// </remarks>
public sealed partial class GradientAccumulation : Callback
{
    [Persist] private int _count;

    /// <summary>Creates the callback.</summary>
    /// <param name="nAcc">Samples to accumulate before each optimizer step (at least 1).</param>
    public GradientAccumulation(int nAcc = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nAcc, 1);
        NAcc = nAcc;
        RunValid = false;
    }

    /// <inheritdoc/>
    public override int Order => 6;

    /// <summary>Samples accumulated per optimizer step.</summary>
    public int NAcc { get; }

    /// <summary>Samples counted since the last step.</summary>
    public int Count => _count;

    [On(Event.BeforeFit)]
    private void BeforeFit() => _count = 0;

    [On(Event.AfterLoss)]
    private void AfterLoss()
    {
        var learn = Attached;
        if (learn.LossGrad is not { } lossGrad || learn.Yb.Length == 0) return;
        learn.LossGrad = lossGrad / ((double)NAcc / BatchSize(learn));
    }

    [On(Event.BeforeStep)]
    private void BeforeStep()
    {
        _count += BatchSize(Attached);
        if (_count < NAcc) throw new CancelBatchException();
        _count = 0;
    }

    private static int BatchSize(Learner learn)
    {
        var t = learn.Yb.Length > 0 ? learn.Yb[0] : learn.Xb[0];
        return t.shape.Length == 0 ? 1 : (int)t.shape[0];
    }
}
