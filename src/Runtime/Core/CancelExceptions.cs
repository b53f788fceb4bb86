using FastCallbacks.Analyzers;

namespace FastCallbacks;

/// <summary>
/// Base of the seven exceptions a callback throws to steer the training loop, as in fastai. Each is caught by
/// one stage of the loop (see the <c>docs/event-order.md</c> diagram), which then dispatches its
/// <c>AfterCancel…</c> event and goes on. They pass through <see cref="CallbackException"/> wrapping untouched.
/// </summary>
/// <remarks>
/// Thrown where no stage catches it (a <see cref="CancelBatchException"/> from an <see cref="Event.AfterBatch"/>
/// handler: analyzer FCB0005), it ends <see cref="Learner.Fit"/> as itself, as in fastai, but its
/// <see cref="Message"/> then says which callback threw it at which event, that nothing catches it there, and
/// where it would be caught.
/// </remarks>
public abstract class CancelException : Exception
{
    private string? _escapedMessage;
    private Callback? _thrower;
    private Event _thrownAt;
    private bool _thrownWhileTraining;

    /// <summary>Creates the exception with fastai's description as message.</summary>
    /// <param name="message">fastai's description of what the exception does where it is caught.</param>
    protected CancelException(string message) : base(message) { }

    /// <summary>fastai's description; once the exception has escaped the training loop, what happened instead.</summary>
    public override string Message => _escapedMessage ?? base.Message;

    /// <summary>
    /// Called from the exception filter of a callback's dispatch (<see cref="Callback.ShouldWrapHandlerException"/>)
    /// while the exception is on its way up, so it costs nothing unless one is thrown. The innermost dispatch
    /// frame, the handler's own, sees it first.
    /// </summary>
    internal void NoteThrower(Callback callback, Event @event)
    {
        if (_thrower is not null) return;
        _thrower = callback;
        _thrownAt = @event;
        _thrownWhileTraining = callback.Learn?.Training ?? true;
    }

    /// <summary>
    /// The exception leaves <paramref name="run"/> (<c>Fit</c>): nothing in the loop caught it. Writes the message
    /// (the exception keeps its type and stack) and forgets the thrower, so an instance thrown again is described
    /// afresh. Returns false: it is called from an exception filter that lets the exception go on.
    /// </summary>
    internal bool NoteEscape(string run)
    {
        var name = GetType().Name;
        if (_thrower is { } thrower && TryGetKind(out var kind) && !IsCaughtAt(kind, _thrownAt, _thrownWhileTraining))
        {
            var phase = Events.IsInnerLoop(_thrownAt) ? (_thrownWhileTraining ? " while training" : " while validating") : "";
            var caughtThere = Enum.GetValues<CancelKind>().Where(k => IsCaughtAt(k, _thrownAt, _thrownWhileTraining))
                .Select(LoopCatchTable.ExceptionName).ToArray();
            var alternatives = caughtThere.Length == 0
                ? $"At {_thrownAt} the loop catches no cancel exception."
                : $"At {_thrownAt}{phase} the loop catches {string.Join(", ", caughtThere)}.";
            _escapedMessage =
                $"{name} thrown from the {_thrownAt} handler of `{TypeNames.Simple(thrower.GetType())}`{phase} was not caught: " +
                $"nothing in the training loop catches it at {_thrownAt}, so it ended {run}. " +
                $"It is caught only when thrown from handlers of {LoopCatchTable.Describe(kind)} (analyzer FCB0005). {alternatives}";
        }
        else if (_thrower is { } own && !TryGetKind(out _))
        {
            _escapedMessage =
                $"{name} thrown from the {_thrownAt} handler of `{TypeNames.Simple(own.GetType())}` was not caught, so it ended {run}: " +
                "the training loop catches only its own seven cancel exceptions (CancelBatchException, CancelFitException, …), " +
                "each around its own stage (docs/event-order.md).";
        }
        else
        {
            _escapedMessage =
                $"{name} was not caught: it was thrown where no stage of the training loop catches it, so it ended {run}. " +
                "Each cancel exception is caught only around its own stage (docs/event-order.md; analyzer FCB0005).";
        }
        _thrower = null;
        return false;
    }

