// The Runtime* classes have no generated dispatch (not partial, FCB0002 silenced on purpose): the learner builds it
// at run time, as for a notebook cell or F#, and their failures must be named exactly as generated dispatch names them.
#pragma warning disable FCB0002

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

    public class RuntimeFailingBase : Callback
    {
        [On(Event.BeforeFit)]
        private void Fail() => throw new InvalidOperationException("base boom");
    }

    public sealed class RuntimeDerivedOfFailing : RuntimeFailingBase, ICalls
    {
        public int Calls { get; private set; }

        [On(Event.BeforeFit)]
        private void After() => Calls++;
    }

    /// <summary>Without generated dispatch, on top of a generated class whose handler fails.</summary>
    public sealed class RuntimeOnGeneratedFailing : FailingBase, ICalls
    {
        public int Calls { get; private set; }

        [On(Event.BeforeFit)]
        private void After() => Calls++;
    }

    public sealed partial class DerivedOfFailingCalls : FailingBase, ICalls
    {
        public int Calls { get; private set; }

        [On(Event.BeforeFit)]
        private void After() => Calls++;
    }

    public interface ICalls
    {
        int Calls { get; }
    }

    public sealed class RuntimeNestedFailure : Callback
    {
        [On(Event.AfterCancelTrain)]
        private void Fail() => throw new ArithmeticException("nested");
    }

    public sealed class RuntimeNesting : Callback
    {
        public override int Order => -100;

        [On(Event.BeforeTrain)]
        private void Nest() => Learn!.Invoke(Event.AfterCancelTrain);
    }

    [TestCase("generated")]
    [TestCase("runtime")]
    [TestCase("runtime-on-generated")]
    public void A_base_class_handler_failure_is_wrapped_once_naming_the_instance_class(string dispatch)
    {
        using var learn = TestData.RegressionLearner();
        Callback cb = dispatch switch
        {
            "generated" => new DerivedOfFailingCalls(),
            "runtime" => new RuntimeDerivedOfFailing(),
            _ => new RuntimeOnGeneratedFailing(),
        };
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [cb]))!;
        Assert.That(ex.Message, Is.EqualTo($"Exception occurred in `{cb.GetType().Name}` when calling event `before_fit`: base boom"));
        Assert.That(ex.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(ex.CallbackType, Is.EqualTo(cb.GetType()));
        Assert.That(((ICalls)cb).Calls, Is.Zero, "the derived handler runs after the base one, which threw");
        // The learner is still usable.
        learn.RemoveCb(cb);
        Assert.DoesNotThrow(() => learn.Fit(1));
    }

    [Test]
    public void A_run_time_dispatch_failure_outside_a_fit_names_the_callback_and_the_event()
    {
        var cb = new RuntimeFailingBase();
        var ex = Assert.Throws<CallbackException>(() => cb.Invoke(Event.BeforeFit))!;
        Assert.That(ex.Message, Is.EqualTo("Exception occurred in `RuntimeFailingBase` when calling event `before_fit`: base boom"));
        Assert.DoesNotThrow(() => cb.Invoke(Event.AfterFit), "an event it does not handle");
    }

    [TestCase("generated")]
    [TestCase("runtime")]
    public void A_cancel_exception_from_a_handler_is_not_wrapped(string dispatch)
    {
        using var learn = TestData.RegressionLearner();
        Callback cb = dispatch == "generated"
            ? new ThrowOnEvent(Event.BeforeFit, () => new CancelEpochException())
            : new RuntimeThrowOnEvent(Event.BeforeFit, () => new CancelEpochException());
        Assert.Throws<CancelEpochException>(() => learn.Fit(1, cbs: [cb]), "before_fit's stage catches only CancelFitException");
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

    [TestCase("generated")]
    [TestCase("runtime")]
    public void A_nested_dispatch_failure_names_both_callbacks_innermost_last(string dispatch)
    {
        using var learn = TestData.RegressionLearner();
        Callback outer = dispatch == "generated" ? new Nesting() : new RuntimeNesting();
        Callback nested = dispatch == "generated" ? new NestedFailure() : new RuntimeNestedFailure();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [outer, nested]))!;
        Assert.That(ex.CallbackType, Is.EqualTo(outer.GetType()));
        Assert.That(ex.Event, Is.EqualTo(Event.BeforeTrain));
        var inner = ex.InnerException as CallbackException;
        Assert.That(inner, Is.Not.Null);
        Assert.That(inner!.CallbackType, Is.EqualTo(nested.GetType()));
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
