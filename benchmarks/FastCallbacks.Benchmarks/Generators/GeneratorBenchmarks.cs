using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FastCallbacks.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Benchmarks.Generators;

/// <summary>
/// Benchmark 3: the source generator on its home turf, a compilation of 1,000 callback classes (one file each, three
/// handlers each, one of them taking the event) and one ordinary file. FirstRun: a new compilation and a new driver,
/// as a clean build. The re-runs: the driver that already ran, on the compilation after an edit in the ordinary file
/// (a method body, or a method added), as an IDE keystroke; every output should come from the cache. The earlier
/// design and Roslyn's floors are measured the same way, to tell our cost from the syntax provider's.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class GeneratorBenchmarks
{
    public const string Category = "Generator";
    public const int Classes = 1000;

    /// <summary>The smoke run (in process) checks the same pipeline on fewer classes, to stay quick.</summary>
    private static int ClassCount => Program.IsSmoke ? 100 : Classes;

    private GeneratorWorkloads.Workload _workload = null!;
    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _ranOnce = null!;
    private GeneratorDriver _previousDesign = null!;
    private GeneratorDriver _attributeFloor = null!;
    private GeneratorDriver _syntaxFloor = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _workload = GeneratorWorkloads.HomeTurf(GeneratorWorkloads.Kind.Callbacks, ClassCount);
        _compilation = _workload.NewCompilation();
        _ranOnce = Driver(GeneratorSets.FastCallbacks).RunGenerators(_compilation);
        _previousDesign = Driver(GeneratorSets.PreviousDesign).RunGenerators(_compilation);
        _attributeFloor = Driver(GeneratorSets.AttributeFloor).RunGenerators(_compilation);
        _syntaxFloor = Driver(GeneratorSets.SyntaxFloor).RunGenerators(_compilation);
        Check();
    }

    [Benchmark(Baseline = true, Description = "Generator, first run (1,000 classes)"), BenchmarkCategory(Category)]
    public int FirstRun() => Driver(GeneratorSets.FastCallbacks).RunGenerators(_workload.NewCompilation()).GetRunResult().GeneratedTrees.Length;

    [Benchmark(Description = "Earlier design, first run (binds every partial class with a base list)"), BenchmarkCategory(Category)]
    public int FirstRunPreviousDesign() => Driver(GeneratorSets.PreviousDesign).RunGenerators(_workload.NewCompilation()).GetRunResult().GeneratedTrees.Length;

    [Benchmark(Description = "Generator, cached re-run after an unrelated edit"), BenchmarkCategory(Category)]
    public int CachedRerun() => Rerun(_ranOnce, declaration: false);

    [Benchmark(Description = "Generator, re-run after an unrelated declaration edit (a method added)"), BenchmarkCategory(Category)]
    public int DeclarationEditRerun() => Rerun(_ranOnce, declaration: true);

    [Benchmark(Description = "Earlier design, re-run after an unrelated edit"), BenchmarkCategory(Category)]
    public int PreviousDesignRerun() => Rerun(_previousDesign, declaration: false);

    // Floors: what Roslyn itself costs on the same re-run, with generators that do nothing but select nodes.

    [Benchmark(Description = "Floor: ForAttributeWithMetadataName([On]) alone, cached re-run"), BenchmarkCategory(Category)]
    public int AttributeFloorRerun() => Rerun(_attributeFloor, declaration: false);

    [Benchmark(Description = "Floor: CreateSyntaxProvider with a predicate that selects nothing, cached re-run"), BenchmarkCategory(Category)]
    public int SyntaxFloorRerun() => Rerun(_syntaxFloor, declaration: false);

    private int Rerun(GeneratorDriver driver, bool declaration) =>
        driver.RunGenerators(_compilation.ReplaceSyntaxTree(_workload.Edited, _workload.EditedTree(declaration))).GetRunResult().Results.Length;

    private static GeneratorDriver Driver(string name) => GeneratorSets.NewDriver(GeneratorSets.Create(name));

    /// <summary>The generator's output compiles, covers every class, matches the earlier design's, and the re-run binds nothing and is served from the cache.</summary>
    private void Check()
    {
        var generator = new CallbackGenerator();
        var first = CSharpGeneratorDriver.Create([generator.AsSourceGenerator()], parseOptions: GeneratorWorkloads.ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true))
            .RunGeneratorsAndUpdateCompilation(_compilation, out var output, out _);
        var result = first.GetRunResult();
        if (result.Diagnostics.Length > 0 || result.GeneratedTrees.Length != ClassCount)
            throw new InvalidOperationException($"Generator: {result.GeneratedTrees.Length} files for {ClassCount} classes, diagnostics: {string.Join("; ", result.Diagnostics)}.");
        if (!_previousDesign.GetRunResult().GeneratedTrees.Select(t => t.ToString()).SequenceEqual(result.GeneratedTrees.Select(t => t.ToString())))
            throw new InvalidOperationException("Generator: its files differ from the earlier design's.");
        // Binding every generated file takes seconds; twenty of them show the code compiles.
        var errors = output.SyntaxTrees.Skip(_workload.Trees.Length).Take(20)
            .SelectMany(t => output.GetSemanticModel(t).GetDiagnostics())
            .Where(d => d.Severity == DiagnosticSeverity.Error).Take(5).ToArray();
        if (errors.Length > 0)
            throw new InvalidOperationException($"The generated code does not compile: {string.Join("; ", errors.Select(e => e.ToString()))}");

        var bound = generator.ClassesBound;
        var rerun = first.RunGenerators(_compilation.ReplaceSyntaxTree(_workload.Edited, _workload.EditedTree(declaration: false))).GetRunResult().Results[0];
        var outputs = rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(step => step.Outputs).ToArray();
        var reasons = outputs.GroupBy(o => o.Reason).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
        Console.WriteLine($"CHECK: generator re-run after an unrelated edit: {outputs.Length} outputs, {string.Join(", ", reasons)}; "
            + $"{bound} classes bound on the first run, {generator.ClassesBound - bound} on the re-run; files identical to the earlier design's");
        foreach (var (name, steps) in rerun.TrackedSteps.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var stepReasons = steps.SelectMany(s => s.Outputs).GroupBy(o => o.Reason).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
            Console.WriteLine($"CHECK: generator re-run, step {name}: {string.Join(", ", stepReasons)}");
        }
        if (outputs.Any(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)))
            throw new InvalidOperationException("The generator re-ran an output after an unrelated edit: " + string.Join(", ", reasons));
        if (generator.ClassesBound != bound)
            throw new InvalidOperationException($"The generator bound {generator.ClassesBound - bound} classes after an edit inside a method body.");
    }
}
