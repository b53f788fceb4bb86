using TorchSharp.Modules;

namespace FastCallbacks.Tests;

/// <summary>Small synthetic problems with fixed seeds.</summary>
public static class TestData
{
    /// <summary>y = x·w + b + noise, with n samples of d features.</summary>
    public static (Tensor X, Tensor Y) Regression(int n = 64, int d = 3, int seed = 0)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        var x = randn([n, d], generator: g);
        var w = tensor(Enumerable.Range(1, d).Select(i => (float)i).ToArray()).reshape(d, 1);
        var y = x.matmul(w) + 0.5f + 0.01f * randn([n, 1], generator: g);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    /// <summary>Two Gaussian blobs, labels 0/1 (int64).</summary>
    public static (Tensor X, Tensor Y) Classification(int n = 128, int seed = 0)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        var labels = randint(0, 2, [n], generator: g);
        var centers = labels.to_type(ScalarType.Float32).unsqueeze(1) * 2 - 1;
        var x = randn([n, 2], generator: g) * 0.5f + centers;
        return (x.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    public static DataLoaders RegressionDls(int n = 64, int batchSize = 16, double validPct = 0.25, int seed = 0, bool shuffle = false)
    {
        var (x, y) = Regression(n, seed: seed);
        using (x) using (y) return DataLoaders.FromTensors(x, y, batchSize, validPct, shuffle, seed);
    }

    public static Linear LinearModel(int inFeatures = 3, int outFeatures = 1, int seed = 0)
    {
        manual_seed(seed);
        return nn.Linear(inFeatures, outFeatures);
    }

    public static Tensor Mse(Tensor pred, Tensor targ) => nn.functional.mse_loss(pred, targ);

    /// <summary>A learner on the regression problem: 3 train batches of 16 and 1 valid batch of 16 by default.</summary>
    public static Learner RegressionLearner(IEnumerable<Callback>? cbs = null, int n = 64, int batchSize = 16, double validPct = 0.25, double lr = 0.1) =>
        new(RegressionDls(n, batchSize, validPct), LinearModel(), Mse, lr: lr, cbs: cbs);
}
