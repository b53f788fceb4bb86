namespace FastCallbacks.Tests.Data;

/// <summary>
/// Data workers (issue 15): the same batches with any number of workers, no tensor and no thread left behind
/// however a pass ends, failures named and surfaced on the training thread, one pass at a time.
/// </summary>
public partial class WorkerTests
{
    /// <summary>fastai's after_item: a random sign from the .NET generator, noise from the torch generator.</summary>
    private static Dictionary<string, Tensor> Jitter(Dictionary<string, Tensor> item, TransformContext ctx)
    {
        var sign = ctx.Random.Next(2) == 0 ? 1f : -1f;
        item["x"] = item["x"] * sign + randn([2], generator: ctx.Generator) * 0.1f;
        return item;
    }

    /// <summary>fastai's after_batch: scales the whole batch by a random factor.</summary>
    private static Batch Scale(Batch b, TransformContext ctx) => new([b.Xb[0] * rand([1], generator: ctx.Generator)], b.Yb);

    private static DatasetDataLoader Augmented(int workers, int seed = 7, int prefetchFactor = 2) =>
        new(new NumberedDataset(50), batchSize: 4, ["x"], ["y"], shuffle: true, seed: seed,
            numWorkers: workers, prefetchFactor: prefetchFactor, itemTransform: Jitter, batchTransform: Scale);

    [Test]
    public void A_dataset_loader_yields_the_same_batches_with_0_1_2_and_4_workers()
    {
        var reference = Enumerable.Range(0, 3).Select(_ => Leaks.Values(Augmented(0))).ToList();
        var noWorkers = Augmented(0);
        var epochs = Enumerable.Range(0, 3).Select(_ => Leaks.Values(noWorkers)).ToList();
        Assert.That(epochs[0], Has.Count.EqualTo(13), "50 items in batches of 4, the last one partial");
        Assert.That(epochs[1], Is.Not.EqualTo(epochs[0]), "each pass is reshuffled and re-augmented");
        Assert.That(reference[0], Is.EqualTo(epochs[0]), "the first pass of a new loader is the first pass");
        var unaugmented = Leaks.Values(new DatasetDataLoader(new NumberedDataset(50), 4, ["x"], ["y"], shuffle: true, seed: 7, numWorkers: 0));
        Assert.That(unaugmented, Is.Not.EqualTo(epochs[0]), "the transforms change the values");

        foreach (var workers in new[] { 1, 2, 4 })
        {
            var dl = Augmented(workers, prefetchFactor: workers == 4 ? 1 : 2);
            for (var epoch = 0; epoch < 3; epoch++)
                Assert.That(Leaks.Values(dl), Is.EqualTo(epochs[epoch]), $"{workers} workers, pass {epoch}: same values, same order");
        }
        Assert.That(Leaks.Values(Augmented(2, seed: 8)), Is.Not.EqualTo(epochs[0]), "another seed, other batches");
    }

    [Test]
    public void A_shuffled_tensor_loader_with_a_batch_transform_yields_the_same_batches_with_and_without_workers()
    {
        var x = arange(90, dtype: ScalarType.Float32).reshape(45, 2);
        var y = arange(45, dtype: ScalarType.Float32).unsqueeze(1);
        using (x) using (y)
        {
            TensorDataLoader Make(int workers) => new([x], [y], batchSize: 8, shuffle: true, dropLast: true, seed: 3, numWorkers: workers, batchTransform: Scale);
            var serial = Make(0);
            var expected = Enumerable.Range(0, 3).Select(_ => Leaks.Values(serial)).ToList();
            Assert.That(expected[0], Has.Count.EqualTo(5));
            foreach (var workers in new[] { 1, 3 })
            {
                var dl = Make(workers);
                Assert.That(dl.NumWorkers, Is.EqualTo(workers));
                for (var epoch = 0; epoch < 3; epoch++) Assert.That(Leaks.Values(dl), Is.EqualTo(expected[epoch]), $"{workers} workers, pass {epoch}");
            }
            Assert.That(new TensorDataLoader([x], [y], 8).NumWorkers, Is.Zero, "plain views: no worker by default");
            Assert.That(new TensorDataLoader([x], [y], 8, shuffle: true).NumWorkers, Is.EqualTo(1), "a shuffle gathers: one worker by default");
        }
    }

