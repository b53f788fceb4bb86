using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>fastai's <c>ActivationType</c>: what <see cref="AccumMetric"/> applies to the predictions first.</summary>
public enum ActivationType
{
    /// <summary>Nothing (then the argmax over <c>dimArgmax</c>, when given).</summary>
    No,
    /// <summary>The sigmoid.</summary>
    Sigmoid,
    /// <summary>The softmax over <c>dimArgmax</c> (the last dimension when not given).</summary>
    Softmax,
    /// <summary>The softmax, then the probability of the last class (column -1 of dimension 1).</summary>
    BinarySoftmax,
}

/// <summary>
/// fastai's <c>AccumMetric</c>: keeps the predictions and targets of every batch of a phase and computes
/// <c>func(preds, targs)</c> on all of them at once, for metrics that are not averages of batch values
/// (RMSE, R², F1, …).
/// </summary>
/// <remarks>
/// Per batch: the activation (<see cref="ActivationType"/>), or else the argmax over <c>dimArgmax</c>; then
/// <c>pred &gt;= thresh</c> when <c>thresh</c> is given; then both are flattened (when <c>flatten</c>) and copied
/// (detached, on the CPU, out of the batch's dispose scope). The metric owns those copies until the next
/// <see cref="Reset"/> or <see cref="Dispose"/>.
/// </remarks>
public class AccumMetric : Metric, IDisposable
{
    private readonly Func<Tensor, Tensor, Tensor> _func;
    private readonly List<Tensor> _preds = [];
    private readonly List<Tensor> _targs = [];

    /// <summary>Creates the metric.</summary>
    /// <param name="func">Computes a scalar from all predictions and all targets (arguments swapped with <paramref name="invertArg"/>).</param>
    /// <param name="dimArgmax">Take the argmax of the predictions over this dimension (when no activation is set).</param>
    /// <param name="activation">The activation applied to the predictions.</param>
    /// <param name="thresh">Turn predictions into <c>pred &gt;= thresh</c>.</param>
    /// <param name="invertArg">Call <c>func(targs, preds)</c>, as scikit-learn's metrics expect.</param>
    /// <param name="flatten">Flatten predictions and targets (they must then have the same number of elements).</param>
    /// <param name="name">The column name; default: <paramref name="func"/>'s method name (a lambda has none, so then pass one).</param>
    /// <exception cref="ArgumentException">No name is given and <paramref name="func"/> is a lambda.</exception>
    public AccumMetric(Func<Tensor, Tensor, Tensor> func, int? dimArgmax = null, ActivationType activation = ActivationType.No,
        double? thresh = null, bool invertArg = false, bool flatten = true, string? name = null)
    {
        _func = func ?? throw new ArgumentNullException(nameof(func));
        DimArgmax = dimArgmax;
        Activation = activation;
        Thresh = thresh;
        InvertArg = invertArg;
        Flatten = flatten;
        var method = func.Method.Name;
        Name = name ?? (method.Contains('<', StringComparison.Ordinal)
            ? throw new ArgumentException("AccumMetric: func is a lambda, which has no name for the recorder's column; pass name: \"my_metric\".", nameof(name))
            : Callback.CamelToSnake(method));
    }

    /// <inheritdoc/>
    public override string Name { get; }
    /// <summary>The dimension of the argmax, or null.</summary>
    public int? DimArgmax { get; }
    /// <summary>The activation applied to the predictions.</summary>
    public ActivationType Activation { get; }
    /// <summary>The threshold, or null.</summary>
    public double? Thresh { get; }
    /// <summary>Whether func receives (targs, preds).</summary>
    public bool InvertArg { get; }
    /// <summary>Whether predictions and targets are flattened.</summary>
    public bool Flatten { get; }

    /// <inheritdoc/>
    public override void Reset() => Free();

    /// <inheritdoc/>
    public override void Accumulate(Learner learn)
    {
        ArgumentNullException.ThrowIfNull(learn);
        var pred = learn.Pred ?? throw new InvalidOperationException($"Metric `{Name}`: the learner has no prediction for this batch.");
        if (learn.Yb.Length == 0) return;
        using var scope = NewDisposeScope();
        pred = Activation switch
        {
            ActivationType.Softmax => pred.softmax(DimArgmax ?? -1),
            ActivationType.BinarySoftmax => pred.softmax(DimArgmax ?? -1).select(1, -1),
            ActivationType.Sigmoid => pred.sigmoid(),
            _ => DimArgmax is { } d ? pred.argmax(d) : pred,
        };
        if (Thresh is { } t) pred = pred.ge(t);
        AccumValues(pred, learn.Yb[0]);
    }

    /// <summary>Adds a batch of (already activated) predictions and targets (fastai's <c>accum_values</c>).</summary>
    /// <param name="preds">The batch's predictions after the activation, argmax and threshold; copied (detached, to
    /// the CPU), so the caller keeps and disposes its tensor.</param>
    /// <param name="targs">The batch's targets, one per prediction once flattened; copied as well.</param>
    /// <exception cref="ArgumentException">With flattening, predictions and targets have different numbers of elements.</exception>
    public void AccumValues(Tensor preds, Tensor targs)
    {
        ArgumentNullException.ThrowIfNull(preds);
        ArgumentNullException.ThrowIfNull(targs);
        using var scope = NewDisposeScope();
        if (Flatten)
        {
            preds = preds.contiguous().view(-1);
            targs = targs.contiguous().view(-1);
            if (preds.shape[0] != targs.shape[0])
                throw new ArgumentException(
                    $"Metric `{Name}`: {preds.shape[0]} predictions but {targs.shape[0]} targets after flattening. " +
                    "For class scores set dimArgmax (or an activation) so there is one prediction per target.");
        }
        _preds.Add(GatherPredsCallback.Keep(preds));
        _targs.Add(GatherPredsCallback.Keep(targs));
    }

    /// <inheritdoc/>
    public override double? Value
    {
        get
        {
            if (_preds.Count == 0) return null;
            var preds = Consolidate(_preds);
            var targs = Consolidate(_targs);
            using var scope = NewDisposeScope();
            var result = InvertArg ? _func(targs, preds) : _func(preds, targs);
            return result.detach().cpu().to_type(ScalarType.Float64).item<double>();
        }
    }

    /// <inheritdoc/>
    public override void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_preds.Count == 0) return;
        state.Set("preds", Consolidate(_preds), StateCodecs.Tensor);
        state.Set("targs", Consolidate(_targs), StateCodecs.Tensor);
    }

    /// <inheritdoc/>
    public override void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.TryGet("preds", StateCodecs.Tensor, out var preds);
        Tensor? targs;
        try
        {
            targs = preds is null ? null : state.Get("targs", StateCodecs.Tensor);
        }
        catch
        {
            preds?.Dispose();
            throw;
        }
        Free();
        if (preds is not null) _preds.Add(preds);
        if (targs is not null) _targs.Add(targs);
    }

    /// <summary>Frees the accumulated tensors.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        foreach (var t in _preds) t.Dispose();
        foreach (var t in _targs) t.Dispose();
        _preds.Clear();
        _targs.Clear();
    }

    /// <summary>Concatenates the pieces into one kept tensor (so reading the value twice does not copy twice).</summary>
    private static Tensor Consolidate(List<Tensor> pieces)
    {
        if (pieces.Count == 1) return pieces[0];
        Tensor all;
        using (NewDisposeScope()) all = cat(pieces, 0).DetachFromDisposeScope();
        foreach (var p in pieces) p.Dispose();
        pieces.Clear();
        pieces.Add(all);
        return all;
    }
}
