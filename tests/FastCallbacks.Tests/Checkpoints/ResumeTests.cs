using FastCallbacks.Checkpoints.Worker;

namespace FastCallbacks.Tests.Checkpoints;

using static Library.LibraryData;

/// <summary>
/// A fit stopped anywhere (in process here: an exception; tests/FastCallbacks.Checkpoints.Worker kills real processes)
/// and resumed from its last checkpoint ends exactly as an uninterrupted fit: the same weights, Recorder history, CSV
/// and best-model file, bit for bit.
/// </summary>
public partial class ResumeTests
{
    private sealed class Crash(int epoch, int batch, Event at) : Exception($"crash at batch {batch} of epoch {epoch} ({at})");

    /// <summary>Throws at <paramref name="at"/> of training batch <paramref name="batch"/> of <paramref name="epoch"/> (or at the epoch's <paramref name="at"/> when batch is -1).</summary>
    private sealed partial class Crasher(int epoch, int batch, Event at) : Callback
    {
        public override int Order => int.MaxValue;

        [On(Event.AfterBatch), On(Event.AfterEpoch), On(Event.BeforeBatch), On(Event.AfterValidate)]
        private void Maybe(Event e)
        {
            var learn = Attached;
            if (e != at || learn.Epoch != epoch) return;
            if (batch >= 0 && (!learn.Training || learn.Iter != batch)) return;
            throw new Crash(epoch, batch, at);
        }
    }

    private static Scenario.Outcome Uninterrupted(Scenario scenario)
    {
        using var learn = scenario.NewLearner(modelSeed: 1);
        scenario.Fit(learn);
        return scenario.Capture(learn);
    }

    private static Scenario.Outcome CrashThenResume(Scenario scenario, params (int Epoch, int Batch, Event At)[] crashes)
    {
        var seed = 1;
        foreach (var (epoch, batch, at) in crashes)
        {
            using var learn = scenario.NewLearner(modelSeed: seed++, extra: [new Crasher(epoch, batch, at)]);
            var ex = Assert.Throws<CallbackException>(() => scenario.Fit(learn, File.Exists(scenario.CheckpointFile) ? "checkpoint" : null));
            Assert.That(ex!.InnerException, Is.InstanceOf<Crash>());
        }
        using var resumed = scenario.NewLearner(modelSeed: 99);
        scenario.Fit(resumed, "checkpoint");
        return scenario.Capture(resumed);
    }

    [TestCase(1, 4, Event.AfterBatch, TestName = "Mid-epoch: after a batch between two checkpoints")]
    [TestCase(1, 5, Event.BeforeBatch, TestName = "Mid-epoch: right after a batch checkpoint")]
    [TestCase(2, -1, Event.AfterValidate, TestName = "In validation, after the last batch checkpoint of the epoch")]
    [TestCase(0, -1, Event.AfterEpoch, TestName = "At an epoch's end, before its checkpoint")]
    [TestCase(3, 9, Event.AfterBatch, TestName = "The last training batch of the fit")]
    public void A_crashed_fit_resumes_to_the_same_result(int epoch, int batch, Event at)
    {
        using var a = NewTempDir();
        using var b = NewTempDir();
        var expected = Uninterrupted(new Scenario(a.Path));
        Assert.That(CrashThenResume(new Scenario(b.Path), (epoch, batch, at)).Differences(expected), Is.Empty);
    }

    [Test]
    public void Several_crashes_in_one_fit_resume_to_the_same_result()
    {
        using var a = NewTempDir();
        using var b = NewTempDir();
        var expected = Uninterrupted(new Scenario(a.Path));
        Assert.That(CrashThenResume(new Scenario(b.Path), (0, 7, Event.AfterBatch), (1, 2, Event.BeforeBatch), (2, -1, Event.AfterEpoch), (3, 1, Event.AfterBatch))
            .Differences(expected), Is.Empty);
    }

    [Test]
    public void With_data_workers_and_training_metrics_too()
    {
        using var a = NewTempDir();
        using var b = NewTempDir();
        var expected = Uninterrupted(new Scenario(a.Path, numWorkers: 2, trainMetrics: true));
        Assert.That(CrashThenResume(new Scenario(b.Path, numWorkers: 2, trainMetrics: true), (1, 6, Event.AfterBatch)).Differences(expected), Is.Empty);
    }
}