    [Test]
    public void The_shuffle_is_a_pure_function_of_seed_and_pass_so_Epoch_is_the_whole_position()
    {
        var a = Augmented(2);
        var passes = Enumerable.Range(0, 4).Select(_ => Leaks.Values(a)).ToList();
        Assert.That(a.Epoch, Is.EqualTo(4));

        var b = Augmented(1);
        b.Epoch = 2;
        Assert.That(Leaks.Values(b), Is.EqualTo(passes[2]), "a loader set to pass 2 replays pass 2");
        Assert.That(Leaks.Values(b), Is.EqualTo(passes[3]), "and goes on with pass 3");

        var plain = new DatasetDataLoader(new NumberedDataset(10), 10, ["x"], [], shuffle: true, seed: 5, numWorkers: 2);
        var order = plain.SampleOrder(1);
        plain.Epoch = 1;
        var rows = Leaks.Values(plain).Single().Where((_, i) => i % 2 == 0).Select(v => (int)v);
        Assert.That(rows, Is.EqualTo(order), "SampleOrder(k) is the order pass k yields");
        Assert.That(order.Order(), Is.EqualTo(Enumerable.Range(0, 10)));
    }

    [Test]
    public void Transforms_run_on_the_workers_each_with_its_own_context()
    {
        var threads = new System.Collections.Concurrent.ConcurrentBag<(string? Thread, int Worker, int Item)>();
        Dictionary<string, Tensor> Spy(Dictionary<string, Tensor> item, TransformContext ctx)
        {
            threads.Add((Thread.CurrentThread.Name, ctx.Worker, ctx.ItemIndex));
            return item;
        }
        var dl = new DatasetDataLoader(new NumberedDataset(24), 4, ["x"], ["y"], numWorkers: 2, itemTransform: Spy);
        Leaks.Values(dl);
        Assert.That(threads.Select(t => t.Item).Order(), Is.EqualTo(Enumerable.Range(0, 24)), "every item once, with its dataset index");
        Assert.That(threads.Select(t => t.Worker).Distinct(), Is.SubsetOf(new[] { 0, 1 }));
        Assert.That(threads.All(t => t.Thread == $"FCDataWorker {t.Worker}"), "on the worker threads");

        threads.Clear();
        Leaks.Values(new DatasetDataLoader(new NumberedDataset(8), 4, ["x"], ["y"], numWorkers: 0, itemTransform: Spy));
        Assert.That(threads.All(t => t.Worker == -1 && t.Thread == Thread.CurrentThread.Name), "no workers: on the enumerating thread");
    }

    [Test]
    public void A_loader_enumerated_twice_at_once_is_a_clear_error()
    {
        foreach (var workers in new[] { 0, 2 })
        {
            var dl = Augmented(workers);
            using (var first = dl.GetEnumerator())
            {
                Assert.That(first.MoveNext());
                var error = Assert.Throws<InvalidOperationException>(() => dl.GetEnumerator())!;
                Assert.That(error.Message, Does.Contain("already being enumerated").And.Contain("dispose the first"));
                Assert.That(() => dl.Epoch = 0, Throws.InvalidOperationException, "the position cannot move during a pass");
            }
            Assert.That(Leaks.Values(dl), Has.Count.EqualTo(13), "once the first is disposed, the loader enumerates again");
            Assert.That(Leaks.Values(dl.Ordered()), Has.Count.EqualTo(13));
        }
        Assert.That(Leaks.WorkerThreads(), Is.Empty);
    }

