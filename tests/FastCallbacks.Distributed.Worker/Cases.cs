using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed.Worker;

/// <summary>How a case trains: a plain learner, or the same learner with <c>ToDistributed()</c>.</summary>
public enum Mode { Plain, Distributed }

/// <summary>What one rank ends a case with: the weights, everything the recorder kept, and what it wrote.</summary>
public sealed record CaseResult(
    string Case, int Rank, int Size,
    Dictionary<string, float[]> Weights,
    double[] Losses, double[] Lrs, double?[][] Values, int[] Iters,
    int Epoch, int Steps, long Reductions, int Rebinds, string[] Files, string[] Messages)
{
    public static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, WriteIndented = false };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CaseResult FromJson(string json) => JsonSerializer.Deserialize<CaseResult>(json, Json)!;
}

/// <summary>
/// The training cases of the distributed tests: small classification fits whose every number two ranks must
/// reproduce as one process does (weights, losses, metrics, learning rates, the epoch a fit stopped at).
/// </summary>
public static class Cases
{
    /// <summary>Cases where N ranks must train exactly as one process.</summary>
    public static readonly string[] Equivalent = ["even", "uneven", "accumulate", "clip", "onecycle", "earlystop", "savemodel", "token", "cancelfit", "nullgrad"];

    /// <summary>Cases where the ranks must agree with each other (fastai's shard-the-data-set mode is not one process's training).</summary>
    public static readonly string[] Consistent = ["sharddataset"];

    public static CaseResult Run(string name, Mode mode, string root, ICommunicator? comm = null)
    {
        var distributed = mode == Mode.Distributed;
        comm ??= distributed ? DistributedWorld.Current : new LocalCommunicator();
        var rank = comm.Rank;
        var path = Path.Combine(root, name, distributed ? $"rank{rank}" : "plain");
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        Directory.CreateDirectory(path);

        var (batchSize, validBatchSize) = name switch
        {
            "uneven" => (85, 51),     // training 85 85 85 1 (the last batch: one row for two ranks); validation 51 13
            "accumulate" => (32, 64),
            "earlystop" => (16, 64),
            "sharddataset" => (32, 64),
            _ => (64, 128),
        };
        var (x, y) = Data();
        // dropLast: false keeps the last incomplete training batch (the uneven case is about it).
        using var dls = DataLoaders.FromTensors(x, y, batchSize, validPct: 0.2, shuffle: true, seed: 1, dropLast: false, validBatchSize: validBatchSize);
        x.Dispose();
        y.Dispose();
        // Each rank starts from other weights: the trainer's broadcast at before_fit must make them rank 0's.
        manual_seed(100 + (distributed ? rank : 0));
        var model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3));
        var messages = new List<string>();
        var steps = new StepCounter();
        List<Callback> cbs = [steps];
        double lr = name is "earlystop" or "savemodel" ? 0.05 : 1e-2;
        switch (name)
        {
            case "accumulate": cbs.Add(new GradientAccumulation(nAcc: 96)); break;
            case "clip": cbs.Add(new GradientClip(maxNorm: 0.05)); break;
            case "earlystop": cbs.Add(new EarlyStoppingCallback(monitor: "valid_loss", patience: 1)); break;
            case "savemodel": cbs.AddRange([new SaveModelCallback(monitor: "valid_loss", fname: "best"), new CsvLogger("history.csv")]); break;
            case "cancelfit": cbs.Add(Callback.Create((Event.AfterBatch, l => { if (l.Training && l.Epoch == 1 && l.Iter == 1 && (!distributed || rank == comm.Size - 1)) throw new CancelFitException(); }))); break;
            case "nullgrad": cbs.Add(Callback.Create((Event.AfterStep, l => { if (l.TrainIter % 2 == 0) l.Model.parameters().First().grad = null; }))); break;
        }
        using var cts = new CancellationTokenSource();
        if (name == "token")
            cbs.Add(Callback.Create((Event.AfterBatch, l => { if (l.Training && l.Epoch == 1 && l.Iter == 2 && rank == 0) cts.Cancel(); })));

        using var learn = new Learner(dls, model, nn.CrossEntropyLoss(), lr: lr, path: path, cbs: cbs,
            metrics: [Metrics.Accuracy(), Metrics.F1(Average.Macro)])
        {
            MessageWriter = messages.Add,
            Logger = null,
        };
        // The progress table only where the test reads the job's output; in the test process it would be noise.
        if (name != "savemodel" || !distributed) learn.RemoveCbs<ProgressCallback>();
        if (name == "savemodel" && distributed) learn.Logger = Defaults.ConsoleLogger;

        using var dist = distributed
            ? learn.ToDistributed(new DistributedOptions { Communicator = comm, ShardDataset = name == "sharddataset" })
            : null;
        var epochs = name switch { "earlystop" => 12, "savemodel" => 6, "accumulate" or "clip" => 2, _ => 3 };
        if (name == "onecycle") learn.FitOneCycle(4, lrMax: 2e-2);
        else learn.Fit(epochs, cancellationToken: cts.Token);

        var rec = learn.Recorder!;
        var weights = learn.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray());
        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(path, f).Replace('\\', '/')).Order().ToArray();
        return new CaseResult(name, rank, comm.Size, weights, [.. rec.Losses], [.. rec.Lrs],
            rec.Values.Select(r => r.ToArray()).ToArray(), [.. rec.Iters], learn.Epoch, steps.Steps,
            dist?.Trainer.Reductions ?? 0, dist?.Trainer.GradientRebinds ?? 0, files, [.. messages]);
    }

    /// <summary>320 points of 8 features in 3 classes (a fixed generator: the same data on every rank).</summary>
    public static (Tensor X, Tensor Y) Data()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var centers = randn([3, 8], generator: g) * 1.5f;
        var y = randint(0, 3, [320], generator: g);
        var x = centers.index_select(0, y) + randn([320, 8], generator: g) * 2.5f;
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }
}

/// <summary>Counts optimizer steps.</summary>
public sealed partial class StepCounter : Callback
{
    public int Steps { get; private set; }

    [On(Event.AfterStep)]
    private void Count() => Steps++;
}
