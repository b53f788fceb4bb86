using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using FastCallbacks.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Benchmarks.Generators;

/// <summary>
/// Benchmark 3b (issue 17): what a keystroke costs each generator in an application, by the same harness on the same
/// compilations. A driver runs once on the workload, then <see cref="Rerun"/> runs it again on the compilation with
/// one file edited (a new tree each time, as the IDE makes), which is what a generator costs per keystroke.
/// <list type="bullet">
/// <item><c>LargeApp</c>: <see cref="Files"/> files, <see cref="OtherPartialClasses"/> of them partial classes with a base list
/// that are not callbacks, <see cref="OfEachKind"/> callbacks and as many of each peer's kind; a method body edited.</item>
/// <item><c>LargeApp2x</c>: the same files with twice the other partial classes: a cost that follows the callbacks stays flat.</item>
/// <item><c>LargeAppDeclarationEdit</c>: a method added to the edited class instead (a declaration edit).</item>
/// <item><c>HomeTurf</c>: <see cref="HomeTurfClasses"/> classes of the generator's own kind; a method body edited in
/// another file. FastCallbacks' own home turf is <see cref="GeneratorBenchmarks"/>.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class GeneratorPeerBenchmarks
{
    public const string Category = "GeneratorPeers";
    public const int Files = 3000, OtherPartialClasses = 500, OfEachKind = 20, HomeTurfClasses = 1000;

    public const string LargeApp = "LargeApp", LargeApp2x = "LargeApp2x", LargeAppDeclarationEdit = "LargeAppDeclarationEdit", HomeTurf = "HomeTurf";

    /// <summary>Workload/generator pairs; the generators are named as in <see cref="GeneratorSets"/>.</summary>
    public static IEnumerable<string> Cases() =>
    [
        .. new[]
        {
            GeneratorSets.FastCallbacks, GeneratorSets.PreviousDesign, GeneratorSets.LoggerMessage, GeneratorSets.SystemTextJson,
            GeneratorSets.Mvvm, GeneratorSets.AttributeFloor, GeneratorSets.SyntaxFloor,
        }.Select(g => $"{LargeApp}/{g}"),
        .. new[] { GeneratorSets.FastCallbacks, GeneratorSets.PreviousDesign, GeneratorSets.AttributeFloor }.Select(g => $"{LargeApp2x}/{g}"),
        $"{LargeAppDeclarationEdit}/{GeneratorSets.FastCallbacks}",
        .. new[] { GeneratorSets.LoggerMessage, GeneratorSets.SystemTextJson, GeneratorSets.Mvvm }.Select(g => $"{HomeTurf}/{g}"),
    ];

    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "";

    private GeneratorWorkloads.Workload _workload = null!;
    private bool _declarationEdit;
    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _ranOnce = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (workload, generator) = (Case.Split('/')[0], Case.Split('/')[1]);
        // The large-app variants share one workload; a home turf is the generator's own.
        _workload = Workloads.GetOrAdd(workload == HomeTurf ? Case : workload is LargeAppDeclarationEdit ? LargeApp : workload, Build);
        _declarationEdit = workload == LargeAppDeclarationEdit;
        _compilation = _workload.NewCompilation();
        var generators = GeneratorSets.Create(generator);
        _ranOnce = GeneratorSets.NewDriver(generators).RunGenerators(_compilation);
        Check(generator, generators);
    }

    [Benchmark(Description = "Generator re-run after the edit")]
    public int Rerun() =>
        _ranOnce.RunGenerators(_compilation.ReplaceSyntaxTree(_workload.Edited, _workload.EditedTree(_declarationEdit))).GetRunResult().Results.Length;

    // Built once per process: the smoke run (in process) sets up every case in one process.
    private static readonly ConcurrentDictionary<string, GeneratorWorkloads.Workload> Workloads = new();

    private static GeneratorWorkloads.Workload Build(string key)
    {
        var (workload, generator) = (key.Split('/')[0], key.Split('/').ElementAtOrDefault(1));
        // The smoke run checks the same pipelines on a tenth of the sizes, to stay quick.
        var scale = Program.IsSmoke ? 10 : 1;
        var (files, others, each) = (Files / scale, OtherPartialClasses / scale, Math.Max(2, OfEachKind / scale));
        return workload switch
        {
            LargeApp or LargeAppDeclarationEdit => GeneratorWorkloads.LargeApp(files, others, each),
            LargeApp2x => GeneratorWorkloads.LargeApp(files, 2 * others, each),
            _ => GeneratorWorkloads.HomeTurf(generator switch
            {
                GeneratorSets.LoggerMessage => GeneratorWorkloads.Kind.Logging,
                GeneratorSets.SystemTextJson => GeneratorWorkloads.Kind.Json,
                GeneratorSets.Mvvm => GeneratorWorkloads.Kind.ViewModels,
                _ => GeneratorWorkloads.Kind.Callbacks,
            }, HomeTurfClasses / scale),
        };
    }

    /// <summary>The generators ran without failing and wrote something (ours: exactly what its earlier design writes), and ours binds nothing after the body edit.</summary>
    private void Check(string name, IIncrementalGenerator[] generators)
    {
        var results = _ranOnce.GetRunResult();
        var failed = results.Results.Where(r => r.Exception is not null).Select(r => $"{r.Generator.GetGeneratorType().Name}: {r.Exception!.Message}").ToArray();
        var errors = results.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();
        if (failed.Length > 0 || errors.Length > 0)
            throw new InvalidOperationException($"{Case}: {string.Join("; ", failed.Concat(errors))}");
        var files = results.GeneratedTrees.Length;
        var isFloor = name is GeneratorSets.AttributeFloor or GeneratorSets.SyntaxFloor;
        if (files == 0 && !isFloor) throw new InvalidOperationException($"{Case}: the generators wrote nothing: the workload does not exercise them.");
        var line = $"CHECK: generator {Case} on {_workload.Name}: {generators.Length} generator(s), {files} files";

        if (name == GeneratorSets.FastCallbacks)
        {
            var generator = (CallbackGenerator)generators[0];
            var expected = GeneratorSets.NewDriver(GeneratorSets.Create(GeneratorSets.PreviousDesign)).RunGenerators(_compilation).GetRunResult().GeneratedTrees;
            if (!expected.Select(t => t.ToString()).SequenceEqual(results.GeneratedTrees.Select(t => t.ToString())))
                throw new InvalidOperationException($"{Case}: the generator's files differ from its earlier design's.");
            var (bound, trees) = (generator.ClassesBound, generator.TreesIndexed);
            Rerun();
            line += $", identical to the earlier design's; {bound} classes bound on the first run, {generator.ClassesBound - bound} "
                + $"on the re-run ({generator.TreesIndexed - trees} tree read)";
            if (!_declarationEdit && generator.ClassesBound != bound)
                throw new InvalidOperationException($"{Case}: the re-run after a body edit bound {generator.ClassesBound - bound} classes.");
        }
        Console.WriteLine(line);
    }
}