    [Test]
    public void Workers_prepare_at_most_workers_times_prefetchFactor_batches_ahead()
    {
        var data = new NumberedDataset(40, slowEvery: 0);
        var dl = new DatasetDataLoader(data, batchSize: 2, ["x"], ["y"], numWorkers: 2, prefetchFactor: 1);
        using (var e = dl.GetEnumerator())
        {
            using var scope = NewDisposeScope();
            Assert.That(e.MoveNext());
            // Taken: batch 0. Ahead: at most 2 x 1 batches claimed and not taken (1 and 2), 2 items each.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (data.Loads < 6 && DateTime.UtcNow < deadline) Thread.Sleep(5);
            Thread.Sleep(200);
            Assert.That(data.Loads, Is.EqualTo(6), "3 batches of 2 loaded (1 taken, 2 ahead), not the 20 of the pass");
        }
        Assert.That(Leaks.WorkerThreads(), Is.Empty);
    }

    [Test]
    public void Fits_with_0_and_3_workers_end_with_the_same_weights()
    {
        float[] Train(int workers)
        {
            var dls = new DataLoaders(Augmented(workers), new DatasetDataLoader(new NumberedDataset(12), 4, ["x"], ["y"], numWorkers: workers));
            using var learn = new Learner(dls, TestData.LinearModel(2, 1), TestData.Mse, lr: 1e-3) { Logger = null };
            learn.Fit(3);
            return learn.Model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        }
        Assert.That(Train(3), Is.EqualTo(Train(0)), "bit for bit");
    }

    [Test]
    public void A_tensor_the_batch_transform_reuses_from_elsewhere_stays_its_owner()
    {
        using var mask = ones(1, 2);
        var dl = new TensorDataLoader([zeros(8, 2)], [zeros(8, 1)], 4, numWorkers: 2, batchTransform: (b, _) => new Batch([mask], b.Yb));
        Assert.That(Leaks.Values(dl), Has.Count.EqualTo(2));
        Assert.That(mask.IsInvalid, Is.False, "not made for the batch, so not freed with it");
        Assert.That(mask.sum().item<float>(), Is.EqualTo(2));
    }

    [Test]
    public void Options_are_checked_and_kept_by_Ordered()
    {
        var data = new NumberedDataset(8);
        Assert.That(() => new DatasetDataLoader(data, 4, ["x"], ["y"], numWorkers: -1),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("numWorkers"));
        Assert.That(() => new DatasetDataLoader(data, 4, ["x"], ["y"], prefetchFactor: 0),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("prefetchFactor"));
        Assert.That(() => Defaults.Cpus = -1, Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(Defaults.Cpus, Is.EqualTo(Math.Min(16, Environment.ProcessorCount)), "fastai's defaults.cpus");
        Assert.That(new DatasetDataLoader(data, 4, ["x"], ["y"]).NumWorkers, Is.EqualTo(Defaults.Cpus), "the default");

        ItemTransform item = (it, _) => it;
        BatchTransform batch = (b, _) => b;
        var ordered = (DatasetDataLoader)new DatasetDataLoader(data, 4, ["x"], ["y"], shuffle: true, numWorkers: 3, prefetchFactor: 5,
            itemTransform: item, batchTransform: batch).Ordered();
        Assert.That((ordered.Shuffle, ordered.NumWorkers, ordered.PrefetchFactor, ordered.ItemTransform, ordered.BatchTransform),
            Is.EqualTo((false, 3, 5, item, batch)));

        var (x, y) = (arange(20, dtype: ScalarType.Float32).unsqueeze(1), zeros(20, 1));
        using (x) using (y)
        using (var dls = DataLoaders.FromTensors(x, y, batchSize: 4, validPct: 0.2, numWorkers: 2))
        {
            Assert.That(((TensorDataLoader)dls.Train).NumWorkers, Is.EqualTo(2));
            Assert.That(((TensorDataLoader)dls.Valid!).NumWorkers, Is.EqualTo(2));
        }
    }

    /// <summary>Items from <c>holdFrom</c> on wait in GetTensor until released, and say when they enter.</summary>
    private sealed class HeldDataset(int n, int holdFrom) : utils.data.Dataset
    {
        public readonly SemaphoreSlim Entered = new(0), Release = new(0);
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public override long Count => n;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            Interlocked.Increment(ref _loads);
            if (index >= holdFrom)
            {
                Entered.Release();
                Release.Wait();
            }
            return new() { ["x"] = tensor(new float[] { index }) };
        }
    }

