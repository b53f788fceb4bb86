// The distributed benchmark, started by benchmarks/distributed.sh under mpiexec (2 ranks, loopback only):
//
//   1. gradient reduction per step (the trainer's alias check and bucketed Allreduce of the flat gradient buffer)
//      against the parameter count (1M, 10M) and the bucket size (64 KiB to one call for the whole buffer);
//   2. the whole training step's overhead: two ranks at per-rank batch 64 (a global batch of 128) against one process
//      at batch 64, both timed in the same job, alternately, with the machine equally loaded (every rank trains in both).
//
// Every rank measures; a row is the slowest rank's median. --smoke: small sizes and few repetitions, with the checks
// only (reduced values, identical weights on every rank); exits 1 on a failure.
using System.Diagnostics;
using System.Globalization;
using FastCallbacks;
using FastCallbacks.Distributed;
using FastCallbacks.Distributed.Benchmarks;
using TorchSharp.Modules;
using static TorchSharp.torch;

var smoke = args.Contains("--smoke");
var outIndex = Array.IndexOf(args, "--out");
var output = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : Path.Combine("artifacts", "benchmarks", "distributed.tsv");
var comm = DistributedWorld.Current;
if (comm.Size < 2)
{
    Console.Error.WriteLine("The distributed benchmark needs two ranks or more: mpiexec -n 2 dotnet FastCallbacks.Distributed.Benchmarks.dll (see benchmarks/distributed.sh).");
    return 2;
}
var threads = Math.Max(1, Environment.ProcessorCount / comm.LocalSize);
set_num_threads(threads);
var bench = new Bench(comm, smoke);

long[] parameterCounts = smoke ? [65_536, 262_144] : [1_000_000, 10_000_000];
long[] bucketSizes = smoke ? [64 << 10, 0] : [64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 0];
bench.Reductions(parameterCounts, bucketSizes);
bench.Step("MLP 32-64-10", inputs: 32, hidden: [64], classes: 10);
bench.Step("MLP 256-1024-512-10", inputs: 256, hidden: [1024, 512], classes: 10);

if (comm.Rank == 0)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
    File.WriteAllLines(output, [Row.Header, .. bench.Rows.Select(r => r.ToTsv())]);
    Console.WriteLine($"{comm.Size} ranks, {threads} libtorch thread(s) each, {comm.Description}");
    foreach (var row in bench.Rows) Console.WriteLine(row);
    Console.WriteLine($"wrote {Path.GetFullPath(output)}");
}
foreach (var failure in bench.Failures) Console.Error.WriteLine($"rank {comm.Rank}: FAILED: {failure}");
if (comm.Rank == 0) Console.WriteLine(bench.Failures.Count == 0 ? "Distributed benchmark: checks passed." : "Distributed benchmark FAILED.");
return bench.Failures.Count == 0 ? 0 : 1;

namespace FastCallbacks.Distributed.Benchmarks
{
    /// <summary>One measured row.</summary>
    internal sealed record Row(string Kind, string Configuration, long Parameters, long BucketBytes, double Ms, double? BaselineMs, double? GBps)
    {
        public const string Header = "kind\tconfiguration\tparameters\tbucket_bytes\tms\tbaseline_ms\tratio\tgb_per_s";

        public double? Ratio => BaselineMs is { } b && b > 0 ? Ms / b : null;

        public string ToTsv() => string.Join('\t', Kind, Configuration, Parameters, BucketBytes, F(Ms), F(BaselineMs), F(Ratio), F(GBps));

        public override string ToString() => Kind == "reduce"
            ? $"reduce  {Configuration,-32} {Ms,9:F3} ms  {GBps,6:F2} GB/s"
            : $"{Kind,-7} {Configuration,-32} {Ms,9:F3} ms/batch against {BaselineMs,7:F3} ms/batch alone: {Ratio,5:F3}x";

        private static string F(double? v) => v is { } x ? x.ToString("G6", CultureInfo.InvariantCulture) : "";
    }

    internal sealed class Bench(ICommunicator comm, bool smoke)
    {
        public List<Row> Rows { get; } = [];
        public List<string> Failures { get; } = [];

