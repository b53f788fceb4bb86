using System.Diagnostics;
using System.Globalization;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// <c>--data-loading [rounds]</c>: the <see cref="DataLoadingBenchmarks"/> and <see cref="TensorGatherBenchmarks"/>
/// variants timed round-robin on the wall clock (workers run on other threads, so the thread's CPU clock would not
/// see them), one epoch per variant per round. Prints per variant the median and fastest round per batch, the limit
/// (compute + data with no workers, max(compute, data / workers) with some) and the ratio to it, the learner's wait
/// for data per batch from <see cref="DataWaitCallback"/>, and the load average before and after. Measure on a quiet
/// machine: the limit assumes the workers have the cores to themselves.
/// </summary>
internal static class DataLoading
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var i = Array.IndexOf(args, "--data-loading");
        var rounds = i + 1 < args.Length && int.TryParse(args[i + 1], out var r) ? r : 20;
        Console.WriteLine($"Data loading, {rounds} rounds of one epoch per variant, wall clock; {Environment.ProcessorCount} cores; load average before: {LoadAverage()}");
        Items(rounds);
        Gather(rounds);
        Console.WriteLine($"Load average after: {LoadAverage()}");
        return 0;
    }

    private static void Items(int rounds)
    {
        var b = new DataLoadingBenchmarks();
        b.GlobalSetup();
        var variants = new (string Name, Action Op)[]
        {
            ("compute", b.Compute), ("data", b.Data), ("0 workers", b.Workers0), ("1 worker", b.Workers1), ("2 workers", b.Workers2),
            ("1 worker", () => AtLearnersPriority(b.Workers1)), ("2 workers", () => AtLearnersPriority(b.Workers2)),
            ("data, 2 workers", b.DataTwoWorkers),
        };
        var (times, waits) = Measure(variants, rounds, DataLoadingBenchmarks.Batches, k => k is >= 2 and <= 6 ? b.MeanWait(k <= 4 ? k - 2 : k - 4) : null);
        var c = Median(times[0]);
        var d = Median(times[1]);
        Console.WriteLine(string.Format(Inv, "Items of {0} ms CPU, batches of {1}, {2} batches per epoch; ms per batch: compute c = {3:F3}, data d = {4:F3} (medians)",
            DataLoadingBenchmarks.ItemMs, DataLoadingBenchmarks.BatchSize, DataLoadingBenchmarks.Batches, c, d));
        for (var w = 0; w <= 2; w++)
        {
            var limit = w == 0 ? c + d : Math.Max(c, d / w);
            var cores = Math.Max(limit, (c + d) / Environment.ProcessorCount);
            var t = Median(times[w + 2]);
            Console.WriteLine(string.Format(Inv,
                "  {0} workers: median {1,7:F3} ms  min {2,7:F3} ms  limit {3,7:F3} ms ({4})  ratio {5:F3}  (cores' bound {6:F3} ms, ratio {7:F3})  data wait {8:F3} ms per batch",
                w, t, times[w + 2].Min(), limit, w == 0 ? "c + d" : w == 1 ? "max(c, d)" : "max(c, d/2)", t / limit, cores, t / cores, Median(waits[w + 2])));
        }
        for (var w = 1; w <= 2; w++)
        {
            var t = Median(times[w + 4]);
            Console.WriteLine(string.Format(Inv, "  {0} workers at the learner's priority (not lowered): median {1,7:F3} ms  min {2,7:F3} ms  ratio to the limit {3:F3}  data wait {4:F3} ms per batch",
                w, t, times[w + 4].Min(), t / Math.Max(c, d / w), Median(waits[w + 4])));
        }
        Console.WriteLine(string.Format(Inv, "  the loader alone with 2 workers (no model): median {0,7:F3} ms  min {1,7:F3} ms  ratio to d/2 {2:F3}",
            Median(times[7]), times[7].Min(), Median(times[7]) / (d / 2)));
        b.GlobalCleanup();
    }

    /// <summary>Runs <paramref name="fit"/> with the workers' priority left at the learner's, to show what lowering it buys.</summary>
    private static void AtLearnersPriority(Action fit)
    {
        WorkerPriority.Enabled = false;
        try
        {
            fit();
        }
        finally
        {
            WorkerPriority.Enabled = true;
        }
    }

    private static void Gather(int rounds)
    {
        var g = new TensorGatherBenchmarks();
        g.GlobalSetup();
        var variants = new (string Name, Action Op)[] { ("views", g.Unshuffled), ("0 workers", g.Workers0), ("1 worker", g.Workers1) };
        var (times, waits) = Measure(variants, rounds, g.Batches, k => k switch { 1 => g.MeanWait(0), 2 => g.MeanWait(1), _ => null });
        Console.WriteLine(string.Format(Inv, "Shuffled TensorDataLoader, {0} x {1} floats, batches of {2}; ms per batch (medians):", TensorGatherBenchmarks.Rows,
            TensorGatherBenchmarks.Features, TensorGatherBenchmarks.BatchSize));
        for (var k = 0; k < variants.Length; k++)
            Console.WriteLine(string.Format(Inv, "  {0,-34} median {1,7:F3} ms  min {2,7:F3} ms  ratio to unshuffled views {3:F3}  data wait {4:F3} ms per batch",
                k == 0 ? "unshuffled (views), no workers" : "shuffled (gathered), " + variants[k].Name, Median(times[k]), times[k].Min(), Median(times[k]) / Median(times[0]), Median(waits[k])));
        g.GlobalCleanup();
    }

    /// <summary>Warms every variant up, then runs them round-robin: ms per batch of each round, and the data wait per batch each round reported.</summary>
    private static (List<double>[] Times, List<double>[] Waits) Measure((string Name, Action Op)[] variants, int rounds, int batches, Func<int, TimeSpan?> wait)
    {
        foreach (var v in variants)
            for (var k = 0; k < 2; k++) v.Op();
        var times = variants.Select(_ => new List<double>()).ToArray();
        var waits = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < variants.Length; k++)
            {
                var start = Stopwatch.GetTimestamp();
                variants[k].Op();
                times[k].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / batches);
                waits[k].Add(wait(k) is { } w ? w.TotalMilliseconds : 0);
            }
        }
        return (times, waits);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
