using TorchSharp.Modules;

namespace FastCallbacks.Tests.Library;

/// <summary>
/// The learner's side of fastai's optimizer: parameter groups from the splitter, no weight decay on biases and
/// normalization layers (wd_bn_bias), normalization layers training in frozen groups (train_bn), freezing, TorchSharp
/// optimizers wrapped as fastai's OptimWrapper does.
/// </summary>
public class LearnerOptimizerTests
{
    /// <summary>conv → batchnorm → relu → flatten | linear head: a body with a normalization layer, and a head.</summary>
    private static Sequential BodyAndHead()
    {
        manual_seed(0);
        return nn.Sequential(
            ("conv", nn.Conv2d(1, 2, 3, padding: 1)), ("bn", nn.BatchNorm2d(2)), ("relu", nn.ReLU()), ("flatten", nn.Flatten()),
            ("fc", nn.Linear(2 * 4 * 4, 2)));
    }

    private static Learner ImageLearner(Sequential model, bool wdBnBias = false, bool trainBn = true, Func<ParameterGroups, double, optim.Optimizer>? opt = null)
    {
        manual_seed(1);
        var x = randn(64, 1, 4, 4);
        var y = randint(0, 2, [64]);
        var dls = new DataLoaders(new TensorDataLoader([x], [y], 16), new TensorDataLoader([x], [y], 16));
        var learn = new Learner(dls, model, new CrossEntropyLossFlat(), optFunc: opt, lr: 1e-2, splitter: Splitters.ByChildren(4),
            wdBnBias: wdBnBias, trainBn: trainBn) { Logger = null };
        learn.RemoveCbs<ProgressCallback>();
        return learn;
    }

    private static float[] Values(Tensor t) => t.detach().data<float>().ToArray();

    [Test]
    public void The_splitter_makes_the_groups_and_the_last_group_is_the_head()
    {
        var model = BodyAndHead();
        using var learn = ImageLearner(model);
        learn.CreateOpt();
        var opt = learn.Opt!;
        Assert.That(opt.GroupCount, Is.EqualTo(2));
        Assert.That(opt.ParamLists[0].Count, Is.EqualTo(4), "conv weight, conv bias, bn weight, bn bias");
        Assert.That(opt.ParamLists[1].Select(p => p.Handle), Is.EqualTo(model.named_parameters().Where(np => np.name.StartsWith("fc")).Select(np => np.parameter.Handle)));
    }

    [Test]
    public void Biases_and_normalization_layers_get_no_weight_decay_unless_wdBnBias()
    {
        var model = BodyAndHead();
        using var learn = ImageLearner(model);
        learn.CreateOpt();
        var noWd = model.named_parameters().Where(np => !learn.Opt!.StateOf(np.parameter)!.DoWd).Select(np => np.name);
        Assert.That(noWd, Is.EquivalentTo(new[] { "conv.bias", "bn.weight", "bn.bias", "fc.bias" }), "fastai's norm_bias_params(model, with_bias=True)");
        Assert.That(Splitters.NormBiasParams(model, withBias: false).Select(p => p.Handle),
            Is.EquivalentTo(new[] { ((BatchNorm2d)model[1]).weight!.Handle, ((BatchNorm2d)model[1]).bias!.Handle }));

        using var all = ImageLearner(BodyAndHead(), wdBnBias: true);
        all.CreateOpt();
        Assert.That(all.Opt!.State.Select(s => s.DoWd), Is.All.True);

        // The effect: with zero gradients, a step only decays, and only what has do_wd.
        learn.Opt!.SetHyper("wd", 0.5);
        foreach (var s in learn.Opt.State)
        {
            using var g = zeros_like(s.Param);
            s.Param.grad = g.clone();
        }
        var convWeight = Values(((Conv2d)model[0]).weight!);
        var fcBias = Values(((Linear)model[4]).bias!);
        learn.Opt.step();
        Assert.That(Values(((Conv2d)model[0]).weight!), Is.EqualTo(convWeight.Select(w => w * (1 - 0.5f * 1e-2f))).Within(1e-6));
        Assert.That(Values(((Linear)model[4]).bias!), Is.EqualTo(fcBias), "no weight decay on the bias");
    }