        /// <summary>
        /// The trainer's per-step work (the alias check, then the bucketed Allreduce) on flat buffers of each parameter
        /// count in buckets of each size (0: one call), the configurations taken in turn every round, so a busy spell of the
        /// machine slows them all alike.
        /// </summary>
        public void Reductions(long[] counts, long[] buckets)
        {
            var configs = counts.SelectMany(count => buckets.Select(bucket =>
            {
                var parameters = Enumerable.Range(0, 10).Select(i => new Parameter(zeros(count / 10 + (i == 9 ? count % 10 : 0)))).ToList();
                return (Count: count, Bucket: bucket, Parameters: parameters, Buffer: GradientBuffer.Bind(parameters, bucket == 0 ? count * 4 : bucket), Times: new List<double>());
            })).ToList();
            var expected = comm.Size * (comm.Size + 1) / 2f;
            var (warmup, rounds) = smoke ? (1, 3) : (3, 25);
            for (var round = 0; round < warmup + rounds; round++)
            {
                foreach (var c in configs)
                {
                    foreach (var p in c.Parameters)
                    {
                        using var g = p.grad!;
                        g.fill_(comm.Rank + 1f);
                    }
                    comm.Barrier("the start of a timed reduction");
                    var start = Stopwatch.GetTimestamp();
                    c.Buffer.Rebind();
                    c.Buffer.Reduce(comm, "a timed reduction");
                    if (round >= warmup) c.Times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
            foreach (var c in configs)
            {
                // Every gradient element is the sum over the ranks: nothing dropped, nothing counted twice.
                foreach (var p in c.Parameters)
                {
                    using var g = p.grad!;
                    if (!g.eq(expected).all().item<bool>()) Failures.Add($"reduction of {c.Count} floats in buckets of {c.Bucket} bytes: a gradient is not the sum over the ranks");
                }
                var ms = Slowest(Median(c.Times));
                var label = $"{Millions(c.Count)} params, {(c.Bucket == 0 ? "one call" : Bytes(c.Bucket) + " buckets")} ({c.Buffer.Buckets.Count})";
                Rows.Add(new Row("reduce", label, c.Count, c.Bucket == 0 ? c.Count * 4 : c.Bucket, ms, null, c.Count * 4 / 1e9 / (ms / 1e3)));
                c.Buffer.Dispose();
                foreach (var p in c.Parameters) p.Dispose();
            }
        }

        /// <summary>A training batch at per-rank batch 64 on every rank, against one process at batch 64 (every rank alone).</summary>
        public void Step(string name, int inputs, int[] hidden, int classes)
        {
            const int perRank = 64;
            var steps = smoke ? 4 : 32;
            var rounds = smoke ? 1 : 7;
            var g = new TorchSharp.torch.Generator(3);
            var x = randn([perRank * comm.Size * steps, inputs], generator: g);
            var y = randint(0, classes, [x.shape[0]], generator: g);
            using var together = Learner(x, y, perRank * comm.Size, inputs, hidden, classes);
            using var alone = Learner(x.narrow(0, 0, perRank * steps), y.narrow(0, 0, perRank * steps), perRank, inputs, hidden, classes);
            using var dist = together.Learner.ToDistributed(new DistributedOptions { Communicator = comm, ThreadsPerRank = 0 });
            var distributed = new List<double>();
            var single = new List<double>();
            for (var round = 0; round < rounds + 1; round++)
            {
                comm.Barrier("the start of a distributed epoch");
                together.Learner.Fit(1);
                comm.Barrier("the start of a one-process epoch");
                alone.Learner.Fit(1);
                // The first round compiles and warms the allocator.
                if (round == 0) continue;
                distributed.Add(together.Timer.MsPerBatch);
                single.Add(alone.Timer.MsPerBatch);
            }
            var parameters = together.Learner.Model.parameters().Sum(p => p.NumberOfElements);
            Rows.Add(new Row("step", $"{name}, {Millions(parameters)} params", parameters, DistributedTrainer.DefaultBucketBytes,
                Slowest(Median(distributed)), Slowest(Median(single)), null));
            // The ranks must hold the same model: compare every rank's sum of weights to rank 0's, bit for bit.
            using var sum = together.Learner.Model.parameters().Select(p => p.detach().to_type(ScalarType.Float64).sum()).Aggregate((a, b) => a + b);
            var all = new double[comm.Size];
            comm.AllGather<double>([sum.item<double>()], all, "the weights' checksums");
            if (all.Any(v => v != all[0])) Failures.Add($"{name}: the ranks' weights differ after training ({string.Join(", ", all)})");
            if (dist.Trainer.Reductions != (rounds + 1) * steps) Failures.Add($"{name}: {dist.Trainer.Reductions} reductions for {(rounds + 1) * steps} steps");
        }

        private static Timed Learner(Tensor x, Tensor y, int batch, int inputs, int[] hidden, int classes)
        {
            manual_seed(0);
            var layers = new List<nn.Module<Tensor, Tensor>>();
            var width = inputs;
            foreach (var h in hidden)
            {
                layers.Add(nn.Linear(width, h));
                layers.Add(nn.ReLU());
                width = h;
            }
            layers.Add(nn.Linear(width, classes));
            var dls = new DataLoaders(new TensorDataLoader([x], [y], batch));
            var timer = new EpochTimer();
            var learn = new Learner(dls, nn.Sequential(layers), nn.CrossEntropyLoss(), cbs: [timer]) { Logger = null };
            learn.RemoveCbs<ProgressCallback>();
            return new Timed(learn, timer);
        }

        private double Slowest(double mine)
        {
            var all = new double[comm.Size];
            comm.AllGather<double>([mine], all, "the timings");
            return all.Max();
        }

        private static double Median(List<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        private static string Millions(long n) => n >= 1_000_000 ? $"{n / 1e6:0.##}M" : $"{n / 1e3:0.#}K";

        private static string Bytes(long n) => n >= 1 << 20 ? $"{n >> 20} MiB" : $"{n >> 10} KiB";
    }

    internal sealed record Timed(Learner Learner, EpochTimer Timer) : IDisposable
    {
        public void Dispose() => Learner.Dispose();
    }

    /// <summary>The training phase's time per batch.</summary>
    internal sealed partial class EpochTimer : Callback
    {
        private long _start;

        public double MsPerBatch { get; private set; }

        [On(Event.BeforeTrain)]
        private void Start() => _start = Stopwatch.GetTimestamp();

        [On(Event.AfterTrain)]
        private void Stop() => MsPerBatch = Stopwatch.GetElapsedTime(_start).TotalMilliseconds / Math.Max(1, NIter);
    }
}
