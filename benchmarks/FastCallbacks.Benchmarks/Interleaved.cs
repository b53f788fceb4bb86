using TorchSharp;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// <c>--interleaved [rounds]</c>: a diagnostic, not a BenchmarkDotNet run. Times the dispatch-anatomy variants, then the fit variants,
/// round-robin (each round runs every variant for about 10 ms of CPU), with the thread's CPU clock
/// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)) rather than the wall clock, so time the thread spends preempted by
/// other processes is not counted, and load that drifts over seconds hits all variants alike. Reports per variant
/// the fastest round and the median round (an empty call's time subtracted, per dispatch) and the ratio of the
/// fastest rounds to the hand-written virtual loop's. Use it to compare variants on a busy machine; Linux only.
/// </summary>
internal static class Interleaved
{
    public static int Run(string[] args)
    {
        var i = Array.IndexOf(args, "--interleaved");
        var rounds = i + 1 < args.Length && int.TryParse(args[i + 1], out var r) ? r : 40;
        var inv = CultureInfo.InvariantCulture;
        if (args.Contains("--fit-only"))
        {
            Fit(rounds * 2, inv);
            return 0;
        }
        if (args.Contains("--optimizer-only"))
        {
            OptimizerSteps(rounds, inv);
            return 0;
        }
        Console.WriteLine($"Interleaved timing on the thread's CPU clock, {rounds} rounds; ns per dispatch, empty call subtracted.");
        foreach (var n in new[] { 1, 10, 100 })
        {
            var b = new DispatchAnatomyBenchmarks { N = n };
            b.GlobalSetup();
            var variants = new (string Name, Action Op)[]
            {
                ("(empty call)", new Nothing().Empty),
                ("1. Hand-written virtual loop", b.HandWrittenVirtual),
                ("2. + generated Dispatch", b.GeneratedSwitch),
                ("3. + Run flag", b.RunFlag),
                ("4. + try/catch in the loop (earlier design)", b.TryCatchIndex),
                ("5. Learner.Invoke", b.LearnerInvoke),
            };
            // Calibrate: repetitions that take about 10 ms for the slowest variant, after warming every variant up.
            foreach (var v in variants) Time(v.Op, 20_000);
            var reps = Math.Max(1000, (int)(10e6 / variants.Max(v => Time(v.Op, 100_000) / 100_000.0)));
            var times = variants.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
                for (var k = 0; k < variants.Length; k++)
                    times[k].Add(Time(variants[k].Op, reps) / reps);
            var empty = times[0];
            Console.WriteLine($"N={n} ({reps:N0} dispatches per variant per round); empty call: min {empty.Min():F2} ns, median {Median(empty):F2} ns");
            var baseMin = times[1].Min() - empty.Min();
            for (var k = 1; k < variants.Length; k++)
            {
                var min = times[k].Min() - empty.Min();
                var median = Median(times[k]) - Median(empty);
                Console.WriteLine(string.Format(inv, "  {0,-42} min {1,8:F2} ns ({2,5:F2} per callback)  median {3,8:F2} ns  min ratio {4,5:F2}",
                    variants[k].Name, min, min / n, median, min / baseMin));
            }
            b.GlobalCleanup();
        }
        Fit(rounds * 2, inv);
        OptimizerSteps(rounds, inv);
        return 0;
    }

    /// <summary>One optimizer step of each variant of <see cref="OptimizerBenchmarks"/>, round-robin on the CPU clock: µs per step, ratio to TorchSharp's.</summary>
    private static void OptimizerSteps(int rounds, CultureInfo inv)
    {
        var b = new OptimizerBenchmarks();
        b.GlobalSetup();
        var variants = new (string Name, Action Op, int Baseline)[]
        {
            ("TorchSharp optim.Adam.step()", b.TorchSharpAdam, 0),
            ("FastCallbacks Adam.step(), fastai defaults", b.FastAdam, 0),
            ("FastCallbacks Adam.step(), TorchSharp's settings", b.FastAdamLikeTorch, 0),
            ("TorchSharp optim.SGD.step(), momentum 0.9", b.TorchSharpSgd, 3),
            ("FastCallbacks SGD.step(), mom 0.9", b.FastSgd, 3),
        };
        const int steps = 100;
        foreach (var v in variants) Time(v.Op, steps);
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
            for (var k = 0; k < variants.Length; k++)
                times[k].Add(Time(variants[k].Op, steps) / steps / 1000);
        Console.WriteLine($"Optimizer step on the fit benchmark's MLP, {rounds} rounds of {steps} steps per variant; µs per step; ratios to TorchSharp's optimizer");
        for (var k = 0; k < variants.Length; k++)
        {
            var baseline = times[variants[k].Baseline];
            Console.WriteLine(string.Format(inv, "  {0,-50} min {1,7:F1} µs  median {2,7:F1} µs  ratio of mins {3,5:F3}  ratio of medians {4,5:F3}",
                variants[k].Name, times[k].Min(), Median(times[k]), times[k].Min() / baseline.Min(), Median(times[k]) / Median(baseline)));
        }
        b.GlobalCleanup();
    }

