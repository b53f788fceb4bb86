namespace FastCallbacks.Tests.Core;

/// <summary>The loop dispatches fastai's events in fastai's order.</summary>
public partial class EventTraceTests
{
    internal static readonly string[] TrainBatch =
        ["before_batch", "after_pred", "after_loss", "before_backward", "after_backward", "before_step", "after_step", "after_batch"];

    internal static readonly string[] ValidBatch = ["before_batch", "after_pred", "after_loss", "after_batch"];

    internal static IEnumerable<string> Epoch(int trainBatches, int validBatches) =>
        ["before_epoch", "before_train", .. Repeat(TrainBatch, trainBatches), "after_train",
         "before_validate", .. Repeat(ValidBatch, validBatches), "after_validate", "after_epoch"];

    internal static IEnumerable<string> Repeat(string[] block, int times) => Enumerable.Repeat(block, times).SelectMany(b => b);

    [Test]
    public void Fit_of_two_epochs_dispatches_fastai_order()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([trace]);
        Assert.That(trace.Trace, Is.EqualTo(new[] { "after_create" }));
        trace.Trace.Clear();

        learn.Fit(2);

        string[] expected = ["before_fit", .. Epoch(3, 1), .. Epoch(3, 1), "after_fit"];
        Assert.That(trace.Trace, Is.EqualTo(expected));
    }

    [Test]
    public void Fit_without_validation_set_runs_an_empty_validate_phase()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([trace], validPct: 0);
        trace.Trace.Clear();

        learn.Fit(1);

        string[] expected = ["before_fit", .. Epoch(4, 0), "after_fit"];
        Assert.That(trace.Trace, Is.EqualTo(expected));
        Assert.That(learn.Recorder!.Values[0], Is.EqualTo(new double?[] { learn.Recorder.Values[0][0], null }));
        Assert.That(learn.Recorder.MetricNames, Is.EqualTo(new[] { "epoch", "train_loss", "valid_loss", "time" }));
    }

    [Test]
    public void Fit_zero_epochs_dispatches_only_before_and_after_fit()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([trace]);
        trace.Trace.Clear();
        learn.Fit(0);
        Assert.That(trace.Trace, Is.EqualTo(new[] { "before_fit", "after_fit" }));
    }

    [Test]
    public void Unlabelled_batches_are_predicted_but_not_trained()
    {
        var trace = new TraceCallback();
        var x = randn(8, 3);
        var dl = new TensorDataLoader([x], [], batchSize: 4);
        using var learn = new Learner(new DataLoaders(dl), TestData.LinearModel(), TestData.Mse, cbs: [trace]);
        trace.Trace.Clear();
        learn.Fit(1);
        string[] expected = ["before_fit", "before_epoch", "before_train", .. Repeat(ValidBatch, 2), "after_train",
            "before_validate", "after_validate", "after_epoch", "after_fit"];
        Assert.That(trace.Trace, Is.EqualTo(expected));
    }

    [Test]
    public void Learner_state_after_a_fit_matches_fastai()
    {
        using var learn = TestData.RegressionLearner();
        learn.Fit(2);
        Assert.Multiple(() =>
        {
            Assert.That(learn.Epoch, Is.EqualTo(1));
            Assert.That(learn.TrainIter, Is.EqualTo(6));
            Assert.That(learn.PctTrain, Is.EqualTo(1.0).Within(1e-12));
            Assert.That(learn.Training, Is.False);
            Assert.That(learn.Dl, Is.Null);
            Assert.That(learn.Pred, Is.Null);
            Assert.That(learn.Loss, Is.Null);
            Assert.That(learn.Xb, Is.Empty);
        });
    }

    [Test]
    public void Learner_fields_are_set_before_the_events_that_read_them()
    {
        var seen = new List<string>();
        var probe = Callback.Create(
            (Event.BeforeTrain, l => seen.Add($"BT dl={(l.Dl == l.Dls.Train ? "train" : "?")} training={l.Training}")),
            (Event.BeforeBatch, l => seen.Add($"bb iter={l.Iter} niter={l.NIter} xb={l.Xb.Length} pred={(l.Pred is null ? "null" : "old")}")),
            (Event.AfterLoss, l => seen.Add($"al loss={(l.Loss is null ? "null" : "set")} grad={l.LossGrad!.requires_grad} lossgrad={l.Loss!.requires_grad}")),
            (Event.BeforeValidate, l => seen.Add($"BV dl={(l.Dl == l.Dls.Valid ? "valid" : "?")} training={l.Training}")));
        using var learn = TestData.RegressionLearner([probe]);
        learn.Fit(1);
        Assert.That(seen[0], Is.EqualTo("BT dl=train training=True"));
        Assert.That(seen[1], Is.EqualTo("bb iter=0 niter=3 xb=1 pred=null"));
        Assert.That(seen[2], Is.EqualTo("al loss=set grad=True lossgrad=False"));
        Assert.That(seen, Does.Contain("BV dl=valid training=False"));
    }
}
