// The classes named Rt* have no generated dispatch: they are not partial (FCB0002 silenced on purpose), as a notebook
// cell, F# or VB compiles callbacks. Their Gen* twins are partial and get generated dispatch.
#pragma warning disable FCB0002, FCB0003

using FastCallbacks.Tests.Reliability;

namespace FastCallbacks.Tests.Core;

/// <summary>
/// Callbacks whose handlers were compiled without the generator get a dispatch built at run time, once per class,
/// with the generated dispatch's semantics: the same events in the same order, inheritance, several events per
/// method, the Event parameter, cancel exceptions and failures named after the callback and event.
/// </summary>
public partial class RuntimeDispatchTests
{
    public class RtCounter : Callback
    {
        public int Count;
        public List<Event> Seen { get; } = [];

        [On(Event.BeforeBatch), On(Event.AfterBatch)]
        private void Counted() => Count++;

        [On(Event.AfterStep)]
        [On(Event.AfterFit)]
        private void WithEvent(Event e) => Seen.Add(e);
    }

    public class RtParent(List<string> log) : Callback
    {
        protected List<string> Log { get; } = log;

        [On(Event.BeforeFit)] private void Start() => Log.Add("parent.before_fit");
        [On(Event.AfterFit)] private void Stop() => Log.Add("parent.after_fit");
    }

    public class RtChild(List<string> log) : RtParent(log)
    {
        [On(Event.AfterEpoch)] private void EpochDone(Event e) => Log.Add("child." + Events.Name(e));
        [On(Event.AfterFit)] private void Stop() => Log.Add("child.after_fit");
        [On(Event.AfterFit)] private void StopAgain() => Log.Add("child.after_fit.2");
    }

    public partial class GenParent(List<string> log) : Callback
    {
        protected List<string> Log { get; } = log;

        [On(Event.BeforeFit)] private void Start() => Log.Add("parent.before_fit");
        [On(Event.AfterFit)] private void Stop() => Log.Add("parent.after_fit");
    }

    public partial class GenChild(List<string> log) : GenParent(log)
    {
        [On(Event.AfterEpoch)] private void EpochDone(Event e) => Log.Add("child." + Events.Name(e));
        [On(Event.AfterFit)] private void Stop() => Log.Add("child.after_fit");
        [On(Event.AfterFit)] private void StopAgain() => Log.Add("child.after_fit.2");
    }

    /// <summary>A notebook class deriving from a compiled library callback (generated dispatch).</summary>
    public class RtOnGenerated(List<string> log) : GenParent(log)
    {
        [On(Event.BeforeFit), On(Event.AfterEpoch)] private void Mine(Event e) => Log.Add("mine." + Events.Name(e));
    }

    /// <summary>A compiled class written with a hand-made Dispatch.</summary>
    public class HandWrittenBase(List<string> log) : Callback
    {
        protected List<string> Log { get; } = log;

        protected override EventSet GetHandledEvents() => EventSet.Of(Event.BeforeFit, Event.AfterTrain);

        protected override void Dispatch(Event @event) => Log.Add("hand." + Events.Name(@event));
    }

    public class RtOnHandWritten(List<string> log) : HandWrittenBase(log)
    {
        [On(Event.BeforeFit)] private void Mine() => Log.Add("mine.before_fit");
    }

    /// <summary>A generated class deriving from one without generated dispatch (an F# library's callback, say).</summary>
    public partial class GenOnRuntime(List<string> log) : RtParent(log)
    {
        [On(Event.AfterFit), On(Event.AfterTrain)] private void Mine(Event e) => Log.Add("gen." + Events.Name(e));
    }

    public class RtVirtualBase(List<string> log) : Callback
    {
        protected List<string> Log { get; } = log;

        [On(Event.BeforeFit)] protected virtual void Go() => Log.Add("base");
    }

    public class RtVirtualOverride(List<string> log) : RtVirtualBase(log)
    {
        [On(Event.BeforeFit)] protected override void Go() => Log.Add("override");
    }

    public partial class GenFirst : Callback
    {
        [On(Event.BeforeFit)] private void First() { }
    }

    public class RtMiddle : GenFirst
    {
        [On(Event.AfterFit)] private void Middle() { }
    }

    public partial class GenLast : RtMiddle
    {
        [On(Event.AfterEpoch)] private void Last() { }
    }

    public class RtBadShape : Callback
    {
        [On(Event.BeforeFit)] private int Bad() => 1;
    }

    public class RtGeneric<T>(List<string> log) : Callback
    {
        [On(Event.BeforeFit)] private void Start() => log.Add(typeof(T).Name);
    }

    public class TypedLearner(DataLoaders dls) : Learner(dls, TestData.LinearModel(), TestData.Mse)
    {
        public int Marker => 42;
    }

