using FastCallbacks.Tests.Reliability;

namespace FastCallbacks.Tests.Data;

/// <summary>
/// Workers under a learner: live tensors flat across epochs; a fit cancelled, stopped early or failed by an item or a
/// transform leaves no tensor and no thread behind, names the failure, and leaves the learner usable.
/// </summary>
public partial class WorkerFitTests
{
    /// <summary>Live tensors at the end of every epoch, after the other callbacks.</summary>
    public sealed partial class EpochProbe : Callback
    {
        public readonly List<long> Live = [];
        public override int Order => 1000;

        [On(Event.AfterEpoch)]
        private void Measure() => Live.Add(Leaks.LiveTensors());
    }

    /// <summary>Cancels the fit with the token after <paramref name="batches"/> training batches.</summary>
    public sealed partial class CancelAfter(CancellationTokenSource cts, int batches) : Callback
    {
        private int _seen;

        [On(Event.AfterBatch)]
        private void Count()
        {
            if (Training && ++_seen == batches) cts.Cancel();
        }
    }

    /// <summary>Counts training and validation batches.</summary>
    public sealed partial class BatchCounter : Callback
    {
        public int Train, Valid;

        [On(Event.BeforeBatch)]
        private void Count()
        {
            if (Training) Train++;
            else Valid++;
        }
    }

    /// <summary>16 training batches of 4 (items 0..63) and 4 validation batches of 4, unshuffled; training loads on 2 workers.</summary>
    /// <remarks>With <paramref name="made"/>, both loaders run its transforms, which keep every tensor they see.</remarks>
    private static DataLoaders Dls(utils.data.Dataset? train = null, int workers = 2, Made? made = null) => new(
        new DatasetDataLoader(train ?? new NumberedDataset(64), 4, ["x"], ["y"], numWorkers: workers, itemTransform: made?.Items, batchTransform: made?.Batches),
        new DatasetDataLoader(new NumberedDataset(16), 4, ["x"], ["y"], numWorkers: workers, itemTransform: made?.Items, batchTransform: made?.Batches));

    private static Learner NewLearner(DataLoaders dls, params Callback[] cbs) =>
        new(dls, TestData.LinearModel(2, 1), TestData.Mse, lr: 1e-3, cbs: cbs) { Logger = null };

    /// <summary>A learner whose optimizer state exists already (one epoch on good data), and the live tensors then.</summary>
    private static (Learner Learn, long Baseline) Warm(DataLoaders dls, params Callback[] cbs)
    {
        var learn = NewLearner(dls, cbs);
        learn.Fit(1, cbs: []);
        return (learn, Leaks.LiveTensors());
    }

    [Test]
    public void Live_tensors_stay_flat_across_epochs_with_workers()
    {
        var probe = new EpochProbe();
        var made = new Made();
        using var learn = NewLearner(Dls(made: made), probe);
        learn.Fit(1);
        var before = Leaks.LiveTensors();
        learn.Fit(5);
        Assert.That(probe.Live.Skip(1), Is.All.EqualTo(before), "after every epoch, the live tensors of the start");
        Assert.That(Leaks.LiveTensors(), Is.EqualTo(before), "and after the fit");
        Assert.That(Leaks.WorkerThreads(), Is.Empty, "the workers of each pass are gone");
        Assert.That(made.Count, Is.EqualTo(6 * 20 * 4 * 2 + 6 * 20 * 4), "6 epochs of 20 batches: items (x, y) and batches (2 in, 2 out) seen");
        Assert.That(made.Alive, Is.Zero, "each one disposed on time, none left to the garbage collector");
    }

    public enum Stop { Token, CancelFit, ShortEpoch, HandlerFails }

    [Test]
    public void A_fit_cancelled_failed_or_stopped_early_mid_epoch_leaves_no_tensor_and_no_thread([Values] Stop stop)
    {
        var counter = new BatchCounter();
        var made = new Made();
        var (learn, baseline) = Warm(Dls(new NumberedDataset(64, slowEvery: 3), made: made), counter);
        using (learn)
        {
            using var cts = new CancellationTokenSource();
            Callback trigger = stop switch
            {
                Stop.Token => new CancelAfter(cts, 5),
                Stop.CancelFit => new Reliability.RaiseOnce(Event.AfterBatch, () => new CancelFitException()),
                Stop.HandlerFails => new Reliability.RaiseOnce(Event.AfterBatch, () => new InvalidOperationException("a handler fails")),
                _ => new ShortEpochCallback(pct: 0.3),
            };
            counter.Train = 0;
            if (stop == Stop.HandlerFails) Assert.Throws<CallbackException>(() => learn.Fit(3, cbs: [trigger]));
            else learn.Fit(3, cbs: [trigger], cancellationToken: cts.Token);

            Assert.That(counter.Train, stop switch
            {
                Stop.Token => Is.EqualTo(5),
                Stop.CancelFit or Stop.HandlerFails => Is.EqualTo(1),
                _ => Is.EqualTo(3 * 6), // batch 5 of 16 reaches 30 %
            }, "the fit stopped where it was told, mid-epoch");
            Assert.That(Leaks.WorkerThreads(), Is.Empty, "no data worker left");
            Assert.That(Leaks.LiveTensors(), Is.EqualTo(baseline), "no tensor left: neither the batches prepared ahead nor the items");
            Assert.That(made.Alive, Is.Zero, "every tensor made for a batch disposed, taken or not");
            learn.Fit(1);
            Assert.That(Leaks.LiveTensors(), Is.EqualTo(baseline), "and the learner trains on");
        }
    }

