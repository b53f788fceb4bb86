// RuntimeCounter and RuntimeOther have no generated dispatch (not partial, FCB0002 silenced on purpose): the learner
// builds theirs at run time, as for a notebook cell or F#, and it must not allocate either.
#pragma warning disable FCB0002

namespace FastCallbacks.Tests.Core;

/// <summary>Dispatching an event allocates nothing, with generated dispatch or the one built at run time.</summary>
public partial class AllocationTests
{
    public interface ICounter
    {
        long Calls { get; }
    }

    public sealed partial class Counter : Callback, ICounter
    {
        public long Calls { get; private set; }
        [On(Event.BeforeBatch), On(Event.AfterBatch)] private void Count() => Calls++;
        [On(Event.AfterStep)] private void WithEvent(Event e) => Calls += (int)e > 0 ? 1 : 0;
    }

    public sealed partial class Other : Callback
    {
        [On(Event.AfterFit)] private void Nothing() { }
    }

    public sealed class RuntimeCounter : Callback, ICounter
    {
        public long Calls { get; private set; }
        [On(Event.BeforeBatch), On(Event.AfterBatch)] private void Count() => Calls++;
        [On(Event.AfterStep)] private void WithEvent(Event e) => Calls += (int)e > 0 ? 1 : 0;
    }

    public sealed class RuntimeOther : Callback
    {
        [On(Event.AfterFit)] private void Nothing() { }
    }

    /// <summary>A class without generated dispatch deriving from a generated one: both halves of its dispatch run.</summary>
    public sealed class RuntimeOnGenerated : GeneratedBase, ICounter
    {
        public long Calls => Base + Own;
        private long Own { get; set; }
        [On(Event.BeforeBatch), On(Event.AfterBatch)] private void Count() => Own++;
    }

    public partial class GeneratedBase : Callback
    {
        protected long Base { get; private set; }
        [On(Event.AfterStep)] private void WithEvent(Event e) => Base += (int)e > 0 ? 1 : 0;
    }

    private static (Func<ICounter> Counter, Func<Callback> Other) Kinds(string dispatch) => dispatch switch
    {
        "generated" => (() => new Counter(), () => new Other()),
        "runtime" => (() => new RuntimeCounter(), () => new RuntimeOther()),
        _ => (() => new RuntimeOnGenerated(), () => new RuntimeOther()),
    };

    [TestCase(1, "generated")]
    [TestCase(10, "generated")]
    [TestCase(100, "generated")]
    [TestCase(1, "runtime")]
    [TestCase(10, "runtime")]
    [TestCase(100, "runtime")]
    [TestCase(10, "runtime-on-generated")]
    public void Dispatch_allocates_zero_bytes(int n, string dispatch)
    {
        using var learn = TestData.RegressionLearner();
        var (counter, other) = Kinds(dispatch);
        var counters = Enumerable.Range(0, n).Select(_ => counter()).ToArray();
        learn.AddCbs(counters.Cast<Callback>());
        learn.AddCbs(Enumerable.Range(0, n).Select(_ => other()));
        learn.Invoke(Event.BeforeBatch); // builds the tables once
        learn.Invoke(Event.AfterStep);

        const int rounds = 10_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < rounds; i++)
        {
            learn.Invoke(Event.BeforeBatch);
            learn.Invoke(Event.AfterStep);
            learn.Invoke(Event.AfterCancelBatch); // handled by nobody
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
        Assert.That(counters[0].Calls, Is.EqualTo(2 * (rounds + 1)));
    }

    [TestCase("generated")]
    [TestCase("runtime")]
    public void Callback_Invoke_allocates_zero_bytes(string dispatch)
    {
        var cb = (Callback)Kinds(dispatch).Counter();
        cb.Invoke(Event.BeforeBatch);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++) cb.Invoke(Event.BeforeBatch);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void Learner_visits_only_callbacks_that_handle_the_event()
    {
        using var learn = TestData.RegressionLearner([new Counter(), new Other()]);
        Assert.That(learn.OrderedCbs(Event.BeforeBatch).Select(c => c.GetType()), Is.EqualTo(new[] { typeof(Counter) }));
        Assert.That(new Counter().HandledEvents, Is.EqualTo(EventSet.Of(Event.BeforeBatch, Event.AfterBatch, Event.AfterStep)));
    }
}
