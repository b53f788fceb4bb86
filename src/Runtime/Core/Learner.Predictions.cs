using static TorchSharp.torch;

namespace FastCallbacks;

// Inference: GetPreds, Validate and Predict. They run fastai's validation context around the loop's own validate
// phase (DoEpochValidate in Learner.Loop.cs): BF BE BV (bb ap al ab)×n AV AE AF. Unlike fastai they leave the
// history of the last fit alone: IsInferenceRun tells Recorder (and trackers, loggers) that this run is not
// part of a fit, so Recorder records nothing and trackers do not run (fastai issue #3336).
public partial class Learner
{
    /// <summary>
    /// True while <see cref="GetPreds"/>, <see cref="Validate"/> or <see cref="Predict"/> runs (fastai's
    /// validation context). Callbacks that keep a fit's history (<see cref="FastCallbacks.Recorder"/>, loggers)
    /// record nothing then, and <see cref="TrackerCallback"/>s do not run.
    /// </summary>
    public bool IsInferenceRun { get; private set; }

    /// <summary>
    /// The loss of each item, for <see cref="GetPreds"/> with <c>withLoss</c> (fastai's <c>loss_not_reduced</c>):
    /// (prediction, target) → a tensor with one value per item, or several per item (then averaged per item).
    /// For example <c>(p, t) =&gt; nn.functional.cross_entropy(p, t, reduction: nn.Reduction.None)</c>.
    /// When null, a fastai flattened loss (<see cref="BaseLoss"/>) is computed without reduction (fastai's
    /// <c>loss_not_reduced</c>); any other loss is called once per item (a batch of one), which gives each item's loss
    /// for any loss that averages or sums over the batch; set this for speed.
    /// </summary>
    public Func<Tensor, Tensor, Tensor>? LossFuncNoReduce { get; set; }

    /// <summary>
    /// Predicts on a whole data set (fastai's <c>get_preds</c>), in dataset order by default, and returns the
    /// predictions and targets (and, on request, inputs, decoded predictions and per-item losses) as CPU tensors
    /// the caller owns. The history of the last fit (the recorder's losses, values, learning rates) is kept.
    /// </summary>
    /// <param name="dsIdx">The set to predict on when <paramref name="dl"/> is null: 0 training, 1 validation.</param>
    /// <param name="dl">A loader to predict on instead of a set of <see cref="Dls"/>.</param>
    /// <param name="withInput">Also return the inputs.</param>
    /// <param name="withDecoded">Also return the decoded predictions (see <paramref name="decodes"/>).</param>
    /// <param name="withLoss">Also return each item's loss (see <see cref="LossFuncNoReduce"/>).</param>
    /// <param name="act">Applied to the predictions before they are returned and decoded (for example
    /// <c>t =&gt; t.softmax(-1)</c>). Null takes the loss's activation, as fastai does: the softmax for
    /// <see cref="CrossEntropyLossFlat"/>, the sigmoid for <see cref="BCEWithLogitsLossFlat"/> (any
    /// <see cref="ILossActivation"/>); a loss without one, such as a plain TorchSharp loss, returns the raw outputs.
    /// Pass <c>t =&gt; t</c> for the raw outputs of a loss that has an activation.</param>
    /// <param name="reorder">Predict in dataset order: the loader is replaced by its <see cref="DataLoader.Ordered"/>
    /// form (no shuffling, no dropped batch). When false, a given <paramref name="dl"/> is used as it is.</param>
    /// <param name="cbs">Callbacks added for this run only.</param>
    /// <param name="withPreds">Keep the predictions (false with <paramref name="savePreds"/> saves memory).</param>
    /// <param name="withTargs">Keep the targets.</param>
    /// <param name="savePreds">A folder to save each batch's predictions in (one tensor file per batch).</param>
    /// <param name="saveTargs">A folder to save each batch's targets in.</param>
    /// <param name="concatDim">The dimension along which batches are concatenated.</param>
    /// <param name="decodes">Turns predictions into decoded values for <paramref name="withDecoded"/>; by default the
    /// loss's decodes (<see cref="ILossActivation.Decodes"/>), or, for a loss without one, the argmax of the last
    /// dimension when it has more than one entry (class scores), otherwise a copy.</param>
    /// <returns>The gathered tensors; dispose the result when done.</returns>
    /// <exception cref="InvalidOperationException">The learner is already fitting or predicting, or the set
    /// <paramref name="dsIdx"/> does not exist.</exception>
    public Predictions GetPreds(int dsIdx = 1, DataLoader? dl = null, bool withInput = false, bool withDecoded = false,
        bool withLoss = false, Func<Tensor, Tensor>? act = null, bool reorder = true, IEnumerable<Callback>? cbs = null,
        bool withPreds = true, bool withTargs = true, string? savePreds = null, string? saveTargs = null, int concatDim = 0,
        Func<Tensor, Tensor>? decodes = null)
    {
        var loader = PredictionLoader(dsIdx, dl, reorder, nameof(GetPreds));
        EnterRun(nameof(GetPreds));
        try
        {
            var gather = new GatherPredsCallback(withInput, withLoss, savePreds, saveTargs, withPreds, withTargs, concatDim);
            return GatherPredictions(loader, gather, cbs, inner: false, withLoss, act, withDecoded, decodes);
        }
        finally
        {
            ExitRun();
        }
    }

