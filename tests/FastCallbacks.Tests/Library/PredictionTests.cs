namespace FastCallbacks.Tests.Library;

using static FastCallbacks.Tests.Core.EventTraceTests;
using static LibraryData;

/// <summary>GetPreds, Validate, Predict and FetchPreds: fastai's events, dataset order, shapes, values, history kept, no leaks.</summary>
public partial class PredictionTests
{
    [Test]
    public void GetPreds_dispatches_fastai_validation_context_events()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([trace]);
        learn.Fit(1);
        trace.Trace.Clear();
        var (x, y) = TestData.Regression(12, seed: 5);
        using (x) using (y)
        using (learn.GetPreds(dl: new TensorDataLoader([x], [y], batchSize: 5)))
        {
        }

        string[] expected = ["before_fit", "before_epoch", "before_validate", .. Repeat(ValidBatch, 3), "after_validate", "after_epoch", "after_fit"];
        Assert.That(trace.Trace, Is.EqualTo(expected));
    }

    [Test]
    public void Validate_dispatches_the_same_events()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([trace]);
        trace.Trace.Clear();
        learn.Validate();
        string[] expected = ["before_fit", "before_epoch", "before_validate", .. Repeat(ValidBatch, 1), "after_validate", "after_epoch", "after_fit"];
        Assert.That(trace.Trace, Is.EqualTo(expected));
    }

    [Test]
    public void GetPreds_from_a_shuffled_loader_comes_in_dataset_order()
    {
        var (x, y) = TestData.Regression(40, seed: 2);
        using var learn = TestData.RegressionLearner();
        var shuffled = new TensorDataLoader([x], [y], batchSize: 7, shuffle: true, dropLast: true, seed: 3);

        using var preds = learn.GetPreds(dl: shuffled);
        using var expected = learn.Model.call(x).detach();
        Assert.That(Same(preds.Targets!, y), Is.True, "targets in dataset order");
        Assert.That(preds.Preds!.allclose(expected, rtol: 1e-5, atol: 1e-6), Is.True, "predictions in dataset order");
        Assert.That(preds.Preds.shape, Is.EqualTo(new long[] { 40, 1 }), "drop_last does not lose items");

        // Without reorder the loader is used as it is: shuffled, last batch dropped.
        using var raw = learn.GetPreds(dl: shuffled, reorder: false);
        Assert.That(raw.Targets!.shape[0], Is.EqualTo(35));
        Assert.That(Same(raw.Targets, y[..35]), Is.False, "the shuffled order is kept");
        using var sortedRaw = raw.Targets.reshape(-1).sort().Values;
        using var sortedAll = y.reshape(-1).sort().Values;
        Assert.That(sortedAll.to_type(ScalarType.Float32).data<float>().ToArray(), Is.SupersetOf(sortedRaw.data<float>().ToArray()));
        x.Dispose(); y.Dispose();
    }

    [Test]
    public void GetPreds_shapes_with_each_flag()
    {
        var (x, y) = TestData.Classification(30, seed: 4);
        using var dls = Loaders(x, y, batchSize: 8);
        using var learn = new Learner(dls, Classifier(), CrossEntropy);

        using (var p = learn.GetPreds())
        {
            Assert.That(p.Preds!.shape, Is.EqualTo(new long[] { 30, 2 }));
            Assert.That(p.Targets!.shape, Is.EqualTo(new long[] { 30 }));
            Assert.That(p.Inputs, Is.Null);
            Assert.That(p.Decoded, Is.Null);
            Assert.That(p.Losses, Is.Null);
            Assert.That(p.Preds.device_type, Is.EqualTo(DeviceType.CPU));
            Assert.That(p.Preds.requires_grad, Is.False);
        }
        using (var p = learn.GetPreds(withInput: true, withDecoded: true, withLoss: true))
        {
            Assert.That(p.Inputs!.shape, Is.EqualTo(new long[] { 30, 2 }));
            Assert.That(Same(p.Inputs, x), Is.True);
            Assert.That(p.Decoded!.shape, Is.EqualTo(new long[] { 30 }));
            Assert.That(Same(p.Decoded, p.Preds!.argmax(-1)), Is.True);
            Assert.That(p.Losses!.shape, Is.EqualTo(new long[] { 30 }));
            using var expected = nn.functional.cross_entropy(p.Preds, y, reduction: nn.Reduction.None);
            Assert.That(p.Losses.allclose(expected, rtol: 1e-5, atol: 1e-6), Is.True, "per-item losses (each item through the loss on its own)");
        }
        learn.LossFuncNoReduce = (p, t) => nn.functional.cross_entropy(p, t, reduction: nn.Reduction.None);
        using (var p = learn.GetPreds(withLoss: true, act: t => t.softmax(-1), withTargs: false))
        {
            Assert.That(p.Targets, Is.Null);
            using var rowSums = p.Preds!.sum(1);
            Assert.That(rowSums.allclose(ones(30)), Is.True, "act is applied");
            using var raw = learn.GetPreds();
            using var expected = nn.functional.cross_entropy(raw.Preds!, y, reduction: nn.Reduction.None);
            Assert.That(p.Losses!.allclose(expected, rtol: 1e-5, atol: 1e-6), Is.True, "LossFuncNoReduce");
        }
        Assert.That(learn.LossFunc, Is.EqualTo((Func<Tensor, Tensor, Tensor>)CrossEntropy), "the reducing loss is back");
        x.Dispose(); y.Dispose();
    }

    [Test]
    public void GetPreds_saves_each_batch_when_asked()
    {
        using var dir = NewTempDir();
        using var learn = TestData.RegressionLearner(validPct: 0.5);
        var folder = System.IO.Path.Combine(dir.Path, "preds");
        using var p = learn.GetPreds(savePreds: folder, withPreds: false);
        Assert.That(p.Preds, Is.Null);
        Assert.That(Directory.GetFiles(folder).Select(System.IO.Path.GetFileName).Order(), Is.EqualTo(new[] { "0", "1" }), "32 rows in batches of 16");
        using var saved = Tensor.Load(System.IO.Path.Combine(folder, "1"));
        Assert.That(saved.shape, Is.EqualTo(new long[] { 16, 1 }));
    }

    [Test]
    public void Validate_returns_the_loss_and_metrics_computed_by_hand()
    {
        using var learn = TestData.RegressionLearner();
        learn.Metrics = [Metrics.Mae(), Metrics.Rmse()];
        learn.Fit(1);
        var result = learn.Validate();

        var valid = (TensorDataLoader)learn.Dls.Valid!;
        using var pred = learn.Model.call(valid.Inputs[0]).detach();
        var err = (pred - valid.Targets[0]).data<float>().ToArray();
        var mse = err.Average(e => (double)e * e);
        Assert.That(result.Names, Is.EqualTo(new[] { "valid_loss", "mae", "_rmse" }));
        Assert.That(result.ValidLoss, Is.EqualTo(mse).Within(1e-5));
        Assert.That(result["mae"], Is.EqualTo(err.Average(e => Math.Abs((double)e))).Within(1e-5));
        Assert.That(result["_rmse"], Is.EqualTo(Math.Sqrt(mse)).Within(1e-5));
        Assert.Throws<KeyNotFoundException>(() => _ = result["accuracy"]);
    }

    [Test]
    public void Validate_works_without_a_recorder()
    {
        var (x, y) = TestData.Regression(20, seed: 1);
        using var dls = Loaders(x, y, 6);
        using var learn = new Learner(dls, TestData.LinearModel(), TestData.Mse, defaultCbs: false, metrics: [Metrics.Mse()]);
        var result = learn.Validate();
        Assert.That(result.Values, Has.Count.EqualTo(2));
        Assert.That(result.ValidLoss, Is.EqualTo(result["mse"]).Within(1e-6));
        Assert.That(learn.Cbs, Is.Empty, "the temporary recorder is gone");
        x.Dispose(); y.Dispose();
    }

    [Test]
    public void Recorder_history_is_unchanged_by_GetPreds_and_Validate()
    {
        var rows = new List<EpochLog>();
        using var learn = TestData.RegressionLearner();
        learn.Metrics = [Metrics.Mae()];
        learn.Logger = rows.Add;
        learn.Fit(2);
        var rec = learn.Recorder!;
        var values = rec.Values.Select(r => r.ToArray()).ToArray();
        var losses = rec.Losses.ToArray();
        var lrs = rec.Lrs.ToArray();
        var iters = rec.Iters.ToArray();
        var names = rec.MetricNames.ToArray();
        var final = learn.FinalRecord!.ToArray();
        var smooth = learn.SmoothLoss;

        using (learn.GetPreds(withLoss: true)) { }
        learn.Validate();
        learn.Validate(dsIdx: 0);
        using (learn.Predict(ones(3))) { }

        Assert.That(rec.Values, Is.EqualTo(values));
        Assert.That(rec.Losses, Is.EqualTo(losses));
        Assert.That(rec.Lrs, Is.EqualTo(lrs));
        Assert.That(rec.Iters, Is.EqualTo(iters));
        Assert.That(rec.MetricNames, Is.EqualTo(names));
        Assert.That(learn.FinalRecord, Is.EqualTo(final));
        Assert.That(learn.SmoothLoss, Is.EqualTo(smooth));
        Assert.That(rows, Has.Count.EqualTo(2), "nothing is logged during inference");
        Assert.That(learn.Logger, Is.Not.Null, "logging is back on");
        Assert.That(learn.IsInferenceRun, Is.False);

        // And the next fit starts a fresh history as usual.
        learn.Fit(1);
        Assert.That(rec.Values, Has.Count.EqualTo(1));
    }

    [Test]
    public void Live_tensor_count_is_unchanged_after_GetPreds_once_the_result_is_disposed()
    {
        using var learn = TestData.RegressionLearner(n: 128);
        learn.Metrics = [Metrics.Rmse(), Metrics.Mae()];
        learn.Fit(1);
        using var item = ones(3);
        void Round()
        {
            using (learn.GetPreds(withInput: true, withDecoded: true, withLoss: true, act: t => t * 2)) { }
            using (learn.GetPreds(dsIdx: 0)) { }
            learn.Validate();
            using (learn.Predict(item)) { }
        }
        Round(); // warm up
        var stats = DisposeScopeManager.Statistics;
        var (live0, outside0) = Measure();
        Round();
        var (live1, outside1) = Measure();
        for (var i = 0; i < 3; i++) Round();
        var (live4, outside4) = Measure();

        Assert.That(live1, Is.EqualTo(live0), "one round leaves no live tensors behind");
        Assert.That(live4, Is.EqualTo(live0), "nor do three more");
        TestContext.Out.WriteLine($"live {live0}; made outside a dispose scope per round: {outside1 - outside0}");

        (long Live, long CreatedOutside) Measure()
        {
            // Collect first: TrainEvalCallback's Model.to(device) in BeforeFit leaves 2 tensor handles per run to the
            // finalizer (a fit does the same), and other tests' garbage must not count here.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return (Tensor.TotalCount, stats.CreatedOutsideScopeCount);
        }
    }

    [Test]
    public void Predict_returns_the_output_and_decoded_class_of_one_item()
    {
        var (x, y) = TestData.Classification(16, seed: 3);
        using var dls = Loaders(x, y, 8);
        using var learn = new Learner(dls, Classifier(), CrossEntropy);
        learn.Fit(1);
        using var item = x[3].clone();
        using var p = learn.Predict(item);
        using var expected = learn.Model.call(x[3..4]).detach()[0];
        Assert.That(p.Output.shape, Is.EqualTo(new long[] { 2 }));
        Assert.That(p.Output.allclose(expected, rtol: 1e-5, atol: 1e-6), Is.True);
        Assert.That(p.Decoded.item<long>(), Is.EqualTo(expected.argmax().item<long>()));

        using var probs = learn.Predict(item, act: t => t.softmax(-1));
        Assert.That(probs.Output.sum().item<float>(), Is.EqualTo(1f).Within(1e-5));
        x.Dispose(); y.Dispose();
    }

    [Test]
    public void GetPreds_inside_a_fit_is_refused_with_a_pointer_to_FetchPreds()
    {
        using var learn = TestData.RegressionLearner();
        var inner = Callback.Create((Event.AfterEpoch, l => l.GetPreds().Dispose()));
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [inner]));
        Assert.That(ex!.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(ex.InnerException!.Message, Does.Contain("FetchPredsCallback"));
    }

    [Test]
    public void GetPreds_without_a_validation_set_says_what_to_do()
    {
        using var learn = TestData.RegressionLearner(validPct: 0);
        var ex = Assert.Throws<InvalidOperationException>(() => learn.GetPreds());
        Assert.That(ex!.Message, Does.Contain("dsIdx: 0"));
        using var train = learn.GetPreds(dsIdx: 0);
        Assert.That(train.Preds!.shape[0], Is.EqualTo(64));
    }

    [Test]
    public void Trackers_do_not_run_during_GetPreds_and_run_again_after()
    {
        var early = new EarlyStoppingCallback(patience: 1);
        using var learn = TestData.RegressionLearner([early]);
        learn.MessageWriter = null;
        learn.Fit(1);
        var best = early.Best;
        using (learn.GetPreds()) { }
        learn.Validate();
        Assert.That(early.Best, Is.EqualTo(best));
        Assert.That(early.Run, Is.True);
    }

    [Test]
    public void FetchPreds_gathers_the_predictions_of_each_epoch_during_the_fit()
    {
        var fetch = new FetchPredsCallback(withDecoded: true);
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([trace]);
        learn.Fit(2, cbs: [fetch]);

        using var after = learn.GetPreds();
        Assert.That(fetch.Preds, Is.Not.Null);
        Assert.That(Same(fetch.Preds!.Preds!, after.Preds!), Is.True, "the last epoch's predictions are the trained model's");
        Assert.That(fetch.Preds.Decoded!.shape, Is.EqualTo(new long[] { 16, 1 }));
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(2), "the recorder was back for the epochs");
        Assert.That(learn.Cbs.OfType<Recorder>().Count(), Is.EqualTo(1));
        // The inner prediction dispatches only the validate phase (fastai's inner=True) to the callbacks that stay.
        var epoch = trace.Trace.SkipWhile(e => e != "after_train").Skip(1).TakeWhile(e => e != "after_epoch").ToArray();
        string[] expected = ["before_validate", .. Repeat(ValidBatch, 1), "after_validate", "before_validate", .. Repeat(ValidBatch, 1), "after_validate"];
        Assert.That(epoch, Is.EqualTo(expected));
        fetch.Dispose();
    }
}
