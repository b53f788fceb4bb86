namespace FastCallbacks.Tests.Fidelity;

/// <summary>
/// fastai's recipes checked by hand against the formulas of fastai's <c>callback/schedule.py</c> and <c>learner.py</c>:
/// <c>fit_sgdr</c>, <c>fine_tune</c>, discriminative <c>fit_one_cycle</c>, and what every <c>fit</c> does to the
/// optimizer first (learn.lr, learn.wd). On the two-group model of schedules.json, 10 training batches per epoch.
/// </summary>
public partial class RecipeTests
{
    // ---- fastai's formulas, written out here ----

    /// <summary>fastai's sched_cos.</summary>
    private static double Cos(double start, double end, double pos) => start + (1 + Math.Cos(Math.PI * (1 - pos))) * (end - start) / 2;

    /// <summary>fastai's combine_scheds: float32 boundaries and float32 position in the segment.</summary>
    private static double Combine(double[] pcts, Func<double, double>[] scheds, double pos)
    {
        var bounds = new float[pcts.Length + 1];
        double acc = 0;
        for (var i = 0; i < pcts.Length; i++) bounds[i + 1] = (float)(acc += (float)pcts[i]);
        var p = (float)pos;
        var idx = 0;
        for (var i = 1; i < pcts.Length; i++)
            if (p >= bounds[i]) idx = i;
        var actual = (float)((float)(p - bounds[idx]) / (float)(bounds[idx + 1] - bounds[idx]));
        return scheds[idx](actual);
    }

    private static double OneCycle(double pct, double start, double middle, double end, double pos) =>
        Combine([pct, 1 - pct], [p => Cos(start, middle, p), p => Cos(middle, end, p)], pos);

    private static double[] Column(ScheduleParityTests.HyperLog log, int group, string name) => log.Hypers.Select(b => b[group][name]).ToArray();

    [Test]
    public void FitSgdr_restarts_a_cosine_from_lrMax_to_0_each_cycle_twice_as_long_as_the_last()
    {
        var log = new ScheduleParityTests.HyperLog();
        using var learn = ScheduleParityTests.TwoGroupLearner(log);
        learn.FitSgdr(3, 1, lrMax: 1e-2);

        // fastai: n_epoch = cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1) = 1 + 2 + 4.
        Assert.That(learn.NEpoch, Is.EqualTo(7));
        Assert.That(log.Hypers, Has.Count.EqualTo(70));
        double[] pcts = [1 / 7.0, 2 / 7.0, 4 / 7.0];
        Func<double, double> cycle = p => Cos(1e-2, 0, p);
        var expected = log.PctTrains.Select(pos => Combine(pcts, [cycle, cycle, cycle], pos)).ToArray();
        for (var g = 0; g < 2; g++)
            Assert.That(Column(log, g, "lr"), Is.EqualTo(expected).Within(1e-15), $"group {g}");
        var lr = Column(log, 1, "lr");
        Assert.That(lr[0], Is.EqualTo(1e-2), "a cycle starts at lrMax");
        Assert.That(lr[9], Is.LessThan(1e-3), "and anneals towards 0 by its end");
        Assert.That(lr[10], Is.GreaterThan(0.99e-2), "warm restart after the first epoch");
        // pct_train is a running sum of 1/70 and lands a hair below 3/7 at batch 30, so the third cycle starts at batch 31, in fastai too.
        Assert.That(lr[30], Is.LessThan(1e-6), "batch 30 still ends the second cycle");
        Assert.That(lr[31], Is.GreaterThan(0.99e-2), "then the third starts over");
        Assert.That(lr[29], Is.LessThan(lr[28]), "the second cycle (two epochs) anneals until batch 29");
        Assert.That(learn.Recorder!.Hps.Keys, Is.EquivalentTo(new[] { "lr" }), "SGDR schedules the learning rate only");
        Assert.That(log.Hypers.Select(b => b[1]["mom"]), Is.All.EqualTo(0.9), "momentum stays the optimizer's");
    }

    [Test]
    public void FitSgdr_with_cycleMult_1_makes_equal_cycles()
    {
        // fastai divides by cycle_mult - 1 (ZeroDivisionError); equal cycles are what cycleMult 1 means.
        var log = new ScheduleParityTests.HyperLog();
        using var learn = ScheduleParityTests.TwoGroupLearner(log);
        learn.FitSgdr(2, 2, lrMax: 1e-2, cycleMult: 1);
        Assert.That(learn.NEpoch, Is.EqualTo(4));
        var lr = Column(log, 0, "lr");
        Assert.That(lr[0], Is.EqualTo(1e-2));
        Assert.That(lr[20], Is.EqualTo(1e-2).Within(1e-9), "the second two-epoch cycle starts over");
    }

