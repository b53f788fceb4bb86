using TorchSharp.Modules;

namespace FastCallbacks.Tests.Reliability;

/// <summary>Bad input: each gives a clear error before anything changes (no events, no callbacks left, no optimizer made).</summary>
public partial class BadInputTests
{
    public sealed partial class Ping : Callback
    {
        public override IReadOnlyList<Type> RunBefore => [typeof(Pong)];
        [On(Event.BeforeFit)] private void Nothing() { }
    }

    public sealed partial class Pong : Callback
    {
        public override IReadOnlyList<Type> RunBefore => [typeof(Ping)];
        [On(Event.BeforeFit)] private void Nothing() { }
    }

    public sealed partial class Tri1 : Callback { public override IReadOnlyList<Type> RunAfter => [typeof(Tri3)]; }
    public sealed partial class Tri2 : Callback { public override IReadOnlyList<Type> RunAfter => [typeof(Tri1)]; }
    public sealed partial class Tri3 : Callback { public override IReadOnlyList<Type> RunAfter => [typeof(Tri2)]; }

    public sealed partial class Other : Callback
    {
        [On(Event.BeforeFit)] private void Nothing() { }
    }

    /// <summary>Snapshot of what a refused Fit must not touch.</summary>
    private sealed record State(Callback[] Cbs, optim.Optimizer? Opt, int NEpoch, int Epoch, float[][] Weights)
    {
        public static State Of(Learner l) => new([.. l.Cbs], l.Opt, l.NEpoch, l.Epoch, Tiny.Weights(l));
    }

    private static void AssertUntouched(Learner learn, State before, TraceCallback trace)
    {
        Assert.That(trace.Trace, Is.Empty, "no event is dispatched");
        var now = State.Of(learn);
        Assert.That(now.Cbs, Is.EqualTo(before.Cbs), "the callbacks are as they were");
        Assert.That(now.Opt, Is.SameAs(before.Opt), "no optimizer is made or replaced");
        Assert.That((now.NEpoch, now.Epoch), Is.EqualTo((before.NEpoch, before.Epoch)));
        Assert.That(now.Weights, Is.EqualTo(before.Weights));
        // And the learner is not left "fitting".
        CancelMatrixTests.FitsAgainLikeNew(learn, trace);
    }

    private static (Learner Learn, TraceCallback Trace, State Before) Fresh(DataLoaders? dls = null)
    {
        var trace = new TraceCallback();
        var learn = new Learner(dls ?? Tiny.Dls(), TestData.LinearModel(), TestData.Mse, lr: 0.05, cbs: [trace]) { Logger = null };
        trace.Trace.Clear();
        return (learn, trace, State.Of(learn));
    }

    // ---- the training set ----

    [Test]
    public void Empty_training_set_is_refused_before_anything_runs()
    {
        var empty = new TensorDataLoader([zeros(0, 3)], [zeros(0, 1)], batchSize: 4);
        var (learn, trace, before) = Fresh(new DataLoaders(empty, Tiny.Dls().Valid));
        using (learn)
        {
            var extra = new Other();
            var ex = Assert.Throws<InvalidOperationException>(() => learn.Fit(1, cbs: [extra]))!;
            Assert.That(ex.Message, Does.Contain("training set").And.Contain("no batches"));
            Assert.That(trace.Trace, Is.Empty);
            Assert.That(learn.Cbs, Is.EqualTo(before.Cbs));
            Assert.That(extra.Learn, Is.Null);
            Assert.That(learn.Opt, Is.Null, "no optimizer is made for a fit that cannot run");

            // Fitting zero epochs needs no data (before_fit, after_fit).
            learn.Fit(0);
            Assert.That(trace.Trace, Is.EqualTo(new[] { "before_fit", "after_fit" }));
        }
    }

    [Test]
    public void Training_set_whose_only_batch_is_dropped_is_refused()
    {
        var (x, y) = TestData.Regression(3);
        var (learn, trace, _) = Fresh(new DataLoaders(new TensorDataLoader([x], [y], batchSize: 4, dropLast: true)));
        using (learn)
        {
            var ex = Assert.Throws<InvalidOperationException>(() => learn.Fit(1))!;
            Assert.That(ex.Message, Does.Contain("3 samples").And.Contain("no batches"));
            Assert.That(trace.Trace, Is.Empty);
        }
    }

    // ---- nEpoch ----

