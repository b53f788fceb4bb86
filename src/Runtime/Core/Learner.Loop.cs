using static TorchSharp.torch;

namespace FastCallbacks;

// The whole training loop, top to bottom, and the dispatch it runs on: everything that happens for one batch
// is in this file. Each stage is wrapped by WithEvents, which says fastai's before / cancel / after pattern
// once: dispatch Before, run the body, catch only the stage's own cancel exception (then AfterCancel), and
// dispatch After. After runs outside the try, so a cancel thrown by an After handler is not caught by its own
// stage, exactly as in fastai.
public partial class Learner
{
    private readonly DispatchTables _dispatch;
    private readonly Stages _stages;
    private int _fitting;
    private CancellationToken _cancellation;
    private int _startEpoch;
    private int _startBatch;

    /// <summary>
    /// Trains for <paramref name="nEpoch"/> epochs. Dispatches fastai's events in fastai's order; see
    /// <c>docs/event-order.md</c>.
    /// </summary>
    /// <param name="nEpoch">Epochs to train (0 dispatches only BeforeFit and AfterFit).</param>
    /// <param name="lr">Learning rate(s) for this fit: one for every group, one per group, or a
    /// <see cref="PerGroup.Slice(double, double)"/> (default: <see cref="Lr"/>, set at every fit as fastai does).</param>
    /// <param name="wd">Weight decay for this fit (default: <see cref="Wd"/> when set, else the optimizer's own).</param>
    /// <param name="cbs">Callbacks added for this fit only; removed afterwards, even when the fit fails.</param>
    /// <param name="resetOpt">Create a fresh optimizer (discarding its state) before fitting.</param>
    /// <param name="startEpoch">Skip the epochs before this one (resume a fit; the schedule sees the skipped epochs as done).</param>
    /// <param name="resumeFrom">Resume from this training checkpoint (written by <see cref="CheckpointCallback"/>: its name in
    /// <c>Path/ModelDir</c>, or a path to the file): the model, optimizer, callbacks' states, data order and random
    /// generator come back as they were, and the fit goes on from the checkpoint's epoch and batch. Call with the
    /// arguments the fit was started with. Null starts afresh.</param>
    /// <param name="cancellationToken">When cancelled, the fit stops at the next batch boundary as if a
    /// <see cref="CancelFitException"/> had been thrown: AfterCancelFit and AfterFit run.</param>
    /// <exception cref="CallbackException">A handler threw; the original exception is inside.</exception>
    /// <exception cref="InvalidOperationException">The training set has no batches (and there are epochs to run), or the learner is already fitting.</exception>
    /// <exception cref="ArgumentException">The rates do not fit the parameter groups, or the splitter's groups are not valid (nothing changes).</exception>
    /// <exception cref="CheckpointException">The checkpoint of <paramref name="resumeFrom"/> is damaged or does not fit this learner and fit (nothing changes).</exception>
    public void Fit(int nEpoch, PerGroup? lr = null, double? wd = null, IEnumerable<Callback>? cbs = null,
        bool resetOpt = false, int startEpoch = 0, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        CheckFit(nEpoch, startEpoch);
        if (Interlocked.Exchange(ref _fitting, 1) == 1) throw AlreadyFitting();
        try
        {
            using var temporary = AddedCbs(cbs);
            // Resuming, the optimizer's rates and state are the checkpoint's (Learner.Resume.cs).
            using var resume = BeginResume(resumeFrom, nEpoch, startEpoch, resetOpt);
            if (resume is null) PrepareOpt(resetOpt, lr, wd);
            NEpoch = nEpoch;
            _startEpoch = resume?.Epoch ?? startEpoch;
            _startBatch = resume?.Batch ?? 0;
            _cancellation = cancellationToken;
            WithEvents<CancelFitException>(_stages.DoFit, Event.BeforeFit, Event.AfterCancelFit, Event.AfterFit);
            EndCleanup();
        }
        catch (CancelException escaped) when (escaped.NoteEscape("Fit"))
        {
            // Never reached (the filter is false): the exception goes on as itself, its message now naming where it was thrown.
            throw;
        }
        finally
        {
            // However the fit ended, a batch stopped between backward and zero_grad leaves its gradient here:
            // the next fit's first step must not add it to its own.
            Opt?.zero_grad();
            _cancellation = default;
            Volatile.Write(ref _fitting, 0);
            RaiseFitEnded();
        }
    }

