namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// A handler fails in the second epoch (at each event of an epoch, and at after_fit): what callbacks wrote before
/// is complete and readable. Checkpoints (SaveModelCallback, every epoch) load and hold the weights of their epoch;
/// the CSV log (CsvLogger) has its header and one complete row per finished epoch.
/// </summary>
public partial class FilesOnFailureTests
{
    /// <summary>Throws the first time it sees <c>at</c> in epoch 1 (or at after_fit).</summary>
    public sealed partial class FailInSecondEpoch(Event at) : Callback
    {
        private bool _fired;
        public override int Order => 1;

        [On(Event.BeforeEpoch), On(Event.BeforeTrain), On(Event.BeforeBatch), On(Event.AfterPred), On(Event.AfterLoss)]
        [On(Event.BeforeBackward), On(Event.AfterBackward), On(Event.BeforeStep), On(Event.AfterStep), On(Event.AfterBatch)]
        [On(Event.AfterTrain), On(Event.BeforeValidate), On(Event.AfterValidate), On(Event.AfterEpoch), On(Event.AfterFit)]
        private void Maybe(Event e)
        {
            if (e != at || _fired || (e != Event.AfterFit && Epoch != 1)) return;
            _fired = true;
            throw new IOException($"disk on fire in {Events.Name(e)}");
        }
    }

    /// <summary>The weights at the end of every epoch, after SaveModelCallback (61).</summary>
    public sealed partial class EpochWeights : Callback
    {
        public readonly List<float[][]> AtEpochEnd = [];
        public override int Order => 100;
        [On(Event.AfterEpoch)] private void Copy() => AtEpochEnd.Add(Tiny.Weights(Attached));
    }

    public static IEnumerable<TestCaseData> Cases() =>
        new[] { Event.BeforeEpoch, Event.BeforeTrain, Event.BeforeBatch, Event.AfterPred, Event.AfterLoss, Event.BeforeBackward,
            Event.AfterBackward, Event.BeforeStep, Event.AfterStep, Event.AfterBatch, Event.AfterTrain, Event.BeforeValidate,
            Event.AfterValidate, Event.AfterEpoch, Event.AfterFit }
        .Select(e => new TestCaseData(e).SetName($"Checkpoints_are_complete_after_a_failure_in_{Events.Name(e)}"));

    [TestCaseSource(nameof(Cases))]
    public void Checkpoints_are_complete_after_a_failure(Event at)
    {
        var dir = Tiny.TempDir();
        try
        {
            var weights = new EpochWeights();
            var csv = new CsvLogger("history.csv");
            using var learn = Tiny.Learner([weights, csv]);
            learn.Path = dir;
            learn.MessageWriter = null;
            var save = new SaveModelCallback(everyEpoch: 1);

            var ex = Assert.Throws<CallbackException>(() => learn.Fit(3, cbs: [save, new FailInSecondEpoch(at)]))!;
            Assert.That(ex.InnerException, Is.TypeOf<IOException>());

            // A failure inside epoch 1 (its after_epoch included: the thrower runs before SaveModelCallback) leaves
            // epoch 0's checkpoint; a failure at after_fit comes after all three.
            var epochsSaved = at == Event.AfterFit ? 3 : 1;
            var expectedFiles = Enumerable.Range(0, epochsSaved).Select(i => $"model_{i}.pt");
            Assert.That(Directory.GetFiles(System.IO.Path.Combine(dir, "models")).Select(System.IO.Path.GetFileName).Order(),
                Is.EqualTo(expectedFiles), "the checkpoints of finished epochs, and no temporary files");
            Assert.That(weights.AtEpochEnd, Has.Count.EqualTo(epochsSaved));
            for (var i = 0; i < epochsSaved; i++)
            {
                using var reader = new Learner(Tiny.Dls(), TestData.LinearModel(seed: 7), TestData.Mse, path: dir) { Logger = null, MessageWriter = null };
                reader.Load($"model_{i}", withOpt: false);
                Assert.That(Tiny.Weights(reader), Is.EqualTo(weights.AtEpochEnd[i]), $"model_{i} holds epoch {i}'s weights");
            }
            Assert.That(learn.Cbs, Does.Not.Contain(save));

            // The CSV: the header, then one complete row per finished epoch, readable while nothing holds it open.
            var lines = File.ReadAllLines(System.IO.Path.Combine(dir, "history.csv"));
            Assert.That(lines[0], Is.EqualTo("epoch,train_loss,valid_loss,time"));
            Assert.That(lines.Skip(1), Has.Exactly(epochsSaved).Matches<string>(l => l.Split(',').Length == 4));
            var rows = csv.Read();
            Assert.That(rows.Select(r => r["epoch"]), Is.EqualTo(Enumerable.Range(0, epochsSaved).Select(i => i.ToString())));
            Assert.That(rows.Select(r => double.Parse(r["valid_loss"], System.Globalization.CultureInfo.InvariantCulture)), Is.All.Positive);
            using (File.Open(System.IO.Path.Combine(dir, "history.csv"), FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>ProgressCallback and CsvLogger both replace the logger during a fit; after it, ended well or not, it is the user's again.</summary>
public partial class LoggerRestoreTests
{
    [TestCase(false, TestName = "Logger_is_the_users_again_after_a_fit_with_progress_and_csv")]
    [TestCase(true, TestName = "Logger_is_the_users_again_after_a_failed_fit_with_progress_and_csv")]
    public void Logger_is_the_users_again(bool fail)
    {
        var dir = Tiny.TempDir();
        try
        {
            using var learn = Tiny.Learner([new CsvLogger(System.IO.Path.Combine(dir, "history.csv"))]);
            var rows = (List<EpochLog>)learn.Logger!.Target!;
            Callback[] cbs = fail ? [new RaiseOnce(Event.AfterEpoch, () => new InvalidOperationException("boom"))] : [];
            if (fail) Assert.Throws<CallbackException>(() => learn.Fit(2, cbs: cbs));
            else learn.Fit(2);
            Assert.That(learn.Logger, Is.EqualTo((Action<EpochLog>)rows.Add), "the very delegate the user set");

            // And the chain is rebuilt cleanly by the next fits: each row reaches the user once.
            rows.Clear();
            learn.Fit(2);
            learn.Fit(1, cbs: [new CsvLogger(System.IO.Path.Combine(dir, "other.csv"))]);
            Assert.That(rows.Select(r => r.Epoch), Is.EqualTo(new[] { 0, 1, 0 }));
            Assert.That(learn.Logger, Is.EqualTo((Action<EpochLog>)rows.Add));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
