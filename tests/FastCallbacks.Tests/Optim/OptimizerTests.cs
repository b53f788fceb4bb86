using TorchSharp.Modules;

namespace FastCallbacks.Tests.Optim;

/// <summary>
/// fastai's optimizers, step by step against fastai's formulas written out here in double precision (fastai's
/// optimizer.py): every algorithm, its defaults, true weight decay and L2, debiasing with the current momentum,
/// RAdam's two regimes, Lamb's trust ratio, Lookahead's slow weights.
/// </summary>
public class OptimizerTests
{
    private const double Rel = 2e-5; // float32 arithmetic against double

    private static readonly double[] Start = [0.5, -1.2, 0.03, 2.0, -0.7];

    private static readonly double[][] Grads =
    [
        [0.1, -0.3, 0.05, 0.2, -0.01],
        [0.2, 0.1, -0.4, 0.05, 0.3],
        [-0.15, 0.25, 0.1, -0.2, 0.05],
        [0.05, -0.05, 0.3, 0.1, -0.2],
        [0.3, 0.2, -0.1, -0.3, 0.15],
        [-0.2, 0.1, 0.2, 0.05, -0.1],
        [0.1, -0.2, -0.05, 0.25, 0.2],
        [0.05, 0.15, 0.1, -0.1, -0.25],
    ];

    private static Parameter NewParam() => new(tensor(Start.Select(v => (float)v).ToArray()));

    private static void SetGrad(Parameter p, double[] g)
    {
        using var noGrad = no_grad();
        var t = tensor(g.Select(v => (float)v).ToArray());
        if (p.grad is { } existing)
        {
            existing.copy_(t);
            existing.Dispose();
        }
        else
        {
            p.grad = t;
        }
    }

    private static double[] Values(Tensor p) => p.detach().data<float>().Select(v => (double)v).ToArray();

    /// <summary>Runs <paramref name="steps"/> steps of <paramref name="opt"/> on the fixed gradients; before each, <paramref name="schedule"/> may change hypers.</summary>
    private static double[] Run(Func<Parameter, Optimizer> make, int steps, Action<Optimizer, int>? schedule = null)
    {
        var p = NewParam();
        using var opt = make(p);
        for (var t = 0; t < steps; t++)
        {
            schedule?.Invoke(opt, t);
            SetGrad(p, Grads[t]);
            opt.step();
        }
        return Values(p);
    }

    private static void AssertClose(double[] actual, double[] expected)
    {
        for (var i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(Rel * Math.Max(Math.Abs(expected[i]), 1e-3)), $"element {i}: {string.Join(", ", actual)} vs {string.Join(", ", expected)}");
    }

    private static double Debias(double mom, double damp, int step) => damp * (1 - Math.Pow(mom, step)) / (1 - mom);

    // ---- SGD ----

