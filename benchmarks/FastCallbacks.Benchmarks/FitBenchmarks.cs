using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>
/// Benchmark 2: one epoch of training a small MLP on synthetic data (16 batches of 64), per batch
/// (OperationsPerInvoke = 16). Learner.Fit with the default callbacks, with 10 extra no-op callbacks, and with
/// only TrainEvalCallback left, against a hand-written TorchSharp loop over the same batches, with the same
/// model and the same optimizer (TorchSharp's Adam, lr 1e-3, which the learners get through an OptimWrapper, so the
/// loop's overhead is what is measured; <see cref="OptimizerBenchmarks"/> compares the optimizers). libtorch runs on
/// one thread so both loops see the same machine.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class FitBenchmarks
{
    public const string Category = "Fit";
    public const int Samples = 1024;
    public const int BatchSize = 64;
    public const int Batches = Samples / BatchSize;
    public const int Features = 32;
    public const int Hidden = 64;
    public const int Classes = 10;
    public const double Lr = 1e-3;

    private Tensor _x = null!;
    private Tensor _y = null!;
    private readonly List<IDisposable> _owned = [];
    private HandLoop _hand = null!;
    private Learner _default = null!;
    private Learner _extra = null!;
    private Learner _minimal = null!;
    private Learner _noProgress = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        torch.set_num_threads(1);
        var g = new Generator(0);
        _x = randn([Samples, Features], generator: g);
        _y = randint(0, Classes, [Samples], generator: g);

        // Check first: from the same initial weights, every variant ends one epoch with the hand loop's weights.
        var reference = new HandLoop(Dls(), Mlp());
        reference.Epoch();
        var variants = new (string Name, Func<Learner> Make)[]
        {
            ("default callbacks", DefaultLearner),
            ("+10 no-op callbacks", ExtraLearner),
            ("TrainEvalCallback only", MinimalLearner),
        };
        foreach (var (name, make) in variants)
        {
            using var learn = make();
            learn.Fit(1);
            var diff = MaxAbsDiff(reference.Model, learn.Model);
            Console.WriteLine($"CHECK: fit weights after one epoch, {name} vs hand-written loop: max |diff| = {diff:G3}");
            if (diff > 1e-6) throw new InvalidOperationException($"Learner.Fit ({name}) and the hand-written loop disagree: max |diff| = {diff}.");
            learn.Model.Dispose();
        }
        reference.Dispose();

        _hand = new HandLoop(Dls(), Mlp());
        _default = DefaultLearner();
        _extra = ExtraLearner();
        _minimal = MinimalLearner();
        _noProgress = DefaultLearner();
        _noProgress.RemoveCbs(_noProgress.Cbs.Where(cb => cb is ProgressCallback).ToList());
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _hand.Dispose();
        foreach (var learn in new[] { _default, _extra, _minimal, _noProgress })
        {
            learn.Dispose();
            learn.Model.Dispose();
        }
        foreach (var d in _owned) d.Dispose();
        _x.Dispose();
        _y.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batches, Description = "Hand-written TorchSharp loop"), BenchmarkCategory(Category)]
    public void HandWritten() => _hand.Epoch();

    [Benchmark(OperationsPerInvoke = Batches, Description = "Learner.Fit, default callbacks"), BenchmarkCategory(Category)]
    public void FitDefault() => _default.Fit(1);

    [Benchmark(OperationsPerInvoke = Batches, Description = "Learner.Fit, default + 10 no-op callbacks"), BenchmarkCategory(Category)]
    public void FitTenNoOps() => _extra.Fit(1);

    [Benchmark(OperationsPerInvoke = Batches, Description = "Learner.Fit, recorder/progress removed"), BenchmarkCategory(Category)]
    public void FitMinimal() => _minimal.Fit(1);

    [Benchmark(OperationsPerInvoke = Batches, Description = "Learner.Fit, default minus the progress display"), BenchmarkCategory(Category)]
    public void FitNoProgress() => _noProgress.Fit(1);

    /// <summary>Not a benchmark: Fit(0) runs only BeforeFit and AfterFit, the part of a fit's cost that does not grow with batches (for --interleaved).</summary>
    public void FitZeroEpochs() => _default.Fit(0);

    /// <summary>Not a benchmark: <see cref="FitZeroEpochs"/> without the progress display.</summary>
    public void FitZeroEpochsNoProgress() => _noProgress.Fit(0);

    /// <summary>Not a benchmark: <see cref="FitZeroEpochs"/> with TrainEvalCallback only.</summary>
    public void FitZeroEpochsMinimal() => _minimal.Fit(0);

    /// <summary>The same data every time: no validation set (the validate phase runs with zero batches), no shuffle.</summary>
    private DataLoaders Dls()
    {
        var dls = DataLoaders.FromTensors(_x, _y, BatchSize, validPct: 0, shuffle: false);
        _owned.Add(dls);
        return dls;
    }

    /// <summary>The MLP, with the same initial weights every time.</summary>
    private static Sequential Mlp()
    {
        manual_seed(1);
        return nn.Sequential(nn.Linear(Features, Hidden), nn.ReLU(), nn.Linear(Hidden, Hidden), nn.ReLU(), nn.Linear(Hidden, Classes));
    }

    private static Tensor Loss(Tensor pred, Tensor targ) => nn.functional.cross_entropy(pred, targ);

    /// <summary>The hand-written loop's optimizer: TorchSharp's Adam, given to the learners as a TorchSharp optimizer (wrapped).</summary>
    private static optim.Optimizer TorchAdam(IEnumerable<Parameter> ps, double lr) => optim.Adam(ps, lr);

    private Learner DefaultLearner() => new(Dls(), Mlp(), Loss, optFunc: TorchAdam, lr: Lr) { Logger = null };

    private Learner ExtraLearner() => new(Dls(), Mlp(), Loss, optFunc: TorchAdam, lr: Lr, cbs: Enumerable.Range(0, 10).Select(_ => new NoOp())) { Logger = null };

    private Learner MinimalLearner()
    {
        var learn = new Learner(Dls(), Mlp(), Loss, optFunc: TorchAdam, lr: Lr) { Logger = null };
        learn.RemoveCbs(learn.Cbs.Where(cb => cb is not TrainEvalCallback).ToList());
        return learn;
    }

    private static double MaxAbsDiff(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        var pa = a.parameters().ToArray();
        var pb = b.parameters().ToArray();
        if (pa.Length != pb.Length) return double.PositiveInfinity;
        return pa.Zip(pb).Max(p => (p.First - p.Second).abs().max().item<float>());
    }

    /// <summary>What a person writes without a learner: forward, loss, backward, step, zero_grad, one scope per batch.</summary>
    private sealed class HandLoop(DataLoaders dls, Sequential model) : IDisposable
    {
        private readonly optim.Optimizer _opt = TorchAdam(model.parameters(), Lr);

        public Sequential Model => model;

        public void Epoch()
        {
            model.train();
            using var batches = dls.Train.GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) break;
                var b = batches.Current;
                var loss = Loss(model.call(b.Xb[0]), b.Yb[0]);
                loss.backward();
                _opt.step();
                _opt.zero_grad();
            }
        }

        public void Dispose()
        {
            _opt.Dispose();
            model.Dispose();
        }
    }
}

/// <summary>Handles every training-batch event and does nothing: the cost of the dispatch alone.</summary>
public sealed partial class NoOp : Callback
{
    [On(Event.BeforeBatch), On(Event.AfterPred), On(Event.AfterLoss), On(Event.BeforeBackward),
     On(Event.AfterBackward), On(Event.BeforeStep), On(Event.AfterStep), On(Event.AfterBatch)]
    private void Nothing() { }
}
