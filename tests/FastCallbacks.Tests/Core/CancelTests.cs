namespace FastCallbacks.Tests.Core;

using static EventTraceTests;

/// <summary>Each cancel exception, raised where fastai catches it, leads to fastai's trace.</summary>
public partial class CancelTests
{
    private static List<string> FitWith(Event at, Func<Exception> make, int epochs = 1, bool once = true)
    {
        var trace = new TraceCallback();
        // The thrower runs after the tracer (order 1 > 0), so the trace shows the event it throws from.
        using var learn = TestData.RegressionLearner([new ThrowOnEvent(at, make, once, order: 1), trace]);
        trace.Trace.Clear();
        learn.Fit(epochs);
        return trace.Trace;
    }

    [Test]
    public void CancelBatch_in_before_batch_skips_to_after_batch()
    {
        var trace = FitWith(Event.BeforeBatch, () => new CancelBatchException());
        string[] first = ["before_batch", "after_cancel_batch", "after_batch"];
        string[] expected = ["before_fit", "before_epoch", "before_train", .. first, .. Repeat(TrainBatch, 2), "after_train",
            "before_validate", .. Repeat(ValidBatch, 1), "after_validate", "after_epoch", "after_fit"];
        Assert.That(trace, Is.EqualTo(expected));
    }

    [Test]
    public void CancelBatch_in_after_step_skips_zero_grad()
    {
        var zeroGradSkipped = false;
        var trace = new TraceCallback();
        var check = Callback.Create((Event.AfterBatch, l =>
        {
            if (l.Iter == 0 && l.Training) zeroGradSkipped = l.Model.parameters().Any(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        }));
        using var learn = TestData.RegressionLearner([new ThrowOnEvent(Event.AfterStep, () => new CancelBatchException(), order: 1), trace, check]);
        learn.Fit(1);
        Assert.That(zeroGradSkipped, Is.True, "gradients must survive a batch cancelled after the step (no zero_grad)");
        Assert.That(trace.Trace.Skip(1).Take(12), Is.EqualTo(new[] { "before_fit", "before_epoch", "before_train", "before_batch", "after_pred", "after_loss",
            "before_backward", "after_backward", "before_step", "after_step", "after_cancel_batch", "after_batch" }));
    }

    [Test]
    public void CancelBackward_skips_only_backward()
    {
        var trace = FitWith(Event.BeforeBackward, () => new CancelBackwardException());
        string[] first = ["before_batch", "after_pred", "after_loss", "before_backward", "after_cancel_backward", "after_backward", "before_step", "after_step", "after_batch"];
        Assert.That(trace.Skip(3).Take(first.Length), Is.EqualTo(first));
        Assert.That(trace, Has.Count.EqualTo(3 + first.Length + 2 * TrainBatch.Length + 1 + 1 + ValidBatch.Length + 3));
    }

    [Test]
    public void CancelStep_skips_the_step_and_after_cancel_step_is_not_filtered()
    {
        var trace = FitWith(Event.BeforeStep, () => new CancelStepException());
        string[] first = ["before_batch", "after_pred", "after_loss", "before_backward", "after_backward", "before_step", "after_cancel_step", "after_step", "after_batch"];
        Assert.That(trace.Skip(3).Take(first.Length), Is.EqualTo(first));
    }

    [Test]
    public void CancelStep_leaves_weights_unchanged()
    {
        using var learn = TestData.RegressionLearner([new ThrowOnEvent(Event.BeforeStep, () => new CancelStepException(), once: false)]);
        var before = learn.Model.parameters().Select(p => p.detach().clone()).ToArray();
        learn.Fit(1);
        var after = learn.Model.parameters().ToArray();
        for (var i = 0; i < before.Length; i++) Assert.That(after[i].allclose(before[i], rtol: 0, atol: 0), Is.True);
    }

    [Test]
    public void CancelTrain_goes_to_after_train_then_validates()
    {
        var trace = FitWith(Event.BeforeBatch, () => new CancelTrainException());
        string[] expected = ["before_fit", "before_epoch", "before_train", "before_batch", "after_cancel_train", "after_train",
            "before_validate", .. Repeat(ValidBatch, 1), "after_validate", "after_epoch", "after_fit"];
        Assert.That(trace, Is.EqualTo(expected));
    }

    [Test]
    public void CancelValid_goes_to_after_validate()
    {
        var trace = FitWith(Event.BeforeValidate, () => new CancelValidException());
        string[] expected = ["before_fit", .. Epoch(3, 0).Take(2 + 3 * TrainBatch.Length + 1), "before_validate", "after_cancel_validate", "after_validate", "after_epoch", "after_fit"];
        Assert.That(trace, Is.EqualTo(expected));
    }

    [Test]
    public void CancelEpoch_skips_the_rest_of_the_epoch_and_the_next_epoch_runs()
    {
        var trace = FitWith(Event.AfterTrain, () => new CancelEpochException(), epochs: 2);
        string[] expected = ["before_fit", "before_epoch", "before_train", .. Repeat(TrainBatch, 3), "after_train", "after_cancel_epoch", "after_epoch",
            .. Epoch(3, 1), "after_fit"];
        Assert.That(trace, Is.EqualTo(expected));
    }

    [Test]
    public void CancelFit_skips_every_after_of_interrupted_levels()
    {
        var trace = FitWith(Event.AfterPred, () => new CancelFitException(), epochs: 3);
        string[] expected = ["before_fit", "before_epoch", "before_train", "before_batch", "after_pred", "after_cancel_fit", "after_fit"];
        Assert.That(trace, Is.EqualTo(expected));
    }

    [Test]
    public void CancelBatch_from_after_batch_is_not_caught_and_escapes_fit_unwrapped()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([new ThrowOnEvent(Event.AfterBatch, () => new CancelBatchException(), order: 1), trace]);
        Assert.Throws<CancelBatchException>(() => learn.Fit(1));
        Assert.That(trace.Trace.Last(), Is.EqualTo("after_batch"), "nothing runs after the escaping exception: no after_train, after_epoch, after_fit");
    }

