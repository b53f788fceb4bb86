// Distributed: the Quickstart's digits network trained across processes with MPI. Every rank runs this same program;
// rank r trains on its slice of each batch of 64, the gradients are summed over the ranks before each step, and rank 0
// alone prints the table and writes the log and the best model.
//
//   dotnet run --project samples/Distributed                     # one process: no MPI needed, trains as the Quickstart
//   dotnet build samples/Distributed
//   mpiexec -n 2 dotnet samples/Distributed/bin/Debug/net10.0/Distributed.dll [--epochs 10 --lr 0.01 --out out/distributed --shard-dataset]
//
// Install MPI first (Debian/Ubuntu: apt-get install mpich); docs/distributed.md has several machines, Slurm and the rest.
using System.Diagnostics;
using System.Globalization;
using FastCallbacks;
using FastCallbacks.Distributed;
using static TorchSharp.torch;

var epochs = 10;
var lr = 1e-2;
var output = Path.Combine("out", "distributed");
var shardDataset = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--epochs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0: epochs = n; i++; break;
        case "--lr" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var rate) && rate > 0: lr = rate; i++; break;
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--shard-dataset": shardDataset = true; break;
        default:
            Console.Error.WriteLine($"{args[i]}: not an option. Options: --epochs N, --lr X, --out DIR, --shard-dataset.");
            return 2;
    }
}
var clock = Stopwatch.StartNew();
manual_seed(0);
var (x, y) = Digits.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
// Every rank builds the same loaders (same data, same seed): each takes its own rows of every batch.
using var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.2, seed: 42);
var model = nn.Sequential(
    ("conv1", nn.Conv2d(1, 16, 3, padding: 1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()),
    ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()),
    ("pool", nn.MaxPool2d(2)),
    ("flatten", nn.Flatten()),
    ("drop", nn.Dropout(0.25)),
    ("fc", nn.Linear(32 * 4 * 4, 10)));

using var learn = new Learner(dls, model, nn.CrossEntropyLoss(), metrics: [Metrics.Accuracy()], path: output,
    cbs: [
        new EarlyStoppingCallback(monitor: "accuracy", patience: 4),
        new SaveModelCallback(monitor: "accuracy", fname: "digits"),   // rank 0 writes it; every rank ends with the best model
        new CsvLogger("history.csv"),                                  // rank 0 only
    ]);

// Until disposed, the learner trains across the ranks of this job (one rank when started without mpiexec).
// The tensors are tiny: one libtorch thread per rank, as the Quickstart uses (the default is the cores divided by the ranks).
using var dist = learn.ToDistributed(new DistributedOptions { ShardDataset = shardDataset, ThreadsPerRank = 1 });
if (dist.IsMainProcess)
    Console.WriteLine($"{dist.Size} rank(s), {get_num_threads()} thread(s) each: {dist.Communicator.Description}. " +
                      $"{x.shape[0]} digits, 20% held out.");

learn.FitOneCycle(epochs, lrMax: lr);

// Validate runs on each rank by itself (the trainer stands aside), so every rank can check the model it ended with.
var final = learn.Validate();
Console.WriteLine($"rank {dist.Rank}: validation accuracy of the best model {final["accuracy"]:P2}");
if (dist.IsMainProcess)
{
    Console.WriteLine($"wrote {Path.GetFullPath(learn.Cb<SaveModelCallback>()!.LastSavedPath!)} and {learn.Cb<CsvLogger>()!.FullPath}");
    Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:F1} s");
}
return 0;
