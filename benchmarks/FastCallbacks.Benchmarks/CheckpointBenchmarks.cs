using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// What a training checkpoint costs (<see cref="CheckpointCallback"/>: model, optimizer, every stateful callback's state,
/// random generator, loaders, position) against the model-only file of <c>learn.Save(name, withOpt: false)</c> and
/// the model-and-optimizer file of <c>learn.Save(name)</c>, fastai's <c>learn.save</c>: one atomic write each
/// (temporary file, flushed to disk, renamed), of an MLP of <see cref="Parameters"/> parameters after one epoch of Adam,
/// with the default callbacks plus EarlyStopping, SaveModel and CsvLogger. The sizes are in <see cref="Sizes"/>.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class CheckpointBenchmarks
{
    public const string Category = "Checkpoint write";
    public const int Features = 256;
    public const int Hidden = 1024;
    public const int Classes = 10;
    public const int Parameters = Features * Hidden + Hidden + Hidden * Hidden + Hidden + Hidden * Classes + Classes;

    private Learner _learn = null!;
    private string _dir = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        set_num_threads(1);
        (_learn, _dir) = TrainedLearner();
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _learn.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Benchmark(Baseline = true, Description = "learn.Save(withOpt: false): the model"), BenchmarkCategory(Category)]
    public string ModelOnly() => _learn.Save("model", withOpt: false);

    [Benchmark(Description = "learn.Save(): the model and the optimizer"), BenchmarkCategory(Category)]
    public string ModelAndOptimizer() => _learn.Save("model-opt");

    [Benchmark(Description = "Training checkpoint (CheckpointCallback's write)"), BenchmarkCategory(Category)]
    public void TrainingCheckpoint() => FastCallbacks.TrainingCheckpoint.Write(_learn, Path.Combine(_dir, "models", "checkpoint.pt"), midEpoch: false);

    /// <summary>The bytes of each file (the same in every run): model only, model and optimizer, training checkpoint.</summary>
    public static (long ModelOnly, long ModelAndOptimizer, long TrainingCheckpoint) Sizes()
    {
        var b = new CheckpointBenchmarks();
        b.GlobalSetup();
        try
        {
            var checkpoint = Path.Combine(b._dir, "models", "checkpoint.pt");
            b.TrainingCheckpoint();
            return (new FileInfo(b.ModelOnly()).Length, new FileInfo(b.ModelAndOptimizer()).Length, new FileInfo(checkpoint).Length);
        }
        finally
        {
            b.GlobalCleanup();
        }
    }

    /// <summary>A learner after one epoch of Adam over 512 samples (batches of 64), in a new temporary folder.</summary>
    private static (Learner Learn, string Dir) TrainedLearner()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fastcallbacks-checkpoint-bench-" + Guid.NewGuid().ToString("N"));
        manual_seed(1);
        DataLoaders dls;
        using (var x = randn(512, Features))
        using (var y = randint(0, Classes, [512]))
            dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.25, shuffle: true, seed: 1);
        var model = nn.Sequential(nn.Linear(Features, Hidden), nn.ReLU(), nn.Linear(Hidden, Hidden), nn.ReLU(), nn.Linear(Hidden, Classes));
        var learn = new Learner(dls, model, (p, t) => nn.functional.cross_entropy(p, t), lr: 1e-3, metrics: [Metrics.Accuracy()], path: dir,
            cbs: [new EarlyStoppingCallback(patience: 3), new SaveModelCallback(fname: "best"), new CsvLogger()])
        {
            Logger = null,
            MessageWriter = null,
        };
        learn.Fit(1);
        var parameters = learn.Model.parameters().Sum(p => p.numel());
        if (parameters != Parameters) throw new InvalidOperationException($"The model has {parameters} parameters, not {Parameters}.");
        return (learn, dir);
    }
}