    [Test]
    public void Freeze_trains_the_head_and_the_normalization_layers_of_the_body()
    {
        var model = BodyAndHead();
        using var learn = ImageLearner(model);
        learn.Freeze();
        var conv = (Conv2d)model[0];
        var bn = (BatchNorm2d)model[1];
        var fc = (Linear)model[4];
        Assert.That(conv.weight!.requires_grad, Is.False, "the body is frozen: no gradient");
        Assert.That(bn.weight!.requires_grad, Is.True, "train_bn: normalization layers keep training");
        var (convW, bnW, fcW) = (Values(conv.weight), Values(bn.weight), Values(fc.weight!));
        learn.Fit(1);
        Assert.That(Values(conv.weight), Is.EqualTo(convW), "no update, and no weight decay, in a frozen group");
        Assert.That(Values(bn.weight), Is.Not.EqualTo(bnW));
        Assert.That(Values(fc.weight!), Is.Not.EqualTo(fcW));

        learn.Unfreeze();
        Assert.That(conv.weight.requires_grad, Is.True);
        learn.Fit(1);
        Assert.That(Values(conv.weight), Is.Not.EqualTo(convW));
    }

    [Test]
    public void Without_trainBn_frozen_normalization_layers_are_frozen_too()
    {
        var model = BodyAndHead();
        using var learn = ImageLearner(model, trainBn: false);
        learn.Freeze();
        var bn = (BatchNorm2d)model[1];
        var bnW = Values(bn.weight!);
        learn.Fit(1);
        Assert.That(bn.weight!.requires_grad, Is.False);
        Assert.That(Values(bn.weight), Is.EqualTo(bnW));
    }

    [Test]
    public void A_new_optimizer_keeps_the_frozen_groups()
    {
        var model = BodyAndHead();
        using var learn = ImageLearner(model);
        learn.Freeze();
        var conv = ((Conv2d)model[0]).weight!;
        var before = Values(conv);
        learn.Fit(1, resetOpt: true);
        Assert.That(learn.Opt!.FrozenIdx, Is.EqualTo(1));
        Assert.That(Values(conv), Is.EqualTo(before));
    }

    [Test]
    public void A_torchsharp_optimizer_is_wrapped_and_scheduled_with_fastais_names()
    {
        using var learn = ImageLearner(BodyAndHead(), opt: (ps, lr) => optim.AdamW(ps, lr));
        learn.FitOneCycle(1, 1e-2);
        var wrapper = (OptimWrapper)learn.Opt!;
        Assert.That(wrapper.Name, Is.EqualTo("AdamW"));
        Assert.That(wrapper.HyperNames, Is.EqualTo(new[] { "lr", "mom", "sqr_mom", "eps", "wd" }));
        var group = (AdamW.ParamGroup)wrapper.Opt.ParamGroups.Single();
        Assert.That(group.Betas.Item1, Is.EqualTo(learn.Recorder!.Hps["mom"][^1]), "fit_one_cycle's momentum reached TorchSharp's beta1");
        Assert.That(group.LearningRate, Is.EqualTo(learn.Recorder.Lrs[^1]));
        Assert.That(wrapper.GroupCount, Is.EqualTo(1), "TorchSharp's optimizer got every parameter in one group");
        Assert.That(() => new OptimWrapper(wrapper), Throws.ArgumentException.With.Message.Contains("already a FastCallbacks optimizer"));
    }

    [Test]
    public void A_weight_decay_the_optimizer_cannot_take_is_refused_before_the_fit()
    {
        using var learn = ImageLearner(BodyAndHead(), opt: (ps, lr) => optim.Rprop(ps, lr));
        var ex = Assert.Throws<ArgumentException>(() => learn.Fit(1, wd: 0.1))!;
        Assert.That(ex.Message, Does.Contain("Rprop has no weight decay"));
        Assert.That(learn.Opt, Is.Null, "nothing is made");
        learn.Fit(1);
        Assert.That(learn.Opt!.Name, Is.EqualTo("Rprop"));
    }

    [Test]
    public void GetPreds_applies_the_losss_activation_and_decodes()
    {
        using var learn = ImageLearner(BodyAndHead());
        learn.Fit(1);
        using var probs = learn.GetPreds(withDecoded: true);
        Assert.That(probs.Preds!.sum(-1).data<float>().ToArray(), Is.All.EqualTo(1f).Within(1e-5f), "CrossEntropyLossFlat's activation: softmax");
        Assert.That(probs.Decoded!.data<long>().ToArray(), Is.EqualTo(probs.Preds.argmax(-1).data<long>().ToArray()));
        using var raw = learn.GetPreds(act: t => t);
        Assert.That(raw.Preds!.softmax(-1).allclose(probs.Preds, rtol: 1e-5, atol: 1e-6), Is.True, "act: t => t gives the raw outputs");
        Assert.That(raw.Preds.sum(-1).data<float>().ToArray(), Is.Not.All.EqualTo(1f).Within(1e-3f));

        learn.LossFunc = nn.CrossEntropyLoss().call;
        using var plain = learn.GetPreds();
        Assert.That(plain.Preds!.allclose(raw.Preds), Is.True, "a plain TorchSharp loss has no activation, as in fastai");
    }
}
