using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// A loss that knows how to turn the model's raw outputs into predictions (fastai's <c>loss_func.activation</c> and
/// <c>loss_func.decodes</c>): <see cref="Learner.GetPreds"/> and <see cref="Learner.Predict"/> apply
/// <see cref="Activation"/> when no <c>act</c> is given and <see cref="Decodes"/> when no <c>decodes</c> is given.
/// </summary>
/// <remarks>The learner finds it on the object its <see cref="Learner.LossFunc"/> was made from (the module given to the
/// learner, or the target of a method-group delegate), as fastai looks the attributes up on <c>loss_func</c>.</remarks>
public interface ILossActivation
{
    /// <summary>The loss's fused activation applied to the model's output (softmax for cross-entropy, sigmoid for binary cross-entropy).</summary>
    /// <param name="pred">The model's raw output.</param>
    Tensor Activation(Tensor pred);

    /// <summary>The activated output in the targets' form (the class index, or the thresholded label).</summary>
    /// <param name="pred">The output after <see cref="Activation"/>.</param>
    Tensor Decodes(Tensor pred);
}

/// <summary>
/// fastai's <c>BaseLoss</c>: a loss that moves the class axis last, flattens the input and the target, and casts the
/// target (to float for <c>floatify</c>, small integer types to int64) before computing the loss, so the model's
/// output and the targets need not have the loss's exact shapes. A TorchSharp module: pass it to the
/// <see cref="Learner"/> as its loss.
/// </summary>
public abstract class BaseLoss : nn.Module<Tensor, Tensor, Tensor>, ILossActivation
{
    /// <summary>Creates the loss.</summary>
    /// <param name="name">The module's name.</param>
    /// <param name="axis">The class axis (moved last before flattening).</param>
    /// <param name="flatten">Flatten the input and the target.</param>
    /// <param name="floatify">Cast the target to float.</param>
    /// <param name="is2d">Flatten the input to [N, classes] rather than [N].</param>
    /// <param name="reduction">How the per-item losses are reduced.</param>
    protected BaseLoss(string name, int axis, bool flatten, bool floatify, bool is2d, nn.Reduction reduction) : base(name)
    {
        Axis = axis;
        Flatten = flatten;
        Floatify = floatify;
        Is2d = is2d;
        Reduction = reduction;
    }

    /// <summary>The class axis.</summary>
    public int Axis { get; }
    /// <summary>Whether the input and target are flattened.</summary>
    public bool Flatten { get; }
    /// <summary>Whether the target is cast to float.</summary>
    public bool Floatify { get; }
    /// <summary>Whether flattening keeps the class dimension.</summary>
    public bool Is2d { get; }
    /// <summary>How the per-item losses are reduced (fastai's <c>reduction</c>).</summary>
    public nn.Reduction Reduction { get; set; }

    /// <summary>The loss of (input, target), reduced with <see cref="Reduction"/>.</summary>
    /// <param name="input">The model's output.</param>
    /// <param name="target">The targets.</param>
    public override Tensor forward(Tensor input, Tensor target) => Compute(input, target, Reduction);

    /// <summary>The loss of every item, not reduced (what <see cref="Learner.GetPreds"/> uses for <c>withLoss</c>).</summary>
    /// <param name="input">The model's output.</param>
    /// <param name="target">The targets.</param>
    public Tensor Unreduced(Tensor input, Tensor target) => Compute(input, target, nn.Reduction.None);

    private Tensor Compute(Tensor input, Tensor target, nn.Reduction reduction)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (Axis != -1)
        {
            input = input.transpose(Axis, -1).contiguous();
            if (Axis < target.dim() && Axis >= -target.dim()) target = target.transpose(Axis, -1).contiguous();
        }
        if (Floatify && target.dtype != ScalarType.Float16) target = target.to_type(ScalarType.Float32);
        if (target.dtype is ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32) target = target.to_type(ScalarType.Int64);
        if (Flatten)
        {
            input = Is2d ? input.reshape(-1, input.shape[^1]) : input.reshape(-1);
            target = target.reshape(-1);
        }
        return Loss(input, target, reduction);
    }

    /// <summary>The underlying loss on the prepared (flattened, cast) input and target.</summary>
    /// <param name="input">The prepared input.</param>
    /// <param name="target">The prepared target.</param>
    /// <param name="reduction">The reduction to apply.</param>
    protected abstract Tensor Loss(Tensor input, Tensor target, nn.Reduction reduction);

    /// <summary>No activation (fastai's <c>noops</c>); the losses with a fused activation override it.</summary>
    /// <param name="pred">The model's output.</param>
    public virtual Tensor Activation(Tensor pred) => pred;

    /// <summary>No decoding (fastai's <c>noops</c>); the classification losses override it.</summary>
    /// <param name="pred">The activated output.</param>
    public virtual Tensor Decodes(Tensor pred) => pred;

    /// <inheritdoc/>
    public override string ToString() => $"FlattenedLoss of {GetType().Name.Replace("Flat", "", StringComparison.Ordinal)}";
}

