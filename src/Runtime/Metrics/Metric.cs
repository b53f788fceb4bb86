using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>Metric</c>: accumulated over the batches of a phase, read once at its end. Values are doubles,
/// read from tensors while the batch is alive, so a metric never holds a batch's tensors.
/// </summary>
public abstract class Metric
{
    /// <summary>Clears the accumulated state (start of a phase).</summary>
    public virtual void Reset() { }

    /// <summary>Adds the current batch (read <see cref="Learner.Pred"/>, <see cref="Learner.Yb"/>, <see cref="Learner.Loss"/>).</summary>
    /// <param name="learn">The learner at the end of a batch (<see cref="Event.AfterBatch"/>) of a phase the metric
    /// is computed for: its prediction, targets and loss are that batch's and are freed after it, so a metric copies
    /// what it keeps.</param>
    public virtual void Accumulate(Learner learn) { }

    /// <summary>The metric's value, or null when nothing was accumulated (fastai's None).</summary>
    public abstract double? Value { get; }

    /// <summary>
    /// Writes what the metric has accumulated, for a checkpoint taken in the middle of a phase (the smoothed loss, which
    /// runs across epochs, and training metrics). The default writes nothing: override it in a metric that accumulates,
    /// or a fit resumed mid-epoch computes that metric from the resumed batches only.
    /// </summary>
    /// <param name="state">Where to write.</param>
    public virtual void SaveState(StateDict state) { }

    /// <summary>Reads what <see cref="SaveState"/> wrote, replacing what the metric has accumulated.</summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    /// <exception cref="InvalidDataException">The state does not fit this metric.</exception>
    public virtual void LoadState(StateDict state) { }

    /// <summary>The column name: the class name in snake_case without a trailing <c>Metric</c>.</summary>
    public virtual string Name => Callback.SnakeName(TypeNames.Simple(GetType()), "Metric");

    /// <summary>
    /// The mean of a loss tensor as a double. A reduced loss is already a scalar: reading it directly saves the
    /// <c>mean()</c> tensor, which costs more than the read itself (once per batch, in the recorder).
    /// </summary>
    /// <param name="loss">A loss of any shape: a scalar (reduced) or one value per item (<c>reduction: none</c>).</param>
    protected static double ScalarLoss(Tensor loss)
    {
        if (loss.Dimensions == 0) return loss.ToDouble();
        using var mean = loss.mean();
        return mean.ToDouble();
    }

    /// <summary>fastai's <c>find_bs</c>: the batch size, the first dimension of the first target (or input).</summary>
    /// <param name="learn">The learner during a batch: its <see cref="Learner.Yb"/>, or <see cref="Learner.Xb"/> for
    /// data without targets, is read; a 0-dimensional tensor counts as one item.</param>
    protected static int BatchSize(Learner learn)
    {
        var t = learn.Yb.Length > 0 ? learn.Yb[0] : learn.Xb[0];
        return t.shape.Length == 0 ? 1 : (int)t.shape[0];
    }
}

/// <summary>
/// fastai's <c>AvgMetric</c>: the batch-size-weighted mean of <c>func(pred, targ)</c> over a phase.
/// </summary>
/// <param name="func">Computes a scalar tensor from predictions and targets.</param>
/// <param name="name">The column name.</param>
public class AvgMetric(Func<Tensor, Tensor, Tensor> func, string name) : Metric
{
    private double _total;
    private int _count;

    /// <inheritdoc/>
    public override string Name { get; } = name;

    /// <inheritdoc/>
    public override void Reset() => (_total, _count) = (0, 0);

    /// <inheritdoc/>
    public override void Accumulate(Learner learn)
    {
        var bs = BatchSize(learn);
        using var value = func(learn.Pred!, learn.Yb[0]);
        _total += value.detach().cpu().ToDouble() * bs;
        _count += bs;
    }

    /// <inheritdoc/>
    public override double? Value => _count == 0 ? null : _total / _count;

    /// <inheritdoc/>
    public override void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("total", _total);
        state.Set("count", _count);
    }

    /// <inheritdoc/>
    public override void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        (_total, _count) = (state.Get<double>("total"), state.Get<int>("count"));
    }
}

/// <summary>fastai's <c>AvgLoss</c>: the batch-size-weighted mean of the loss over a phase.</summary>
public sealed class AvgLoss : Metric
{
    private double _total;
    private int _count;

    /// <inheritdoc/>
    public override string Name => "loss";

    /// <inheritdoc/>
    public override void Reset() => (_total, _count) = (0, 0);

    /// <inheritdoc/>
    public override void Accumulate(Learner learn)
    {
        var bs = BatchSize(learn);
        _total += ScalarLoss(learn.Loss!) * bs;
        _count += bs;
    }

    /// <inheritdoc/>
    public override double? Value => _count == 0 ? null : _total / _count;

    /// <inheritdoc/>
    public override void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("total", _total);
        state.Set("count", _count);
    }

    /// <inheritdoc/>
    public override void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        (_total, _count) = (state.Get<double>("total"), state.Get<int>("count"));
    }
}

/// <summary>
/// fastai's <c>AvgSmoothLoss</c>: an exponential moving average of the loss with bias correction,
/// <c>val = beta * val + (1 - beta) * loss</c>, value <c>val / (1 - beta^count)</c>.
/// </summary>
/// <param name="beta">The smoothing factor (fastai's 0.98).</param>
public sealed class AvgSmoothLoss(double beta = 0.98) : Metric
{
    private double _val;

    /// <summary>Batches accumulated since the last reset.</summary>
    public int Count { get; private set; }

    /// <summary>The smoothing factor.</summary>
    public double Beta { get; } = beta;

    /// <inheritdoc/>
    public override string Name => "loss";

    /// <inheritdoc/>
    public override void Reset() => (Count, _val) = (0, 0);

    /// <inheritdoc/>
    public override void Accumulate(Learner learn) => Add(ScalarLoss(learn.Loss!));

    /// <summary>Adds one loss value.</summary>
    /// <param name="loss">One batch's mean loss; it moves the average by <c>(1 - beta)</c> of its difference.</param>
    public void Add(double loss)
    {
        Count++;
        _val = Beta * _val + (1 - Beta) * loss;
    }

    /// <inheritdoc/>
    public override double? Value => Count == 0 ? null : _val / (1 - Math.Pow(Beta, Count));

    /// <inheritdoc/>
    public override void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("val", _val);
        state.Set("count", Count);
    }

    /// <inheritdoc/>
    public override void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        (_val, Count) = (state.Get<double>("val"), state.Get<int>("count"));
    }
}