    /// <summary>Which of the seven this is; false for a class of the user's own, which no stage catches.</summary>
    private bool TryGetKind(out CancelKind kind)
    {
        var type = GetType();
        foreach (var k in Enum.GetValues<CancelKind>())
        {
            if (type.Namespace == nameof(FastCallbacks) && LoopCatchTable.ExceptionName(k) == type.Name)
            {
                kind = k;
                return true;
            }
        }
        kind = default;
        return false;
    }

    /// <summary>
    /// The FCB0005 table (the analyzers' <see cref="LoopCatchTable"/>, compiled in here too), with the phase known:
    /// batch events catch <see cref="CancelTrainException"/> only while training and <see cref="CancelValidException"/>
    /// only while validating.
    /// </summary>
    private static bool IsCaughtAt(CancelKind kind, Event @event, bool training)
    {
        if (!LoopEvents.TryFromCSharpName(@event.ToString(), out var loopEvent) || !LoopCatchTable.IsCaught(kind, loopEvent)) return false;
        if (!Events.IsInnerLoop(@event)) return true;
        return kind switch
        {
            CancelKind.Train => training,
            CancelKind.Valid => !training,
            _ => true,
        };
    }
}

/// <summary>Skip stepping the optimizer: caught around <see cref="Event.BeforeStep"/> and the step.</summary>
public sealed class CancelStepException() : CancelException("Skip stepping the optimizer");

/// <summary>Skip the rest of this batch and go to <see cref="Event.AfterBatch"/>.</summary>
public sealed class CancelBatchException() : CancelException("Skip the rest of this batch and go to `after_batch`");

/// <summary>Skip the backward pass and go to <see cref="Event.AfterBackward"/>.</summary>
public sealed class CancelBackwardException() : CancelException("Skip the backward pass and go to `after_backward`");

/// <summary>Skip the rest of the training part of the epoch and go to <see cref="Event.AfterTrain"/>.</summary>
public sealed class CancelTrainException() : CancelException("Skip the rest of the training part of the epoch and go to `after_train`");

/// <summary>Skip the rest of the validation part of the epoch and go to <see cref="Event.AfterValidate"/>.</summary>
public sealed class CancelValidException() : CancelException("Skip the rest of the validation part of the epoch and go to `after_validate`");

/// <summary>Skip the rest of this epoch and go to <see cref="Event.AfterEpoch"/>.</summary>
public sealed class CancelEpochException() : CancelException("Skip the rest of this epoch and go to `after_epoch`");

/// <summary>Interrupt training and go to <see cref="Event.AfterFit"/>.</summary>
public sealed class CancelFitException() : CancelException("Interrupts training and go to `after_fit`");

/// <summary>
/// Wraps an exception thrown by a callback's handler, naming the callback class and the event as fastai does:
/// <c>Exception occurred in `TstCallback` when calling event `before_batch`: boom</c>. The original is the
/// <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class CallbackException : Exception
{
    /// <summary>Wraps <paramref name="inner"/>, thrown by <paramref name="callback"/> while handling <paramref name="event"/>.</summary>
    /// <param name="callback">The callback whose handler threw; the message names its class.</param>
    /// <param name="event">The event it was handling; the message gives its fastai name (<c>before_batch</c>).</param>
    /// <param name="inner">What the handler threw, kept as <see cref="Exception.InnerException"/>; its message ends this one.</param>
    public CallbackException(Callback callback, Event @event, Exception inner)
        : base(FormatMessage(callback.GetType(), @event, inner), inner)
    {
        CallbackType = callback.GetType();
        Event = @event;
        Thrower = callback;
    }

    /// <summary>The callback instance, so a base class's handler failure is not wrapped twice by the derived class's dispatch.</summary>
    internal Callback Thrower { get; }

    /// <summary>The type of the callback whose handler threw.</summary>
    public Type CallbackType { get; }

    /// <summary>The event being dispatched.</summary>
    public Event Event { get; }

    private static string FormatMessage(Type type, Event e, Exception inner) =>
        $"Exception occurred in `{type.Name}` when calling event `{Events.Name(e)}`: {inner.Message}";
}
