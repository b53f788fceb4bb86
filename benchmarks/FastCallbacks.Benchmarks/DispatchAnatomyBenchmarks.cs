using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Where the time of <c>Learner.Invoke</c> goes: the same N callbacks dispatched by loops that add one piece of the
/// learner's loop at a time, from the hand-written virtual call to the full <c>Learner.Invoke</c>. Not a target;
/// it tells which part of the runtime's design costs what.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class DispatchAnatomyBenchmarks
{
    public const string Category = "Anatomy";

    private ClassicCallback[] _classic = null!;
    private Callback[] _cbs = null!;
    private Learner _learn = null!;
    private DataLoaders _dls = null!;

    [Params(1, 100)]
    public int N { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _classic = Enumerable.Range(0, N).Select(Make.Classic).ToArray();
        _cbs = Enumerable.Range(0, N).Select(i => (Callback)Make.Counted(i)).ToArray();
        (_dls, var model) = Tiny.Problem();
        _learn = new Learner(_dls, model, Tiny.Mse, defaultCbs: false, cbs: Enumerable.Range(0, N).Select(Make.Counted)) { Training = true, Logger = null };
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _learn.Dispose();
        _learn.Model.Dispose();
        _dls.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1. Hand-written virtual loop"), BenchmarkCategory(Category)]
    public void HandWrittenVirtual()
    {
        var cbs = _classic;
        for (var i = 0; i < cbs.Length; i++) cbs[i].BeforeBatch();
    }

    [Benchmark(Description = "2. + generated Dispatch(event) (switch; try naming the callback)"), BenchmarkCategory(Category)]
    public void GeneratedSwitch()
    {
        var cbs = _cbs;
        for (var i = 0; i < cbs.Length; i++) cbs[i].DispatchUnchecked(Event.BeforeBatch);
    }

    [Benchmark(Description = "3. + Run flag"), BenchmarkCategory(Category)]
    public void RunFlag()
    {
        var cbs = _cbs;
        for (var i = 0; i < cbs.Length; i++)
        {
            var cb = cbs[i];
            if (cb.Run) cb.DispatchUnchecked(Event.BeforeBatch);
        }
    }

    [Benchmark(Description = "4. + try/catch in the loop naming the callback by index (the earlier design)"), BenchmarkCategory(Category)]
    public void TryCatchIndex() => TryCatchIndex(_cbs, Event.BeforeBatch);

    [Benchmark(Description = "5. Learner.Invoke (3 + phase table lookup, AfterFit test)"), BenchmarkCategory(Category)]
    public void LearnerInvoke() => _learn.Invoke(Event.BeforeBatch);

    // The earlier design of Learner.Invoke: the index is live into the handler, so the JIT keeps it in memory and
    // each callback pays a store and a reload. Generated Dispatch now names its own failures instead.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TryCatchIndex(Callback[] cbs, Event e)
    {
        var i = 0;
        try
        {
            for (; i < cbs.Length; i++)
            {
                var cb = cbs[i];
                if (cb.Run) cb.DispatchUnchecked(e);
            }
        }
        catch (Exception ex) when (ex is not CancelException)
        {
            throw new CallbackException(cbs[i], e, ex);
        }
    }
}
