using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FastCallbacks.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Benchmark 3: the source generator on a compilation of 1,000 callback classes (one file each, three
/// handlers each, one of them taking the event). FirstRun: a new compilation and a new driver, as a clean
/// build. CachedRerun: the driver that already ran, on the compilation after an unrelated edit (one method body
/// in a file without callbacks), as an IDE keystroke; every output should come from the cache.
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

    private static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.CSharp12);
    private static readonly CSharpCompilationOptions Options = new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);

    private SyntaxTree[] _trees = null!;
    private SyntaxTree _unrelated = null!;
    private SyntaxTree _unrelatedEdited = null!;
    private ImmutableArray<MetadataReference> _references;
    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _ranOnce = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _unrelated = Parse(Unrelated(1), "Unrelated.cs");
        _unrelatedEdited = Parse(Unrelated(2), "Unrelated.cs");
        _trees = [.. Enumerable.Range(0, ClassCount).Select(i => Parse(CallbackSource(i), $"Cb{i:D4}.cs")), _unrelated];
        _references =
        [
            .. Basic.Reference.Assemblies.Net100.References.All,
            MetadataReference.CreateFromFile(typeof(Callback).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
        ];
        _compilation = NewCompilation();
        _ranOnce = NewDriver(track: false).RunGenerators(_compilation);
        _attributeFloor = Floor(new AttributeFloor());
        _classFloor = Floor(new ClassFloor());
        Check();
    }

    [Benchmark(Baseline = true, Description = "Generator, first run (1,000 classes)"), BenchmarkCategory(Category)]
    public int FirstRun() => NewDriver(track: false).RunGenerators(NewCompilation()).GetRunResult().GeneratedTrees.Length;

    [Benchmark(Description = "Generator, cached re-run after an unrelated edit"), BenchmarkCategory(Category)]
    public int CachedRerun() =>
        _ranOnce.RunGenerators(_compilation.ReplaceSyntaxTree(_unrelated, _unrelatedEdited)).GetRunResult().GeneratedTrees.Length;

    // Floors: what Roslyn itself costs on the same re-run, with generators that do nothing but select the same
    // nodes. They tell the generator's own work from the cost of its syntax provider, and from the provider it replaced.

    [Benchmark(Description = "Floor: ForAttributeWithMetadataName([On]) alone, cached re-run"), BenchmarkCategory(Category)]
    public int AttributeFloorRerun() =>
        _attributeFloor.RunGenerators(_compilation.ReplaceSyntaxTree(_unrelated, _unrelatedEdited)).GetRunResult().Results.Length;

    [Benchmark(Description = "Floor: CreateSyntaxProvider(partial classes with a base list) + GetDeclaredSymbol alone, cached re-run"), BenchmarkCategory(Category)]
    public int ClassFloorRerun() =>
        _classFloor.RunGenerators(_compilation.ReplaceSyntaxTree(_unrelated, _unrelatedEdited)).GetRunResult().Results.Length;

    private GeneratorDriver _attributeFloor = null!;
    private GeneratorDriver _classFloor = null!;

    private GeneratorDriver Floor(IIncrementalGenerator generator) =>
        CSharpGeneratorDriver.Create([generator.AsSourceGenerator()], parseOptions: ParseOptions).RunGenerators(_compilation);

    /// <summary>The earlier design's provider (ForAttributeWithMetadataName on [On] methods) with a transform that only names the method.</summary>
    private sealed class AttributeFloor : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var names = context.SyntaxProvider.ForAttributeWithMetadataName("FastCallbacks.OnAttribute",
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                static (ctx, _) => ctx.TargetSymbol.Name);
            context.RegisterSourceOutput(names.Collect(), static (_, _) => { });
        }
    }

    /// <summary>The generator's provider (partial classes with a base list) with a transform that only binds the class.</summary>
    private sealed class ClassFloor : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var names = context.SyntaxProvider.CreateSyntaxProvider(
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax { BaseList: not null } c
                    && c.Modifiers.Any(SyntaxKind.PartialKeyword),
                static (ctx, ct) => ctx.SemanticModel.GetDeclaredSymbol(ctx.Node, ct)?.Name);
            context.RegisterSourceOutput(names.Collect(), static (_, _) => { });
        }
    }

    private CSharpCompilation NewCompilation() => CSharpCompilation.Create("Callbacks", _trees, _references, Options);

    private static GeneratorDriver NewDriver(bool track) => CSharpGeneratorDriver.Create(
        [new CallbackGenerator().AsSourceGenerator()],
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    private static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    private static string CallbackSource(int i) => $$"""
        using FastCallbacks;

        namespace Generated.Callbacks{{i % 10}};

        public partial class Cb{{i:D4}} : Callback
        {
            public int Calls;

            [On(Event.BeforeBatch)] private void BeforeBatch() => Calls++;
            [On(Event.AfterBatch), On(Event.AfterStep)] private void AfterBatch() => Calls += 2;
            [On(Event.AfterEpoch)] private void AfterEpoch(Event e) => Calls += (int)e;
        }
        """;

    private static string Unrelated(int value) => $$"""
        namespace Generated;

        public static class Unrelated
        {
            public static int Value() => {{value}};
        }
        """;

    /// <summary>The generator's output compiles and covers every class, and the re-run is served from the cache.</summary>
    private void Check()
    {
        var first = NewDriver(track: true).RunGeneratorsAndUpdateCompilation(_compilation, out var output, out _);
        var result = first.GetRunResult();
        if (result.Diagnostics.Length > 0 || result.GeneratedTrees.Length != ClassCount)
            throw new InvalidOperationException($"Generator: {result.GeneratedTrees.Length} files for {ClassCount} classes, diagnostics: {string.Join("; ", result.Diagnostics)}.");
        // Binding every generated file takes seconds; twenty of them show the code compiles.
        var errors = output.SyntaxTrees.Skip(_trees.Length).Take(20)
            .SelectMany(t => output.GetSemanticModel(t).GetDiagnostics())
            .Where(d => d.Severity == DiagnosticSeverity.Error).Take(5).ToArray();
        if (errors.Length > 0)
            throw new InvalidOperationException($"The generated code does not compile: {string.Join("; ", errors.Select(e => e.ToString()))}");

        var rerun = first.RunGenerators(_compilation.ReplaceSyntaxTree(_unrelated, _unrelatedEdited)).GetRunResult().Results[0];
        var outputs = rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(step => step.Outputs).ToArray();
        var reasons = outputs.GroupBy(o => o.Reason).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
        Console.WriteLine($"CHECK: generator re-run after an unrelated edit: {outputs.Length} outputs, {string.Join(", ", reasons)}");
        foreach (var (name, steps) in rerun.TrackedSteps.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var stepReasons = steps.SelectMany(s => s.Outputs).GroupBy(o => o.Reason).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
            Console.WriteLine($"CHECK: generator re-run, step {name}: {string.Join(", ", stepReasons)}");
        }
        if (outputs.Any(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)))
            throw new InvalidOperationException("The generator re-ran an output after an unrelated edit: " + string.Join(", ", reasons));
    }
}
