namespace FastCallbacks.Tests.Library;

/// <summary>ParamScheduler drives the optimizer every training batch; FitOneCycle and FitFlatCos follow fastai's curves.</summary>
public class ParamSchedulerTests
{
    private static Learner Learner(Func<ParameterGroups, double, optim.Optimizer>? opt = null)
    {
        var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), TestData.Mse, optFunc: opt, lr: 0.01, defaultCbs: true);
        learn.RemoveCbs<ProgressCallback>();
        return learn;
    }

    [Test]
    public void Sets_the_optimizer_lr_before_each_training_batch()
    {
        using var learn = Learner();
        var sched = Schedules.SchedLin(0.1, 0.01);
        var seen = new List<double>();
        var spy = Callback.Create((Event.BeforeBackward, l => seen.Add(Hyperparameters.GetLr(l.Opt!))));
        var ps = new ParamScheduler(new() { ["lr"] = sched });
        learn.Fit(2, cbs: [ps, spy]);

        // 2 epochs x 3 training batches: pct_train = i / 6 before batch i.
        var expected = Enumerable.Range(0, 6).Select(i => sched(i / 6.0)).ToArray();
        Assert.That(learn.Recorder!.Lrs, Is.EqualTo(expected).Within(1e-12), "Recorder.Lrs");
        Assert.That(seen, Is.EqualTo(expected).Within(1e-12), "the rate the step used");
        Assert.That(ps.Hps["lr"], Is.EqualTo(expected).Within(1e-12));
        Assert.That(learn.Recorder.Hps["lr"], Is.EqualTo(expected).Within(1e-12), "stored in the recorder at AfterFit");
    }

    [Test]
    public void Validation_batches_are_not_scheduled()
    {
        using var learn = Learner();
        var calls = 0;
        var ps = new ParamScheduler(new Dictionary<string, Func<double, double>> { ["lr"] = p => { calls++; return 0.01; } });
        learn.Fit(1, cbs: [ps]);
        Assert.That(calls, Is.EqualTo(3), "3 training batches, the validation batch is skipped");
        Assert.That(ps.RunValid, Is.False);
        Assert.That(ps.Order, Is.EqualTo(60));
    }

    [Test]
    public void Schedules_momentum_and_weight_decay_on_sgd()
    {
        using var learn = Learner((ps, lr) => optim.SGD(ps, lr, momentum: 0.5));
        var scheds = new Dictionary<string, Func<double, double>>
        {
            ["mom"] = Schedules.SchedLin(0.9, 0.8),
            ["wd"] = Schedules.SchedLin(0, 0.1),
        };
        var ps = new ParamScheduler(scheds);
        learn.Fit(1, cbs: [ps]);
        Assert.That(ps.Hps["mom"], Is.EqualTo(new[] { 0.9, 0.9 - 0.1 / 3, 0.9 - 0.2 / 3 }).Within(1e-12));
        Assert.That(ps.Hps["wd"], Is.EqualTo(new[] { 0, 0.1 / 3, 0.2 / 3 }).Within(1e-12));
        var wrapped = ((OptimWrapper)learn.Opt!).Opt;
        var group = (TorchSharp.Modules.SGD.ParamGroup)wrapped.ParamGroups.Single();
        Assert.That(group.Momentum, Is.EqualTo(0.9 - 0.2 / 3).Within(1e-12), "the TorchSharp group's momentum, which its step() reads");
        Assert.That(group.Options.weight_decay, Is.EqualTo(0.2 / 3).Within(1e-12));
    }

    [Test]
    public void SetMom_changes_the_parameter_groups_of_a_wrapped_torchsharp_adam_at_the_next_step()
    {
        using var learn = Learner((ps, lr) => optim.Adam(ps, lr));
        learn.CreateOpt();
        Assert.That(Hyperparameters.SetMom(learn.Opt!, 0.7), Is.True);
        Assert.That(Hyperparameters.GetMom(learn.Opt!), Is.EqualTo(0.7));
        Assert.That(Hyperparameters.SetSqrMom(learn.Opt!, 0.98), Is.True);
        Assert.That(learn.Opt!.Hypers[0]["sqr_mom"], Is.EqualTo(0.98));
        var group = (TorchSharp.Modules.Adam.ParamGroup)((OptimWrapper)learn.Opt!).Opt.ParamGroups.Single();
        learn.Opt.step();
        Assert.That(group.Betas, Is.EqualTo((0.7, 0.98)), "the wrapper writes its hypers into the group TorchSharp's Adam.step reads");
    }

    [Test]
    public void SetMom_and_SetSqrMom_change_fastais_adam()
    {
        using var learn = Learner();
        learn.CreateOpt();
        Assert.That(Hyperparameters.SetMom(learn.Opt!, 0.7), Is.True);
        Assert.That(learn.Opt!.Hypers[0]["mom"], Is.EqualTo(0.7));
        Assert.That(Hyperparameters.GetMom(learn.Opt!), Is.EqualTo(0.7));
        Assert.That(Hyperparameters.SetSqrMom(learn.Opt!, 0.9), Is.True);
        Assert.That(learn.Opt.GetHyper("sqr_mom"), Is.EqualTo(0.9));
        Assert.That(Hyperparameters.GetWeightDecay(learn.Opt), Is.EqualTo(0.01), "fastai's Adam default");
    }

    [Test]
    public void Unknown_names_and_unsupported_settings_are_clear_errors()
    {
        Assert.That(() => new ParamScheduler(new Dictionary<string, Func<double, double>> { ["learning_rate"] = _ => 1 }),
            Throws.ArgumentException.With.Message.Contains("`learning_rate`").And.Message.Contains("`lr`"));
        Assert.That(() => new ParamScheduler(new Dictionary<string, Func<double, double>>()), Throws.ArgumentException);

        using var learn = Learner((ps, lr) => optim.Adagrad(ps, lr));
        var ps = new ParamScheduler(new Dictionary<string, Func<double, double>> { ["mom"] = _ => 0.9 });
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [ps]))!;
        Assert.That(ex.InnerException!.Message, Does.Contain("ParamScheduler schedules `mom`").And.Contain("Adagrad").And.Contain("Remove `mom`"));
    }

    [Test]
    public void FitOneCycle_follows_the_one_cycle_curves()
    {
        using var learn = Learner();
        learn.FitOneCycle(4, lrMax: 0.05);
        var n = 4 * 3;
        var lr = Schedules.CombinedCos(0.25, 0.05 / 25, 0.05, 0.05 / 1e5);
        var mom = Schedules.CombinedCos(0.25, 0.95, 0.85, 0.95);
        var hps = learn.Recorder!.Hps;
        Assert.That(hps["lr"], Is.EqualTo(Enumerable.Range(0, n).Select(i => lr(i / (double)n))).Within(1e-12));
        Assert.That(hps["mom"], Is.EqualTo(Enumerable.Range(0, n).Select(i => mom(i / (double)n))).Within(1e-12));
        Assert.That(learn.Recorder.Lrs, Is.EqualTo(hps["lr"]));
        // Warm-up then anneal: the peak is at 25% of training, momentum is lowest there.
        Assert.That(hps["lr"].ToList().IndexOf(hps["lr"].Max()), Is.EqualTo(3));
        Assert.That(hps["mom"].ToList().IndexOf(hps["mom"].Min()), Is.EqualTo(3));
        Assert.That(hps["lr"][0], Is.EqualTo(0.002).Within(1e-12));
    }

    [Test]
    public void FitOneCycle_resumed_at_a_later_epoch_continues_the_schedule()
    {
        using var learn = Learner();
        learn.FitOneCycle(4, lrMax: 0.05, startEpoch: 2);
        var lr = Schedules.CombinedCos(0.25, 0.05 / 25, 0.05, 0.05 / 1e5);
        Assert.That(learn.Recorder!.Hps["lr"], Is.EqualTo(Enumerable.Range(6, 6).Select(i => lr(i / 12.0))).Within(1e-12));
    }

    [Test]
    public void FitFlatCos_is_flat_then_anneals()
    {
        using var learn = Learner();
        learn.FitFlatCos(4, lr: 0.02);
        var expected = Schedules.CombinedCos(0.75, 0.02, 0.02, 0.02 / 1e5);
        var lrs = learn.Recorder!.Hps["lr"];
        Assert.That(lrs, Is.EqualTo(Enumerable.Range(0, 12).Select(i => expected(i / 12.0))).Within(1e-12));
        Assert.That(lrs.Take(9), Is.All.EqualTo(0.02).Within(1e-15));
        Assert.That(lrs[^1], Is.EqualTo(0.005).Within(1e-6), "two thirds into the cosine: 0.02 - 0.75 * (0.02 - 2e-7)");
        Assert.That(learn.Recorder.Hps.ContainsKey("mom"), Is.False);
    }

    [Test]
    public void A_plain_fit_after_a_scheduled_one_clears_the_recorded_schedule()
    {
        using var learn = Learner();
        learn.FitOneCycle(1);
        Assert.That(learn.Recorder!.Hps, Is.Not.Empty);
        learn.Fit(1);
        Assert.That(learn.Recorder.Hps, Is.Empty);
    }
}
