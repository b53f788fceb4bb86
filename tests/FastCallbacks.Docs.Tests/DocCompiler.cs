using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastCallbacks.Docs.Tests;

/// <summary>What checking one block found: its problems (empty when it is right) and what a program printed.</summary>
public sealed record DocCheck(IReadOnlyList<string> Failures, bool Ran, string Output);

/// <summary>
/// Compiles a doc block as <c>Program.cs</c> of a <c>dotnet new console</c> app (net10.0, C# 14, nullable and implicit
/// usings on, warning level 10) that references the FastCallbacks package: the runtime and what it depends on, the
/// source generator and the analyzers. <c>#line</c> directives make every diagnostic name the Markdown file and line.
/// A block that compiles to a program is then run, in a fresh working folder.
/// </summary>
public static class DocCompiler
{
    /// <summary>How long a program may run before it counts as hung (doc programs take a few seconds).</summary>
    public static TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(5);

    private const string Placeholder = "// {{block}}";

    /// <summary><c>dotnet new console</c>'s implicit usings.</summary>
    private const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    private static readonly CSharpParseOptions ParseOptions = new CSharpParseOptions(LanguageVersion.Default)
        .WithPreprocessorSymbols("NET", "NET10_0", "NET10_0_OR_GREATER", "NETCOREAPP", "RELEASE");

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);
    private static readonly Lazy<ImmutableArray<ISourceGenerator>> Generators = new(() => Create<ISourceGenerator>("FastCallbacks.Generators"));
    private static readonly Lazy<ImmutableArray<DiagnosticAnalyzer>> Analyzers = new(() => Create<DiagnosticAnalyzer>("FastCallbacks.Analyzers"));

    /// <summary>Compiles <paramref name="block"/> (in its context, if it names one), compares its diagnostics with
    /// its marker's <c>expect=</c>, and runs it if it is a program that compiled.</summary>
    /// <param name="block">The block.</param>
    /// <param name="root">The repository root (the contexts are under it).</param>
    public static DocCheck Check(DocBlock block, string root)
    {
        if (block.Problem is { } problem) return new DocCheck([$"{block}: {problem}"], false, "");
        if (!TryGetSource(block, root, out var source, out var failure)) return new DocCheck([failure], false, "");

        var tree = CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Program.cs", encoding: Encoding.UTF8);
        var isProgram = tree.GetRoot().DescendantNodes(n => n is CompilationUnitSyntax or GlobalStatementSyntax)
            .OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "DocBlock",
            [tree, CSharpSyntaxTree.ParseText(ImplicitUsings, ParseOptions, path: "GlobalUsings.g.cs", encoding: Encoding.UTF8)],
            References.Value,
            new CSharpCompilationOptions(
                isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 10,
                specificDiagnosticOptions: [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));

        var driver = CSharpGeneratorDriver.Create(Generators.Value, parseOptions: ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);
        var diagnostics = generated.WithAnalyzers(Analyzers.Value, new AnalyzerOptions([]))
            .GetAllDiagnosticsAsync().GetAwaiter().GetResult()
            .Concat(generatorDiagnostics)
            .Where(Counts)
            .OrderBy(d => d.Location.GetMappedLineSpan().StartLinePosition)
            .ToList();

        var failures = new List<string>();
        var expected = block.Marker.Expect.ToHashSet(StringComparer.Ordinal);
        var unexpected = diagnostics.Where(d => !expected.Contains(d.Id)).ToList();
        var missing = expected.Where(id => diagnostics.All(d => d.Id != id)).ToList();
        if (unexpected.Count > 0)
        {
            failures.Add($"{block}: the ```csharp block {(expected.Count == 0 ? "does not compile cleanly" : "has diagnostics its marker does not expect")} as written"
                + (block.Marker.Context is { } c ? $" (a fragment of Contexts/{c}.cs)" : "") + ":");
            failures.AddRange(unexpected.Select(d => "  " + Format(d)));
        }
        if (missing.Count > 0)
        {
            failures.Add($"{block}: its marker expects {string.Join(", ", missing)}, which the block does not produce; it produces: "
                + (diagnostics.Count == 0 ? "nothing" : string.Join(", ", diagnostics.Select(d => d.Id).Distinct())));
        }
        if (failures.Count > 0 || !isProgram || diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            return new DocCheck(failures, false, "");

        var (runFailure, output) = Run(block, generated);
        if (runFailure is not null) failures.Add($"{block}: the program compiles but fails when run: {runFailure}");
        return new DocCheck(failures, true, output);
    }

    /// <summary>Errors and warnings, and the FastCallbacks analyzers' infos (FCB0006) too: what the IDE shows.</summary>
    private static bool Counts(Diagnostic d) =>
        !d.IsSuppressed
        && (d.Severity >= DiagnosticSeverity.Warning || (d.Severity == DiagnosticSeverity.Info && d.Id.StartsWith("FCB", StringComparison.Ordinal)));

    private static string Format(Diagnostic d)
    {
        var span = d.Location.GetMappedLineSpan();
        var where = span.IsValid ? $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})" : "(no location)";
        return $"{where}: {d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage()}";
    }

    /// <summary>The block as a file, or placed in its context; <c>#line</c> maps each part to where it is written.</summary>
    private static bool TryGetSource(DocBlock block, string root, out string source, out string failure)
    {
        var mapBlock = $"#line {block.FirstCodeLine} \"{block.File}\"\n";
        failure = "";
        if (block.Marker.Context is not { } name)
        {
            source = mapBlock + block.Code + "\n";
            return true;
        }

        var contextFile = $"tests/FastCallbacks.Docs.Tests/Contexts/{name}.cs";
        var path = Path.Combine(root, contextFile);
        source = "";
        if (!File.Exists(path))
        {
            var known = Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.cs").Select(Path.GetFileNameWithoutExtension).Order();
            failure = $"{block}: its marker names context={name}, but there is no {contextFile}; the contexts are: {string.Join(", ", known)}";
            return false;
        }
        var lines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
        var at = Array.FindIndex(lines, l => l.Trim() == Placeholder);
        if (at < 0)
        {
            failure = $"{block}: {contextFile} has no line '{Placeholder}' where the block goes";
            return false;
        }
        source = $"#line 1 \"{contextFile}\"\n" + string.Join("\n", lines[..at]) + "\n"
            + mapBlock + block.Code + "\n"
            + $"#line {at + 2} \"{contextFile}\"\n" + string.Join("\n", lines[(at + 1)..]) + "\n";
        return true;
    }

    /// <summary>Runs the program's entry point in this process, its output captured, in a fresh working folder.</summary>
    private static (string? Failure, string Output) Run(DocBlock block, Compilation compilation)
    {
        using var pe = new MemoryStream();
        using var pdb = new MemoryStream();
        var emitted = compilation.Emit(pe, pdb);
        if (!emitted.Success)
            return ("it does not emit: " + string.Join("; ", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(Format)), "");
        pe.Position = 0;
        pdb.Position = 0;
        var context = new AssemblyLoadContext($"doc {block}", isCollectible: true);
        var output = new StringWriter();
        var folder = Path.Combine(Path.GetTempPath(), "fcb-doctest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var (oldOut, oldError, oldDirectory) = (Console.Out, Console.Error, Environment.CurrentDirectory);
        Exception? thrown = null;
        object? returned = null;
        try
        {
            var entry = context.LoadFromStream(pe, pdb).EntryPoint!;
            Console.SetOut(output);
            Console.SetError(output);
            Environment.CurrentDirectory = folder;
            var thread = new Thread(() =>
            {
                try
                {
                    returned = entry.Invoke(null, entry.GetParameters().Length == 0 ? [] : [Array.Empty<string>()]);
                    if (returned is Task task)
                    {
                        task.GetAwaiter().GetResult();
                        returned = task.GetType().GetProperty("Result")?.GetValue(task);
                    }
                }
                catch (TargetInvocationException ex) { thrown = ex.InnerException ?? ex; }
                catch (Exception ex) { thrown = ex; }
            }) { IsBackground = true, Name = $"doc {block}" };
            thread.Start();
            if (!thread.Join(RunTimeout)) return ($"it did not finish in {RunTimeout.TotalMinutes:0} minutes", output.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            Environment.CurrentDirectory = oldDirectory;
            context.Unload();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
        if (thrown is not null) return ($"it threw {thrown}", output.ToString());
        if (returned is int code && code != 0) return ($"it exited with {code}", output.ToString());
        return (null, output.ToString());
    }

    /// <summary>What a consumer compiles against: .NET 10, and the FastCallbacks runtime with every assembly it needs from its packages.</summary>
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var references = new List<MetadataReference>(Net100.References.All);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<AssemblyName>([typeof(Learner).Assembly.GetName()]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name.Name!)) continue;
            var file = Path.Combine(AppContext.BaseDirectory, name.Name + ".dll");
            if (!File.Exists(file)) continue; // the framework's own, in Net100
            references.Add(MetadataReference.CreateFromFile(file));
            foreach (var dependency in Assembly.LoadFrom(file).GetReferencedAssemblies()) pending.Push(dependency);
        }
        return [.. references];
    }

    private static ImmutableArray<T> Create<T>(string assemblyName) where T : class
    {
        var assembly = Assembly.Load(assemblyName);
        var instances = assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttributes().Any(a => a.GetType().Name is "GeneratorAttribute" or "DiagnosticAnalyzerAttribute"))
            .Select(t => Activator.CreateInstance(t)!)
            .Select(o => o switch
            {
                IIncrementalGenerator g when typeof(T) == typeof(ISourceGenerator) => (T)(object)g.AsSourceGenerator(),
                T t => t,
                _ => null,
            })
            .OfType<T>()
            .ToImmutableArray();
        if (instances.IsEmpty) throw new InvalidOperationException($"{assemblyName} has no {typeof(T).Name}.");
        return instances;
    }
}
