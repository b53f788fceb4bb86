using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Runs the benchmarks (BenchmarkDotNet's command line: --filter '*', --job, --disasm, --artifacts, ...), or:
/// <list type="bullet">
/// <item><c>--smoke</c>: every benchmark once, in process (about half a minute with the build); exits 1 on any failure. CI runs it.</item>
/// <item><c>--interleaved [rounds]</c>: the dispatch-anatomy variants timed round-robin, for a busy machine (see <see cref="Interleaved"/>).</item>
/// <item><c>--generators-interleaved [rounds]</c>: every generator case timed round-robin, for a busy machine (see <see cref="Generators.GeneratorInterleaved"/>).</item>
/// <item><c>--report docs/benchmarks.md --runs DIR [DIR...] [--coldstart FILE] [--trim FILE]</c>: writes the doc from the
/// exported results of one or more runs.</item>
/// </list>
/// </summary>
public static class Program
{
    /// <summary>True in the smoke run, whose benchmarks run in this process.</summary>
    public static bool IsSmoke { get; private set; }

    public static int Main(string[] args)
    {
        if (args.Contains("--report")) return Report.Write(args);
        if (args.Contains("--interleaved")) return Interleaved.Run(args);
        if (args.Contains("--generators-interleaved")) return Generators.GeneratorInterleaved.Run(args);
        if (args.Contains("--smoke")) return Smoke(args.Where(a => a != "--smoke").ToArray());

        IConfig config = DefaultConfig.Instance.AddExporter(JsonExporter.Full);
        // The full job: fixed counts, so a run of everything takes minutes, not hours, on two shared cores. Ten warmup
        // iterations: with five, some runs stepped to a different speed partway through the measured iterations.
        // A --job given on the command line (dry, short, ...) replaces it.
        if (!args.Any(a => a is "--job" or "-j"))
        {
            config = config.AddJob(Job.Default
                .WithWarmupCount(10)
                .WithIterationCount(20)
                .WithIterationTime(TimeInterval.FromMilliseconds(200))
                .WithId("Full"));
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return Failed(summaries) ? 1 : 0;
    }

    /// <summary>Every benchmark once, in process, into artifacts/benchmarks/smoke; non-zero when any failed or none ran.</summary>
    private static int Smoke(string[] args)
    {
        IsSmoke = true;
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddExporter(JsonExporter.Full)
            .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance))
            .WithArtifactsPath(Path.Combine("artifacts", "benchmarks", "smoke"));
        var filter = args.Length > 0 ? args : ["--filter", "*"];
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(filter, config).ToArray();
        var failed = Failed(summaries);
        var count = summaries.Sum(s => s.Reports.Length);
        Console.WriteLine(failed ? $"Benchmark smoke FAILED ({count} benchmarks ran)." : $"Benchmark smoke passed: {count} benchmarks ran.");
        return failed ? 1 : 0;
    }

    private static bool Failed(IEnumerable<Summary> summaries)
    {
        var list = summaries.ToArray();
        if (list.Length == 0 || list.All(s => s.Reports.Length == 0)) return true;
        foreach (var s in list)
        {
            if (s.HasCriticalValidationErrors) return true;
            foreach (var r in s.Reports)
            {
                if (!r.Success || r.ResultStatistics is null)
                {
                    Console.Error.WriteLine($"Benchmark failed: {r.BenchmarkCase.DisplayInfo}");
                    return true;
                }
            }
        }
        return false;
    }
}
