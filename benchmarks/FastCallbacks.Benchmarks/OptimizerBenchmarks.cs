using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Benchmark 5: one optimizer step on the fit benchmark's MLP (<see cref="FitBenchmarks"/>: 32→64→64→10, six
/// parameter tensors with gradients from one backward pass), FastCallbacks' fastai optimizers against TorchSharp's
/// own, side by side in one run. Adam: fastai's defaults (true weight decay 0.01 on the weights, which TorchSharp's
/// Adam does not do at all) and the same settings as TorchSharp's (no weight decay, eps 1e-8, beta2 0.999);
/// SGD with momentum 0.9. libtorch on one thread.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class OptimizerBenchmarks
{
    public const string AdamCategory = "Optimizer step: Adam";
    public const string SgdCategory = "Optimizer step: SGD, momentum 0.9";
    public const double Lr = 1e-3;

    private readonly List<IDisposable> _owned = [];
    private optim.Optimizer _torchAdam = null!;
    private Optimizer _fastAdam = null!;
    private Optimizer _fastAdamLikeTorch = null!;
    private optim.Optimizer _torchSgd = null!;
    private Optimizer _fastSgd = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        set_num_threads(1);
        // Check first: with TorchSharp's settings, FastCallbacks' Adam and SGD take the same steps as TorchSharp's.
        Check("Adam (no wd, eps 1e-8, beta2 0.999)", ps => optim.Adam(ps, Lr), ps => Optimizers.Adam(ps, Lr, sqrMom: 0.999, eps: 1e-8, wd: 0));
        Check("SGD (momentum 0.9)", ps => optim.SGD(ps, Lr, momentum: 0.9), ps => Optimizers.SGD(ps, Lr, mom: 0.9));

        _torchAdam = Own(optim.Adam(WithGrads(), Lr));
        _fastAdam = Own(Optimizers.Adam(WithGrads(), Lr));
        _fastAdamLikeTorch = Own(Optimizers.Adam(WithGrads(), Lr, sqrMom: 0.999, eps: 1e-8, wd: 0));
        _torchSgd = Own(optim.SGD(WithGrads(), Lr, momentum: 0.9));
        _fastSgd = Own(Optimizers.SGD(WithGrads(), Lr, mom: 0.9));
        // One step each, so every optimizer has made its state before the measured steps.
        foreach (var o in new optim.Optimizer[] { _torchAdam, _fastAdam, _fastAdamLikeTorch, _torchSgd, _fastSgd }) o.step();
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        foreach (var d in Enumerable.Reverse(_owned)) d.Dispose();
        _owned.Clear();
    }

    [Benchmark(Baseline = true, Description = "TorchSharp optim.Adam.step()"), BenchmarkCategory(AdamCategory)]
    public void TorchSharpAdam() => _torchAdam.step();

    [Benchmark(Description = "FastCallbacks Adam.step(), fastai defaults (wd 0.01)"), BenchmarkCategory(AdamCategory)]
    public void FastAdam() => _fastAdam.step();

    [Benchmark(Description = "FastCallbacks Adam.step(), TorchSharp's settings (no wd)"), BenchmarkCategory(AdamCategory)]
    public void FastAdamLikeTorch() => _fastAdamLikeTorch.step();

    [Benchmark(Baseline = true, Description = "TorchSharp optim.SGD.step(), momentum 0.9"), BenchmarkCategory(SgdCategory)]
    public void TorchSharpSgd() => _torchSgd.step();

    [Benchmark(Description = "FastCallbacks SGD.step(), mom 0.9"), BenchmarkCategory(SgdCategory)]
    public void FastSgd() => _fastSgd.step();

    private T Own<T>(T d) where T : IDisposable
    {
        _owned.Add(d);
        return d;
    }

    /// <summary>A fresh copy of the MLP (same weights every time) whose parameters hold gradients from one batch.</summary>
    private IEnumerable<Parameter> WithGrads()
    {
        var model = Own(Mlp());
        var g = new Generator(0);
        using var x = randn([FitBenchmarks.BatchSize, FitBenchmarks.Features], generator: g);
        using var y = randint(0, FitBenchmarks.Classes, [FitBenchmarks.BatchSize], generator: g);
        using var loss = nn.functional.cross_entropy(model.call(x), y);
        loss.backward();
        return model.parameters().ToArray();
    }

    private static Sequential Mlp()
    {
        manual_seed(1);
        return nn.Sequential(nn.Linear(FitBenchmarks.Features, FitBenchmarks.Hidden), nn.ReLU(), nn.Linear(FitBenchmarks.Hidden, FitBenchmarks.Hidden),
            nn.ReLU(), nn.Linear(FitBenchmarks.Hidden, FitBenchmarks.Classes));
    }

    private void Check(string name, Func<IEnumerable<Parameter>, optim.Optimizer> torch, Func<IEnumerable<Parameter>, optim.Optimizer> fast)
    {
        var a = WithGrads().ToArray();
        var b = WithGrads().ToArray();
        using (var ta = torch(a))
        using (var fb = fast(b))
        {
            for (var i = 0; i < 20; i++)
            {
                ta.step();
                fb.step();
            }
        }
        using var scope = NewDisposeScope();
        var diff = a.Zip(b).Max(p => (p.First - p.Second).abs().max().item<float>());
        Console.WriteLine($"CHECK: optimizer {name}, 20 steps, FastCallbacks vs TorchSharp: max |weight diff| = {diff:G3}");
        if (diff > 1e-6) throw new InvalidOperationException($"FastCallbacks' {name} and TorchSharp's disagree after 20 steps: max |diff| = {diff}.");
    }
}
