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
        var learn = Tiny.Learner([trace], dls: dls);
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

    // ---- the model and the loss ----

    [Test]
    public void Model_output_that_does_not_fit_the_loss_fails_with_the_batch_and_the_shapes()
    {
        var (x, y) = TestData.Regression(12);
        using var y2 = cat([y, y], 1); // targets of width 2 for a model with 3 outputs
        var dls = new DataLoaders(new TensorDataLoader([x], [y2], 4));
        var trace = new TraceCallback();
        using var learn = new Learner(dls, TestData.LinearModel(3, 3), TestData.Mse, cbs: [trace]) { Logger = null };
        trace.Trace.Clear();
        var extra = new Other();

        var ex = Assert.Throws<InvalidOperationException>(() => learn.Fit(1, cbs: [extra]))!;

        TestContext.Out.WriteLine(ex.Message);
        Assert.That(ex.Message, Does.StartWith(
            "The loss failed on training batch 0 of epoch 0: the model output (shape [4, 3], Float32) and the target (shape [4, 2], Float32) do not fit it."));
        Assert.That(ex.Message, Does.Contain("must match the size of tensor b (2)"), "the loss's own words follow");
        Assert.That(ex.Message.Split('\n'), Has.Length.EqualTo(1), "one line, not a native stack trace");
        Assert.That(ex.InnerException, Is.Not.Null, "the loss's exception is inside");
        // The error comes after after_pred: nothing catches it (as fastai), so Fit ends there.
        Assert.That(trace.Trace, Is.EqualTo(LoopOracle.RunFit(new(1, 3, 0), new LoopOracle.Raise("after_pred", Signal.Error)).Trace));
        Assert.That(extra.Learn, Is.Null);

        // Fix the model: the same learner fits.
        learn.Model = TestData.LinearModel(3, 2);
        trace.Trace.Clear();
        learn.Fit(1, resetOpt: true);
        Assert.That(trace.Trace, Is.EqualTo(LoopOracle.RunFit(new(1, 3, 0)).Trace));
    }

    // ---- NaN ----

    /// <summary>8 training samples (2 batches of 4) whose sample 5 (batch 1) has a NaN target; 4 clean validation samples.</summary>
    private static DataLoaders NaNInSecondBatch()
    {
        var (x, y) = TestData.Regression(12);
        y[5, 0] = float.NaN;
        return new DataLoaders(new TensorDataLoader([x.narrow(0, 0, 8)], [y.narrow(0, 0, 8)], 4), new TensorDataLoader([x.narrow(0, 8, 4)], [y.narrow(0, 8, 4)], 4));
    }

    /// <summary>Records before every other callback, so it sees the event TerminateOnNaN (order -9) throws from.</summary>
    public sealed partial class EarlyTrace : TraceCallback
    {
        public override int Order => -100;
    }

    [Test]
    public void NaN_loss_without_TerminateOnNaN_trains_on_and_the_recorder_shows_NaN()
    {
        var trace = new EarlyTrace();
        using var learn = new Learner(NaNInSecondBatch(), TestData.LinearModel(), TestData.Mse, cbs: [trace]) { Logger = null };
        trace.Trace.Clear();
        learn.Fit(2);
        Assert.That(trace.Trace, Is.EqualTo(LoopOracle.RunFit(Tiny.Shape).Trace), "every batch of every epoch runs");
        var rec = learn.Recorder!;
        Assert.That(double.IsFinite(rec.Losses[0]), Is.True);
        Assert.That(rec.Losses.Skip(1), Is.All.NaN, "from the NaN batch on, the smoothed loss is NaN");
        Assert.That(rec.Values, Has.Count.EqualTo(2));
        Assert.That(rec.Values.SelectMany(v => v), Is.All.NaN, "train_loss and valid_loss are NaN in both epochs");
    }

    [Test]
    public void NaN_loss_with_TerminateOnNaN_stops_the_fit_after_that_batch()
    {
        var trace = new EarlyTrace();
        using var learn = new Learner(NaNInSecondBatch(), TestData.LinearModel(), TestData.Mse, cbs: [trace, new TerminateOnNaNCallback()]) { Logger = null };
        trace.Trace.Clear();
        learn.Fit(2);
        // TerminateOnNaN throws CancelFitException from the second after_batch (the NaN batch's).
        var expected = LoopOracle.RunFit(Tiny.Shape, new LoopOracle.Raise("after_batch", Signal.Fit, Occurrence: 2));
        Assert.That(expected.Escaped, Is.EqualTo(Signal.None));
        Assert.That(trace.Trace, Is.EqualTo(expected.Trace));
        Assert.That(trace.Trace.TakeLast(4), Is.EqualTo(new[] { "after_step", "after_batch", "after_cancel_fit", "after_fit" }));
        Assert.That(learn.Recorder!.Losses, Has.Count.EqualTo(1), "the recorder (order 50) never records the NaN batch");
        Assert.That(learn.Recorder.Values, Is.Empty, "no epoch finished");
    }

    // ---- a second Fit while fitting ----

    /// <summary>Holds the fit inside its first training batch until released.</summary>
    public sealed partial class Hold : Callback
    {
        public readonly ManualResetEventSlim Reached = new(), Release = new();

        [On(Event.AfterBatch)]
        private void Wait()
        {
            if (Reached.IsSet) return;
            Reached.Set();
            if (!Release.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("not released");
        }
    }

    [Test]
    public void Second_Fit_from_another_thread_is_refused_and_does_not_disturb_the_running_fit()
    {
        var trace = new TraceCallback();
        using var learn = Tiny.Learner([trace]);
        trace.Trace.Clear();
        var hold = new Hold();
        var running = Task.Factory.StartNew(() => learn.Fit(Tiny.Shape.Epochs, cbs: [hold]), TaskCreationOptions.LongRunning);
        try
        {
            Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(30)), Is.True);
            var cbsDuring = learn.Cbs.ToArray();
            var intruder = new Other();

            var ex = Assert.Throws<InvalidOperationException>(() => learn.Fit(7, lr: 123, cbs: [intruder]))!;
            Assert.That(ex.Message, Does.Contain("already fitting"));
            Assert.Throws<InvalidOperationException>(() => learn.Validate());
            Assert.Throws<InvalidOperationException>(() => learn.GetPreds());

            Assert.That(intruder.Learn, Is.Null);
            Assert.That(learn.Cbs, Is.EqualTo(cbsDuring));
            Assert.That(learn.NEpoch, Is.EqualTo(Tiny.Shape.Epochs));
            Assert.That(Hyperparameters.GetLr(learn.Opt!), Is.EqualTo(0.05), "the refused call set nothing");
        }
        finally
        {
            hold.Release.Set();
        }
        Assert.That(running.Wait(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(running.Exception, Is.Null);
        Assert.That(trace.Trace, Is.EqualTo(LoopOracle.RunFit(Tiny.Shape).Trace), "the running fit ran undisturbed");
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(2));
        CancelMatrixTests.FitsAgainLikeNew(learn, trace);
    }
}
