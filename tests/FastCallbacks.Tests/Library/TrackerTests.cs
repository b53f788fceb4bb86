namespace FastCallbacks.Tests.Library;

using static LibraryData;

/// <summary>
/// Trackers on scripted numbers: a <see cref="LibraryData.ScriptedMetric"/> is a real Recorder column whose value at
/// epoch n is fixed, so improvements happen exactly where the test says.
/// </summary>
public partial class TrackerTests
{
    private static Learner LearnerWith(string metric, double[] values, List<string> messages, params Callback[] cbs)
    {
        var learn = TestData.RegressionLearner(cbs);
        learn.Metrics = [new ScriptedMetric(metric, values)];
        learn.MessageWriter = messages.Add;
        learn.Logger = null;
        return learn;
    }

    [Test]
    public void EarlyStopping_stops_after_patience_epochs_without_improvement()
    {
        var messages = new List<string>();
        var trace = new TraceCallback();
        //                     epoch:  0  1  2    3    4  5
        double[] scripted = [5, 4, 4.5, 4.2, 3, 1];
        using var learn = LearnerWith("scripted_loss", scripted, messages, new EarlyStoppingCallback("scripted_loss", patience: 2), trace);
        learn.Fit(10);
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(4), "epochs 0-3 ran; epoch 3 was the second without improvement");
        Assert.That(messages, Is.EqualTo(new[] { "No improvement since epoch 1: early stopping" }));
        Assert.That(trace.Trace.TakeLast(2), Is.EqualTo(new[] { "after_cancel_fit", "after_fit" }));
    }

    [Test]
    public void EarlyStopping_with_greater_is_better_and_min_delta()
    {
        var messages = new List<string>();
        // "accuracy" → greater is better. minDelta 0.1: 0.55 does not beat 0.5 by enough.
        using var learn = LearnerWith("accuracy", [0.5, 0.55, 0.58, 0.9], messages,
            new EarlyStoppingCallback("accuracy", minDelta: 0.1, patience: 2));
        learn.Fit(10);
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(3));
        Assert.That(messages, Is.EqualTo(new[] { "No improvement since epoch 0: early stopping" }));
    }

    [Test]
    public void Tracker_with_an_unknown_monitor_names_the_columns()
    {
        using var learn = TestData.RegressionLearner([new EarlyStoppingCallback("accuracy")]);
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1));
        Assert.That(ex!.InnerException!.Message, Does.Contain("`accuracy`").And.Contain("train_loss, valid_loss, time"));
    }

    [Test]
    public void Trackers_stand_aside_for_a_callback_that_disables_them()
    {
        var early = new EarlyStoppingCallback("scripted_loss", patience: 1);
        var messages = new List<string>();
        using var learn = LearnerWith("scripted_loss", [1, 2, 3, 4], messages, early);
        learn.Fit(4, cbs: [new FakeLRFinder()]);
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(4), "no early stop while the LR finder runs");
        Assert.That(messages, Is.Empty);
        Assert.That(early.Run, Is.True);
    }

    private sealed partial class FakeLRFinder : Callback, IDisablesTrackers;

    [Test]
    public void SaveModel_keeps_the_best_model_and_loads_it_at_the_end()
    {
        using var dir = NewTempDir();
        var messages = new List<string>();
        Tensor[]? atBest = null;
        var snapshot = Callback.Create((Event.AfterEpoch, l => { if (l.Epoch == 1) atBest = Weights(l.Model); }));
        //                              epoch: 0  1  2  3
        using var learn = LearnerWith("scripted_loss", [3, 1, 2, 5], messages, new SaveModelCallback("scripted_loss"), snapshot);
        learn.Path = dir.Path;
        learn.Fit(4);
        var final = Weights(learn.Model);

        Assert.That(messages, Is.EqualTo(new[]
        {
            "Better model found at epoch 0 with scripted_loss value: 3.",
            "Better model found at epoch 1 with scripted_loss value: 1.",
        }));
        Assert.That(SameWeights(final, atBest!), Is.True, "the model of epoch 1 is back");
        Assert.That(File.Exists(System.IO.Path.Combine(dir.Path, "models", "model.pt")), Is.True);
    }

    [Test]
    public void SaveModel_every_epoch_writes_one_file_per_epoch()
    {
        using var dir = NewTempDir();
        var save = new SaveModelCallback(everyEpoch: 2, fname: "ck");
        using var learn = TestData.RegressionLearner([save]);
        learn.Path = dir.Path;
        learn.Logger = null;
        learn.Fit(5);
        var files = Directory.GetFiles(System.IO.Path.Combine(dir.Path, "models")).Select(System.IO.Path.GetFileName).Order();
        Assert.That(files, Is.EqualTo(new[] { "ck_0.pt", "ck_2.pt", "ck_4.pt" }));
        Assert.Throws<ArgumentException>(() => _ = new SaveModelCallback(everyEpoch: 1, atEnd: true));
    }

    [Test]
    public void ReduceLROnPlateau_divides_the_lr_after_patience_epochs()
    {
        var messages = new List<string>();
        var lrAtEpochEnd = new List<double>();
        var lrs = Callback.Create((Event.AfterFit, _ => { }), (Event.AfterEpoch, l => lrAtEpochEnd.Add(Hyperparameters.GetLr(l.Opt!))));
        //                               epoch: 0  1  2    3    4  5
        using var learn = LearnerWith("scripted_loss", [3, 2, 2.5, 2.6, 1, 1.5], messages,
            new ReduceLROnPlateau("scripted_loss", patience: 1, factor: 10, minLr: 2e-4), lrs);
        learn.Fit(6, lr: 0.1);
        // lrs runs at order 0, before the tracker (62): it sees the lr the epoch trained with.
        Assert.That(lrAtEpochEnd, Is.EqualTo(new[] { 0.1, 0.1, 0.1, 0.01, 0.001, 0.001 }).Within(1e-12));
        Assert.That(Hyperparameters.GetLr(learn.Opt!), Is.EqualTo(2e-4).Within(1e-12), "not below minLr");
        Assert.That(messages, Is.EqualTo(new[] { "Epoch 2: reducing lr to 0.01", "Epoch 3: reducing lr to 0.001", "Epoch 5: reducing lr to 0.0002" }));
        Assert.That(learn.Recorder!.Lrs.Skip(9).Take(3), Is.All.EqualTo(0.01).Within(1e-12), "epoch 3 trains with the reduced lr");
    }

    [Test]
    public void Tracker_orders_are_fastai_s()
    {
        Assert.That(new TrackerCallback().Order, Is.EqualTo(60));
        Assert.That(new SaveModelCallback().Order, Is.EqualTo(61));
        Assert.That(new ReduceLROnPlateau().Order, Is.EqualTo(62));
        Assert.That(new EarlyStoppingCallback().Order, Is.EqualTo(63));
        Assert.That(new TerminateOnNaNCallback().Order, Is.EqualTo(-9));
        Assert.That(new GradientAccumulation().Order, Is.EqualTo(6));
        Assert.That(new GradientClip().Order, Is.EqualTo(11));
        Assert.That(new EarlyStoppingCallback().Name, Is.EqualTo("early_stopping"));
        Assert.That(new ReduceLROnPlateau().Name, Is.EqualTo("reduce_lr_on_plateau"));
        Assert.That(new TrackerCallback("valid_loss").LowerIsBetter, Is.True);
        Assert.That(new TrackerCallback("error_rate").LowerIsBetter, Is.True);
        Assert.That(new TrackerCallback("accuracy").LowerIsBetter, Is.False);
    }
}
