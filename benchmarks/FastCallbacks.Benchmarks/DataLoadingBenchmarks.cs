using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Benchmark 6 (issue 15): data workers. A dataset whose items cost a fixed <see cref="ItemMs"/> of CPU each (a spin
/// on the loading thread's CPU clock), batches of <see cref="BatchSize"/>, and a small MLP, one epoch of
/// <see cref="Batches"/> batches per operation, per batch. <c>Compute</c> is the fit alone (the same batches, already
/// collated in memory); <c>Data</c> is the loader alone (no workers, no model); <c>Workers0/1/2</c> are the fit with
/// the dataset loaded by 0, 1 and 2 worker threads. The limit of a fit with w workers is compute + data for w = 0 and
/// max(compute, data / w) otherwise. libtorch runs on one thread, so the model uses one core and the workers the rest.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class DataLoadingBenchmarks
{
    public const string Category = "DataLoading";
    public const double ItemMs = 0.5;
    // 64 items of 0.5 ms make 32 ms of data per batch against well under 1 ms of compute. On 2 cores, 2 workers and the
    // model share the cores, so the fit cannot beat (compute + data) / 2: the limit max(compute, data / 2) is only
    // reachable when compute is a small part of a batch.
    public const int BatchSize = 64;
    public const int Batches = 16;
    public const int Items = BatchSize * Batches;
    public const int Features = 32;
    public const int Hidden = 64;
    public const int Classes = 4;

    private CostlyDataset _dataset = null!;
    private Tensor _x = null!;
    private Tensor _y = null!;
    private DatasetDataLoader _data = null!;
    private DatasetDataLoader _data2 = null!;
    private readonly Dictionary<string, (Learner Learn, DataWaitCallback Wait)> _learners = [];

    [GlobalSetup]
    public void GlobalSetup()
    {
        set_num_threads(1);
        _dataset = new CostlyDataset(Items, Features, Classes, ItemMs);
        // The same items, collated once: what the model trains on when data costs nothing.
        var free = new CostlyDataset(Items, Features, Classes, itemMs: 0);
        using (var all = Loader(free, workers: 0).First().Xb[0]) _x = all.clone().DetachFromDisposeScope();
        using (var all = Loader(free, workers: 0).First().Yb[0]) _y = all.clone().DetachFromDisposeScope();
        _data = Loader(_dataset, workers: 0, BatchSize);
        _data2 = Loader(_dataset, workers: 2, BatchSize);

        // Check first: every learner sees the same batches, so one epoch ends with the same weights.
        var compute = Fit(new TensorDataLoader([_x], [_y], BatchSize, numWorkers: 0));
        foreach (var workers in new[] { 0, 1, 2 })
        {
            var learn = Fit(Loader(new CostlyDataset(Items, Features, Classes, itemMs: 0.01), workers, BatchSize));
            var diff = MaxAbsDiff(compute.Model, learn.Model);
            Console.WriteLine($"CHECK: data loading, {workers} workers vs the collated tensors: max |diff| of the weights after one epoch = {diff:G3}");
            if (diff != 0) throw new InvalidOperationException($"The fit with {workers} workers saw other batches than the collated tensors (max |diff| {diff}).");
            Dispose(learn);
        }
        Dispose(compute);

        _learners["compute"] = NewLearner(new TensorDataLoader([_x], [_y], BatchSize, numWorkers: 0));
        foreach (var workers in new[] { 0, 1, 2 }) _learners[$"w{workers}"] = NewLearner(Loader(_dataset, workers, BatchSize));
        static Learner Fit(DataLoader dl)
        {
            var (learn, _) = NewLearner(dl);
            learn.Fit(1);
            return learn;
        }
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        foreach (var (learn, _) in _learners.Values) Dispose(learn);
        _x.Dispose();
        _y.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batches, Description = "Compute: the fit on collated tensors"), BenchmarkCategory(Category)]
    public void Compute() => _learners["compute"].Learn.Fit(1);

    [Benchmark(OperationsPerInvoke = Batches, Description = "Data: the loader alone, no workers"), BenchmarkCategory(Category)]
    public void Data()
    {
        using var batches = _data.GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!batches.MoveNext()) break;
        }
    }

    /// <summary>Not a benchmark: the loader alone with 2 workers (for --data-loading: what 2 threads give on this machine without a model).</summary>
    public void DataTwoWorkers()
    {
        using var batches = _data2.GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!batches.MoveNext()) break;
        }
    }

    [Benchmark(OperationsPerInvoke = Batches, Description = "Fit, 0 workers"), BenchmarkCategory(Category)]
    public void Workers0() => _learners["w0"].Learn.Fit(1);

    [Benchmark(OperationsPerInvoke = Batches, Description = "Fit, 1 worker"), BenchmarkCategory(Category)]
    public void Workers1() => _learners["w1"].Learn.Fit(1);

    [Benchmark(OperationsPerInvoke = Batches, Description = "Fit, 2 workers"), BenchmarkCategory(Category)]
    public void Workers2() => _learners["w2"].Learn.Fit(1);

    /// <summary>Not a benchmark: the mean wait for data per training batch of the last fit of <paramref name="workers"/> workers (for --data-loading).</summary>
    public TimeSpan MeanWait(int workers) => _learners[$"w{workers}"].Wait.MeanTrainWait;

    private static DatasetDataLoader Loader(CostlyDataset dataset, int workers, int batchSize = Items) =>
        new(dataset, batchSize, ["x"], ["y"], numWorkers: workers);

    /// <summary>The MLP with the same initial weights every time, default callbacks minus the progress display, and a data-wait probe.</summary>
    private static (Learner, DataWaitCallback) NewLearner(DataLoader dl)
    {
        manual_seed(1);
        var model = nn.Sequential(nn.Linear(Features, Hidden), nn.ReLU(), nn.Linear(Hidden, Hidden), nn.ReLU(), nn.Linear(Hidden, Classes));
        var wait = new DataWaitCallback();
        var learn = new Learner(new DataLoaders(dl), model, (p, t) => nn.functional.cross_entropy(p, t), lr: 1e-3, cbs: [wait]) { Logger = null };
        learn.RemoveCbs(learn.Cbs.Where(cb => cb is ProgressCallback).ToList());
        return (learn, wait);
    }

    private static void Dispose(Learner learn)
    {
        learn.Dispose();
        learn.Model.Dispose();
    }

    private static double MaxAbsDiff(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        return a.parameters().Zip(b.parameters()).Max(p => (p.First - p.Second).abs().max().item<float>());
    }
}

/// <summary>
/// Items that cost <c>itemMs</c> of the loading thread's CPU each (decoding, augmenting), then are made from their
/// index alone: item i is a fixed pseudo-random feature vector and the label i % classes. Safe on several threads.
/// </summary>
public sealed class CostlyDataset(int n, int features, int classes, double itemMs) : utils.data.Dataset
{
    public override long Count => n;

    public override Dictionary<string, Tensor> GetTensor(long index)
    {
        if (itemMs > 0) CpuClock.Spin(itemMs * 1e6);
        var x = new float[features];
        var state = (uint)(index * 2654435761 + 1);
        for (var i = 0; i < x.Length; i++)
        {
            state = state * 1664525 + 1013904223;
            x[i] = (state >> 8) / (float)(1 << 24) - 0.5f;
        }
        return new() { ["x"] = tensor(x), ["y"] = tensor(index % classes) };
    }
}
