namespace FastCallbacks.Tests.Library;

/// <summary>
/// A cancelled phase keeps its columns in the Recorder's row (fastai drops them, shifting the later values under the
/// wrong names; docs/coming-from-fastai.md lists the difference).
/// </summary>
public class RecorderCancelTests
{
    [Test]
    public void A_cancelled_training_phase_keeps_its_column_with_what_was_measured()
    {
        using var learn = TestData.RegressionLearner();
        learn.RemoveCbs<ProgressCallback>();
        learn.Logger = null;
        var cancel = Callback.Create((Event.BeforeBatch, l =>
        {
            if (l.Training && l.Epoch == 1 && l.Iter == 1) throw new CancelTrainException();
        }), (Event.BeforeTrain, l =>
        {
            if (l.Epoch == 2) throw new CancelTrainException();
        }));
        learn.Fit(3, cbs: [cancel]);
        var rows = learn.Recorder!.Values;
        Assert.That(learn.Recorder.MetricNames, Is.EqualTo(new[] { "epoch", "train_loss", "valid_loss", "time" }));
        Assert.That(rows.Select(r => r.Count), Is.All.EqualTo(2), "every row has train_loss and valid_loss");
        Assert.That(rows[1][0], Is.Not.Null, "cancelled after one batch: the smoothed loss so far");
        Assert.That(rows[1][0], Is.EqualTo(learn.Recorder.Losses[3]).Within(1e-12), "the smoothed loss after epoch 1's only batch (3 batches in epoch 0)");
        Assert.That(rows[2][0], Is.EqualTo(rows[1][0]), "cancelled before any batch: the smoothed loss, which runs across epochs, as it was");
        Assert.That(rows[2][1], Is.Not.Null, "the validation column is the validation loss, not shifted");
    }
}
