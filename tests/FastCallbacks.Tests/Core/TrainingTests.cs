using TorchSharp.Modules;

namespace FastCallbacks.Tests.Core;

/// <summary>The learner really trains, and does exactly what a hand-written TorchSharp loop does.</summary>
public partial class TrainingTests
{
    [Test]
    public void Regression_loss_falls_and_weights_equal_a_hand_written_loop()
    {
        const int epochs = 4, bs = 16;
        var (x, y) = TestData.Regression(96, seed: 1);

        // FastCallbacks, with a TorchSharp optimizer (wrapped in an OptimWrapper). Every batch kept: 5 steps an epoch.
        using var dls = DataLoaders.FromTensors(x, y, bs, validPct: 0.25, shuffle: true, seed: 7, dropLast: false);
        var model = TestData.LinearModel(seed: 3);
        using var learn = new Learner(dls, model, TestData.Mse, optFunc: (ps, lr) => optim.SGD(ps, lr, momentum: 0.9), lr: 0.05);
        learn.Fit(epochs);
        var valid = learn.Recorder!.Values.Select(r => r[1]!.Value).ToArray();
        Assert.That(valid[^1], Is.LessThan(valid[0] * 0.5), "validation loss falls");

        // The same by hand: same split, same shuffles (a fresh loader with the same seed), same model seed.
        using var dls2 = DataLoaders.FromTensors(x, y, bs, validPct: 0.25, shuffle: true, seed: 7, dropLast: false);
        var model2 = TestData.LinearModel(seed: 3);
        using var opt = optim.SGD(model2.parameters(), 0.05, momentum: 0.9);
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            model2.train();
            foreach (var b in dls2.Train)
            {
                using var scope = NewDisposeScope();
                var loss = TestData.Mse(model2.call(b.Xb[0]), b.Yb[0]);
                loss.backward();
                opt.step();
                opt.zero_grad();
            }
        }

        var w1 = model.parameters().ToArray();
        var w2 = model2.parameters().ToArray();
        for (var i = 0; i < w1.Length; i++)
            Assert.That(w1[i].allclose(w2[i], rtol: 0, atol: 0), Is.True, $"parameter {i} differs: {string.Join(",", w1[i].data<float>().ToArray())} vs {string.Join(",", w2[i].data<float>().ToArray())}");
    }

    [Test]
    public void Classification_learns_with_a_loss_module_and_adam()
    {
        var (x, y) = TestData.Classification(256, seed: 2);
        using var dls = DataLoaders.FromTensors(x, y, 32, validPct: 0.25, seed: 1);
        manual_seed(0);
        var model = nn.Sequential(("l1", nn.Linear(2, 16)), ("relu", nn.ReLU()), ("l2", nn.Linear(16, 2)));
        using var learn = new Learner(dls, model, nn.CrossEntropyLoss(), lr: 1e-2);
        learn.Fit(5);
        var rows = learn.Recorder!.Values;
        Assert.That(rows[^1][1]!.Value, Is.LessThan(rows[0][0]!.Value));
        using (no_grad())
        {
            var v = (TensorDataLoader)dls.Valid!;
            var acc = model.call(v.Inputs[0]).argmax(1).eq(v.Targets[0]).to_type(ScalarType.Float32).mean().item<float>();
            Assert.That(acc, Is.GreaterThan(0.9f));
        }
    }

    [Test]
    public void Recorder_values_follow_fastai_definitions()
    {
        using var learn = TestData.RegressionLearner();
        var batchLosses = new List<double>();
        var validSum = 0.0; var validN = 0;
        var spy = Callback.Create(
            (Event.BeforeValidate, _ => (validSum, validN) = (0, 0)),
            (Event.AfterBatch, l =>
            {
                if (l.Training) batchLosses.Add(l.Loss!.item<float>());
                else { validSum += l.Loss!.item<float>() * l.Yb[0].shape[0]; validN += (int)l.Yb[0].shape[0]; }
            }));
        learn.Fit(2, cbs: [spy]);
        var rec = learn.Recorder!;

        // Smoothed loss: bias-corrected EMA with beta 0.98, not reset between epochs.
        double val = 0;
        var expected = batchLosses.Select((l, i) => { val = 0.98 * val + 0.02 * l; return val / (1 - Math.Pow(0.98, i + 1)); }).ToArray();
        Assert.That(rec.Losses, Is.EqualTo(expected).Within(1e-9));
        Assert.That(rec.Iters, Is.EqualTo(new[] { 3, 6 }));
        Assert.That(rec.Lrs, Has.Count.EqualTo(6).And.All.EqualTo(0.1));
        Assert.That(rec.Values[1][0], Is.EqualTo(expected[^1]).Within(1e-9), "train_loss is the smoothed loss at the end of the epoch");
        Assert.That(rec.Values[1][1], Is.EqualTo(validSum / validN).Within(1e-6), "valid_loss is the batch-size-weighted mean");
        Assert.That(learn.SmoothLoss, Is.EqualTo(expected[^1]).Within(1e-9));
        Assert.That(learn.FinalRecord, Is.EqualTo(rec.Values[1]));
    }

    [Test]
    public void Logger_receives_one_row_per_epoch()
    {
        var rows = new List<EpochLog>();
        using var learn = TestData.RegressionLearner();
        learn.Logger = rows.Add;
        learn.Fit(2);
        Assert.That(rows.Select(r => r.Epoch), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(rows[0].Names, Is.EqualTo(new[] { "epoch", "train_loss", "valid_loss", "time" }));
        Assert.That(rows[0].ToString(), Does.Match(@"^\[0, \d+\.\d{6}, \d+\.\d{6}, '00:0\d'\]$"));
    }

    [Test]
    public void Live_tensors_are_the_same_after_2_and_after_6_epochs()
    {
        using var learn = TestData.RegressionLearner(n: 256);
        learn.Fit(1); // warm up: optimizer state, gradients, cached tensors
        var stats = DisposeScopeManager.Statistics;

        var (live0, outside0) = Measure();
        learn.Fit(2);
        var (live2, outside2) = Measure();
        learn.Fit(6);
        var (live6, outside6) = Measure();

        Assert.That(live2, Is.EqualTo(live0), "a fit of 2 epochs leaves no live tensors behind");
        Assert.That(live6, Is.EqualTo(live2), "a fit of 6 epochs leaves no live tensors behind");
        // Tensors made outside a batch's dispose scope do not grow with epochs or batches.
        Assert.That(outside6 - outside2, Is.EqualTo(outside2 - outside0));

        (long Live, long CreatedOutside) Measure()
        {
            // Other tests' garbage is finalized first so the process-wide count measures this learner only.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return (Tensor.TotalCount, stats.CreatedOutsideScopeCount);
        }
    }

    [Test]
    public void ShowTrainingLoop_lists_the_handlers_of_each_event()
    {
        using var learn = TestData.RegressionLearner();
        var text = learn.ShowTrainingLoop();
        Assert.That(text, Does.Contain("Start Fit"));
        Assert.That(text, Does.Contain(" - before_fit           : [TrainEvalCallback, Recorder, ProgressCallback]"));
        Assert.That(text, Does.Contain(" - after_batch          : [TrainEvalCallback, Recorder, ProgressCallback]"));
        Assert.That(text, Does.Contain(" - before_step          : []"));
        Assert.That(text.Split('\n').First(l => l.Contains("before_batch")), Does.StartWith("         - before_batch"));
    }
}