    [TestCase(0.0, 0.0, true)]
    [TestCase(0.9, 0.0, true)]
    [TestCase(0.9, 0.1, true)]
    [TestCase(0.9, 0.1, false)]
    [TestCase(0.0, 0.1, false)]
    public void SGD_is_fastais(double mom, double wd, bool decouple)
    {
        const double lr = 0.1;
        var actual = Run(p => Optimizers.SGD([p], lr, mom, wd, decouple), 5);
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        for (var t = 0; t < 5; t++)
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i];
                if (decouple) w[i] *= 1 - lr * wd; else g += wd * w[i];
                if (mom != 0)
                {
                    avg[i] = mom * avg[i] + g; // no dampening
                    w[i] -= lr * avg[i];
                }
                else w[i] -= lr * g;
            }
        AssertClose(actual, w);
    }

    [Test]
    public void Defaults_are_fastais()
    {
        var p = NewParam();
        using var sgd = Optimizers.SGD([p], 0.1);
        using var adam = Optimizers.Adam([p], 0.1);
        using var rms = Optimizers.RMSProp([p], 0.1);
        using var radam = Optimizers.RAdam([p], 0.1);
        using var qh = Optimizers.QHAdam([p], 0.1);
        using var lamb = Optimizers.Lamb([p], 0.1);
        static Dictionary<string, double> H(Optimizer o) => o.Hypers[0].ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.That(H(sgd), Is.EquivalentTo(new Dictionary<string, double> { ["lr"] = 0.1, ["mom"] = 0, ["wd"] = 0 }));
        Assert.That(H(adam), Is.EquivalentTo(new Dictionary<string, double> { ["lr"] = 0.1, ["mom"] = 0.9, ["sqr_mom"] = 0.99, ["eps"] = 1e-5, ["wd"] = 0.01 }));
        Assert.That(H(rms), Is.EquivalentTo(new Dictionary<string, double> { ["lr"] = 0.1, ["mom"] = 0, ["sqr_mom"] = 0.99, ["eps"] = 1e-8, ["wd"] = 0 }));
        Assert.That(H(radam), Is.EquivalentTo(new Dictionary<string, double> { ["lr"] = 0.1, ["mom"] = 0.9, ["sqr_mom"] = 0.99, ["eps"] = 1e-5, ["wd"] = 0, ["beta"] = 0 }));
        Assert.That(H(qh), Is.EquivalentTo(new Dictionary<string, double> { ["lr"] = 0.1, ["mom"] = 0.999, ["sqr_mom"] = 0.999, ["nu_1"] = 0.7, ["nu_2"] = 1.0, ["eps"] = 1e-8, ["wd"] = 0 }));
        Assert.That(H(lamb), Is.EquivalentTo(new Dictionary<string, double> { ["lr"] = 0.1, ["mom"] = 0.9, ["sqr_mom"] = 0.99, ["eps"] = 1e-5, ["wd"] = 0 }));
        Assert.That(new[] { sgd.Name, adam.Name, rms.Name, radam.Name, qh.Name, lamb.Name }, Is.EqualTo(new[] { "SGD", "Adam", "RMSProp", "RAdam", "QHAdam", "Lamb" }));
        Assert.That(((Optimizer)Defaults.Adam(new ParameterGroups([[p]]), 1e-3)).Hypers[0]["eps"], Is.EqualTo(1e-5), "the learner's default is fastai's Adam");
    }

    // ---- RMSProp ----

    [TestCase(0.0)]
    [TestCase(0.9)]
    public void RMSProp_is_fastais(double mom)
    {
        const double lr = 0.01, sqrMom = 0.99, eps = 1e-8, wd = 0.05;
        var actual = Run(p => Optimizers.RMSProp([p], lr, sqrMom, mom, wd), 5);
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        var sqr = new double[w.Length];
        for (var t = 0; t < 5; t++)
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i];
                w[i] *= 1 - lr * wd;
                if (mom != 0) avg[i] = mom * avg[i] + g;
                sqr[i] = sqrMom * sqr[i] + (1 - sqrMom) * g * g;
                w[i] -= lr * (mom != 0 ? avg[i] : g) / (Math.Sqrt(sqr[i]) + eps);
            }
        AssertClose(actual, w);
    }

    // ---- The Adam family ----

    [Test]
    public void Adam_is_fastais_with_true_weight_decay_and_debiasing_by_the_current_mom()
    {
        const double lr = 0.01, sqrMom = 0.99, eps = 1e-5, wd = 0.1;
        double Mom(int t) => 0.95 - 0.02 * t; // scheduled, as fit_one_cycle does
        var actual = Run(p => Optimizers.Adam([p], lr, wd: wd), 6, (o, t) => o.SetHyper("mom", Mom(t)));
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        var sqr = new double[w.Length];
        for (var t = 0; t < 6; t++)
        {
            var mom = Mom(t);
            var step = t + 1;
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i];
                w[i] *= 1 - lr * wd;
                avg[i] = mom * avg[i] + (1 - mom) * g;
                sqr[i] = sqrMom * sqr[i] + (1 - sqrMom) * g * g;
                w[i] -= lr / Debias(mom, 1 - mom, step) * avg[i] / (Math.Sqrt(sqr[i] / Debias(sqrMom, 1 - sqrMom, step)) + eps);
            }
        }
        AssertClose(actual, w);
    }

    [Test]
    public void Adam_with_decoupleWd_false_is_L2_regularization()
    {
        const double lr = 0.01, wd = 0.1;
        var actual = Run(p => Optimizers.Adam([p], lr, wd: wd, decoupleWd: false), 3);
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        var sqr = new double[w.Length];
        for (var t = 0; t < 3; t++)
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i] + wd * w[i];
                avg[i] = 0.9 * avg[i] + 0.1 * g;
                sqr[i] = 0.99 * sqr[i] + 0.01 * g * g;
                w[i] -= lr / Debias(0.9, 0.1, t + 1) * avg[i] / (Math.Sqrt(sqr[i] / Debias(0.99, 0.01, t + 1)) + 1e-5);
            }
        AssertClose(actual, w);
    }

    [TestCase(0.0)]
    [TestCase(2.0)]
    public void RAdam_is_fastais_in_both_regimes(double beta)
    {
        const double lr = 0.01, mom = 0.9, sqrMom = 0.99, eps = 1e-5;
        var actual = Run(p => Optimizers.RAdam([p], lr, beta: beta), 8);
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        var sqr = new double[w.Length];
        var rectified = 0;
        for (var t = 0; t < 8; t++)
        {
            var step = t + 1;
            var d1 = Debias(mom, 1 - mom, step);
            var d2 = Debias(sqrMom, 1 - sqrMom, step);
            var rInf = 2 / (1 - sqrMom) - 1;
            var r = rInf - 2 * step * Math.Pow(sqrMom, step) / (1 - Math.Pow(sqrMom, step));
            if (r > 5) rectified++;
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i];
                avg[i] = mom * avg[i] + (1 - mom) * g;
                sqr[i] = sqrMom * sqr[i] + (1 - sqrMom) * g * g;
                if (r > 5)
                {
                    var v = Math.Sqrt((r - 4) * (r - 2) * rInf / ((rInf - 4) * (rInf - 2) * r));
                    var denom = Math.Sqrt(sqr[i] / d2) + eps;
                    if (beta != 0) denom = Math.Log(1 + Math.Exp(beta * denom)) / beta; // softplus
                    w[i] -= lr * v / d1 * avg[i] / denom;
                }
                else w[i] -= lr / d1 * avg[i];
            }
        }
        Assert.That(rectified, Is.InRange(1, 7), "both regimes are exercised");
        AssertClose(actual, w);
    }

    [Test]
    public void QHAdam_is_fastais()
    {
        const double lr = 0.01, mom = 0.999, sqrMom = 0.999, nu1 = 0.7, nu2 = 1.0, eps = 1e-8;
        var actual = Run(p => Optimizers.QHAdam([p], lr), 4);
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        var sqr = new double[w.Length];
        for (var t = 0; t < 4; t++)
        {
            var d1 = Debias(mom, 1 - mom, t + 1);
            var d2 = Debias(sqrMom, 1 - sqrMom, t + 1);
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i];
                avg[i] = mom * avg[i] + (1 - mom) * g;
                sqr[i] = sqrMom * sqr[i] + (1 - sqrMom) * g * g;
                w[i] -= lr * ((1 - nu1) * g + nu1 * avg[i] / d1) / (Math.Sqrt((1 - nu2) * g * g + nu2 * sqr[i] / d2) + eps);
            }
        }
        AssertClose(actual, w);
    }

    [Test]
    public void Lamb_scales_the_update_by_the_trust_ratio()
    {
        const double lr = 0.01, mom = 0.9, sqrMom = 0.99, eps = 1e-5;
        var actual = Run(p => Optimizers.Lamb([p], lr), 4);
        var w = (double[])Start.Clone();
        var avg = new double[w.Length];
        var sqr = new double[w.Length];
        for (var t = 0; t < 4; t++)
        {
            var d1 = Debias(mom, 1 - mom, t + 1);
            var d2 = Debias(sqrMom, 1 - sqrMom, t + 1);
            var update = new double[w.Length];
            for (var i = 0; i < w.Length; i++)
            {
                var g = Grads[t][i];
                avg[i] = mom * avg[i] + (1 - mom) * g;
                sqr[i] = sqrMom * sqr[i] + (1 - sqrMom) * g * g;
                update[i] = avg[i] / d1 / (Math.Sqrt(sqr[i] / d2) + eps);
            }
            var r1 = Math.Sqrt(w.Average(x => x * x));
            var r2 = Math.Sqrt(update.Average(x => x * x));
            var q = r1 == 0 || r2 == 0 ? 1 : Math.Min(r1 / r2, 10);
            for (var i = 0; i < w.Length; i++) w[i] -= lr * q * update[i];
        }
        AssertClose(actual, w);
    }

    [Test]
    public void Lookahead_moves_slow_weights_toward_the_fast_ones_every_k_steps()
    {
        const double lr = 0.1, alpha = 0.5;
        var actual = Run(p => Optimizers.Lookahead(Optimizers.SGD([p], lr), k: 2, alpha: alpha), 5);
        var fast = (double[])Start.Clone();
        var slow = (double[])Start.Clone();
        for (var t = 0; t < 5; t++)
        {
            for (var i = 0; i < fast.Length; i++) fast[i] -= lr * Grads[t][i];
            if ((t + 1) % 2 != 0) continue;
            for (var i = 0; i < fast.Length; i++)
            {
                slow[i] += alpha * (fast[i] - slow[i]);
                fast[i] = slow[i];
            }
        }
        AssertClose(actual, fast);

        var p2 = NewParam();
        using var ranger = (Optimizer)Optimizers.Ranger()(new ParameterGroups([[p2]]), 1e-3);
        Assert.That(ranger.Name, Is.EqualTo("Lookahead(RAdam)"));
        Assert.That(ranger.Hypers[0]["mom"], Is.EqualTo(0.95));
        Assert.That(ranger.Hypers[0]["eps"], Is.EqualTo(1e-6));
        Assert.That(ranger.Hypers[0]["wd"], Is.EqualTo(0.01));
    }

    // ---- Parameters and state ----

    [Test]
    public void Parameters_without_DoWd_get_no_weight_decay_and_parameters_without_a_gradient_are_not_touched()
    {
        var weight = NewParam();
        var bias = NewParam();
        var idle = NewParam();
        using var opt = Optimizers.SGD([weight, bias, idle], 0.1, wd: 0.5);
        opt.StateOf(bias)!.DoWd = false;
        SetGrad(weight, Grads[0]);
        SetGrad(bias, Grads[0]);
        opt.step();
        AssertClose(Values(weight), Start.Select((w, i) => w * (1 - 0.05) - 0.1 * Grads[0][i]).ToArray());
        AssertClose(Values(bias), Start.Select((w, i) => w - 0.1 * Grads[0][i]).ToArray());
        Assert.That(Values(idle), Is.EqualTo(Start.Select(v => (double)(float)v)), "no gradient: no step, no weight decay (fastai's with_grad=True)");
        Assert.That(opt.StateOf(idle)!.Buffers, Is.Empty);
    }

    [Test]
    public void Steps_read_gradients_that_are_views_of_one_flat_buffer_and_zero_grad_zeroes_them_in_place()
    {
        // What data-parallel training does: every .grad is a view of one flat buffer, reduced in place before the step.
        var a = new Parameter(zeros(2, 3));
        var b = new Parameter(zeros(4));
        using var flat = zeros(10);
        a.grad = flat.narrow(0, 0, 6).view(2, 3);
        b.grad = flat.narrow(0, 6, 4);
        using var opt = Optimizers.SGD([a, b], 1.0, mom: 0.9);
        using (no_grad()) flat.copy_(arange(10).to_type(ScalarType.Float32));
        opt.step();
        Assert.That(Values(a), Is.EqualTo(new double[] { 0, -1, -2, -3, -4, -5 }));
        Assert.That(Values(b), Is.EqualTo(new double[] { -6, -7, -8, -9 }));

        opt.zero_grad();
        Assert.That(flat.data<float>().ToArray(), Is.All.EqualTo(0f), "zeroed in place: the flat buffer itself is zero");
        using (no_grad()) flat.fill_(1);
        using var gradA = a.grad!;
        Assert.That(gradA.data<float>().ToArray(), Is.All.EqualTo(1f), "the parameter's gradient is still the view of the buffer");
        opt.step();
        Assert.That(Values(b), Is.EqualTo(new double[] { -6 - 0.9 * 6 - 1, -7 - 0.9 * 7 - 1, -8 - 0.9 * 8 - 1, -9 - 0.9 * 9 - 1 }).Within(1e-5),
            "the second step reads the gradient afresh (momentum from the first)");
    }

    [Test]
    public void SaveState_and_LoadState_resume_exactly()
    {
        var p1 = NewParam();
        using var opt1 = Optimizers.Adam([p1], 0.01);
        for (var t = 0; t < 3; t++)
        {
            SetGrad(p1, Grads[t]);
            opt1.step();
        }
        opt1.SetHyper("lr", 0.02);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) opt1.SaveState(w);

        var p2 = NewParam();
        using (no_grad()) p2.copy_(p1);
        using var opt2 = Optimizers.Adam([p2], 0.5, wd: 0.3);
        ms.Position = 0;
        using (var r = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true)) opt2.LoadState(r);
        Assert.That(opt2.Hypers[0]["lr"], Is.EqualTo(0.02));
        Assert.That(opt2.Hypers[0]["wd"], Is.EqualTo(0.01));
        Assert.That(opt2.State[0].Step, Is.EqualTo(3));
        for (var t = 3; t < 6; t++)
        {
            SetGrad(p1, Grads[t]);
            SetGrad(p2, Grads[t]);
            opt1.step();
            opt2.step();
        }
        Assert.That(Values(p2), Is.EqualTo(Values(p1)), "bit for bit");

        // Another algorithm's state is refused, and nothing changes.
        using var sgd = Optimizers.SGD([NewParam()], 0.1);
        ms.Position = 0;
        using var reader = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true);
        Assert.That(() => sgd.LoadState(reader), Throws.TypeOf<InvalidDataException>().With.Message.Contains("Adam's").And.Message.Contains("SGD"));
        Assert.That(sgd.Hypers[0]["lr"], Is.EqualTo(0.1));
    }

    [Test]
    public void ClearState_drops_the_averages_and_step_counts_but_keeps_the_flags()
    {
        var p = NewParam();
        using var opt = Optimizers.Adam([p], 0.01);
        opt.StateOf(p)!.DoWd = false;
        SetGrad(p, Grads[0]);
        opt.step();
        Assert.That(opt.State[0].Buffers.Select(kv => kv.Key), Is.EqualTo(new[] { "grad_avg", "sqr_avg" }));
        Assert.That(opt.State[0].Step, Is.EqualTo(1));
        opt.ClearState();
        Assert.That(opt.State[0].Buffers, Is.Empty);
        Assert.That(opt.State[0].Step, Is.Zero);
        Assert.That(opt.State[0].DoWd, Is.False, "fastai's _keep_on_clear: do_wd and force_train stay");
    }

    // ---- Groups and hyper-parameters ----

    [Test]
    public void Hyper_parameters_are_set_per_group_from_a_value_an_array_or_a_slice()
    {
        var groups = new ParameterGroups([[NewParam()], [NewParam()], [NewParam()]]);
        using var opt = Optimizers.Adam(groups, 1e-3);
        Assert.That(opt.GroupCount, Is.EqualTo(3));
        opt.SetHyper("lr", PerGroup.Slice(1e-5, 1e-3));
        Assert.That(opt.Hypers.Select(h => h["lr"]), Is.EqualTo(new[] { 1e-5, 1e-4, 1e-3 }).Within(1e-15));
        opt.SetHyper("lr", PerGroup.Slice(1e-3));
        Assert.That(opt.Hypers.Select(h => h["lr"]), Is.EqualTo(new[] { 1e-4, 1e-4, 1e-3 }));
        opt.SetHypers(lr: new[] { 1.0, 2.0, 3.0 }, mom: 0.8, wd: 0.2);
        Assert.That(opt.Hypers.Select(h => (h["lr"], h["mom"], h["wd"])), Is.EqualTo(new[] { (1.0, 0.8, 0.2), (2.0, 0.8, 0.2), (3.0, 0.8, 0.2) }));
        opt.Hypers[1]["eps"] = 1e-3;
        Assert.That(opt.GetHyper("eps", 1), Is.EqualTo(1e-3));
        Assert.That(opt.GetHyper("lr"), Is.EqualTo(3.0), "GetHyper without a group is the last group's (the head), as fastai's Recorder reads it");
        Assert.That(Hyperparameters.GetLr(opt), Is.EqualTo(3.0));
    }

    [Test]
    public void Bad_hyper_parameters_are_clear_errors_and_change_nothing()
    {
        using var opt = Optimizers.Adam(new ParameterGroups([[NewParam()], [NewParam()]]), 1e-3);
        var ex = Assert.Throws<ArgumentException>(() => opt.SetHyper("momentum", 0.9))!;
        Assert.That(ex.Message, Does.Contain("`momentum`").And.Contain("`mom`").And.Contain("`sqr_mom`"));
        ex = Assert.Throws<ArgumentException>(() => opt.SetHyper("lr", new[] { 1.0, 2.0, 3.0 }))!;
        Assert.That(ex.Message, Does.Contain("3 values").And.Contain("2 parameter groups"));
        Assert.That(() => opt.SetHypers(lr: 5.0, sqrMom: new[] { 1.0, 2.0, 3.0 }), Throws.ArgumentException);
        Assert.That(opt.Hypers.Select(h => h["lr"]), Is.All.EqualTo(1e-3), "a refused SetHypers sets none of them");
        Assert.That(() => opt.Hypers[0]["learning_rate"], Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("`lr`"));

        using var single = Optimizers.SGD([NewParam()], 0.1);
        ex = Assert.Throws<ArgumentException>(() => single.SetHyper("lr", PerGroup.Slice(1e-4, 1e-2)))!;
        Assert.That(ex.Message, Does.Contain("one group").And.Contain("splitter"));
        Assert.That(single.GetHyper("lr"), Is.EqualTo(0.1));
        Assert.That(() => single.SetHypers(eps: 1e-8), Throws.ArgumentException.With.Message.Contains("SGD has no hyper-parameter `eps`"));
        Assert.That(() => PerGroup.Slice(0, 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void FreezeTo_freezes_the_first_groups_and_refuses_more_than_there_are()
    {
        var body = NewParam();
        var norm = NewParam();
        var head = NewParam();
        using var opt = Optimizers.SGD(new ParameterGroups([[body, norm], [head]]), 0.1);
        opt.StateOf(norm)!.ForceTrain = true;
        opt.Freeze();
        Assert.That((body.requires_grad, norm.requires_grad, head.requires_grad), Is.EqualTo((false, true, true)));
        Assert.That(opt.FrozenIdx, Is.EqualTo(1));
        foreach (var p in new[] { body, norm, head }) SetGrad(p, Grads[0]);
        opt.step();
        Assert.That(Values(body), Is.EqualTo(Start.Select(v => (double)(float)v)), "a frozen parameter is not updated even if it has a gradient");
        Assert.That(Values(norm), Is.Not.EqualTo(Start.Select(v => (double)(float)v)), "force_train (train_bn) trains it anyway");
        Assert.That(Values(head), Is.Not.EqualTo(Start.Select(v => (double)(float)v)));

        Assert.That(() => opt.FreezeTo(3), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("2 parameter groups"));
        Assert.That(() => opt.FreezeTo(-3), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(opt.FrozenIdx, Is.EqualTo(1), "nothing changed");
        opt.FreezeTo(2);
        Assert.That((body.requires_grad, norm.requires_grad, head.requires_grad), Is.EqualTo((false, true, false)), "all groups frozen");
        opt.Unfreeze();
        Assert.That((body.requires_grad, norm.requires_grad, head.requires_grad), Is.EqualTo((true, true, true)));

        using var one = Optimizers.SGD([NewParam()], 0.1);
        Assert.That(() => one.Freeze(), Throws.InvalidOperationException.With.Message.Contains("one group"));
    }

    [Test]
    public void ParameterGroups_refuse_a_parameter_in_two_groups()
    {
        var p = NewParam();
        Assert.That(() => new ParameterGroups([[p], [NewParam(), p]]), Throws.ArgumentException.With.Message.Contains("groups 0 and 1"));
        Assert.That(() => new ParameterGroups([[p, p]]), Throws.ArgumentException.With.Message.Contains("twice in group 0"));
        Assert.That(() => new ParameterGroups([]), Throws.ArgumentException);
    }

    [Test]
    public void A_torchsharp_learning_rate_scheduler_drives_it_too()
    {
        var p = NewParam();
        using var opt = Optimizers.SGD([p], 0.1);
        var sched = optim.lr_scheduler.StepLR(opt, step_size: 1, gamma: 0.5);
        SetGrad(p, Grads[0]);
        opt.step();
        sched.step();
        Assert.That(opt.GetHyper("lr"), Is.EqualTo(0.05).Within(1e-12));
    }
}