    [TestCase(-1)]
    [TestCase(int.MinValue)]
    public void Negative_epochs_are_refused(int nEpoch)
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => learn.Fit(nEpoch, cbs: [new Other()]))!;
            Assert.That(ex.ParamName, Is.EqualTo("nEpoch"));
            AssertUntouched(learn, before, trace);
        }
    }

    [Test]
    public void Zero_epochs_dispatch_only_before_fit_and_after_fit_and_do_not_train()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            learn.Fit(0);
            Assert.That(trace.Trace, Is.EqualTo(LoopOracle.RunFit(new(0, 2, 1)).Trace));
            Assert.That(trace.Trace, Is.EqualTo(new[] { "before_fit", "after_fit" }));
            Assert.That(Tiny.Weights(learn), Is.EqualTo(before.Weights));
        }
    }

    // ---- callbacks ----

    [Test]
    public void Null_callback_is_refused_everywhere_and_nothing_is_added()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            var good = new Other();
            Assert.That(Assert.Throws<ArgumentNullException>(() => learn.Fit(1, cbs: [good, null!]))!.Message, Does.Contain("number 1"));
            Assert.That(good.Learn, Is.Null, "all or none: the good callback is not added either");
            Assert.Throws<ArgumentNullException>(() => learn.AddCb(null!));
            Assert.Throws<ArgumentNullException>(() => learn.AddCbs([good, null!]));
            Assert.Throws<ArgumentNullException>(() => learn.AddedCbs([null!]));
            Assert.That(good.Learn, Is.Null);
            AssertUntouched(learn, before, trace);
        }
        Assert.Throws<ArgumentNullException>(() => Tiny.Learner([null!]));
    }

    [Test]
    public void Same_callback_instance_twice_is_refused_and_nothing_is_added()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            var twice = new Other();
            var ex = Assert.Throws<ArgumentException>(() => learn.Fit(1, cbs: [twice, twice]))!;
            Assert.That(ex.Message, Does.Contain("`Other`").And.Contain("added once"));
            Assert.That(twice.Learn, Is.Null);

            // Already attached here: a Fit that passes it again is refused and leaves it attached.
            var attached = new Other();
            learn.AddCb(attached);
            var withIt = State.Of(learn);
            Assert.Throws<ArgumentException>(() => learn.AddCb(attached));
            Assert.Throws<ArgumentException>(() => learn.Fit(1, cbs: [attached]));
            Assert.That(attached.Learn, Is.SameAs(learn));
            Assert.That(learn.Cbs, Is.EqualTo(withIt.Cbs));
            Assert.That(trace.Trace, Is.Empty);

            // Attached to another learner.
            using var other = Tiny.Learner();
            Assert.That(Assert.Throws<ArgumentException>(() => other.Fit(1, cbs: [attached]))!.Message, Does.Contain("another learner"));
            Assert.That(attached.Learn, Is.SameAs(learn));

            learn.RemoveCb(attached);
            AssertUntouched(learn, before, trace);
        }
        var dup = new Other();
        Assert.Throws<ArgumentException>(() => Tiny.Learner([dup, dup]));
        Assert.That(dup.Learn, Is.Null);
    }

    [Test]
    public void Cyclic_RunBefore_RunAfter_is_refused_and_nothing_is_added()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            var (ping, pong) = (new Ping(), new Pong());
            var ex = Assert.Throws<InvalidOperationException>(() => learn.Fit(1, cbs: [ping, pong]))!;
            Assert.That(ex.Message, Does.Contain("cycle").And.Contain("`Ping`").And.Contain("`Pong`"));
            Assert.That(new[] { ping.Learn, pong.Learn }, Is.All.Null);

            Callback[] tri = [new Tri1(), new Tri2(), new Tri3()];
            Assert.That(Assert.Throws<InvalidOperationException>(() => learn.Fit(1, cbs: tri))!.Message, Does.Contain("cycle"));
            Assert.That(tri.Select(c => c.Learn), Is.All.Null);

            // A cycle closed by a Fit's callback leaves the attached one attached and the new one out.
            learn.AddCb(ping);
            var withPing = State.Of(learn);
            Assert.Throws<InvalidOperationException>(() => learn.Fit(1, cbs: [pong]));
            Assert.Throws<InvalidOperationException>(() => learn.AddedCbs([pong]));
            Assert.That(pong.Learn, Is.Null);
            Assert.That(learn.Cbs, Is.EqualTo(withPing.Cbs));
            Assert.That(trace.Trace, Is.Empty);
            learn.RemoveCb(ping);
            AssertUntouched(learn, before, trace);
        }
        Assert.Throws<InvalidOperationException>(() => Tiny.Learner([new Ping(), new Pong()]));
    }
}
