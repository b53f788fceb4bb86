namespace FastCallbacks.Tests.Core;

/// <summary>
/// Who names a failing handler: generated dispatch wraps its own handlers' exceptions (so the learner's loop has no
/// try), and the learner wraps those of hand-written dispatch. Either way the message names the callback and the
/// event exactly once.
/// </summary>
public partial class HandlerFailureNamingTests
{
    public partial class FailingBase : Callback
    {
        [On(Event.BeforeFit)]
        private void Fail() => throw new InvalidOperationException("base boom");
    }

    public sealed partial class DerivedOfFailing : FailingBase
    {
        public int Calls;

        [On(Event.BeforeFit)]
        private void After() => Calls++;
    }

    /// <summary>No generator: the class dispatches by hand.</summary>
    public sealed class HandWritten : Callback
    {
        protected override EventSet GetHandledEvents() => new(1u << (int)Event.BeforeEpoch);

        protected override void Dispatch(Event @event) => throw new FormatException("by hand");
    }

    /// <summary>Writes Dispatch by hand on top of a generated base; the generator marks it as not wrapping.</summary>
    public sealed partial class HandWrittenOnGenerated : GeneratedBase
    {
        [On(Event.BeforeEpoch)]
        private void EpochStarts() { }

        protected override void Dispatch(Event @event)
        {
            base.Dispatch(@event);
            if (@event == Event.BeforeEpoch) throw new NotSupportedException("hand-written on top");
        }
    }

    public partial class GeneratedBase : Callback
    {
        [On(Event.BeforeFit)]
        private void Fine() { }
    }

    /// <summary>Dispatches another event from inside a handler; the nested callback fails.</summary>
    public sealed partial class Nesting : Callback
    {
        public override int Order => -100;

        [On(Event.BeforeTrain)]
        private void Nest() => Learn!.Invoke(Event.AfterCancelTrain);
    }

    public sealed partial class NestedFailure : Callback
    {
        [On(Event.AfterCancelTrain)]
        private void Fail() => throw new ArithmeticException("nested");
    }

    /// <summary>Catches a nested dispatch's cancel, then fails itself.</summary>
    public sealed partial class SwallowsThenFails : Callback
    {
        [On(Event.BeforeTrain)]
        private void Go()
        {
            try { Learn!.Invoke(Event.AfterPred); } catch (CancelBatchException) { }
            throw new TimeoutException("after the nested cancel");
        }
    }

    public sealed partial class NestedCancel : Callback
    {
        [On(Event.AfterPred)]
        private void Cancel() => throw new CancelBatchException();
    }

    [Test]
    public void A_base_class_handler_failure_is_wrapped_once_naming_the_instance_class()
    {
        using var learn = TestData.RegressionLearner();
        var cb = new DerivedOfFailing();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [cb]))!;
        Assert.That(ex.Message, Is.EqualTo("Exception occurred in `DerivedOfFailing` when calling event `before_fit`: base boom"));
        Assert.That(ex.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(cb.Calls, Is.Zero, "the derived handler runs after the base one, which threw");
    }

    [Test]
    public void A_hand_written_dispatch_failure_is_wrapped_by_the_learner()
    {
        using var learn = TestData.RegressionLearner();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [new HandWritten()]))!;
        Assert.That(ex.Message, Is.EqualTo("Exception occurred in `HandWritten` when calling event `before_epoch`: by hand"));
        Assert.That(ex.CallbackType, Is.EqualTo(typeof(HandWritten)));
        Assert.That(ex.InnerException, Is.TypeOf<FormatException>());
    }

    [Test]
    public void A_hand_written_dispatch_beneath_a_generated_one_is_wrapped_too()
    {
        using var learn = TestData.RegressionLearner();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [new HandWrittenOnGenerated()]))!;
        Assert.That(ex.Message, Is.EqualTo("Exception occurred in `HandWrittenOnGenerated` when calling event `before_epoch`: hand-written on top"));
    }

    [Test]
    public void Learner_Invoke_outside_a_fit_wraps_generated_and_hand_written_failures()
    {
        using var learn = TestData.RegressionLearner([new HandWritten(), new FailingBase()]);
        Assert.That(Assert.Throws<CallbackException>(() => learn.Invoke(Event.BeforeEpoch))!.CallbackType, Is.EqualTo(typeof(HandWritten)));
        Assert.That(Assert.Throws<CallbackException>(() => learn.Invoke(Event.BeforeFit))!.CallbackType, Is.EqualTo(typeof(FailingBase)));
        // The learner is still usable.
        learn.RemoveCbs<HandWritten>().RemoveCbs<FailingBase>();
        Assert.DoesNotThrow(() => learn.Fit(1));
    }

    [Test]
    public void A_nested_dispatch_failure_names_both_callbacks_innermost_last()
    {
        using var learn = TestData.RegressionLearner();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [new Nesting(), new NestedFailure()]))!;
        Assert.That(ex.CallbackType, Is.EqualTo(typeof(Nesting)));
        Assert.That(ex.Event, Is.EqualTo(Event.BeforeTrain));
        var inner = ex.InnerException as CallbackException;
        Assert.That(inner, Is.Not.Null);
        Assert.That(inner!.CallbackType, Is.EqualTo(typeof(NestedFailure)));
        Assert.That(inner.Event, Is.EqualTo(Event.AfterCancelTrain));
        Assert.That(inner.InnerException, Is.TypeOf<ArithmeticException>());
    }

    [Test]
    public void A_failure_after_a_swallowed_nested_cancel_names_the_failing_callback()
    {
        using var learn = TestData.RegressionLearner();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [new NestedCancel(), new SwallowsThenFails()]))!;
        Assert.That(ex.CallbackType, Is.EqualTo(typeof(SwallowsThenFails)));
        Assert.That(ex.Event, Is.EqualTo(Event.BeforeTrain));
        Assert.That(ex.InnerException, Is.TypeOf<TimeoutException>());
    }
}
