using System.Globalization;
using TorchSharp.Modules;

namespace FastCallbacks.Tests.Checkpoints;

/// <summary>
/// One training run, built the same way every time: shuffled two-class data, a model with dropout (so torch's random
/// generator matters), FitOneCycle with EarlyStopping, SaveModel, CsvLogger and GradientAccumulation, and a
/// CheckpointCallback. What it ends with (weights, Recorder history, CSV, best-model file) is compared across runs.
/// </summary>
public sealed class ResumeScenario(string dir, int epochs = 4, int everyNBatches = 3, int numWorkers = 0, bool trainMetrics = false)
{
    public string Dir { get; } = dir;

    private string Monitor => trainMetrics ? "valid_accuracy" : "accuracy";

    /// <summary>The learner of one process: the model initialised from another seed than the first run's (a resumed process starts with fresh weights).</summary>
    public Learner NewLearner(int modelSeed, IEnumerable<Callback>? extra = null)
    {
        var (x, y) = TestData.Classification(n: 200, seed: 3);
        DataLoaders dls;
        using (x) using (y) dls = DataLoaders.FromTensors(x, y, batchSize: 16, validPct: 0.2, seed: 5, numWorkers: numWorkers);
        manual_seed(modelSeed);
        var model = nn.Sequential(("l1", nn.Linear(2, 16)), ("relu", nn.ReLU()), ("drop", nn.Dropout(0.3)), ("l2", nn.Linear(16, 2)));
        var learn = new Learner(dls, model, nn.CrossEntropyLoss(), metrics: [Metrics.Accuracy()], path: Dir,
            cbs: [new Recorder(trainMetrics: trainMetrics)],
            defaultCbs: false)
        {
            Logger = null,
            MessageWriter = null,
        };
        learn.AddCbs([new TrainEvalCallback(),
            new EarlyStoppingCallback(monitor: Monitor, patience: 3), new SaveModelCallback(monitor: Monitor),
            new CsvLogger(), new GradientAccumulation(nAcc: 40), new CheckpointCallback(everyNBatches: everyNBatches)]);
        if (extra is not null) learn.AddCbs(extra);
        return learn;
    }

    /// <summary>The fit: the same call for the first run and every resumed one.</summary>
    public void Fit(Learner learn, string? resumeFrom = null) => learn.FitOneCycle(epochs, lrMax: 0.05, resumeFrom: resumeFrom);

    public string CheckpointFile => Path.Combine(Dir, "models", "checkpoint.pt");

    /// <summary>What a run ends with.</summary>
    public Outcome Capture(Learner learn) => new(
        learn.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope()),
        Json(learn.Recorder!),
        CsvWithoutTime(Path.Combine(Dir, "history.csv")),
        File.ReadAllBytes(Path.Combine(Dir, "models", "model.pt")));

    /// <summary>The Recorder's history as text, every double in round-trip form.</summary>
    public static string Json(Recorder r)
    {
        static string D(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        static string N(double? d) => d is { } v ? D(v) : "null";
        return string.Join("\n",
            "names: " + string.Join(",", r.MetricNames),
            "values: " + string.Join(";", r.Values.Select(row => string.Join(",", row.Select(N)))),
            "losses: " + string.Join(",", r.Losses.Select(D)),
            "lrs: " + string.Join(",", r.Lrs.Select(D)),
            "iters: " + string.Join(",", r.Iters),
            "hps: " + string.Join(";", r.Hps.OrderBy(kv => kv.Key).Select(kv => kv.Key + "=" + string.Join(",", kv.Value.Select(D)))));
    }

    /// <summary>The CSV without its last column (the epoch's wall-clock time, which no two runs share).</summary>
    public static string CsvWithoutTime(string path) =>
        string.Join("\n", File.ReadAllLines(path).Select(line => line[..line.LastIndexOf(',')]));

    public sealed record Outcome(Dictionary<string, Tensor> Weights, string Recorder, string Csv, byte[] BestModel)
    {
        public void AssertSameAs(Outcome expected)
        {
            Assert.That(Weights.Keys, Is.EqualTo(expected.Weights.Keys));
            foreach (var (name, t) in Weights)
                Assert.That(BitwiseEqual(t, expected.Weights[name]), Is.True, $"weights `{name}` differ");
            Assert.That(Recorder, Is.EqualTo(expected.Recorder), "Recorder history");
            Assert.That(Csv, Is.EqualTo(expected.Csv), "CSV log (without the time column)");
            Assert.That(BestModel, Is.EqualTo(expected.BestModel), "best-model file, byte for byte");
        }
    }

    /// <summary>Same shape, dtype and bits (NaNs and signed zeros included).</summary>
    public static bool BitwiseEqual(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var scope = NewDisposeScope();
        var x = a.contiguous().cpu();
        var y = b.contiguous().cpu();
        return x.bytes.SequenceEqual(y.bytes);
    }
}