    /// <summary>The fit variants the same way: one epoch (16 batches) per variant per round, per batch.</summary>
    private static void Fit(int rounds, CultureInfo inv)
    {
        var f = new FitBenchmarks();
        f.GlobalSetup();
        var variants = new (string Name, Action Op)[]
        {
            ("Hand-written TorchSharp loop", f.HandWritten),
            ("Learner.Fit, default callbacks", f.FitDefault),
            ("Learner.Fit, default + 10 no-op callbacks", f.FitTenNoOps),
            ("Learner.Fit, recorder/progress removed", f.FitMinimal),
            ("Learner.Fit, default minus the progress display", f.FitNoProgress),
            ("Learner.Fit(0), default: the per-fit cost alone", f.FitZeroEpochs),
            ("Learner.Fit(0), default minus the progress display", f.FitZeroEpochsNoProgress),
            ("Learner.Fit(0), recorder/progress removed", f.FitZeroEpochsMinimal),
        };
        foreach (var v in variants) Time(v.Op, 3);
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
            for (var k = 0; k < variants.Length; k++)
                times[k].Add(Time(variants[k].Op, 1) / FitBenchmarks.Batches / 1000);
        Console.WriteLine($"Fit, {rounds} rounds of one epoch ({FitBenchmarks.Batches} batches) per variant; µs per batch; ratios to the hand-written loop");
        for (var k = 0; k < variants.Length; k++)
        {
            Console.WriteLine(string.Format(inv, "  {0,-42} min {1,8:F1} µs  median {2,8:F1} µs  ratio of mins {3,5:F3}  ratio of medians {4,5:F3}",
                variants[k].Name, times[k].Min(), Median(times[k]), times[k].Min() / times[0].Min(), Median(times[k]) / Median(times[0])));
        }
        Console.WriteLine(string.Format(inv, "  10 no-op callbacks add {0:F2} % of the hand-written loop's time per batch (medians), {1:F2} % (mins)",
            100 * (Median(times[2]) - Median(times[1])) / Median(times[0]), 100 * (times[2].Min() - times[1].Min()) / times[0].Min()));
        f.GlobalCleanup();
        PerBatchWork(rounds, inv);
    }

    /// <summary>
    /// What the learner and the recorder do per batch beyond the hand-written loop, one piece at a time, on a
    /// scalar loss attached to a graph, inside a dispose scope as in a batch: µs per call.
    /// </summary>
    private static void PerBatchWork(int rounds, CultureInfo inv)
    {
        using var model = TorchSharp.torch.nn.Linear(4, 1);
        using var opt = TorchSharp.torch.optim.Adam(model.parameters(), 1e-3);
        using var x = TorchSharp.torch.randn(8, 4);
        using var loss = model.call(x).mean();
        var variants = new (string Name, Action Op)[]
        {
            ("(empty scope)", () => { using var s = TorchSharp.torch.NewDisposeScope(); }),
            ("Learner: Loss = LossGrad.detach().clone()", () => { using var s = TorchSharp.torch.NewDisposeScope(); loss.detach().clone(); }),
            ("Learner: LossGrad.clone() alone", () => { using var s = TorchSharp.torch.NewDisposeScope(); loss.clone(); }),
            ("Recorder: Loss.mean().ToDouble()", () => { using var s = TorchSharp.torch.NewDisposeScope(); loss.mean().ToDouble(); }),
            ("Recorder: Loss.ToDouble() alone", () => { using var s = TorchSharp.torch.NewDisposeScope(); loss.ToDouble(); }),
            ("Recorder: Hyperparameters.GetLr(opt)", () => Hyperparameters.GetLr(opt)),
        };
        const int reps = 2000;
        foreach (var v in variants) Time(v.Op, reps);
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
            for (var k = 0; k < variants.Length; k++)
                times[k].Add(Time(variants[k].Op, reps) / reps / 1000);
        Console.WriteLine($"Per-batch work of the learner and the recorder, {rounds} rounds; µs per call (the empty scope's time subtracted)");
        for (var k = 0; k < variants.Length; k++)
        {
            var net = k == 0 ? times[0] : times[k].Select((t, j) => t - times[0][j]).ToList();
            Console.WriteLine(string.Format(inv, "  {0,-42} min {1,7:F2} µs  median {2,7:F2} µs", variants[k].Name, net.Min(), Median(net)));
        }
    }

    /// <summary>The empty call is an instance method, like the variants: a delegate to a static method costs more.</summary>
    private sealed class Nothing
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Empty() { }
    }

    // Not optimized, so the JIT cannot devirtualize and inline the delegate (PGO would do it for whichever
    // variant is hot when the loop is recompiled): every variant, and the empty call, pays the same plain call.
    [MethodImpl(MethodImplOptions.NoOptimization | MethodImplOptions.NoInlining)]
    private static double Time(Action op, int reps)
    {
        var start = ThreadCpuNs();
        for (var i = 0; i < reps; i++) op();
        return ThreadCpuNs() - start;
    }

    internal static double ThreadCpuNs()
    {
        if (clock_gettime(ClockThreadCpuTimeId, out var ts) != 0) throw new InvalidOperationException("clock_gettime failed.");
        return ts.Seconds * 1e9 + ts.Nanoseconds;
    }

    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clockId, out Timespec time);

    internal static double Median(List<double> xs) => Percentile(xs, 0.5);

    private static double Percentile(List<double> xs, double p)
    {
        var s = xs.Order().ToArray();
        var pos = p * (s.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = (int)Math.Ceiling(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}
