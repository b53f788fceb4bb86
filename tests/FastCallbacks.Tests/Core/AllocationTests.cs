namespace FastCallbacks.Tests.Core;

/// <summary>Dispatching an event allocates nothing, and the generated code uses no reflection.</summary>
public partial class AllocationTests
{
    public sealed partial class Counter : Callback
    {
        public long Calls;
        [On(Event.BeforeBatch), On(Event.AfterBatch)] private void Count() => Calls++;
        [On(Event.AfterStep)] private void WithEvent(Event e) => Calls += (int)e > 0 ? 1 : 0;
    }

    public sealed partial class Other : Callback
    {
        [On(Event.AfterFit)] private void Nothing() { }
    }

    [TestCase(1)]
    [TestCase(10)]
    [TestCase(100)]
    public void Dispatch_allocates_zero_bytes(int n)
    {
        using var learn = TestData.RegressionLearner();
        var counters = Enumerable.Range(0, n).Select(_ => new Counter()).ToArray();
        learn.AddCbs(counters);
        learn.AddCbs(Enumerable.Range(0, n).Select(_ => new Other()));
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

    [Test]
    public void Callback_Invoke_allocates_zero_bytes()
    {
        var cb = new Counter();
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
