using System.Collections.Immutable;
using System.Diagnostics;
using FastCallbacks.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastCallbacks.Robustness.Tests;

/// <summary>What one run of the generator and the analyzers over one (mutated) file did.</summary>
public sealed record RunReport(
    bool TimedOut,
    Exception? Escaped,
    Exception? GeneratorException,
    ImmutableArray<Diagnostic> DriverDiagnostics,
    IReadOnlyList<string> AnalyzerExceptions,
    ImmutableArray<Diagnostic> AnalyzerDiagnostics,
    int GeneratedFiles,
    int GeneratedFilesWithSyntaxErrors,
    TimeSpan Elapsed,
    string? FilterMismatch = null)
{
    /// <summary>
    /// Why this run counts as a failure, or null: anything thrown (CS8785, AD0001), a hang, or a generated file that
    /// does not parse (it would add errors of its own to the user's).
    /// </summary>
    public string? Failure =>
        TimedOut ? "timed out (hang?)"
        : Escaped is not null ? $"exception escaped the host: {Escaped}"
        : GeneratorException is not null ? $"the generator threw: {GeneratorException}"
        : DriverDiagnostics.FirstOrDefault(d => d.Id == "CS8785") is { } cs8785 ? $"CS8785: {cs8785.GetMessage()}"
        : AnalyzerExceptions.Count > 0 ? $"an analyzer threw: {AnalyzerExceptions[0]}"
        : AnalyzerDiagnostics.FirstOrDefault(d => d.Id == "AD0001") is { } ad0001 ? $"AD0001: {ad0001.GetMessage()}"
        : GeneratedFilesWithSyntaxErrors > 0 ? $"{GeneratedFilesWithSyntaxErrors} generated file(s) do not parse"
        : FilterMismatch is not null ? $"the syntactic candidate filter changed the output: {FilterMismatch}"
        : null;
}