    [Test]
    public void Stopping_a_pass_waits_for_the_item_a_worker_is_on_not_for_its_whole_batch()
    {
        var data = new HeldDataset(40, holdFrom: 4);
        var dl = new DatasetDataLoader(data, batchSize: 4, ["x"], [], numWorkers: 1, prefetchFactor: 1);
        var e = dl.GetEnumerator();
        using (NewDisposeScope()) Assert.That(e.MoveNext(), "batch 0: items 0-3");
        Assert.That(data.Entered.Wait(TimeSpan.FromSeconds(30)), "the worker is on item 4, the first of batch 1");
        var disposing = Task.Run(e.Dispose);
        var pass = (PrefetchingPass)e;
        SpinWait.SpinUntil(() => pass.Stopping, TimeSpan.FromSeconds(30));
        Assert.That(pass.Stopping);
        data.Release.Release(100);
        Assert.That(disposing.Wait(TimeSpan.FromSeconds(30)), "Dispose returns once the worker left item 4");
        Assert.That(data.Loads, Is.EqualTo(5), "items 0-4: the worker did not go on with items 5-7 of a batch nobody takes");
        Assert.That(Leaks.WorkerThreads(), Is.Empty);
        Assert.That(Leaks.Values(dl), Has.Count.EqualTo(10), "and the loader runs its next pass");
    }

    [Test]
    public void Batches_move_to_the_device_on_the_workers_before_the_batch_transform()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<(string? Thread, DeviceType Device)>();
        Batch Spy(Batch b, TransformContext ctx)
        {
            seen.Add((Thread.CurrentThread.Name, b.Xb[0].device_type));
            return b;
        }
        // The meta device (shapes, no data) stands in for a GPU on this CPU-only build.
        var dl = new DatasetDataLoader(new NumberedDataset(16), 4, ["x"], ["y"], numWorkers: 2, batchTransform: Spy) { Device = META };
        var devices = new List<DeviceType>();
        foreach (var b in dl)
        {
            using var scope = NewDisposeScope();
            devices.AddRange(b.Xb.Concat(b.Yb).Select(t => t.device_type));
        }
        Assert.That(devices, Has.Count.EqualTo(8).And.All.EqualTo(DeviceType.META), "the learner receives batches on the loader's device");
        Assert.That(seen.Select(s => s.Device), Is.All.EqualTo(DeviceType.META), "moved before the batch transform");
        Assert.That(seen.Select(s => s.Thread), Is.All.StartsWith("FCDataWorker"), "on the workers");
    }

    [Test]
    public void Workers_run_below_the_learners_priority()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("Per-thread nice values are Linux's; elsewhere Thread.Priority is set.");
        static int Nice() => int.Parse(File.ReadAllText("/proc/thread-self/stat").Split(") ")[1].Split(' ')[16]);
        var seen = new System.Collections.Concurrent.ConcurrentBag<(int Nice, ThreadPriority Priority)>();
        Batch Spy(Batch b, TransformContext _)
        {
            seen.Add((Nice(), Thread.CurrentThread.Priority));
            return b;
        }
        Leaks.Values(new DatasetDataLoader(new NumberedDataset(16), 4, ["x"], ["y"], numWorkers: 2, batchTransform: Spy));
        Assert.That(seen.Select(s => s.Nice), Is.All.EqualTo(Math.Min(19, Nice() + 5)), "nice +5 on the workers, the learner's thread unchanged");
        Assert.That(seen.Select(s => s.Priority), Is.All.EqualTo(ThreadPriority.BelowNormal));
    }
}
