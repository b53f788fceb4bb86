using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks.Checkpoints.Worker;

/// <summary>
/// One training run, built the same way every time: shuffled two-class data, a model with dropout (so torch's random
/// generator matters), FitOneCycle with EarlyStopping, SaveModel, CsvLogger and GradientAccumulation (whose count spans
/// batches, and whose skipped steps leave gradients to carry over), and a CheckpointCallback every few batches. What it
/// ends with (weights, Recorder history, CSV, best-model file) is compared across runs.
/// </summary>
/// <param name="dir">The learner's path: the CSV, the best model and the checkpoint go there.</param>
/// <param name="epochs">Epochs of the fit (10 training batches each).</param>
/// <param name="everyNBatches">A checkpoint after every n-th training batch (and at every epoch's end).</param>
/// <param name="numWorkers">Data workers of the loaders.</param>
/// <param name="trainMetrics">Compute the accuracy on the training batches too.</param>
public sealed class Scenario(string dir, int epochs = 4, int everyNBatches = 3, int numWorkers = 0, bool trainMetrics = false)
{
    /// <summary>Training batches per epoch.</summary>
    public const int BatchesPerEpoch = 10;

    public string Dir { get; } = dir;

    public int Epochs { get; } = epochs;

    private string Monitor => trainMetrics ? "valid_accuracy" : "accuracy";

    /// <summary>The training checkpoint.</summary>
    public string CheckpointFile => Path.Combine(Dir, "models", "checkpoint.pt");

    /// <summary>The best model SaveModelCallback writes.</summary>
    public string BestModelFile => Path.Combine(Dir, "models", "model.pt");

    /// <summary>The CSV log.</summary>
    public string CsvFile => Path.Combine(Dir, "history.csv");

    /// <summary>
    /// The learner of one process. <paramref name="modelSeed"/> initialises the model: a resumed process starts from
    /// other weights than the first run's, and must end with the same ones.
    /// </summary>
    public Learner NewLearner(int modelSeed, IEnumerable<Callback>? extra = null)
    {
        var (x, y) = Data();
        DataLoaders dls;
        using (x) using (y) dls = DataLoaders.FromTensors(x, y, batchSize: 16, validPct: 0.2, seed: 5, numWorkers: numWorkers);
        manual_seed(modelSeed);
        var model = nn.Sequential(("l1", nn.Linear(2, 16)), ("relu", nn.ReLU()), ("drop", nn.Dropout(0.3)), ("l2", nn.Linear(16, 2)));
        var learn = new Learner(dls, model, nn.CrossEntropyLoss(), metrics: [Metrics.Accuracy()], path: Dir, defaultCbs: false,
            cbs: [new TrainEvalCallback(), new Recorder(trainMetrics: trainMetrics),
                new EarlyStoppingCallback(monitor: Monitor, patience: 3), new SaveModelCallback(monitor: Monitor),
                new CsvLogger(), new GradientAccumulation(nAcc: 40), new CheckpointCallback(everyNBatches: everyNBatches)])
        {
            Logger = null,
            MessageWriter = null,
        };
        if (extra is not null) learn.AddCbs(extra);
        return learn;
    }

    /// <summary>The fit: the same call for the first run and every resumed one.</summary>
    public void Fit(Learner learn, string? resumeFrom = null) => learn.FitOneCycle(Epochs, lrMax: 0.05, resumeFrom: resumeFrom);

    /// <summary>Two noisy Gaussian blobs, 200 samples (160 to train on: 10 batches of 16).</summary>
    private static (Tensor X, Tensor Y) Data()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var labels = randint(0, 2, [200], generator: g);
        var centers = labels.to_type(ScalarType.Float32).unsqueeze(1) * 2 - 1;
        var x = randn([200, 2], generator: g) * 0.9f + centers;
        return (x.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>What a run ends with.</summary>
    public Outcome Capture(Learner learn) => new(
        learn.Model.state_dict().ToDictionary(kv => kv.Key, kv => Bytes(kv.Value)),
        Describe(learn.Recorder!),
        File.ReadAllText(CsvFile),
        File.ReadAllBytes(BestModelFile));

    private static byte[] Bytes(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().contiguous().cpu().bytes.ToArray();
    }

    /// <summary>The Recorder's history as text, every double in round-trip form (its rows hold no wall-clock time).</summary>
    public static string Describe(Recorder r)
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

    /// <summary>The CSV without its last column: the epoch's wall-clock time, which no two runs share.</summary>
    public static string WithoutTime(string csv) =>
        string.Join("\n", csv.Split('\n').Select(line => line.LastIndexOf(',') is var i and >= 0 ? line[..i] : line));

    /// <summary>A run's result: each weight's bytes, the Recorder's history, the CSV's text and the best-model file.</summary>
    public sealed record Outcome(Dictionary<string, byte[]> Weights, string Recorder, string Csv, byte[] BestModel)
    {
        /// <summary>What differs from <paramref name="expected"/> (empty when nothing does); the CSV's time column is left out.</summary>
        public List<string> Differences(Outcome expected)
        {
            var diffs = new List<string>();
            if (!Weights.Keys.SequenceEqual(expected.Weights.Keys)) diffs.Add($"weights: {string.Join(",", Weights.Keys)} against {string.Join(",", expected.Weights.Keys)}");
            foreach (var (name, bytes) in Weights)
                if (expected.Weights.TryGetValue(name, out var other) && !bytes.AsSpan().SequenceEqual(other)) diffs.Add($"weights `{name}` differ");
            if (Recorder != expected.Recorder) diffs.Add($"Recorder history differs:\n{Recorder}\nexpected:\n{expected.Recorder}");
            if (WithoutTime(Csv) != WithoutTime(expected.Csv)) diffs.Add($"CSV (without its time column) differs:\n{Csv}\nexpected:\n{expected.Csv}");
            if (!BestModel.AsSpan().SequenceEqual(expected.BestModel)) diffs.Add("best-model file differs");
            return diffs;
        }

        /// <summary>Writes the outcome into <paramref name="dir"/> (the child process's report).</summary>
        public void WriteTo(string dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "recorder.txt"), Recorder);
            File.WriteAllText(Path.Combine(dir, "history.csv"), Csv);
            File.WriteAllBytes(Path.Combine(dir, "model.pt"), BestModel);
            using var weights = new BinaryWriter(File.Create(Path.Combine(dir, "weights.bin")));
            weights.Write(Weights.Count);
            foreach (var (name, bytes) in Weights)
            {
                weights.Write(name);
                weights.Write(bytes.Length);
                weights.Write(bytes);
            }
        }

        /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
        public static Outcome ReadFrom(string dir)
        {
            using var reader = new BinaryReader(File.OpenRead(Path.Combine(dir, "weights.bin")));
            var weights = new Dictionary<string, byte[]>();
            for (var n = reader.ReadInt32(); n > 0; n--) weights[reader.ReadString()] = reader.ReadBytes(reader.ReadInt32());
            return new Outcome(weights, File.ReadAllText(Path.Combine(dir, "recorder.txt")), File.ReadAllText(Path.Combine(dir, "history.csv")),
                File.ReadAllBytes(Path.Combine(dir, "model.pt")));
        }
    }
}