    /// <summary>The checks every fit makes before anything runs.</summary>
    private void CheckFit(int nEpoch, int startEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nEpoch);
        ArgumentOutOfRangeException.ThrowIfNegative(startEpoch);
        if (nEpoch > startEpoch && Dls.Train.Count == 0) throw EmptyTrainingSet();
        if (Volatile.Read(ref _fitting) == 1) throw AlreadyFitting();
    }

    private static InvalidOperationException AlreadyFitting() =>
        new("This learner is already fitting; a learner runs one Fit, GetPreds or Validate at a time.");

    private InvalidOperationException EmptyTrainingSet() => new(
        $"The training set has no batches ({Dls.Train.ItemCount} samples), so there is nothing to fit. " +
        "Check the data, or a dropLast loader with fewer samples than its batch size.");

    private void DoFit()
    {
        for (var epoch = _startEpoch; epoch < NEpoch; epoch++)
        {
            Epoch = epoch;
            WithEvents<CancelEpochException>(_stages.DoEpoch, Event.BeforeEpoch, Event.AfterCancelEpoch, Event.AfterEpoch);
        }
    }

    private void DoEpoch()
    {
        DoEpochTrain();
        DoEpochValidate(Dls.Valid);
    }

    private void DoEpochTrain()
    {
        Dl = Dls.Train;
        WithEvents<CancelTrainException>(_stages.AllBatches, Event.BeforeTrain, Event.AfterCancelTrain, Event.AfterTrain);
    }

    /// <summary>The validate phase over <paramref name="dl"/>; with no loader it runs with zero batches, as fastai does for an empty one.</summary>
    private void DoEpochValidate(DataLoader? dl)
    {
        Dl = dl;
        using var noGrad = no_grad();
        WithEvents<CancelValidException>(_stages.AllBatches, Event.BeforeValidate, Event.AfterCancelValidate, Event.AfterValidate);
    }

    private void AllBatches()
    {
        var dl = Dl;
        NIter = dl?.Count ?? 0;
        if (dl is null) return;
        // A fit resumed mid-epoch starts its first training phase at the checkpoint's batch: the loader never makes the
        // batches before it, and Iter goes on from there.
        var start = Training && Epoch == _startEpoch ? _startBatch : 0;
        using var batches = dl.GetEnumerator(start);
        for (var i = start; ; i++)
        {
            // A batch boundary: the only place a cancellation token stops a fit.
            if (_cancellation.IsCancellationRequested) throw new CancelFitException();
            // The scope covers MoveNext too, so the batch's own tensors (made there, or made by a data worker and
            // attached there) are freed with everything the batch made.
            using var scope = NewDisposeScope();
            if (!batches.MoveNext()) break;
            OneBatch(i, batches.Current);
        }
    }

    private void OneBatch(int i, Batch b)
    {
        Iter = i;
        Xb = b.Xb;
        Yb = b.Yb;
        // The previous batch's tensors were freed with its dispose scope: until this batch computes its own,
        // there are none (a batch cancelled before its forward pass or loss has no Pred or Loss in AfterBatch).
        Pred = null;
        LossGrad = null;
        Loss = null;
        WithEvents<CancelBatchException>(_stages.DoOneBatch, Event.BeforeBatch, Event.AfterCancelBatch, Event.AfterBatch);
    }

    private void DoOneBatch()
    {
        Pred = Forward(Xb);
        Invoke(Event.AfterPred);
        if (Yb.Length > 0)
        {
            LossGrad = LossOf(Pred, Yb[0]);
            // One new tensor, not two: clone, then drop its graph link in place (same values as detach().clone()).
            Loss = LossGrad.clone().detach_();
        }
        Invoke(Event.AfterLoss);
        if (!Training || Yb.Length == 0) return;
        WithEvents<CancelBackwardException>(_stages.Backward, Event.BeforeBackward, Event.AfterCancelBackward, Event.AfterBackward);
        WithEvents<CancelStepException>(_stages.Step, Event.BeforeStep, Event.AfterCancelStep, Event.AfterStep);
        Opt!.zero_grad();
    }

    /// <summary>The batch's loss. A loss that rejects the model's output says which batch, and which shapes.</summary>
    private Tensor LossOf(Tensor pred, Tensor targ)
    {
        try
        {
            return LossFunc(pred, targ);
        }
        catch (Exception ex) when (ex is not CancelException)
        {
            throw new InvalidOperationException(
                $"The loss failed on {(Training ? "training" : "validation")} batch {Iter} of epoch {Epoch}: the model output " +
                $"({Describe(pred)}) and the target ({Describe(targ)}) do not fit it. {FirstLine(ex.Message)}", ex);
        }

        static string Describe(Tensor t) => $"shape [{string.Join(", ", t.shape)}], {t.dtype}";
        static string FirstLine(string s) => s.Split('\n', 2)[0].TrimEnd();
    }

    private void Backward() => LossGrad!.backward();

    private void Step() => Opt!.step();

    private Tensor Forward(Tensor[] xb) => xb.Length == 1
        ? Model.call(xb[0])
        : throw new InvalidOperationException(
            $"The model takes one input but the batch has {xb.Length}. Combine the inputs in a before_batch callback (Learn.Xb = [...]) or use a data loader with one input.");

    /// <summary>fastai's <c>_with_events</c>: Before, body, catch only <typeparamref name="TCancel"/> (then AfterCancel), After.</summary>
    private void WithEvents<TCancel>(Action body, Event before, Event afterCancel, Event after) where TCancel : CancelException
    {
        try
        {
            Invoke(before);
            body();
        }
        catch (TCancel)
        {
            Invoke(afterCancel);
        }
        Invoke(after);
    }

    /// <summary>fastai's <c>_end_cleanup</c>: the batch state of a finished fit is not kept.</summary>
    private void EndCleanup()
    {
        Dl = null;
        Xb = [];
        Yb = [];
        Pred = null;
        LossGrad = null;
        Loss = null;
    }

    // ---- Dispatch ----

    /// <summary>
    /// Dispatches <paramref name="event"/> to the callbacks that handle it, in order (fastai's <c>learn('before_fit')</c>).
    /// A handler's exception, other than a <see cref="CancelException"/>, is wrapped in a <see cref="CallbackException"/>
    /// naming the callback and the event.
    /// </summary>
    /// <param name="event">The event; <see cref="Event.AfterFit"/> also sets every callback's <see cref="Callback.Run"/>
    /// back to true, as fastai does.</param>
    public void Invoke(Event @event)
    {
        // The current phase's per-event arrays are already filtered (handled events, run_train/run_valid), so each
        // callback costs one flag check and one call; they sit inline in the learner, one load from this. No try
        // here: each callback's Dispatch names its own failures (see Callback.DispatchUnchecked), so this loop keeps
        // its locals in registers.
        var cbs = _phaseTable[(int)@event];
        if (@event == Event.AfterFit)
        {
            InvokeAfterFit();
            return;
        }
        for (var i = 0; i < cbs.Length; i++)
        {
            var cb = cbs[i];
            if (cb.Run) cb.DispatchUnchecked(@event);
        }
    }

    /// <summary>The current phase's per-event arrays, copied from the dispatch tables when the phase or the callbacks change.</summary>
    private PerEvent<Callback[]> _phaseTable;

    /// <summary>Points <see cref="_phaseTable"/> at the current phase's arrays.</summary>
    private void RefreshPhaseTable() => _phaseTable = _dispatch.For(_training);

    /// <summary>Dispatches an event given by its fastai or C# name (<c>"before_fit"</c>, <c>"BeforeFit"</c>).</summary>
    /// <param name="eventName">fastai's name (<c>"before_fit"</c>) or the C# one (<c>"BeforeFit"</c>), matched exactly.</param>
    /// <exception cref="ArgumentException">No event has that name.</exception>
    public void Invoke(string eventName) => Invoke(Events.Parse(eventName));

    /// <summary>AfterFit also sets every callback's <see cref="Callback.Run"/> back to true, handler or not, as fastai does.</summary>
    private void InvokeAfterFit()
    {
        foreach (var cb in _dispatch.Sorted)
        {
            if (cb.Run && cb.HandledEvents.Contains(Event.AfterFit)) cb.DispatchUnchecked(Event.AfterFit);
            cb.Run = true;
        }
    }

    /// <summary>The callbacks or a run flag changed: rebuild the tables now, so a dispatch never checks for staleness.</summary>
    internal void RebuildDispatchTables()
    {
        _dispatch.Rebuild(_cbs);
        RefreshPhaseTable();
    }

    /// <summary>The callbacks in dispatch order (Order, then RunBefore/RunAfter).</summary>
    public IReadOnlyList<Callback> OrderedCbs() => _dispatch.Sorted;

    /// <summary>The callbacks that handle <paramref name="event"/>, in dispatch order (fastai's <c>ordered_cbs</c>).</summary>
    /// <param name="event">The event whose handlers are listed; the run flags are not consulted.</param>
    public IReadOnlyList<Callback> OrderedCbs(Event @event) =>
        _dispatch.Sorted.Where(cb => cb.HandledEvents.Contains(@event)).ToArray();

    /// <summary>
    /// The per-event arrays of callbacks, rebuilt only after the callback list or a run flag changes. A dispatch
    /// walks the array it started with, so callbacks added or removed during it take effect from the next event.
    /// </summary>
    private sealed class DispatchTables
    {
        private PerEvent<Callback[]> _train;
        private PerEvent<Callback[]> _valid;

        /// <summary>The callbacks in dispatch order (Order, then RunBefore/RunAfter).</summary>
        public Callback[] Sorted { get; private set; } = [];

        /// <summary>The per-event arrays of one phase.</summary>
        public PerEvent<Callback[]> For(bool training) => training ? _train : _valid;

        public void Rebuild(List<Callback> cbs)
        {
            var sorted = CallbackOrder.Sort(cbs);
            for (var e = 0; e < Events.Count; e++)
            {
                var ev = (Event)e;
                var inner = Events.IsInnerLoop(ev);
                _train[e] = sorted.Where(cb => cb.HandledEvents.Contains(ev) && (!inner || cb.RunTrain)).ToArray();
                _valid[e] = sorted.Where(cb => cb.HandledEvents.Contains(ev) && (!inner || cb.RunValid)).ToArray();
            }
            Sorted = sorted;
        }
    }

    /// <summary>One value per event, inline (fastai's 24 events).</summary>
    [System.Runtime.CompilerServices.InlineArray(Events.Count)]
    private struct PerEvent<T>
    {
        private T _first;
    }

    /// <summary>The loop's stage bodies as delegates made once, so running a batch allocates no closures.</summary>
    private sealed class Stages(Learner learn)
    {
        public readonly Action DoFit = learn.DoFit;
        public readonly Action DoEpoch = learn.DoEpoch;
        public readonly Action AllBatches = learn.AllBatches;
        public readonly Action DoOneBatch = learn.DoOneBatch;
        public readonly Action Backward = learn.Backward;
        public readonly Action Step = learn.Step;
    }
}
