using System.Reflection;
using System.Runtime.Loader;
using FastCallbacks.Generators;
using FastCallbacks.Generators.Baseline;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FastCallbacks.Benchmarks.Generators;

/// <summary>
/// The generators the benchmarks drive, by name: ours, its earlier design, the peers (every C# generator in the
/// package's analyzer assembly, as the compiler loads them) and two floors of Roslyn's own cost.
/// </summary>
public static class GeneratorSets
{
    public const string FastCallbacks = "FastCallbacks";
    /// <summary>The earlier design: every partial class with a base list bound on every run.</summary>
    public const string PreviousDesign = "PreviousDesign";
    public const string LoggerMessage = "LoggerMessage";
    public const string SystemTextJson = "SystemTextJson";
    public const string Mvvm = "CommunityToolkitMvvm";
    /// <summary>Floor: ForAttributeWithMetadataName on FastCallbacks.OnAttribute, with a transform that only names the method.</summary>
    public const string AttributeFloor = "FloorForAttributeWithMetadataNameOn";
    /// <summary>Floor: CreateSyntaxProvider whose predicate selects nothing: what any syntax provider costs.</summary>
    public const string SyntaxFloor = "FloorCreateSyntaxProviderTrivial";

    public static IIncrementalGenerator[] Create(string name) => name switch
    {
        FastCallbacks => [new CallbackGenerator()],
        PreviousDesign => [new BindEveryClassGenerator()],
        LoggerMessage => Peer("logging"),
        SystemTextJson => Peer("json"),
        Mvvm => Peer("mvvm"),
        AttributeFloor => [new AttributeFloorGenerator()],
        SyntaxFloor => [new TrivialSyntaxFloorGenerator()],
        _ => throw new ArgumentException($"No generator set named {name}.", nameof(name)),
    };

    public static GeneratorDriver NewDriver(IEnumerable<IIncrementalGenerator> generators) => CSharpGeneratorDriver.Create(
        generators.Select(g => g.AsSourceGenerator()),
        parseOptions: GeneratorWorkloads.ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

    /// <summary>Every C# generator of the peer's analyzer assembly, copied to peers/NAME/ by the project file.</summary>
    private static IIncrementalGenerator[] Peer(string folder)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "peers", folder);
        var path = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.dll").SingleOrDefault() : null;
        if (path is null) throw new FileNotFoundException($"No peer generator in {directory}: the project copies it from the package's analyzers folder.");
        var assembly = LoadedPeers.GetOrAdd(path, AssemblyLoadContext.Default.LoadFromAssemblyPath);
        var generators = assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(IIncrementalGenerator).IsAssignableFrom(t)
                && t.GetCustomAttributes<GeneratorAttribute>().Any(a => a.Languages.Contains(LanguageNames.CSharp)))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (IIncrementalGenerator)Activator.CreateInstance(t)!)
            .ToArray();
        return generators.Length > 0 ? generators : throw new InvalidOperationException($"{path} has no C# incremental generator.");
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Assembly> LoadedPeers = new();

    private sealed class AttributeFloorGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var names = context.SyntaxProvider.ForAttributeWithMetadataName("FastCallbacks.OnAttribute",
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, _) => ctx.TargetSymbol.Name);
            context.RegisterSourceOutput(names.Collect(), static (_, _) => { });
        }
    }

    private sealed class TrivialSyntaxFloorGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var none = context.SyntaxProvider.CreateSyntaxProvider(static (_, _) => false, static (_, _) => 0);
            context.RegisterSourceOutput(none.Collect(), static (_, _) => { });
        }
    }
}
