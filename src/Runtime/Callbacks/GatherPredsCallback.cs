using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>GatherPredsCallback</c> (order 0): collects the predictions, targets, and optionally the inputs and
/// per-item losses of every batch of the validate phase, and concatenates them at
/// <see cref="Event.AfterValidate"/>. <see cref="Learner.GetPreds"/> adds one for its run.
/// </summary>
/// <remarks>
/// Every batch's tensors are freed when the batch ends, so the callback keeps copies: detached, on the CPU,
/// cloned and taken out of the batch's dispose scope. It owns those copies; <see cref="Dispose"/> frees them, and
/// <see cref="TakeResults"/> hands them to the caller. Only the first input (<c>Xb[0]</c>, what the model
/// receives) and the first target (<c>Yb[0]</c>, what the loss receives) are gathered.
/// </remarks>
/// <param name="withInput">Also gather the inputs.</param>
/// <param name="withLoss">Also gather the loss of each item. The learner's loss must then be per item
/// (<see cref="Learner.GetPreds"/> arranges this); a loss with more than one value per item is averaged per item.</param>
/// <param name="savePreds">A folder to save each batch's predictions in, as a tensor file named by the batch index; null saves nothing.</param>
/// <param name="saveTargs">A folder to save each batch's targets in, likewise.</param>
/// <param name="withPreds">Keep the predictions in memory.</param>
/// <param name="withTargs">Keep the targets in memory.</param>
/// <param name="concatDim">The dimension along which the batches of predictions, targets and inputs are concatenated.</param>
public sealed partial class GatherPredsCallback(
    bool withInput = false,
    bool withLoss = false,
    string? savePreds = null,
    string? saveTargs = null,
    bool withPreds = true,
    bool withTargs = true,
    int concatDim = 0) : Callback, IDisposable
{
    private readonly List<Tensor> _inputs = [];
    private readonly List<Tensor> _preds = [];
    private readonly List<Tensor> _targets = [];
    private readonly List<Tensor> _losses = [];

    /// <summary>Whether the inputs are gathered.</summary>
    public bool WithInput { get; } = withInput;
    /// <summary>Whether per-item losses are gathered.</summary>
    public bool WithLoss { get; } = withLoss;
    /// <summary>The folder each batch's predictions are saved in, or null.</summary>
    public string? SavePreds { get; } = savePreds;
    /// <summary>The folder each batch's targets are saved in, or null.</summary>
    public string? SaveTargs { get; } = saveTargs;
    /// <summary>Whether the predictions are kept in memory.</summary>
    public bool WithPreds { get; } = withPreds;
    /// <summary>Whether the targets are kept in memory.</summary>
    public bool WithTargs { get; } = withTargs;
    /// <summary>The concatenation dimension of predictions, targets and inputs.</summary>
    public int ConcatDim { get; } = concatDim;

    /// <summary>The concatenated predictions after <see cref="Event.AfterValidate"/> (null before, or when not kept).</summary>
    public Tensor? Preds { get; private set; }
    /// <summary>The concatenated targets after <see cref="Event.AfterValidate"/> (null when the data has none, or when not kept).</summary>
    public Tensor? Targets { get; private set; }
    /// <summary>The concatenated inputs after <see cref="Event.AfterValidate"/> (null unless <see cref="WithInput"/>).</summary>
    public Tensor? Inputs { get; private set; }
    /// <summary>The per-item losses after <see cref="Event.AfterValidate"/> (null unless <see cref="WithLoss"/>).</summary>
    public Tensor? Losses { get; private set; }

    [On(Event.BeforeValidate)]
    private void BeforeValidate()
    {
        FreeAll();
        if (SavePreds is not null) Directory.CreateDirectory(SavePreds);
        if (SaveTargs is not null) Directory.CreateDirectory(SaveTargs);
    }

    [On(Event.BeforeBatch)]
    private void BeforeBatch()
    {
        var learn = Attached;
        if (WithInput && learn.Xb.Length > 0) _inputs.Add(Keep(learn.Xb[0]));
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        if (learn.Pred is not { } pred) return;
        var targ = learn.Yb.Length > 0 ? learn.Yb[0] : null;
        if (WithPreds) _preds.Add(Keep(pred));
        if (WithTargs && targ is not null) _targets.Add(Keep(targ));
        if (SavePreds is not null) SaveTensor(pred, SavePreds, learn.Iter);
        if (SaveTargs is not null && targ is not null) SaveTensor(targ, SaveTargs, learn.Iter);
        if (WithLoss && targ is not null && learn.Loss is { } loss)
        {
            var bs = targ.shape.Length == 0 ? 1 : targ.shape[0];
            _losses.Add(Keep(loss.numel() == bs ? loss.reshape(bs) : loss.reshape(bs, -1).mean([1])));
        }
    }

    [On(Event.AfterValidate)]
    private void AfterValidate()
    {
        if (_preds.Count == 0 && _targets.Count == 0 && _inputs.Count == 0 && _losses.Count == 0) return;
        Preds = Concat(_preds, ConcatDim);
        Targets = Concat(_targets, ConcatDim);
        Inputs = Concat(_inputs, ConcatDim);
        Losses = Concat(_losses, 0);
    }

    /// <summary>
    /// Hands the gathered tensors to the caller, who then owns (and disposes) them; the callback keeps nothing.
    /// Each is null when it was not gathered (or no validate phase ended since the last take).
    /// </summary>
    public (Tensor? Inputs, Tensor? Preds, Tensor? Targets, Tensor? Losses) TakeResults()
    {
        var result = (Inputs, Preds, Targets, Losses);
        (Inputs, Preds, Targets, Losses) = (null, null, null, null);
        return result;
    }

    /// <summary>Frees every tensor the callback still holds.</summary>
    public void Dispose() => FreeAll();

    private void FreeAll()
    {
        foreach (var list in new[] { _inputs, _preds, _targets, _losses })
        {
            foreach (var t in list) t.Dispose();
            list.Clear();
        }
        Inputs?.Dispose();
        Preds?.Dispose();
        Targets?.Dispose();
        Losses?.Dispose();
        (Inputs, Preds, Targets, Losses) = (null, null, null, null);
    }

    /// <summary>A copy that survives the batch: detached, on the CPU, cloned, out of every dispose scope.</summary>
    internal static Tensor Keep(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().clone().DetachFromDisposeScope();
    }

    private static void SaveTensor(Tensor t, string folder, int iter)
    {
        using var copy = Keep(t);
        copy.Save(System.IO.Path.Combine(folder, iter.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Concatenates and frees the pieces; the result is out of every dispose scope. Null for no pieces.</summary>
    private static Tensor? Concat(List<Tensor> pieces, int dim)
    {
        if (pieces.Count == 0) return null;
        Tensor result;
        if (pieces.Count == 1)
        {
            result = pieces[0];
        }
        else
        {
            using var scope = NewDisposeScope();
            result = cat(pieces, dim).DetachFromDisposeScope();
            foreach (var p in pieces) p.Dispose();
        }
        pieces.Clear();
        return result;
    }
}
