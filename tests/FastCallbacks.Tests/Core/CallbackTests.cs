namespace FastCallbacks.Tests.Core;

public partial class CallbackTests
{
    public sealed partial class TstCallback : Callback { [On(Event.BeforeFit)] private void F() { } }
    public sealed partial class ComplicatedNameCallback : Callback { [On(Event.BeforeFit)] private void F() { } }
    public sealed partial class HTTPCallback : Callback { [On(Event.BeforeFit)] private void F() { } }
    public sealed partial class XCallbackY : Callback { [On(Event.BeforeFit)] private void F() { } }
    public sealed partial class TerminateOnNaNCallback2 : Callback { [On(Event.BeforeFit)] private void F() { } }

    [Test]
    public void Name_follows_fastai_class2attr()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new TstCallback().Name, Is.EqualTo("tst"));
            Assert.That(new ComplicatedNameCallback().Name, Is.EqualTo("complicated_name"));
            Assert.That(new HTTPCallback().Name, Is.EqualTo("http"));
            Assert.That(new XCallbackY().Name, Is.EqualTo("x_callback_y"));
            Assert.That(new TrainEvalCallback().Name, Is.EqualTo("train_eval"));
            Assert.That(new Recorder().Name, Is.EqualTo("recorder"));
            Assert.That(Callback.CamelToSnake("TerminateOnNaN"), Is.EqualTo("terminate_on_na_n"));
            Assert.That(Callback.CamelToSnake("ReduceLROnPlateau"), Is.EqualTo("reduce_lr_on_plateau"));
            Assert.That(Callback.CamelToSnake("CSVLogger"), Is.EqualTo("csv_logger"));
            Assert.That(Callback.SnakeName("Callback", "Callback"), Is.EqualTo("callback"));
            Assert.That(Callback.SnakeName("MyCallbackCallback", "Callback"), Is.EqualTo("my_callback"));
        });
    }

    [Test]
    public void Events_names_round_trip_and_unknown_names_fail_clearly()
    {
        Assert.That(Events.All, Has.Count.EqualTo(24));
        Assert.That(Events.Name(Event.BeforeStep), Is.EqualTo("before_step"));
        foreach (var e in Events.All)
        {
            Assert.That(Events.Parse(Events.Name(e)), Is.EqualTo(e));
            Assert.That(Events.Parse(e.ToString()), Is.EqualTo(e));
        }
        var ex = Assert.Throws<ArgumentException>(() => Events.Parse("batch_begin"))!;
        Assert.That(ex.Message, Does.Contain("'batch_begin' is not an event").And.Contain("before_batch"));
        using var learn = TestData.RegressionLearner();
        Assert.Throws<ArgumentException>(() => learn.Invoke("batch_begin"));
        Assert.That(Events.InnerLoop.Count, Is.EqualTo(10));
        Assert.That(Events.IsInnerLoop(Event.AfterCancelStep), Is.False);
    }

    public sealed partial class Ordered(string tag, int order, List<string> log) : Callback
    {
        public override int Order => order;
        [On(Event.BeforeFit)] private void F() => log.Add(tag);
    }

    public sealed partial class Before<T>(string tag, List<string> log) : Callback where T : Callback
    {
        public override IReadOnlyList<Type> RunBefore => [typeof(T)];
        [On(Event.BeforeFit)] private void F() => log.Add(tag);
    }

    public sealed partial class After<T>(string tag, List<string> log) : Callback where T : Callback
    {
        public override IReadOnlyList<Type> RunAfter => [typeof(T)];
        [On(Event.BeforeFit)] private void F() => log.Add(tag);
    }

    [Test]
    public void Dispatch_is_a_stable_sort_by_order()
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([new Ordered("b0", 0, log), new Ordered("c9", 9, log), new Ordered("a0", 0, log), new Ordered("m5", -5, log)]);
        learn.Fit(0);
        Assert.That(log, Is.EqualTo(new[] { "m5", "b0", "a0", "c9" }));
        Assert.That(learn.OrderedCbs().Select(c => c.GetType().Name).Take(2), Is.EqualTo(new[] { "TrainEvalCallback", "Ordered" }));
    }

    [Test]
    public void RunBefore_and_RunAfter_override_order()
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([
            new Ordered("first", 0, log),
            new After<Recorder>("after-recorder", log),
            new Before<TrainEvalCallback>("before-traineval", log),
        ]);
        var names = learn.OrderedCbs().Select(c => c is Ordered ? "first" : c.GetType().Name).ToArray();
        Assert.That(names, Is.EqualTo(new[] { "Before`1", "TrainEvalCallback", "first", "Recorder", "After`1", "ProgressCallback" }));
    }

    public sealed partial class A : Callback
    {
        public override IReadOnlyList<Type> RunBefore => [typeof(B)];
        [On(Event.BeforeFit)] private void F() { }
    }

    public sealed partial class B : Callback
    {
        public override IReadOnlyList<Type> RunBefore => [typeof(A)];
        [On(Event.BeforeFit)] private void F() { }
    }

    [Test]
    public void Cycle_names_the_callbacks_and_leaves_the_learner_unchanged()
    {
        using var learn = TestData.RegressionLearner();
        var count = learn.Cbs.Count;
        var ex = Assert.Throws<InvalidOperationException>(() => learn.AddCbs([new A(), new B()]))!;
        Assert.That(ex.Message, Does.Contain("`A`").And.Contain("`B`").And.Contain("cycle"));
        Assert.That(learn.Cbs, Has.Count.EqualTo(count));
        learn.Fit(1);
    }

    public sealed partial class FlagProbe(List<string> log) : Callback
    {
        [On(Event.BeforeFit), On(Event.BeforeBatch), On(Event.AfterCancelStep), On(Event.AfterFit)]
        private void F(Event e) => log.Add(Events.Name(e) + (Learn?.Training == true ? ":T" : ":V"));
    }

    [Test]
    public void RunTrain_false_filters_inner_loop_events_while_training_only()
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([new FlagProbe(log) { RunTrain = false }]);
        learn.Fit(1);
        Assert.That(log, Is.EqualTo(new[] { "before_fit:V", "before_batch:V", "after_fit:V" }));
    }

    [Test]
    public void RunValid_false_filters_inner_loop_events_while_validating_only()
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([new FlagProbe(log) { RunValid = false }]);
        learn.Fit(1);
        Assert.That(log.Count(s => s == "before_batch:T"), Is.EqualTo(3));
        Assert.That(log.Count(s => s == "before_batch:V"), Is.EqualTo(0));
    }

    [Test]
    public void AfterCancelStep_is_not_an_inner_loop_event()
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([
            new ThrowOnEvent(Event.BeforeStep, () => new CancelStepException()),
            new FlagProbe(log) { RunTrain = false }]);
        learn.Fit(1);
        Assert.That(log, Does.Contain("after_cancel_step:T"));
    }

    [Test]
    public void Run_false_silences_every_event_and_AfterFit_resets_it()
    {
        var log = new List<string>();
        var probe = new FlagProbe(log) { Run = false };
        var silent = new Ordered("x", 0, []) { Run = false }; // handles no AfterFit: still reset
        using var learn = TestData.RegressionLearner([probe, silent]);
        learn.Fit(1);
        Assert.That(log, Is.Empty);
        Assert.That(probe.Run, Is.True);
        Assert.That(silent.Run, Is.True);
    }

    [Test]
    public void Unattached_callback_Invoke_uses_fastai_defaults()
    {
        var log = new List<string>();
        var probe = new FlagProbe(log) { RunTrain = false };
        probe.Invoke(Event.BeforeBatch); // no learner: runs if run_train or run_valid
        probe.RunValid = false;
        probe.Invoke(Event.BeforeBatch);
        Assert.That(log, Is.EqualTo(new[] { "before_batch:V" }));
    }

    [Test]
    public void Create_builds_a_callback_from_delegates()
    {
        var seen = new List<string>();
        var cb = Callback.Create((Event.BeforeFit, l => seen.Add("bf" + l.NEpoch)), (Event.AfterFit, _ => seen.Add("af")));
        Assert.That(cb.HandledEvents, Is.EqualTo(EventSet.Of(Event.BeforeFit, Event.AfterFit)));
        Assert.That(cb.Name, Is.EqualTo("callback"));
        using var learn = TestData.RegressionLearner([cb]);
        learn.Fit(2);
        Assert.That(seen, Is.EqualTo(new[] { "bf2", "af" }));
        Assert.Throws<ArgumentException>(() => Callback.Create((Event.BeforeFit, _ => { }), (Event.BeforeFit, _ => { })));
    }

    [Test]
    public void Bad_callbacks_are_refused_with_clear_errors()
    {
        using var learn = TestData.RegressionLearner();
        var cb = new TstCallback();
        learn.AddCb(cb);
        var twice = Assert.Throws<ArgumentException>(() => learn.AddCb(cb))!;
        Assert.That(twice.Message, Does.Contain("`TstCallback` is already attached to this learner"));
        using var other = TestData.RegressionLearner();
        Assert.That(Assert.Throws<ArgumentException>(() => other.AddCb(cb))!.Message, Does.Contain("another learner"));
        Assert.Throws<ArgumentNullException>(() => learn.AddCb(null!));
        Assert.Throws<ArgumentNullException>(() => learn.AddCbs([new TstCallback(), null!]));
        Assert.Throws<ArgumentOutOfRangeException>(() => learn.Fit(-1));
    }

    [Test]
    public void Cb_finds_the_last_added_of_a_type_and_scopes_restore_the_list()
    {
        using var learn = TestData.RegressionLearner();
        Assert.That(learn.Recorder, Is.SameAs(learn.Cb<Recorder>()));
        Assert.That(learn.Cb("recorder"), Is.SameAs(learn.Recorder));
        var a = new TstCallback();
        var b = new TstCallback();
        using (learn.AddedCbs([a, b]))
        {
            Assert.That(learn.Cb<TstCallback>(), Is.SameAs(b));
        }
        Assert.That(learn.Cb<TstCallback>(), Is.Null);
        var recorder = learn.Recorder!;
        using (learn.RemovedCbs([recorder])) Assert.That(learn.Recorder, Is.Null);
        Assert.That(learn.Cbs[^1], Is.SameAs(recorder));
    }

    public partial class Adder(List<string> log) : Callback
    {
        [On(Event.BeforeBatch)]
        private void Add()
        {
            if (Iter != 0 || !Training) return;
            log.Add("add");
            Learn!.AddCb(new Late(log));
        }
    }

    public partial class Late(List<string> log) : Callback
    {
        [On(Event.BeforeBatch)] private void Seen() => log.Add("late:" + Iter);
    }

    [Test]
    public void Callbacks_added_during_a_dispatch_take_effect_from_the_next_event()
    {
        var log = new List<string>();
        using var learn = TestData.RegressionLearner([new Adder(log)]);
        learn.Fit(1);
        Assert.That(log.Take(3), Is.EqualTo(new[] { "add", "late:1", "late:2" }));
    }
}
