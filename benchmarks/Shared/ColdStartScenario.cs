using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks.ColdStart;

/// <summary>A callback that counts its handler calls; the 50 cold-start classes derive from it.</summary>
public abstract class CountingCallback : Callback
{
    public int Calls;
}

/// <summary>
/// The cold-start scenario, shared by the BenchmarkDotNet benchmark (steady state) and the fresh-process app:
/// register the 50 distinct callback classes and dispatch one event once.
/// </summary>
public static class ColdStartScenario
{
    /// <summary>Handler calls one BeforeBatch makes: the 25 even classes handle it.</summary>
    public const int ExpectedCalls = 25;

    /// <summary>FastCallbacks: a learner with the 50 callbacks (AddCbs builds the tables once), then one dispatch.</summary>
    public static int Generated(DataLoaders dls, nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss)
    {
        var cbs = ColdStartTypes.NewInstances();
        using var learn = new Learner(dls, model, loss, defaultCbs: false, cbs: cbs) { Training = true };
        learn.Invoke(Event.BeforeBatch);
        return Sum(cbs);
    }

    /// <summary>Reflection discovery: GetMethods, [On] attributes, CreateDelegate, then the same dispatch.</summary>
    public static int Reflection()
    {
        var cbs = ColdStartTypes.NewInstances();
        var dispatcher = new ReflectionDispatcher(cbs);
        dispatcher.Invoke(Event.BeforeBatch);
        return Sum(cbs);
    }

    private static int Sum(CountingCallback[] cbs)
    {
        var sum = 0;
        foreach (var cb in cbs) sum += cb.Calls;
        return sum;
    }
}

/// <summary>
/// What a runtime without a source generator does: discover each callback's handlers by reflection
/// (GetMethods, then the [On] attributes of each method), bind them with CreateDelegate, and keep one delegate
/// array per event, built once. Callbacks are taken in Order (stable), as the learner does.
/// </summary>
public sealed class ReflectionDispatcher
{
    private readonly Action[][] _handlers = new Action[Events.Count][];

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The reflection baseline the generator replaces; not shipped.")]
    public ReflectionDispatcher(IEnumerable<Callback> cbs)
    {
        var lists = new List<Action>[Events.Count];
        for (var e = 0; e < lists.Length; e++) lists[e] = [];
        foreach (var cb in cbs.OrderBy(c => c.Order))
        {
            var methods = cb.GetType().GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            foreach (var m in methods)
            {
                foreach (var on in m.GetCustomAttributes<OnAttribute>(inherit: false))
                    lists[(int)on.Event].Add((Action)m.CreateDelegate(typeof(Action), cb));
            }
        }
        for (var e = 0; e < lists.Length; e++) _handlers[e] = [.. lists[e]];
    }

    public void Invoke(Event e)
    {
        foreach (var h in _handlers[(int)e]) h();
    }
}