    [Test]
    public void Cancelled_token_ends_the_fit_like_CancelFit()
    {
        using var cts = new CancellationTokenSource();
        var trace = new TraceCallback();
        var cancelAfterFirst = Callback.Create((Event.AfterBatch, _ => cts.Cancel()));
        using var learn = TestData.RegressionLearner([cancelAfterFirst, trace]);
        trace.Trace.Clear();
        learn.Fit(2, cancellationToken: cts.Token);
        string[] expected = ["before_fit", "before_epoch", "before_train", .. TrainBatch, "after_cancel_fit", "after_fit"];
        Assert.That(trace.Trace, Is.EqualTo(expected));
    }
}

/// <summary>Batches cancelled before their loss, after the first: nothing of the previous batch is read.</summary>
public partial class CancelledBatchStateTests
{
    [Test]
    public void A_batch_cancelled_in_before_batch_has_no_loss_and_the_recorder_skips_it()
    {
        var seen = new List<(bool Training, bool HasPred, bool HasLoss)>();
        var skipEveryOther = Callback.Create(
            (Event.BeforeBatch, l => { if (l.Iter % 2 == 1) throw new CancelBatchException(); }),
            (Event.AfterBatch, l => seen.Add((l.Training, l.Pred is not null, l.Loss is not null))));
        using var learn = TestData.RegressionLearner([skipEveryOther], n: 64, batchSize: 8);
        learn.Metrics = [Metrics.Mse()];

        Assert.DoesNotThrow(() => learn.Fit(2));

        // 48 training rows in 6 batches, 16 validation rows in 1 batch of 16, per epoch.
        Assert.That(seen.Where(s => s.Training).Select(s => s.HasLoss), Is.EqualTo(new[] { true, false, true, false, true, false, true, false, true, false, true, false }));
        Assert.That(seen.All(s => s.HasPred == s.HasLoss), Is.True);
        var recorder = learn.Recorder!;
        Assert.That(recorder.Losses, Has.Count.EqualTo(6), "the smoothed loss counts the 3 trained batches of each epoch");
        Assert.That(recorder.Values.SelectMany(v => v), Is.All.Not.Null.And.All.Matches<double?>(v => double.IsFinite(v!.Value)));
    }
}