    public class RtTyped : Callback<TypedLearner>
    {
        public int SeenMarker;

        [On(Event.BeforeFit)] private void Start() => SeenMarker = Attached.Marker;
    }

    private static List<string> FitLog(Func<List<string>, Callback> make, int epochs = 2)
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([make(log)]);
        learn.Fit(epochs);
        return log;
    }

    [Test]
    public void Handlers_are_called_for_each_of_their_events_and_receive_the_event()
    {
        var cb = new RtCounter();
        using var learn = TestData.RegressionLearner([cb]);
        learn.Fit(1);
        Assert.That(cb.Count, Is.EqualTo(8), "before_batch and after_batch of 3 training and 1 validation batch");
        Assert.That(cb.Seen, Is.EqualTo(new[] { Event.AfterStep, Event.AfterStep, Event.AfterStep, Event.AfterFit }));
        Assert.That(cb.HandledEvents, Is.EqualTo(EventSet.Of(Event.BeforeBatch, Event.AfterBatch, Event.AfterStep, Event.AfterFit)));
        Assert.That(learn.OrderedCbs(Event.BeforeBatch), Does.Contain(cb));
        Assert.That(learn.OrderedCbs(Event.BeforeEpoch), Does.Not.Contain(cb), "only the events it handles");
    }

    [Test]
    public void Inherited_handlers_run_first_and_in_declaration_order_as_generated_ones_do()
    {
        var runtime = FitLog(log => new RtChild(log));
        var generated = FitLog(log => new GenChild(log));
        Assert.That(runtime, Is.EqualTo(generated));
        Assert.That(runtime, Is.EqualTo(new[] { "parent.before_fit", "child.after_epoch", "child.after_epoch", "parent.after_fit", "child.after_fit", "child.after_fit.2" }));
    }

    [Test]
    public void A_class_deriving_from_a_generated_callback_runs_the_base_dispatch_first()
    {
        Assert.That(FitLog(log => new RtOnGenerated(log), epochs: 1),
            Is.EqualTo(new[] { "parent.before_fit", "mine.before_fit", "mine.after_epoch", "parent.after_fit" }));
    }

    [Test]
    public void A_class_deriving_from_a_hand_written_dispatch_keeps_it()
    {
        Assert.That(FitLog(log => new RtOnHandWritten(log), epochs: 1),
            Is.EqualTo(new[] { "hand.before_fit", "mine.before_fit", "hand.after_train" }));
    }

    [Test]
    public void A_generated_class_deriving_from_one_without_generated_dispatch_runs_the_ancestor_handlers_first()
    {
        var cb = new GenOnRuntime([]);
        Assert.That(FitLog(log => new GenOnRuntime(log), epochs: 1),
            Is.EqualTo(new[] { "parent.before_fit", "gen.after_train", "parent.after_fit", "gen.after_fit" }));
        Assert.That(cb.HandledEvents, Is.EqualTo(EventSet.Of(Event.BeforeFit, Event.AfterTrain, Event.AfterFit)));
    }

    [Test]
    public void An_overridden_handler_registered_by_its_base_runs_once()
    {
        Assert.That(FitLog(log => new RtVirtualOverride(log), epochs: 0), Is.EqualTo(new[] { "override" }));
    }

    [Test]
    public void Generic_and_typed_callbacks_work()
    {
        Assert.That(FitLog(log => new RtGeneric<int>(log), epochs: 0), Is.EqualTo(new[] { "Int32" }));
        var typed = new RtTyped();
        using var learn = new TypedLearner(TestData.RegressionDls());
        learn.Fit(0, cbs: [typed]);
        Assert.That(typed.SeenMarker, Is.EqualTo(42));
    }

    [Test]
    public void An_unattached_callback_dispatches_through_Invoke()
    {
        var cb = new RtCounter();
        cb.Invoke(Event.BeforeBatch);
        cb.Invoke(Event.AfterFit);
        cb.Invoke(Event.BeforeEpoch);
        Assert.That(cb.Count, Is.EqualTo(1));
        Assert.That(cb.Seen, Is.EqualTo(new[] { Event.AfterFit }));
    }

    public static IEnumerable<TestCaseData> CancelCases() =>
        Events.All.Where(e => e != Event.AfterCreate).Select(e => new TestCaseData(e).SetName($"Cancel_traces_equal_generated_{Events.Name(e)}"));

    /// <summary>
    /// For each event, each of the seven cancel exceptions thrown there (after_cancel_X events are reached through a
    /// trigger that X's stage catches, as in <see cref="CancelMatrixTests"/>): the same trace, the same escape.
    /// </summary>
    [TestCaseSource(nameof(CancelCases))]
    public void Cancel_traces_equal_generated(Event at)
    {
        var trigger = Tiny.TriggerFor(Events.Name(at));
        foreach (var (_, type, make) in Tiny.Cancels)
        {
            var generated = Run(new ThrowOnEvent(at, make, order: 1), trigger is null ? null : new ThrowOnEvent(Events.Parse(trigger.Event), Tiny.Make(trigger.Signal), order: 2), new TraceCallback());
            var runtime = Run(new RuntimeThrowOnEvent(at, make, order: 1), trigger is null ? null : new RuntimeThrowOnEvent(Events.Parse(trigger.Event), Tiny.Make(trigger.Signal), order: 2), new RuntimeTraceCallback());
            Assert.That(runtime.Trace, Is.EqualTo(generated.Trace), $"{type.Name} at {Events.Name(at)}");
            Assert.That(runtime.Escaped, Is.EqualTo(generated.Escaped), $"{type.Name} at {Events.Name(at)}");
            Assert.That(generated.Trace, Does.Contain(Events.Name(at)), "the case reaches its event");
        }

        static (List<string> Trace, Type? Escaped) Run(Callback thrower, Callback? trigger, Callback tracer)
        {
            using var learn = TestData.RegressionLearner([tracer]);
            var trace = tracer is TraceCallback t ? t.Trace : ((RuntimeTraceCallback)tracer).Trace;
            trace.Clear();
            try
            {
                learn.Fit(2, cbs: trigger is null ? [thrower] : [thrower, trigger]);
                return (trace, null);
            }
            catch (Exception ex)
            {
                return (trace, ex.GetType());
            }
        }
    }

    [Test]
    public void The_learner_says_once_per_class_on_its_message_line_that_it_runs_on_run_time_dispatch_and_why()
    {
        var logged = new List<string>();
        using var learn = TestData.RegressionLearner([new TraceCallback()]);
        learn.MessageWriter = logged.Add;
        learn.AddCb(new RuntimeTraceCallback());
        learn.AddCb(new RuntimeTraceCallback());
        learn.Fit(1, cbs: [new RuntimeTraceCallback(), new RtCounter()]);
        learn.Fit(1, cbs: [new RtCounter()]);

        Assert.That(logged, Has.Count.EqualTo(2));
        Assert.That(logged[0], Does.StartWith("`RuntimeTraceCallback` runs on run-time dispatch: the [On] handlers of `RuntimeTraceCallback` have no generated dispatch"));
        Assert.That(logged[0], Does.Contain("assembly `FastCallbacks.Tests` was compiled without the FastCallbacks source generator"));
        Assert.That(logged[1], Does.StartWith("`RtCounter` runs on run-time dispatch"));

        logged.Clear();
        using var generatedOnly = TestData.RegressionLearner();
        generatedOnly.MessageWriter = logged.Add;
        generatedOnly.Fit(1, cbs: [new TraceCallback()]);
        Assert.That(logged.Where(m => m.Contains("dispatch")), Is.Empty, "generated dispatch says nothing");
    }

    [Test]
    public void Callbacks_given_to_the_constructor_are_reported_on_the_default_message_line_the_console()
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            using var learn = TestData.RegressionLearner([new RtCounter(), new RtCounter()]);
        }
        finally
        {
            Console.SetOut(previous);
        }
        Assert.That(output.ToString().Split('\n').Count(l => l.StartsWith("`RtCounter` runs on run-time dispatch", StringComparison.Ordinal)), Is.EqualTo(1), output.ToString());
    }

    [Test]
    public void A_class_between_two_compiled_dispatches_is_refused_with_the_reason_and_the_learner_is_unchanged()
    {
        using var learn = TestData.RegressionLearner();
        var logged = new List<string>();
        learn.MessageWriter = logged.Add;
        var before = learn.Cbs.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => learn.AddCbs([new RtCounter(), new GenLast()]))!;
        Assert.That(ex.Message, Does.StartWith("The [On] handlers of `RtMiddle` (a base class of `GenLast`) cannot be called"));
        Assert.That(ex.Message, Does.Contain("between `GenFirst` and `GenLast`"));
        Assert.That(learn.Cbs, Is.EqualTo(before), "all or none");
        Assert.That(logged, Is.Empty, "RtCounter was not added either");
        Assert.DoesNotThrow(() => learn.Fit(1));
    }

    [Test]
    public void A_handler_of_the_wrong_shape_is_refused_naming_the_method()
    {
        using var learn = TestData.RegressionLearner();
        var ex = Assert.Throws<ArgumentException>(() => learn.AddCb(new RtBadShape()))!;
        Assert.That(ex.Message, Does.StartWith("`RtBadShape.Bad` cannot handle events: it returns Int32. An [On] handler is an instance method"));
        Assert.That(ex.Message, Does.Contain("(FCB0003)"));
        Assert.That(learn.Cbs.OfType<RtBadShape>(), Is.Empty);
    }
}
