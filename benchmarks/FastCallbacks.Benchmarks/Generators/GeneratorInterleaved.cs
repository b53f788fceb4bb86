using System.Diagnostics;
using System.Globalization;
using FastCallbacks.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Benchmarks.Generators;

/// <summary>
/// <c>--generators-interleaved [rounds]</c>: the cases of <see cref="GeneratorPeerBenchmarks"/> and <see cref="GeneratorBenchmarks"/>
/// timed round-robin in one process (each round runs every case for about 20 ms), on the thread's CPU clock and the
/// wall clock. BenchmarkDotNet runs one case after another, minutes apart, so load from other processes that drifts
/// over minutes skews its ratios between generators; here it hits all of them alike. Prints, per case, the median
/// of the rounds, then one machine-readable line per case (<c>generator-case\tNAME\tCPU_MS\tWALL_MS</c>) for the report.
/// <c>--cases TEXT</c> keeps only the cases whose name contains TEXT.
/// </summary>
internal static class GeneratorInterleaved
{
    private sealed record Case(string Name, Func<int> Run);

    public static int Run(string[] args)
    {
        var i = Array.IndexOf(args, "--generators-interleaved");
        var rounds = i + 1 < args.Length && int.TryParse(args[i + 1], out var r) ? r : 20;
        var inv = CultureInfo.InvariantCulture;

        var only = Array.IndexOf(args, "--cases") is var at && at >= 0 && at + 1 < args.Length ? args[at + 1] : "";
        var cases = new List<Case>();
        foreach (var name in GeneratorPeerBenchmarks.Cases().Where(n => n.Contains(only, StringComparison.Ordinal)))
        {
            var benchmark = new GeneratorPeerBenchmarks { Case = name };
            benchmark.Setup();
            cases.Add(new(name, benchmark.Rerun));
        }
        var home = new GeneratorBenchmarks();
        home.GlobalSetup();
        cases.Add(new($"HomeTurf/{GeneratorSets.FastCallbacks}", home.CachedRerun));
        cases.Add(new($"HomeTurfDeclarationEdit/{GeneratorSets.FastCallbacks}", home.DeclarationEditRerun));
        cases.Add(new($"HomeTurf/{GeneratorSets.PreviousDesign}", home.PreviousDesignRerun));
        cases.Add(new($"HomeTurf/{GeneratorSets.AttributeFloor}", home.AttributeFloorRerun));
        cases.Add(new($"HomeTurf/{GeneratorSets.SyntaxFloor}", home.SyntaxFloorRerun));
        cases.Add(new($"HomeTurfFirstRun/{GeneratorSets.FastCallbacks}", home.FirstRun));
        cases.Add(new($"HomeTurfFirstRun/{GeneratorSets.PreviousDesign}", home.FirstRunPreviousDesign));
        cases.RemoveAll(k => !k.Name.Contains(only, StringComparison.Ordinal));

        // Warm up (JIT, Roslyn's lazy tables), then repetitions per case that take about 20 ms of CPU.
        foreach (var c in cases) { c.Run(); c.Run(); }
        var reps = cases.Select(c => Math.Clamp((int)(20e6 / Math.Max(1, Time(c, 1).Cpu)), 1, 200)).ToArray();
        var cpu = cases.Select(_ => new List<double>()).ToArray();
        var wall = cases.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < cases.Count; k++)
            {
                var (c, w) = Time(cases[k], reps[k]);
                cpu[k].Add(c / reps[k] / 1e6);
                wall[k].Add(w / reps[k] / 1e6);
            }
        }

        Console.WriteLine($"Generators interleaved, {rounds} rounds, ms per run: median of the rounds on the thread's CPU clock (wall clock), fastest round's CPU.");
        for (var k = 0; k < cases.Count; k++)
        {
            Console.WriteLine(string.Format(inv, "  {0,-58} {1,9:F2} ms CPU ({2,9:F2} ms wall)  fastest {3,9:F2} ms  x{4}",
                cases[k].Name, Interleaved.Median(cpu[k]), Interleaved.Median(wall[k]), cpu[k].Min(), reps[k]));
        }
        for (var k = 0; k < cases.Count; k++)
        {
            Console.WriteLine(string.Format(inv, "generator-case\t{0}\t{1:F4}\t{2:F4}", cases[k].Name, Interleaved.Median(cpu[k]), Interleaved.Median(wall[k])));
        }
        return 0;
    }

    private static (double Cpu, double Wall) Time(Case c, int reps)
    {
        var clock = Stopwatch.StartNew();
        var start = Interleaved.ThreadCpuNs();
        for (var i = 0; i < reps; i++) c.Run();
        return (Interleaved.ThreadCpuNs() - start, clock.Elapsed.TotalMilliseconds * 1e6);
    }
}