    [TestCase(0)]
    [TestCase(2)]
    public void A_failing_item_mid_epoch_names_the_item_and_the_dataset_and_leaves_nothing_behind(int workers)
    {
        var counter = new BatchCounter();
        var broken = new NumberedDataset(64, failAt: 37);
        var made = new Made();
        var (learn, baseline) = Warm(Dls(), counter);
        using (learn)
        {
            counter.Train = 0;
            var good = learn.Dls;
            learn.Dls = Dls(broken, workers, made);
            var error = Assert.Throws<DataLoaderException>(() => learn.Fit(1))!;
            learn.Dls = good;
            Assert.That(made.Count, Is.GreaterThan(0));
            Assert.That(made.Alive, Is.Zero, "every tensor made for a batch disposed");

            Assert.That(error.Message, Does.StartWith("Loading item 37 of dataset NumberedDataset (64 items) failed (batch 9 of epoch 0"));
            Assert.That(error.Message, Does.Contain("InvalidOperationException: item 37 is broken."));
            Assert.That(error.ItemIndex, Is.EqualTo(37));
            Assert.That(error.BatchIndex, Is.EqualTo(9));
            Assert.That(error.InnerException, Is.InstanceOf<InvalidOperationException>());
            Assert.That(counter.Train, Is.EqualTo(9), "the batches before the broken one trained, as without workers");
            if (workers > 0)
            {
                Assert.That(error.Message, Does.Contain($"on data worker"));
                // Claimed at most: the 9 taken, the failed one, and 2 x 2 ahead of the taker: the others stopped.
                Assert.That(broken.Loads, Is.LessThanOrEqualTo(4 * (9 + 1 + 4)), "the other workers stopped claiming batches");
            }
            Assert.That(Leaks.WorkerThreads(), Is.Empty);
            Assert.That(Leaks.LiveTensors(), Is.EqualTo(baseline));
            learn.Fit(1);
            Assert.That(Leaks.LiveTensors(), Is.EqualTo(baseline), "the learner trains on with good data");
        }
    }

    public enum Transform { Item, Batch }

    [Test]
    public void A_failing_transform_mid_epoch_names_the_batch_and_leaves_nothing_behind([Values] Transform which, [Values(0, 2)] int workers)
    {
        var (learn, baseline) = Warm(Dls());
        using (learn)
        {
            var made = which == Transform.Item
                ? new Made(failItem: ctx => ctx.ItemIndex == 22)
                : new Made(failBatch: ctx => ctx.BatchIndex == 5);
            var good = learn.Dls;
            learn.Dls = Dls(workers: workers, made: made);
            var error = Assert.Throws<DataLoaderException>(() => learn.Fit(1))!;
            learn.Dls = good;

            Assert.That(error.Message, Does.StartWith(which == Transform.Item
                ? "The item transform failed on item 22 of dataset NumberedDataset (64 items) (batch 5 of epoch 0"
                : "The batch transform failed on batch 5 of dataset NumberedDataset (64 items) (batch 5 of epoch 0, items 20, 21, 22, 23"));
            Assert.That(error.ItemIndex, Is.EqualTo(which == Transform.Item ? 22 : null));
            Assert.That(error.InnerException, Is.InstanceOf<ArgumentException>());
            Assert.That(made.Count, Is.GreaterThan(0));
            Assert.That(made.Alive, Is.Zero, "every tensor made for a batch disposed, the failed batch's too");
            Assert.That(Leaks.WorkerThreads(), Is.Empty);
            Assert.That(Leaks.LiveTensors(), Is.EqualTo(baseline));
        }
    }

    [Test]
    public void DataWaitCallback_reports_the_wait_before_every_batch()
    {
        // 0 workers, 4 items of at least 5 ms per batch: every batch waits at least 20 ms for its data.
        var dls = new DataLoaders(
            new DatasetDataLoader(new NumberedDataset(16, slowEvery: 1, slowMs: 5), 4, ["x"], ["y"], numWorkers: 0),
            new DatasetDataLoader(new NumberedDataset(8, slowEvery: 1, slowMs: 5), 4, ["x"], ["y"], numWorkers: 0));
        var wait = new DataWaitCallback();
        using var learn = NewLearner(dls, wait);
        learn.Fit(2);
        Assert.That(wait.TrainWaits, Has.Count.EqualTo(8));
        Assert.That(wait.ValidWaits, Has.Count.EqualTo(4));
        Assert.That(wait.TrainWaits.Concat(wait.ValidWaits), Is.All.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(20)));
        Assert.That(wait.MeanTrainWait, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(20)));
        learn.Fit(1);
        Assert.That(wait.TrainWaits, Has.Count.EqualTo(4), "each run starts new lists");
    }
}
