using System.Collections.Immutable;
using System.Reflection;
using FastCallbacks.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Generators.Tests.Infrastructure;

/// <summary>One run of the generator: the driver, its result and the compilation with the generated code added.</summary>
public sealed record GeneratorRun(
    GeneratorDriver Driver,
    GeneratorDriverRunResult Result,
    CSharpCompilation Input,
    Compilation Output)
{
    /// <summary>Generated files by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources =>
        Result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    /// <summary>All generated files, in hint-name order, each under a header naming it: the snapshot text.</summary>
    public string AllSources() => string.Join("\n", Sources
        .OrderBy(s => s.Key, StringComparer.Ordinal)
        .Select(s => $"// ==== {s.Key} ====\n{s.Value}"));
}

/// <summary>Builds test compilations against the contract stub and runs <see cref="CallbackGenerator"/> on them.</summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static readonly string ContractSource = ReadStub("FastCallbacksContract.cs");
    public static readonly string HarnessSource = ReadStub("TestHarness.cs");

    /// <summary>
    /// A library compilation of <paramref name="sources"/> (path, text) plus, unless a reference already provides
    /// them, the contract stub and the test harness.
    /// </summary>
    public static CSharpCompilation Compile(
        IEnumerable<(string Path, string Source)> sources,
        IEnumerable<MetadataReference>? references = null,
        bool includeContract = true,
        string assemblyName = "TestCallbacks")
    {
        var trees = new List<SyntaxTree>();
        if (includeContract)
        {
            trees.Add(Parse("Contract/FastCallbacksContract.cs", ContractSource));
            trees.Add(Parse("Contract/TestHarness.cs", HarnessSource));
        }
        trees.AddRange(sources.Select(s => Parse(s.Path, s.Source)));
        return CSharpCompilation.Create(
            assemblyName,
            trees,
            Basic.Reference.Assemblies.Net100.References.All.Concat(references ?? []),
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999));
    }

    public static CSharpCompilation Compile(params string[] sources) =>
        Compile(sources.Select((s, i) => ($"Source{i}.cs", s)));

    public static SyntaxTree Parse(string path, string source) =>
        CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    /// <summary>A driver for <paramref name="generator"/> (a new <see cref="CallbackGenerator"/> by default), tracking its steps.</summary>
    public static GeneratorDriver CreateDriver(IIncrementalGenerator? generator = null) => CSharpGeneratorDriver.Create(
        [(generator ?? new CallbackGenerator()).AsSourceGenerator()],
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator (on <paramref name="driver"/> when given, to reuse its cache).</summary>
    public static GeneratorRun Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var result = driver.GetRunResult();
        var generatorResult = result.Results.Single();
        Assert.That(generatorResult.Exception, Is.Null, "the generator threw");
        Assert.That(generatorResult.Diagnostics, Is.Empty, "the generator reports no diagnostics; the analyzers do");
        return new GeneratorRun(driver, result, compilation, output);
    }

    public static GeneratorRun Run(params string[] sources) => Run(Compile(sources));

    /// <summary>
    /// Fails unless <paramref name="run"/> (of <see cref="CallbackGenerator"/>) wrote exactly the files, byte for
    /// byte, that <see cref="Baseline.BindEveryClassGenerator"/> writes for the same compilation by binding every
    /// partial class with a base list: the syntactic candidate filter must lose nothing.
    /// </summary>
    public static void AssertSameAsBindingEveryClass(GeneratorRun run)
    {
        var baseline = Run(run.Input, CreateDriver(new Baseline.BindEveryClassGenerator())).Sources;
        Assert.That(run.Sources.Keys, Is.EquivalentTo(baseline.Keys), "the files written by binding every partial class with a base list");
        foreach (var (hint, text) in baseline)
        {
            Assert.That(run.Sources[hint], Is.EqualTo(text), hint);
        }
    }

    /// <summary>Fails unless <paramref name="run"/>, an incremental re-run, wrote what a new driver writes for the same compilation.</summary>
    public static void AssertSameAsFreshRun(GeneratorRun run)
    {
        var fresh = Run(run.Input).Sources;
        Assert.That(run.Sources, Is.EquivalentTo(fresh), "an incremental run writes what a fresh one writes");
    }

    /// <summary>
    /// Fails on any error in the output compilation, on any warning located in generated code, and on
    /// reflection in generated code.
    /// </summary>
    public static void AssertCompilesCleanly(GeneratorRun run)
    {
        var generatedTrees = run.Result.GeneratedTrees.ToHashSet();
        var diagnostics = run.Output.GetDiagnostics();
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var generatedWarnings = diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree is { } tree && generatedTrees.Contains(tree))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(errors, Is.Empty, () => Describe(errors, run));
            Assert.That(generatedWarnings, Is.Empty, () => Describe(generatedWarnings, run));
            foreach (var (hint, text) in run.Sources)
            {
                Assert.That(text, Does.Not.Contain("System.Reflection"), hint);
                Assert.That(text, Does.StartWith("// <auto-generated/>"), hint);
            }
        });
    }

    private static string Describe(IEnumerable<Diagnostic> diagnostics, GeneratorRun run) =>
        string.Join("\n", diagnostics.Select(d => d.ToString())) + "\n\nGenerated:\n" + run.AllSources();

    private static string ReadStub(string fileName)
    {
        using var stream = typeof(GeneratorHarness).Assembly.GetManifestResourceStream("Stubs." + fileName)
            ?? throw new InvalidOperationException($"Embedded stub {fileName} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
