using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace FastCallbacks.Generators.Tests.Infrastructure;

/// <summary>
/// A compiled test assembly loaded into a collectible context, driven through the stub's
/// <c>FastCallbacks.Testing.Harness</c>. Dispose unloads it.
/// </summary>
public sealed class LoadedAssembly : IDisposable
{
    private readonly AssemblyLoadContext _context;
    private readonly Assembly _contractAssembly;
    private readonly Type _harness;

    private LoadedAssembly(AssemblyLoadContext context, Assembly main, Assembly contractAssembly)
    {
        _context = context;
        Main = main;
        _contractAssembly = contractAssembly;
        _harness = contractAssembly.GetType("FastCallbacks.Testing.Harness", throwOnError: true)!;
    }

    public Assembly Main { get; }

    /// <summary>Handler calls recorded with <c>Harness.Record</c>, in order.</summary>
    public IReadOnlyList<string> Calls => (List<string>)_harness.GetProperty("Calls")!.GetValue(null)!;

    /// <summary>
    /// Emits <paramref name="compilation"/> and loads it, after the assemblies of <paramref name="dependencies"/>
    /// (compilations it references), into a fresh collectible context.
    /// </summary>
    public static LoadedAssembly Load(Compilation compilation, params Compilation[] dependencies)
    {
        var context = new AssemblyLoadContext($"test-{Guid.NewGuid():N}", isCollectible: true);
        var loaded = dependencies.Append(compilation).Select(c => context.LoadFromStream(Emit(c))).ToList();
        // The contract (and harness) live in the first assembly loaded.
        return new LoadedAssembly(context, loaded[^1], loaded[0]);
    }

    public object Create(string typeName)
    {
        var type = Main.GetType(typeName, throwOnError: true)!;
        return Activator.CreateInstance(type)!;
    }

    public object CreateContractType(string typeName) =>
        Activator.CreateInstance(_contractAssembly.GetType(typeName, throwOnError: true)!)!;

    public void Dispatch(object callback, string eventName) =>
        Invoke("Dispatch", callback, Enum.Parse(_contractAssembly.GetType("FastCallbacks.Event")!, eventName));

    public uint HandledEvents(object callback) => (uint)Invoke("HandledEvents", callback)!;

    public void Attach(object callback, object learner) => Invoke("Attach", callback, learner);

    public void Dispose() => _context.Unload();

    private object? Invoke(string method, params object[] arguments)
    {
        try
        {
            return _harness.GetMethod(method)!.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private static MemoryStream Emit(Compilation compilation)
    {
        var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        Assert.That(result.Success, Is.True, () => string.Join("\n", result.Diagnostics));
        stream.Position = 0;
        return stream;
    }
}
