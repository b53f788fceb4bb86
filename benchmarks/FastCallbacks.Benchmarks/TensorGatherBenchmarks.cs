using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Benchmark 7 (issue 15): a large in-memory set (<see cref="Rows"/> x <see cref="Features"/> floats, MNIST-sized rows)
/// and a small MLP, one epoch per operation, per batch. Unshuffled batches are views (no copy); shuffled ones are
/// gathered by index (<c>index_select</c>, a copy of the batch's rows from all over the set), on the training thread
/// (0 workers) or on a worker while the model trains on the previous batch (1 worker, the default for a shuffled
/// TensorDataLoader). libtorch runs on one thread.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class TensorGatherBenchmarks
{
    public const string Category = "TensorGather";
    public const int Rows = 16384;
    public const int Features = 784;
    public const int BatchSize = 256;
    public const int Hidden = 32;
    public const int Classes = 10;

    private Tensor _x = null!;
    private Tensor _y = null!;
    private readonly Dictionary<string, (Learner Learn, DataWaitCallback Wait)> _learners = [];

    public int Batches => Rows / BatchSize;

    [GlobalSetup]
    public void GlobalSetup()
    {
        set_num_threads(1);
        var g = new Generator(0);
        _x = randn([Rows, Features], generator: g);
        _y = randint(0, Classes, [Rows], generator: g);
        _learners["views"] = NewLearner(new TensorDataLoader([_x], [_y], BatchSize, shuffle: false, numWorkers: 0));
        foreach (var w in new[] { 0, 1 }) _learners[$"w{w}"] = NewLearner(new TensorDataLoader([_x], [_y], BatchSize, shuffle: true, seed: 1, numWorkers: w));
        // Check: the same seed gives the same batches with and without the worker.
        var a = new TensorDataLoader([_x], [_y], BatchSize, shuffle: true, seed: 1, numWorkers: 0);
        var b = new TensorDataLoader([_x], [_y], BatchSize, shuffle: true, seed: 1, numWorkers: 1);
        using var ea = a.GetEnumerator();
        using var eb = b.GetEnumerator();
        var same = 0;
        while (true)
        {
            using var scope = NewDisposeScope();
            var more = ea.MoveNext();
            if (more != eb.MoveNext()) throw new InvalidOperationException("The shuffled loaders with 0 and 1 worker yield different numbers of batches.");
            if (!more) break;
            if (!ea.Current.Xb[0].allclose(eb.Current.Xb[0], rtol: 0, atol: 0)) throw new InvalidOperationException($"Batch {same} differs with 0 and 1 worker.");
            same++;
        }
        Console.WriteLine($"CHECK: tensor gather, shuffled with 0 and 1 worker: the same {same} batches");
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        foreach (var (learn, _) in _learners.Values)
        {
            learn.Dispose();
            learn.Model.Dispose();
        }
        _x.Dispose();
        _y.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rows / BatchSize, Description = "Unshuffled (views), no workers"), BenchmarkCategory(Category)]
    public void Unshuffled() => _learners["views"].Learn.Fit(1);

    [Benchmark(OperationsPerInvoke = Rows / BatchSize, Description = "Shuffled (gathered), 0 workers"), BenchmarkCategory(Category)]
    public void Workers0() => _learners["w0"].Learn.Fit(1);

    [Benchmark(OperationsPerInvoke = Rows / BatchSize, Description = "Shuffled (gathered), 1 worker"), BenchmarkCategory(Category)]
    public void Workers1() => _learners["w1"].Learn.Fit(1);

    /// <summary>Not a benchmark: the mean wait for data per training batch of the last shuffled fit with <paramref name="workers"/> workers.</summary>
    public TimeSpan MeanWait(int workers) => _learners[$"w{workers}"].Wait.MeanTrainWait;

    private static (Learner, DataWaitCallback) NewLearner(DataLoader dl)
    {
        manual_seed(1);
        var model = nn.Sequential(nn.Linear(Features, Hidden), nn.ReLU(), nn.Linear(Hidden, Classes));
        var wait = new DataWaitCallback();
        var learn = new Learner(new DataLoaders(dl), model, (p, t) => nn.functional.cross_entropy(p, t), lr: 1e-3, cbs: [wait]) { Logger = null };
        learn.RemoveCbs(learn.Cbs.Where(cb => cb is ProgressCallback).ToList());
        return (learn, wait);
    }
}
