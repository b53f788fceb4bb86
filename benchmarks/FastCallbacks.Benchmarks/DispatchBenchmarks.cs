using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Benchmark 1: one event (BeforeBatch) dispatched to N callbacks, side by side in one run. Each strategy calls
/// the same handler work (one counter increment). Category Dispatch: all N callbacks handle the event.
/// Category Mixed: the same N handlers plus N callbacks (interleaved) that do not handle it, so 2N are attached.
/// Baseline of each category: the hand-written loop of direct virtual calls.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class DispatchBenchmarks
{
    public const string All = "Dispatch";
    public const string Mixed = "Mixed";
    private const string EventName = nameof(ClassicCallback.BeforeBatch);

    private Setup _all = null!;
    private Setup _mixed = null!;

    /// <summary>Callbacks that handle the event.</summary>
    [Params(1, 10, 100)]
    public int N { get; set; }

    [GlobalSetup]
    public void GlobalSetup()
    {
        _all = new Setup(N, idle: false);
        _mixed = new Setup(N, idle: true);
        _all.Check(this, mixed: false);
        _mixed.Check(this, mixed: true);
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _all.Dispose();
        _mixed.Dispose();
    }

    // ---- All N callbacks handle the event ----

    [Benchmark(Baseline = true, Description = "Hand-written virtual loop"), BenchmarkCategory(All)]
    public void HandWrittenVirtual() => Loops.Virtual(_all.Classic);

    [Benchmark(Description = "FastCallbacks generated (Learner.Invoke)"), BenchmarkCategory(All)]
    public void Generated() => _all.Learn.Invoke(Event.BeforeBatch);

    [Benchmark(Description = "FastCallbacks run-time dispatch, no generator (Learner.Invoke)"), BenchmarkCategory(All)]
    public void RunTime() => _all.RuntimeLearn.Invoke(Event.BeforeBatch);

    [Benchmark(Description = "Cached delegates (CreateDelegate)"), BenchmarkCategory(All)]
    public void CachedDelegates() => Loops.Delegates(_all.Delegates);

    [Benchmark(Description = "Cached MethodInfo.Invoke"), BenchmarkCategory(All)]
    public void CachedMethodInfo() => Loops.MethodInfos(_all.Methods, _all.Targets);

    [Benchmark(Description = "Reflection by name (GetMethod+Invoke)"), BenchmarkCategory(All)]
    public void ReflectionByName() => Loops.ByName(_all.Cbs);

    // ---- N handlers and N callbacks that do not handle it ----

    [Benchmark(Baseline = true, Description = "Hand-written virtual loop"), BenchmarkCategory(Mixed)]
    public void HandWrittenVirtualMixed() => Loops.Virtual(_mixed.Classic);

    [Benchmark(Description = "FastCallbacks generated (Learner.Invoke)"), BenchmarkCategory(Mixed)]
    public void GeneratedMixed() => _mixed.Learn.Invoke(Event.BeforeBatch);

    [Benchmark(Description = "FastCallbacks run-time dispatch, no generator (Learner.Invoke)"), BenchmarkCategory(Mixed)]
    public void RunTimeMixed() => _mixed.RuntimeLearn.Invoke(Event.BeforeBatch);

    [Benchmark(Description = "Cached delegates (CreateDelegate)"), BenchmarkCategory(Mixed)]
    public void CachedDelegatesMixed() => Loops.Delegates(_mixed.Delegates);

    [Benchmark(Description = "Cached MethodInfo.Invoke"), BenchmarkCategory(Mixed)]
    public void CachedMethodInfoMixed() => Loops.MethodInfos(_mixed.Methods, _mixed.Targets);

    [Benchmark(Description = "Reflection by name (GetMethod+Invoke)"), BenchmarkCategory(Mixed)]
    public void ReflectionByNameMixed() => Loops.ByName(_mixed.Cbs);

    /// <summary>The dispatch loops, written as a person would write each design.</summary>
    private static class Loops
    {
        public static void Virtual(ClassicCallback[] cbs)
        {
            for (var i = 0; i < cbs.Length; i++) cbs[i].BeforeBatch();
        }

        public static void Delegates(Action[] handlers)
        {
            for (var i = 0; i < handlers.Length; i++) handlers[i]();
        }

        public static void MethodInfos(MethodInfo[] methods, object[] targets)
        {
            for (var i = 0; i < methods.Length; i++) methods[i].Invoke(targets[i], null);
        }

        // fastai's Callback.__call__: getattr(self, event_name, None) on every call, then call it.
        public static void ByName(Counted[] cbs)
        {
            for (var i = 0; i < cbs.Length; i++)
            {
                var cb = cbs[i];
                cb.GetType().GetMethod(EventName)?.Invoke(cb, null);
            }
        }
    }

    /// <summary>The callbacks of one case, in every design, with the caches each strategy builds once.</summary>
    private sealed class Setup : IDisposable
    {
        public readonly Counted[] Cbs;
        public readonly Counted[] RuntimeCbs;
        public readonly ClassicCallback[] Classic;
        public readonly Action[] Delegates;
        public readonly MethodInfo[] Methods;
        public readonly object[] Targets;
        public readonly Learner Learn;
        public readonly Learner RuntimeLearn;
        private readonly DataLoaders _dls;

        public Setup(int n, bool idle)
        {
            var cbs = new List<Counted>();
            var runtime = new List<Counted>();
            var classic = new List<ClassicCallback>();
            for (var i = 0; i < n; i++)
            {
                cbs.Add(Make.Counted(i));
                runtime.Add(Make.Runtime(i));
                classic.Add(Make.Classic(i));
                if (!idle) continue;
                cbs.Add(new Idle());
                runtime.Add(new RuntimeIdle());
                classic.Add(new ClassicIdle());
            }
            Cbs = [.. cbs];
            RuntimeCbs = [.. runtime];
            Classic = [.. classic];
            // The caches hold the handlers only: a strategy that discovers handlers once skips the others.
            var handlers = Cbs.Select(cb => (cb, m: cb.GetType().GetMethod(EventName))).Where(p => p.m is not null).ToArray();
            Methods = handlers.Select(p => p.m!).ToArray();
            Targets = handlers.Select(p => (object)p.cb).ToArray();
            Delegates = handlers.Select(p => (Action)p.m!.CreateDelegate(typeof(Action), p.cb)).ToArray();
            (_dls, var model) = Tiny.Problem();
            Learn = new Learner(_dls, model, Tiny.Mse, defaultCbs: false, cbs: Cbs) { Training = true, Logger = null };
            RuntimeLearn = new Learner(_dls, model, Tiny.Mse, defaultCbs: false, cbs: RuntimeCbs) { Training = true, Logger = null };
            if (RuntimeCbs.Any(cb => cb.RuntimeDispatch is null))
                throw new InvalidOperationException("The Runtime* callbacks must run on run-time dispatch (they are not partial).");
        }

        /// <summary>Runs every strategy once and checks each called every handler once and nothing else.</summary>
        public void Check(DispatchBenchmarks b, bool mixed)
        {
            Action[] runs = mixed
                ? [b.HandWrittenVirtualMixed, b.GeneratedMixed, b.RunTimeMixed, b.CachedDelegatesMixed, b.CachedMethodInfoMixed, b.ReflectionByNameMixed]
                : [b.HandWrittenVirtual, b.Generated, b.RunTime, b.CachedDelegates, b.CachedMethodInfo, b.ReflectionByName];
            // Each strategy calls the handlers of one set of callbacks: classic, run-time dispatch, or the generated ones.
            object[] all = [.. Cbs, .. RuntimeCbs, .. Classic];
            long Calls(object cb) => cb is Counted c ? c.Calls : ((ClassicCallback)cb).Calls;
            foreach (var run in runs)
            {
                var before = all.Select(Calls).ToArray();
                run();
                var name = run.Method.Name;
                var set = name.StartsWith(nameof(HandWrittenVirtual), StringComparison.Ordinal) ? (IEnumerable<object>)Classic
                    : name.StartsWith(nameof(RunTime), StringComparison.Ordinal) ? RuntimeCbs
                    : Cbs;
                var called = set.ToHashSet();
                for (var i = 0; i < all.Length; i++)
                {
                    var cb = all[i];
                    var expected = called.Contains(cb) && cb is not (Idle or RuntimeIdle or ClassicIdle) ? 1 : 0;
                    var got = Calls(cb) - before[i];
                    if (got != expected)
                        throw new InvalidOperationException($"{name}: {cb.GetType().Name} #{i} was called {got} times, expected {expected}.");
                }
            }
        }

        public void Dispose()
        {
            RuntimeLearn.Dispose();
            Learn.Dispose();
            Learn.Model.Dispose();
            _dls.Dispose();
        }
    }
}