    [Test]
    public void FitOneCycle_with_discriminative_rates_runs_every_group_on_its_own_curve()
    {
        var log = new ScheduleParityTests.HyperLog();
        using var learn = ScheduleParityTests.TwoGroupLearner(log);
        learn.FitOneCycle(3, PerGroup.Slice(1e-4, 1e-2));

        double[] maxes = [1e-4, 1e-2]; // even_mults(1e-4, 1e-2, 2)
        for (var g = 0; g < 2; g++)
        {
            var m = maxes[g];
            Assert.That(Column(log, g, "lr"), Is.EqualTo(log.PctTrains.Select(p => OneCycle(0.25, m / 25, m, m / 1e5, p))).Within(1e-15), $"group {g}'s lr");
            Assert.That(Column(log, g, "mom"), Is.EqualTo(log.PctTrains.Select(p => OneCycle(0.25, 0.95, 0.85, 0.95, p))).Within(1e-15), $"group {g}'s mom");
        }
        Assert.That(learn.Recorder!.Lrs, Is.EqualTo(Column(log, 1, "lr")), "the Recorder records the last group, as fastai");
        Assert.That(learn.Recorder.Hps["lr"], Is.EqualTo(Column(log, 1, "lr")));

        // One value per group, and three groups spread geometrically.
        var perGroup = new ScheduleParityTests.HyperLog();
        using var learn2 = ScheduleParityTests.TwoGroupLearner(perGroup);
        learn2.FitOneCycle(1, new[] { 3e-3, 1e-2 });
        Assert.That(perGroup.Hypers[0].Select(g => g["lr"]), Is.EqualTo(new[] { 3e-3 / 25, 1e-2 / 25 }).Within(1e-18));
        Assert.That(PerGroup.Slice(1e-5, 1e-3).Resolve(3), Is.EqualTo(new[] { 1e-5, 1e-4, 1e-3 }).Within(1e-15));
        Assert.That(PerGroup.Slice(1e-3).Resolve(3), Is.EqualTo(new[] { 1e-4, 1e-4, 1e-3 }), "fastai's slice(hi): hi/10 for every group but the last");
    }

    [Test]
    public void FineTune_trains_the_head_frozen_then_everything_at_discriminative_rates()
    {
        var frozen = new ScheduleParityTests.HyperLog();
        var unfrozen = new ScheduleParityTests.HyperLog();
        var stage = 0;
        var stages = Callback.Create((Event.BeforeFit, l => stage++));
        var log = new SwitchingLog(() => stage == 1 ? frozen : unfrozen);
        using var learn = ScheduleParityTests.TwoGroupLearner(stages, log);
        var body = learn.Model.parameters().Take(2).Select(p => p.detach().clone()).ToArray();
        Dictionary<string, double[]>? afterFrozen = null;
        var snapshot = Callback.Create((Event.AfterFit, l => afterFrozen ??= FastaiReference.Weights(l.Model)));
        learn.AddCb(snapshot);

        learn.FineTune(2, baseLr: 2e-3, freezeEpochs: 1);

        // Stage 1: freeze(), fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99).
        Assert.That(frozen.Hypers, Has.Count.EqualTo(10));
        Assert.That(frozen.TrainableGroups, Is.EqualTo(new[] { false, true }), "the body is frozen, the head trains");
        double[] m1 = [2e-4, 2e-3];
        for (var g = 0; g < 2; g++)
            Assert.That(Column(frozen, g, "lr"), Is.EqualTo(frozen.PctTrains.Select(p => OneCycle(0.99, m1[g] / 25, m1[g], m1[g] / 1e5, p))).Within(1e-15), $"frozen stage, group {g}");
        Assert.That(Column(frozen, 0, "mom"), Is.EqualTo(frozen.PctTrains.Select(p => OneCycle(0.99, 0.95, 0.85, 0.95, p))).Within(1e-15));
        var bodyAfterFrozen = afterFrozen!["0.weight"].Concat(afterFrozen["0.bias"]).ToArray();
        Assert.That(bodyAfterFrozen, Is.EqualTo(body.SelectMany(t => t.data<float>().ToArray()).Select(v => (double)v)), "a frozen group is not updated");

        // Stage 2: base_lr /= 2; unfreeze(); fit_one_cycle(epochs, slice(base_lr/lr_mult, base_lr), pct_start, div).
        Assert.That(unfrozen.Hypers, Has.Count.EqualTo(20));
        Assert.That(unfrozen.TrainableGroups, Is.EqualTo(new[] { true, true }));
        double[] m2 = [1e-3 / 100, 1e-3];
        for (var g = 0; g < 2; g++)
            Assert.That(Column(unfrozen, g, "lr"), Is.EqualTo(unfrozen.PctTrains.Select(p => OneCycle(0.3, m2[g] / 5, m2[g], m2[g] / 1e5, p))).Within(1e-15), $"unfrozen stage, group {g}");
        Assert.That(learn.Model.parameters().First().detach().data<float>().ToArray(), Is.Not.EqualTo(body[0].data<float>().ToArray()), "the body trains in stage 2");
        Assert.That(learn.Opt!.State.Select(s => s.Step), Is.All.EqualTo(20), "unfreeze cleared the optimizer's state (as fastai): 20 steps since");
        Assert.That(learn.Opt.FrozenIdx, Is.Zero);
    }

