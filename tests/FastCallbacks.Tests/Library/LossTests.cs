namespace FastCallbacks.Tests.Library;

/// <summary>fastai's flattened losses: the same values as the plain losses on flattened inputs, their activation and decodes, and GetPreds using them.</summary>
public class LossTests
{
    [Test]
    public void CrossEntropyLossFlat_flattens_the_batch_and_the_class_axis()
    {
        manual_seed(0);
        var pred = randn(4, 5, 3);               // batch 4, sequence 5, 3 classes
        var targ = randint(0, 3, [4, 5]).to_type(ScalarType.Int32);
        using var loss = new CrossEntropyLossFlat();
        var expected = nn.functional.cross_entropy(pred.reshape(-1, 3), targ.reshape(-1).to_type(ScalarType.Int64));
        Assert.That(loss.call(pred, targ).item<float>(), Is.EqualTo(expected.item<float>()).Within(1e-6), "int32 targets become int64; [4,5,3] becomes [20,3]");
        Assert.That(loss.Unreduced(pred, targ).shape, Is.EqualTo(new long[] { 20 }));

        // axis: classes in dimension 1, as a segmentation model outputs them.
        var image = randn(2, 3, 4, 4);
        var mask = randint(0, 3, [2, 4, 4]);
        using var byAxis = new CrossEntropyLossFlat(axis: 1);
        var reference = nn.functional.cross_entropy(image, mask);
        Assert.That(byAxis.call(image, mask).item<float>(), Is.EqualTo(reference.item<float>()).Within(1e-5));
        Assert.That(byAxis.Activation(image).sum(1).data<float>().ToArray(), Is.All.EqualTo(1f).Within(1e-5f), "softmax over the class axis");
        Assert.That(byAxis.Decodes(image).shape, Is.EqualTo(new long[] { 2, 4, 4 }));
        Assert.That(loss.ToString(), Is.EqualTo("FlattenedLoss of CrossEntropyLoss"));
    }

    [Test]
    public void BCEWithLogitsLossFlat_floatifies_targets_and_thresholds()
    {
        var pred = tensor(new float[] { -2, 0.5f, 3, -0.1f }).reshape(2, 2);
        var targ = tensor(new long[] { 0, 1, 1, 1 }).reshape(2, 2);
        using var loss = new BCEWithLogitsLossFlat(thresh: 0.6);
        var expected = nn.functional.binary_cross_entropy_with_logits(pred, targ.to_type(ScalarType.Float32));
        Assert.That(loss.call(pred, targ).item<float>(), Is.EqualTo(expected.item<float>()).Within(1e-6));
        Assert.That(loss.Decodes(loss.Activation(pred)).data<bool>().ToArray(), Is.EqualTo(new[] { false, true, true, false }), "sigmoid > 0.6");
    }

    [Test]
    public void MSELossFlat_and_L1LossFlat_compare_flattened_float_targets()
    {
        var pred = tensor(new float[] { 1, 2, 3 }).reshape(3, 1);
        var targ = tensor(new long[] { 1, 1, 5 });
        using var mse = new MSELossFlat();
        using var l1 = new L1LossFlat();
        Assert.That(mse.call(pred, targ).item<float>(), Is.EqualTo((0 + 1 + 4) / 3f).Within(1e-6), "[3,1] against [3]: no broadcasting to [3,3]");
        Assert.That(l1.call(pred, targ).item<float>(), Is.EqualTo((0 + 1 + 2) / 3f).Within(1e-6));
        Assert.That(mse.Activation(pred), Is.SameAs(pred), "no activation, as fastai's noops");
    }

    [Test]
    public void GetPreds_with_a_flattened_loss_returns_probabilities_decoded_classes_and_per_item_losses()
    {
        var (x, y) = TestData.Classification(64, seed: 3);
        using var dls = DataLoaders.FromTensors(x, y, batchSize: 16, validPct: 0.25, seed: 2);
        manual_seed(0);
        var model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2));
        using var learn = new Learner(dls, model, new CrossEntropyLossFlat(), lr: 1e-2) { Logger = null };
        learn.RemoveCbs<ProgressCallback>();
        learn.Fit(2);
        using var p = learn.GetPreds(withDecoded: true, withLoss: true);
        Assert.That(p.Preds!.sum(-1).data<float>().ToArray(), Is.All.EqualTo(1f).Within(1e-5f));
        Assert.That(p.Decoded!.data<long>().ToArray(), Is.EqualTo(p.Preds.argmax(-1).data<long>().ToArray()));
        using var raw = learn.GetPreds(act: t => t);
        var perItem = nn.functional.cross_entropy(raw.Preds!, raw.Targets!, reduction: nn.Reduction.None);
        Assert.That(p.Losses!.allclose(perItem, rtol: 1e-5, atol: 1e-6), Is.True, "the loss without reduction, as fastai's loss_not_reduced");
        using var item = learn.Predict(x[0]);
        Assert.That(item.Output.sum().item<float>(), Is.EqualTo(1f).Within(1e-5f), "Predict applies the activation too");
    }
}
