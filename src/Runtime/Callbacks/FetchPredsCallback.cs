namespace FastCallbacks;

/// <summary>
/// Marks a callback that <see cref="FetchPredsCallback"/> takes off the learner while it predicts during a fit
/// (fastai's <c>remove_on_fetch = True</c>): <see cref="Recorder"/>, the trackers, progress displays.
/// </summary>
public interface IRemovedOnFetch;

/// <summary>
/// fastai's <c>FetchPredsCallback</c> (order 0): at the end of every validate phase of a fit, predicts on a data
/// set with <see cref="Learner.GetPreds"/> (only its validate phase, fastai's <c>inner=True</c>) and keeps the
/// result in <see cref="Preds"/>, replacing the previous epoch's.
/// </summary>
/// <remarks>
/// While it predicts, the callbacks marked <see cref="IRemovedOnFetch"/> (itself included) and those given in
/// <c>cbs</c> are taken off the learner, then added back at the end of <see cref="Learner.Cbs"/> as fastai does.
/// It owns <see cref="Preds"/>; <see cref="Dispose"/> frees them.
/// </remarks>
/// <param name="dsIdx">The set to predict on when <paramref name="dl"/> is null: 0 training, 1 validation.</param>
/// <param name="dl">A loader to predict on instead.</param>
/// <param name="withInput">Also gather the inputs.</param>
/// <param name="withDecoded">Also decode the predictions (argmax of class scores).</param>
/// <param name="cbs">Further callbacks to take off the learner while predicting.</param>
/// <param name="reorder">Predict in dataset order (see <see cref="Learner.GetPreds"/>).</param>
public sealed partial class FetchPredsCallback(
    int dsIdx = 1,
    DataLoader? dl = null,
    bool withInput = false,
    bool withDecoded = false,
    IEnumerable<Callback>? cbs = null,
    bool reorder = true) : Callback, IRemovedOnFetch, IDisposable
{
    private readonly Callback[] _cbs = cbs?.ToArray() ?? [];

    /// <summary>The set predicted on when <see cref="Loader"/> is null.</summary>
    public int DsIdx { get; } = dsIdx;
    /// <summary>The loader predicted on, or null for <see cref="DsIdx"/>.</summary>
    public DataLoader? Loader { get; } = dl;
    /// <summary>Whether the inputs are gathered.</summary>
    public bool WithInput { get; } = withInput;
    /// <summary>Whether the predictions are decoded.</summary>
    public bool WithDecoded { get; } = withDecoded;
    /// <summary>Whether predictions come in dataset order.</summary>
    public bool Reorder { get; } = reorder;

    /// <summary>The predictions of the last validate phase, or null before the first one.</summary>
    public Predictions? Preds { get; private set; }

    [On(Event.AfterValidate)]
    private void AfterValidate()
    {
        var learn = Attached;
        Preds?.Dispose();
        Preds = null;
        var toRemove = learn.Cbs.Where(cb => cb is IRemovedOnFetch).Concat(_cbs).Distinct().ToList();
        using (learn.RemovedCbs(toRemove))
            Preds = learn.GetPredsInner(DsIdx, Loader, WithInput, WithDecoded, Reorder);
    }

    /// <summary>Frees <see cref="Preds"/>.</summary>
    public void Dispose()
    {
        Preds?.Dispose();
        Preds = null;
    }
}