    [Test]
    public void FineTune_on_a_one_group_model_is_refused_before_anything_changes()
    {
        using var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), TestData.Mse) { Logger = null };
        var before = learn.Model.parameters().Select(p => p.detach().clone()).ToArray();
        var ex = Assert.Throws<InvalidOperationException>(() => learn.FineTune(1))!;
        Assert.That(ex.Message, Does.Contain("one group").And.Contain("splitter"));
        Assert.That(learn.Opt, Is.Null, "no optimizer is made");
        Assert.That(learn.Model.parameters().Select(p => p.detach().clone()).Zip(before).All(t => t.First.allclose(t.Second, 0, 0)), Is.True);
    }

    [Test]
    public void Every_fit_applies_the_learners_lr_and_wd_when_none_is_passed()
    {
        var log = new ScheduleParityTests.HyperLog();
        using var learn = ScheduleParityTests.TwoGroupLearner(log);
        learn.Lr = 3e-3;
        learn.FitOneCycle(1, 1e-2);
        Assert.That(learn.Opt!.GetHyper("lr"), Is.Not.EqualTo(3e-3).And.LessThan(1e-3), "the one-cycle left the rate where its last batch had it");

        // fastai's fit: set_hypers(lr=self.lr if lr is None else lr), and wd=self.wd when set.
        log.Hypers.Clear();
        learn.Fit(1);
        Assert.That(log.Hypers.Select(b => b[0]["lr"]), Is.All.EqualTo(3e-3), "Fit trains at learn.Lr, not where the last schedule ended");
        Assert.That(log.Hypers.Select(b => b[0]["wd"]), Is.All.EqualTo(0.01), "no Wd: the optimizer's own (fastai's Adam: 0.01)");

        learn.Wd = 0.1;
        log.Hypers.Clear();
        learn.Fit(1, lr: new[] { 1e-4, 1e-3 }, wd: 0.2);
        Assert.That(log.Hypers[0].Select(g => (g["lr"], g["wd"])), Is.EqualTo(new[] { (1e-4, 0.2), (1e-3, 0.2) }), "this fit's rates and weight decay");
        log.Hypers.Clear();
        learn.Fit(1);
        Assert.That(log.Hypers[0].Select(g => (g["lr"], g["wd"])), Is.EqualTo(new[] { (3e-3, 0.1), (3e-3, 0.1) }), "the next fit: learn.Lr and learn.Wd again");
    }

    /// <summary>Forwards to the log of the current stage (FineTune makes two fits).</summary>
    public sealed partial class SwitchingLog(Func<ScheduleParityTests.HyperLog> current) : Callback
    {
        public override int Order => 100;

        [On(Event.BeforeFit)]
        private void Fit() => Record(current(), l => l.Opt!.ParamLists.Select(g => g.All(p => p.requires_grad)).ToArray());

        [On(Event.BeforeBatch)]
        private void Batch()
        {
            if (!Training) return;
            var log = current();
            log.Hypers.Add(Opt!.Hypers.Select(h => h.ToDictionary(kv => kv.Key, kv => kv.Value)).ToArray());
            log.PctTrains.Add(Learn!.PctTrain);
        }

        private void Record(ScheduleParityTests.HyperLog log, Func<Learner, bool[]> trainable) => log.SetTrainable(trainable(Learn!));
    }
}