    /// <summary>
    /// <see cref="GetPreds"/> from inside a fit (fastai's <c>inner=True</c>, used by <see cref="FetchPredsCallback"/>):
    /// only the validate phase runs (BV, batches, AV), with no fit or epoch events and no re-entrancy check.
    /// </summary>
    internal Predictions GetPredsInner(int dsIdx, DataLoader? dl, bool withInput, bool withDecoded, bool reorder)
    {
        var loader = PredictionLoader(dsIdx, dl, reorder, nameof(FetchPredsCallback));
        var gather = new GatherPredsCallback(withInput);
        return GatherPredictions(loader, gather, cbs: null, inner: true, withLoss: false, act: null, withDecoded, decodes: null);
    }

    /// <summary>
    /// Computes the loss and the metrics on a data set (fastai's <c>validate</c>) without changing the history of
    /// the last fit. The values come from <see cref="FastCallbacks.Recorder"/>; when there is none (or it does not
    /// compute validation metrics), a temporary one is added for the run.
    /// </summary>
    /// <param name="dsIdx">The set to validate on when <paramref name="dl"/> is null: 0 training, 1 validation.</param>
    /// <param name="dl">A loader to validate on instead, used as it is.</param>
    /// <param name="cbs">Callbacks added for this run only.</param>
    /// <returns>fastai's <c>[valid_loss, *metrics]</c>, with names.</returns>
    /// <exception cref="InvalidOperationException">The learner is already fitting or predicting, or the set does not exist.</exception>
    public ValidationResult Validate(int dsIdx = 1, DataLoader? dl = null, IEnumerable<Callback>? cbs = null)
    {
        var loader = dl ?? Dls[dsIdx] ?? throw NoSet(dsIdx, nameof(Validate));
        EnterRun(nameof(Validate));
        try
        {
            var recorder = Recorder;
            var temporary = recorder is null || !recorder.ValidMetrics ? new Recorder(addTime: false) : null;
            List<Callback> added = [.. cbs ?? []];
            if (temporary is not null) added.Add(temporary);
            RunInference(loader, added, inner: false, withLoss: false);
            var used = temporary ?? recorder!;
            return new ValidationResult(used.InferenceNames, used.InferenceRecord ?? used.InferenceNames.Select(_ => (double?)null).ToArray());
        }
        finally
        {
            ExitRun();
        }
    }

    /// <summary>
    /// Predicts one item (fastai's <c>predict</c>, without its data-block decoding): runs <see cref="GetPreds"/>
    /// on a batch holding only <paramref name="item"/> and returns the model's output for it and its decoded form.
    /// </summary>
    /// <param name="item">One input, without the batch dimension (what one row of <c>Xb[0]</c> holds).</param>
    /// <param name="act">Applied to the output first (for example <c>t =&gt; t.softmax(-1)</c>); null takes the loss's
    /// activation (see <see cref="GetPreds"/>), none for a loss without one.</param>
    /// <param name="decodes">Decodes the output; by default the loss's decodes, or the argmax of the last dimension for class scores.</param>
    /// <returns>The output and decoded output for the item; dispose it when done.</returns>
    public ItemPrediction Predict(Tensor item, Func<Tensor, Tensor>? act = null, Func<Tensor, Tensor>? decodes = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        using var batch = item.unsqueeze(0).DetachFromDisposeScope();
        var dl = new TensorDataLoader([batch], [], batchSize: 1) { Device = Dls.Device };
        using var preds = GetPreds(dl: dl, withDecoded: true, act: act, decodes: decodes, reorder: false);
        using var scope = NewDisposeScope();
        return new ItemPrediction(
            preds.Preds!.select(0, 0).DetachFromDisposeScope(),
            preds.Decoded!.select(0, 0).DetachFromDisposeScope());
    }

    private DataLoader PredictionLoader(int dsIdx, DataLoader? dl, bool reorder, string caller)
    {
        if (dl is null) return (Dls[dsIdx] ?? throw NoSet(dsIdx, caller)).Ordered();
        return reorder ? dl.Ordered() : dl;
    }

    private static InvalidOperationException NoSet(int dsIdx, string caller) => new(
        $"{caller}(dsIdx: {dsIdx}) needs the validation set, but the learner's DataLoaders have none. " +
        "Pass dsIdx: 0 for the training set, or dl: a loader of the data to use.");

    private void EnterRun(string what)
    {
        if (Interlocked.Exchange(ref _fitting, 1) == 1)
            throw new InvalidOperationException(
                $"This learner is already fitting or predicting, so it cannot start {what}; a learner runs one Fit, GetPreds or Validate at a time. " +
                "To predict during a fit, add a FetchPredsCallback.");
    }

    private void ExitRun()
    {
        Volatile.Write(ref _fitting, 0);
        RaiseFitEnded(); // the library's cleanup hooks, as at the end of Fit
    }

