namespace FastCallbacks;

/// <summary>
/// The 24 events of fastai's training loop, in fastai's order. A callback handles an event by marking
/// a method with <see cref="OnAttribute"/>.
/// </summary>
public enum Event
{
    /// <summary>Dispatched once, at the end of the <see cref="Learner"/> constructor.</summary>
    AfterCreate,
    /// <summary>Start of <see cref="Learner.Fit"/>.</summary>
    BeforeFit,
    /// <summary>Start of each epoch.</summary>
    BeforeEpoch,
    /// <summary>Start of the training phase of an epoch.</summary>
    BeforeTrain,
    /// <summary>Start of each batch, after <see cref="Learner.Xb"/> and <see cref="Learner.Yb"/> are set.</summary>
    BeforeBatch,
    /// <summary>After the model's forward pass; <see cref="Learner.Pred"/> is set.</summary>
    AfterPred,
    /// <summary>After the loss is computed; <see cref="Learner.LossGrad"/> and <see cref="Learner.Loss"/> are set.</summary>
    AfterLoss,
    /// <summary>Before the backward pass (training only).</summary>
    BeforeBackward,
    /// <summary>After a <see cref="CancelBackwardException"/> was caught.</summary>
    AfterCancelBackward,
    /// <summary>After the backward pass (training only).</summary>
    AfterBackward,
    /// <summary>Before the optimizer step (training only).</summary>
    BeforeStep,
    /// <summary>After a <see cref="CancelStepException"/> was caught.</summary>
    AfterCancelStep,
    /// <summary>After the optimizer step (training only).</summary>
    AfterStep,
    /// <summary>After a <see cref="CancelBatchException"/> was caught.</summary>
    AfterCancelBatch,
    /// <summary>End of each batch.</summary>
    AfterBatch,
    /// <summary>After a <see cref="CancelTrainException"/> was caught.</summary>
    AfterCancelTrain,
    /// <summary>End of the training phase of an epoch.</summary>
    AfterTrain,
    /// <summary>Start of the validation phase of an epoch.</summary>
    BeforeValidate,
    /// <summary>After a <see cref="CancelValidException"/> was caught.</summary>
    AfterCancelValidate,
    /// <summary>End of the validation phase of an epoch.</summary>
    AfterValidate,
    /// <summary>After a <see cref="CancelEpochException"/> was caught.</summary>
    AfterCancelEpoch,
    /// <summary>End of each epoch.</summary>
    AfterEpoch,
    /// <summary>After a <see cref="CancelFitException"/> was caught (or the fit's cancellation token fired).</summary>
    AfterCancelFit,
    /// <summary>End of <see cref="Learner.Fit"/>.</summary>
    AfterFit,
}

/// <summary>Helpers for <see cref="Event"/>: fastai's names and the ordered list.</summary>
public static class Events
{
    /// <summary>The number of events.</summary>
    public const int Count = 24;

    private static readonly string[] Names =
    [
        "after_create", "before_fit", "before_epoch", "before_train", "before_batch", "after_pred", "after_loss",
        "before_backward", "after_cancel_backward", "after_backward", "before_step", "after_cancel_step",
        "after_step", "after_cancel_batch", "after_batch", "after_cancel_train", "after_train", "before_validate",
        "after_cancel_validate", "after_validate", "after_cancel_epoch", "after_epoch", "after_cancel_fit", "after_fit",
    ];

    private static readonly Event[] AllEvents = MakeAll();

    // A loop, not Enumerable.Range(...).Select(i => (Event)i): that instantiation over value types is JIT-compiled
    // in every fresh process, ReadyToRun or not.
    private static Event[] MakeAll()
    {
        var all = new Event[Count];
        for (var i = 0; i < Count; i++) all[i] = (Event)i;
        return all;
    }

    /// <summary>All 24 events in fastai's order.</summary>
    public static IReadOnlyList<Event> All => AllEvents;

    /// <summary>
    /// fastai's ten inner-loop events: the only ones filtered by <see cref="Callback.RunTrain"/> and
    /// <see cref="Callback.RunValid"/>. <see cref="Event.AfterCancelStep"/> is not one of them, as in fastai.
    /// </summary>
    public static EventSet InnerLoop { get; } = EventSet.Of(
        Event.BeforeBatch, Event.AfterPred, Event.AfterLoss, Event.BeforeBackward, Event.AfterCancelBackward,
        Event.AfterBackward, Event.BeforeStep, Event.AfterStep, Event.AfterCancelBatch, Event.AfterBatch);

    /// <summary>fastai's snake_case name of <paramref name="e"/>, for example <c>"before_step"</c>.</summary>
    /// <param name="e">One of the 24 events; any other value throws <see cref="ArgumentOutOfRangeException"/>.</param>
    public static string Name(Event e) =>
        (uint)e < Count ? Names[(int)e] : throw new ArgumentOutOfRangeException(nameof(e), e, "Not a FastCallbacks event.");

    /// <summary>
    /// The event whose fastai name (<c>before_step</c>) or C# name (<c>BeforeStep</c>) is <paramref name="name"/>.
    /// </summary>
    /// <param name="name">fastai's name (<c>before_step</c>) or the C# one (<c>BeforeStep</c>), matched exactly (case included).</param>
    /// <exception cref="ArgumentException">No event has that name; the message lists the valid names.</exception>
    public static Event Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (TryParse(name, out var e)) return e;
        throw new ArgumentException(
            $"'{name}' is not an event. Events are: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>Like <see cref="Parse"/>, returning false instead of throwing.</summary>
    /// <param name="name">fastai's name or the C# one, matched exactly; null is no event.</param>
    /// <param name="e">The event named, when the result is true; otherwise <see cref="Event.AfterCreate"/> (the default), to be ignored.</param>
    public static bool TryParse(string? name, out Event e)
    {
        for (var i = 0; i < Count; i++)
        {
            if (name == Names[i] || name == ((Event)i).ToString())
            {
                e = (Event)i;
                return true;
            }
        }
        e = default;
        return false;
    }

    /// <summary>True for the ten inner-loop events (see <see cref="InnerLoop"/>).</summary>
    /// <param name="e">The event asked about.</param>
    public static bool IsInnerLoop(Event e) => InnerLoop.Contains(e);
}
