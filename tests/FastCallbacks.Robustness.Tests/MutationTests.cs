using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastCallbacks.Robustness.Tests;

/// <summary>
/// The generator and the analyzers run over thousands of broken versions of the repository's own callback
/// sources, as an IDE runs them while someone types: nothing may throw (no CS8785, no AD0001) and nothing may hang.
/// CI runs a fixed sample; set FASTCALLBACKS_MUTATIONS (count) and FASTCALLBACKS_MUTATION_SEED to run more or others.
/// </summary>
public class MutationTests
{
    private const int DefaultMutations = 2000, DefaultSeed = 20260707;

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

    private static readonly TimeSpan PerRunTimeout = TimeSpan.FromSeconds(EnvInt("FASTCALLBACKS_MUTATION_TIMEOUT_S", 60));

    /// <summary>Every analyzer of src/Analyzers (found by reflection, so new ones are covered as they are added).</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers { get; } =
    [
        .. typeof(FastCallbacks.Analyzers.DiagnosticDescriptors).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetCustomAttributes(typeof(DiagnosticAnalyzerAttribute), false).Length > 0)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ];

    [Test]
    public void All_analyzers_are_run()
    {
        TestContext.Out.WriteLine(string.Join(", ", Analyzers.Select(a => a.GetType().Name)));
        Assert.That(Analyzers.Select(a => a.GetType().Name), Is.SupersetOf(new[] { "CancelExceptionAnalyzer", "HandlerAnalyzer", "LearnerStateWriteAnalyzer" }));
    }

    [Test]
    public void Corpus_is_the_repositorys_callback_sources()
    {
        var paths = Corpus.Files.Select(f => f.RelativePath).ToArray();
        TestContext.Out.WriteLine($"{paths.Length} files:\n  " + string.Join("\n  ", paths));
        Assert.That(paths, Does.Contain("src/Runtime/Callbacks/Recorder.cs"));
        Assert.That(paths, Does.Contain("src/Runtime/Callbacks/TrainEvalCallback.cs"));
        Assert.That(paths.Count(p => p.StartsWith("tests/", StringComparison.Ordinal)), Is.GreaterThan(5));
        Assert.That(paths, Has.None.Contains("/obj/").And.None.Contains("/bin/"));
        var tests = Corpus.Files.Where(f => f.RelativePath.StartsWith("tests/", StringComparison.Ordinal)).ToArray();
        Assert.That(tests.Select(f => f.Text), Has.All.Contains("[On("), "each test file keeps its callbacks");
        Assert.That(tests.Select(f => f.Text), Has.None.Contains("[Test]").And.None.Contains("[TestCaseSource("), "and only them");
    }

    [Test]
    public void Unmutated_sources_generate_dispatch_and_nothing_fails()
    {
        var host = new RoslynHost(Analyzers);
        foreach (var file in Corpus.Files)
        {
            var report = host.Run(file.RelativePath, file.Text, PerRunTimeout);
            Assert.That(report.Failure, Is.Null, file.RelativePath);
            Assert.That(report.GeneratedFilesWithSyntaxErrors, Is.Zero, file.RelativePath);
            if (file.Text.Contains("[On(", StringComparison.Ordinal))
                Assert.That(report.GeneratedFiles, Is.GreaterThan(0), $"{file.RelativePath}: the sources bind to the real FastCallbacks types, so dispatch is generated");
        }
    }

    [Test]
    public void The_same_seed_and_index_give_the_same_mutant()
    {
        for (var i = 0; i < 200; i++)
        {
            var (x, y) = (Mutator.Make(Corpus.Files, 5, i), Mutator.Make(Corpus.Files, 5, i));
            Assert.That((x.Description, x.Text), Is.EqualTo((y.Description, y.Text)));
        }
        Assert.That(Mutator.Make(Corpus.Files, 5, 0).Text, Is.Not.EqualTo(Mutator.Make(Corpus.Files, 6, 0).Text));
    }

    [Test]
    public void Generator_and_analyzers_survive_mutated_callback_sources()
    {
        var count = EnvInt("FASTCALLBACKS_MUTATIONS", DefaultMutations);
        var seed = EnvInt("FASTCALLBACKS_MUTATION_SEED", DefaultSeed);
        // Mutants are independent of each other, so the runs are spread over the cores (each worker keeps its own
        // generator driver, as each open editor does).
        var workers = Math.Clamp(EnvInt("FASTCALLBACKS_MUTATION_WORKERS", Environment.ProcessorCount), 1, 16);
        var reports = new RunReport[count];
        var kinds = new string[count];
        var clock = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;

        var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            var host = new RoslynHost(Analyzers);
            for (var i = w; i < count; i += workers)
            {
                var mutant = Mutator.Make(Corpus.Files, seed, i);
                kinds[i] = mutant.Kind;
                reports[i] = host.Run(mutant.File.RelativePath, mutant.Text, PerRunTimeout);
            }
        }) { IsBackground = true, Name = $"mutations-{w}" }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        var failures = Enumerable.Range(0, count).Where(i => reports[i].Failure is not null).ToArray();
        TestContext.Out.WriteLine($"{count} mutations (seed {seed}) of {Corpus.Files.Count} files on {workers} workers in {clock.Elapsed.TotalSeconds:F1} s " +
            $"({cpu.TotalSeconds:F1} s CPU); slowest run {reports.Max(r => r.Elapsed).TotalMilliseconds:F0} ms; analyzers: {Analyzers.Length}");
        TestContext.Out.WriteLine("by kind: " + string.Join(", ", kinds.GroupBy(k => k).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}")));
        TestContext.Out.WriteLine($"generated files: {reports.Sum(r => r.GeneratedFiles)}; analyzer diagnostics: {reports.Sum(r => r.AnalyzerDiagnostics.Length)}; failures: {failures.Length}");

        if (failures.Length == 0) return;
        var dir = Path.Combine(TestContext.CurrentContext.WorkDirectory, "robustness-failures");
        Directory.CreateDirectory(dir);
        foreach (var i in failures.Take(20))
        {
            var mutant = Mutator.Make(Corpus.Files, seed, i);
            File.WriteAllText(Path.Combine(dir, $"mutant-{seed}-{i}.cs"), $"// {mutant.Description}\n// {reports[i].Failure}\n{mutant.Text}");
        }
        Assert.Fail($"{failures.Length} of {count} runs failed (seed {seed}; the first mutated sources are in {dir}):\n" +
            string.Join("\n", failures.Take(5).Select(i => $"#{i} {Mutator.Make(Corpus.Files, seed, i).Description}\n  {reports[i].Failure}")));
    }
}
