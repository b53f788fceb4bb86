namespace FastCallbacks;

/// <summary>
/// Base of the seven exceptions a callback throws to steer the training loop, as in fastai. Each is caught by
/// one stage of the loop (see the <c>docs/event-order.md</c> diagram), which then dispatches its
/// <c>AfterCancel…</c> event and goes on. They pass through <see cref="CallbackException"/> wrapping untouched.
/// </summary>
public abstract class CancelException : Exception
{
    /// <summary>Creates the exception with fastai's description as message.</summary>
    protected CancelException(string message) : base(message) { }
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