    /// <summary>Runs the gathering and builds the result; <paramref name="gather"/> is disposed here.</summary>
    private Predictions GatherPredictions(DataLoader loader, GatherPredsCallback gather, IEnumerable<Callback>? cbs, bool inner,
        bool withLoss, Func<Tensor, Tensor>? act, bool withDecoded, Func<Tensor, Tensor>? decodes)
    {
        Tensor? inputs = null, preds = null, targets = null, losses = null, decoded = null;
        using (gather)
        {
            try
            {
                RunInference(loader, [.. cbs ?? [], gather], inner, withLoss);
                (inputs, preds, targets, losses) = gather.TakeResults();
                if (preds is not null)
                {
                    // fastai: act=None takes the loss's activation, and decoding the loss's decodes.
                    var loss = LossFunc.Target as ILossActivation;
                    act ??= loss is null ? null : loss.Activation;
                    if (act is not null) preds = Replace(preds, act);
                    if (withDecoded) decoded = Derive(preds, decodes ?? (loss is null ? DefaultDecodes : loss.Decodes));
                }
                return new Predictions(inputs, preds, targets, decoded, losses);
            }
            catch
            {
                foreach (var t in new[] { inputs, preds, targets, losses, decoded }) t?.Dispose();
                throw;
            }
        }
    }

    /// <summary>The argmax of the last dimension for class scores (last dimension above 1), otherwise a copy.</summary>
    private static Tensor DefaultDecodes(Tensor preds) =>
        preds.shape.Length >= 2 && preds.shape[^1] > 1 ? preds.argmax(-1) : preds.clone();

    /// <summary><paramref name="f"/>(<paramref name="t"/>) as a new tensor out of every dispose scope (a copy if f returns its input).</summary>
    private static Tensor Derive(Tensor t, Func<Tensor, Tensor> f)
    {
        using var scope = NewDisposeScope();
        var result = f(t);
        return (ReferenceEquals(result, t) ? t.clone() : result).DetachFromDisposeScope();
    }

    /// <summary><paramref name="f"/>(<paramref name="t"/>), freeing <paramref name="t"/> unless f returned it.</summary>
    private static Tensor Replace(Tensor t, Func<Tensor, Tensor> f)
    {
        Tensor result;
        using (var scope = NewDisposeScope())
        {
            result = f(t);
            if (ReferenceEquals(result, t)) return t;
            result.DetachFromDisposeScope();
        }
        t.Dispose();
        return result;
    }

    /// <summary>
    /// fastai's validation context around the loop's validate phase: no logging, no epoch bar, <paramref name="cbs"/>
    /// added, <see cref="IsInferenceRun"/> set, then BF BE, the validate phase over <paramref name="dl"/>, AE AF
    /// (only the validate phase when <paramref name="inner"/>). As fastai's context manager, AE and AF run even
    /// when the phase throws.
    /// </summary>
    private void RunInference(DataLoader dl, IReadOnlyList<Callback> cbs, bool inner, bool withLoss)
    {
        var wasInference = IsInferenceRun;
        var lossFunc = LossFunc;
        using var logging = NoLogging();
        using var mbar = NoMbar();
        using var added = AddedCbs(cbs);
        IsInferenceRun = true;
        try
        {
            if (inner)
            {
                DoEpochValidate(dl);
                return;
            }
            try
            {
                Invoke(Event.BeforeFit);
                Invoke(Event.BeforeEpoch);
                if (withLoss) LossFunc = LossFuncNoReduce ?? (lossFunc.Target is BaseLoss flat ? flat.Unreduced : PerItem(lossFunc));
                Training = false;
                DoEpochValidate(dl);
            }
            catch (Exception first)
            {
                LossFunc = lossFunc;
                try
                {
                    Invoke(Event.AfterEpoch);
                    Invoke(Event.AfterFit);
                }
                catch (Exception second)
                {
                    throw new AggregateException(
                        "The prediction run failed, and the AfterEpoch/AfterFit dispatched to end it failed too; both are inside.", first, second);
                }
                throw;
            }
            LossFunc = lossFunc;
            Invoke(Event.AfterEpoch);
            Invoke(Event.AfterFit);
            EndCleanup();
        }
        catch (CancelException escaped) when (!inner && escaped.NoteEscape("the prediction run (GetPreds, Validate or Predict)"))
        {
            throw; // never reached: the filter only names the thrower in the message (an inner run's fit does that)
        }
        finally
        {
            LossFunc = lossFunc;
            IsInferenceRun = wasInference;
        }
    }

    /// <summary>Each item's loss from a batch loss: <paramref name="loss"/> called on batches of one item.</summary>
    private static Func<Tensor, Tensor, Tensor> PerItem(Func<Tensor, Tensor, Tensor> loss) => (pred, targ) =>
    {
        var n = pred.shape.Length == 0 ? 1 : pred.shape[0];
        var items = new Tensor[n];
        for (var i = 0; i < n; i++) items[i] = loss(pred.narrow(0, i, 1), targ.narrow(0, i, 1)).mean();
        return stack(items);
    };
}