/// <summary>
/// Runs <see cref="CallbackGenerator"/> and the FastCallbacks analyzers over a compilation of one file, as an IDE
/// does while the file is being typed: one generator driver is kept and re-run on each new version (its
/// incremental caches see every edit), and the analyzers run on the file within the compilation with the
/// generated code (they have no compilation-end actions, so the document's analysis reaches all their code).
/// A second driver runs the generator's earlier design, which binds every partial class with a base list, on the
/// same compilation: the generator must write exactly its files (its syntactic candidate filter loses nothing).
/// </summary>
public sealed class RoslynHost
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    // The global usings of the runtime and the runtime tests (ImplicitUsings, NUnit, TorchSharp).
    private const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using NUnit.Framework;
        global using TorchSharp;
        global using static TorchSharp.torch;
        """;


    private static readonly ImmutableArray<MetadataReference> References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(FastCallbacks.Learner).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Assert).Assembly.Location),
    ];

    private static readonly SyntaxTree[] Context = BuildContext();

    private readonly CSharpCompilation _base = CSharpCompilation.Create(
        "Mutant",
        Context,
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private readonly ImmutableArray<DiagnosticAnalyzer> _analyzers;
    private GeneratorDriver _driver = NewDriver();
    private GeneratorDriver _baseline = NewDriver(new FastCallbacks.Generators.Baseline.BindEveryClassGenerator());

    public RoslynHost(ImmutableArray<DiagnosticAnalyzer> analyzers) => _analyzers = analyzers;

    /// <summary>Unmutated files every compilation has: the global usings and the runtime tests' support code.</summary>
    private static SyntaxTree[] BuildContext()
    {
        // The runtime tests' Support folder and the shared test library (TestData, TraceCallback, ...).
        string[] folders = [Path.Combine(Corpus.RepoRoot, "tests", "FastCallbacks.Tests", "Support"), Path.Combine(Corpus.RepoRoot, "tests", "FastCallbacks.TestCallbacks")];
        return
        [
            CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, "GlobalUsings.g.cs"),
            .. folders.SelectMany(f => Directory.EnumerateFiles(f, "*.cs")).Order(StringComparer.Ordinal)
                .Select(p => CSharpSyntaxTree.ParseText(File.ReadAllText(p), ParseOptions, "Context/" + Path.GetFileName(p))),
        ];
    }

    private static GeneratorDriver NewDriver(IIncrementalGenerator? generator = null) => CSharpGeneratorDriver.Create(
        [(generator ?? new CallbackGenerator()).AsSourceGenerator()],
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

    /// <summary>Runs the generator and the analyzers on <paramref name="text"/>, giving up after <paramref name="timeout"/>.</summary>
    public RunReport Run(string path, string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource();
        var (driver, baseline) = (_driver, _baseline);
        var work = Task.Run(() => RunCore(driver, baseline, path, text, cts.Token));
        if (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(timeout))
        {
            cts.Cancel();
            // The hung run keeps the old ones.
            (_driver, _baseline) = (NewDriver(), NewDriver(new FastCallbacks.Generators.Baseline.BindEveryClassGenerator()));
            return new RunReport(true, null, null, [], [], [], 0, 0, clock.Elapsed);
        }
        if (work.Exception is { } ex)
        {
            (_driver, _baseline) = (NewDriver(), NewDriver(new FastCallbacks.Generators.Baseline.BindEveryClassGenerator()));
            return new RunReport(false, ex.InnerException ?? ex, null, [], [], [], 0, 0, clock.Elapsed);
        }
        (_driver, _baseline) = (work.Result.Driver, work.Result.Baseline);
        return work.Result.Report with { Elapsed = clock.Elapsed };
    }

    private (RunReport Report, GeneratorDriver Driver, GeneratorDriver Baseline) RunCore(
        GeneratorDriver driver, GeneratorDriver baseline, string path, string text, CancellationToken ct)
    {
        var tree = CSharpSyntaxTree.ParseText(text, ParseOptions, path, cancellationToken: ct);
        var compilation = _base.AddSyntaxTrees(tree);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var driverDiagnostics, ct);
        var result = driver.GetRunResult().Results.Single();
        var generated = result.GeneratedSources;
        baseline = baseline.RunGenerators(compilation, ct);
        var mismatch = Mismatch(generated, baseline.GetRunResult().Results.Single().GeneratedSources);
        var withErrors = generated.Count(s => s.SyntaxTree.GetDiagnostics(ct).Any(d => d.Severity == DiagnosticSeverity.Error));

        var analyzerExceptions = new List<string>();
        var analyzerDiagnostics = ImmutableArray<Diagnostic>.Empty;
        if (_analyzers.Length > 0)
        {
            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions([]),
                onAnalyzerException: (e, analyzer, _) => { lock (analyzerExceptions) analyzerExceptions.Add($"{analyzer.GetType().Name}: {e}"); },
                concurrentAnalysis: false,
                logAnalyzerExecutionTime: false);
            // As an IDE analyzes the open document: the mutated file, bound in the compilation with the generated code.
            var withAnalyzers = output.WithAnalyzers(_analyzers, options);
            analyzerDiagnostics =
            [
                .. withAnalyzers.GetAnalyzerSyntaxDiagnosticsAsync(tree, ct).GetAwaiter().GetResult(),
                .. withAnalyzers.GetAnalyzerSemanticDiagnosticsAsync(output.GetSemanticModel(tree), null, ct).GetAwaiter().GetResult(),
            ];
        }
        return (new RunReport(false, null, result.Exception, driverDiagnostics, analyzerExceptions, analyzerDiagnostics,
            generated.Length, withErrors, TimeSpan.Zero, mismatch), driver, baseline);
    }

    /// <summary>The first difference between the generator's files and the baseline's, or null.</summary>
    private static string? Mismatch(ImmutableArray<GeneratedSourceResult> generated, ImmutableArray<GeneratedSourceResult> expected)
    {
        var mine = generated.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        var theirs = expected.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        foreach (var (hint, text) in theirs)
        {
            if (!mine.TryGetValue(hint, out var written)) return $"{hint} is missing";
            if (written != text) return $"{hint} differs";
        }
        return mine.Keys.FirstOrDefault(h => !theirs.ContainsKey(h)) is { } extra ? $"{extra} is extra" : null;
    }
}
