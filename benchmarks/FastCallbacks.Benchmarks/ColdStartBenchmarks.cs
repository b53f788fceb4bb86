using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FastCallbacks.Benchmarks.ColdStart;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Cold start, steady state: register 50 distinct callback classes and dispatch one event once. FastCallbacks
/// (a learner whose AddCbs builds the tables once) against reflection discovery (GetMethods, the [On]
/// attributes, CreateDelegate). The fresh-process numbers come from the FastCallbacks.ColdStart app.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ColdStartBenchmarks
{
    public const string Category = "ColdStart";

    private DataLoaders _dls = null!;
    private nn.Module<Tensor, Tensor> _model = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        (_dls, _model) = Tiny.Problem();
        Check(nameof(Reflection), Reflection());
        Check(nameof(Generated), Generated());
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _model.Dispose();
        _dls.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Reflection discovery (GetMethods+attributes+CreateDelegate)"), BenchmarkCategory(Category)]
    public int Reflection() => ColdStartScenario.Reflection();

    [Benchmark(Description = "FastCallbacks generated (new Learner + AddCbs, one Invoke)"), BenchmarkCategory(Category)]
    public int Generated() => ColdStartScenario.Generated(_dls, _model, Tiny.Mse);

    private static void Check(string name, int calls)
    {
        if (calls != ColdStartScenario.ExpectedCalls)
            throw new InvalidOperationException($"{name} made {calls} handler calls, expected {ColdStartScenario.ExpectedCalls}.");
    }
}