/// <summary>
/// fastai's <c>CrossEntropyLossFlat</c>: cross-entropy over the class axis with the input flattened to
/// [N, classes] and the target to [N]. Its activation is the softmax over the class axis and it decodes to the
/// class index (argmax), so <see cref="Learner.GetPreds"/> returns probabilities.
/// </summary>
/// <param name="axis">The class axis of the model's output.</param>
/// <param name="weight">A weight per class, or null.</param>
/// <param name="ignoreIndex">A target value that contributes nothing.</param>
/// <param name="reduction">How the per-item losses are reduced.</param>
/// <param name="labelSmoothing">Label smoothing, from 0 (none) to 1.</param>
public sealed class CrossEntropyLossFlat(int axis = -1, Tensor? weight = null, long ignoreIndex = -100, nn.Reduction reduction = nn.Reduction.Mean,
    double labelSmoothing = 0) : BaseLoss(nameof(CrossEntropyLossFlat), axis, flatten: true, floatify: false, is2d: true, reduction)
{
    /// <summary>The weight per class, or null.</summary>
    public Tensor? Weight { get; } = weight;
    /// <summary>The target value that contributes nothing.</summary>
    public long IgnoreIndex { get; } = ignoreIndex;
    /// <summary>The label smoothing.</summary>
    public double LabelSmoothing { get; } = labelSmoothing;

    /// <inheritdoc/>
    protected override Tensor Loss(Tensor input, Tensor target, nn.Reduction reduction) =>
        nn.functional.cross_entropy(input, target, Weight, IgnoreIndex, reduction, LabelSmoothing);

    /// <summary>The softmax over the class axis.</summary>
    /// <param name="pred">The model's output.</param>
    public override Tensor Activation(Tensor pred) => pred.softmax(Axis);

    /// <summary>The class index: the argmax over the class axis.</summary>
    /// <param name="pred">The activated output.</param>
    public override Tensor Decodes(Tensor pred) => pred.argmax(Axis);
}

/// <summary>
/// fastai's <c>BCEWithLogitsLossFlat</c>: binary cross-entropy on logits, input and target flattened, target cast
/// to float. Its activation is the sigmoid, and it decodes to <c>probability &gt; thresh</c>.
/// </summary>
/// <param name="axis">The class axis of the model's output.</param>
/// <param name="floatify">Cast the target to float.</param>
/// <param name="thresh">The probability above which a label is predicted.</param>
/// <param name="weight">A weight per element, or null.</param>
/// <param name="reduction">How the per-item losses are reduced.</param>
/// <param name="posWeight">A weight of the positive examples per class, or null; with it nothing is flattened (as fastai).</param>
public sealed class BCEWithLogitsLossFlat(int axis = -1, bool floatify = true, double thresh = 0.5, Tensor? weight = null,
    nn.Reduction reduction = nn.Reduction.Mean, Tensor? posWeight = null)
    : BaseLoss(nameof(BCEWithLogitsLossFlat), axis, flatten: posWeight is null, floatify, is2d: false, reduction)
{
    /// <summary>The threshold of <see cref="Decodes"/>.</summary>
    public double Thresh { get; } = thresh;
    /// <summary>The weight per element, or null.</summary>
    public Tensor? Weight { get; } = weight;
    /// <summary>The weight of the positive examples, or null.</summary>
    public Tensor? PosWeight { get; } = posWeight;

    /// <inheritdoc/>
    protected override Tensor Loss(Tensor input, Tensor target, nn.Reduction reduction) =>
        nn.functional.binary_cross_entropy_with_logits(input, target, Weight, reduction, PosWeight);

    /// <summary>The sigmoid.</summary>
    /// <param name="pred">The model's output.</param>
    public override Tensor Activation(Tensor pred) => pred.sigmoid();

    /// <summary>Whether each probability is above <see cref="Thresh"/>.</summary>
    /// <param name="pred">The activated output.</param>
    public override Tensor Decodes(Tensor pred) => pred.gt(Thresh);
}

/// <summary>fastai's <c>MSELossFlat</c>: mean squared error with the input and target flattened and the target cast to float; no activation.</summary>
/// <param name="axis">The class axis of the model's output.</param>
/// <param name="floatify">Cast the target to float.</param>
/// <param name="reduction">How the per-item losses are reduced.</param>
public sealed class MSELossFlat(int axis = -1, bool floatify = true, nn.Reduction reduction = nn.Reduction.Mean)
    : BaseLoss(nameof(MSELossFlat), axis, flatten: true, floatify, is2d: false, reduction)
{
    /// <inheritdoc/>
    protected override Tensor Loss(Tensor input, Tensor target, nn.Reduction reduction) => nn.functional.mse_loss(input, target, reduction);
}

/// <summary>fastai's <c>L1LossFlat</c>: mean absolute error with the input and target flattened and the target cast to float; no activation.</summary>
/// <param name="axis">The class axis of the model's output.</param>
/// <param name="floatify">Cast the target to float.</param>
/// <param name="reduction">How the per-item losses are reduced.</param>
public sealed class L1LossFlat(int axis = -1, bool floatify = true, nn.Reduction reduction = nn.Reduction.Mean)
    : BaseLoss(nameof(L1LossFlat), axis, flatten: true, floatify, is2d: false, reduction)
{
    /// <inheritdoc/>
    protected override Tensor Loss(Tensor input, Tensor target, nn.Reduction reduction) => nn.functional.l1_loss(input, target, reduction);
}
