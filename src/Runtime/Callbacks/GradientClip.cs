using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>GradientClip</c> (order 11): before every optimizer step, rescales the gradients so that their
/// total norm (over all the model's parameters, as if concatenated) is at most <c>maxNorm</c>
/// (<c>nn.utils.clip_grad_norm_</c>).
/// </summary>
public sealed partial class GradientClip : Callback
{
    /// <summary>Creates the callback.</summary>
    /// <param name="maxNorm">The largest total gradient norm; 0 turns clipping off, as in fastai.</param>
    /// <param name="normType">The norm's order (2 is the Euclidean norm; use <see cref="double.PositiveInfinity"/> for the max norm).</param>
    public GradientClip(double maxNorm = 1, double normType = 2)
    {
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "GradientClip: maxNorm must be zero (off) or positive.");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "GradientClip: normType must be positive.");
        MaxNorm = maxNorm;
        NormType = normType;
    }

    /// <inheritdoc/>
    public override int Order => 11;

    /// <summary>The largest total gradient norm (0: off).</summary>
    public double MaxNorm { get; }

    /// <summary>The norm's order.</summary>
    public double NormType { get; }

    /// <summary>The total gradient norm before the last clipping.</summary>
    public double LastNorm { get; private set; }

    [On(Event.BeforeStep)]
    private void BeforeStep()
    {
        if (MaxNorm == 0) return;
        LastNorm = nn.utils.clip_grad_norm_(Attached.Model.parameters(), MaxNorm, NormType);
    }
}
