namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// A handler fails in the second epoch (at each event of an epoch, and at after_fit): what callbacks wrote before
/// is complete and readable. Checkpoints (SaveModelCallback, every epoch) load and hold the weights of their epoch.
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
            using var learn = new Learner(Tiny.Dls(), TestData.LinearModel(), TestData.Mse, lr: 0.05, cbs: [weights], path: dir)
                { Logger = null, MessageWriter = null };
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
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
