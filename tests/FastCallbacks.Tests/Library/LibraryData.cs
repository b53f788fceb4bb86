using TorchSharp.Modules;

namespace FastCallbacks.Tests.Library;

/// <summary>Helpers shared by the library tests.</summary>
public static class LibraryData
{
    /// <summary>A metric whose value at the n-th validate phase is values[n]: a real Recorder column with scripted numbers.</summary>
    public sealed class ScriptedMetric(string name, params double[] values) : Metric
    {
        private int _phase = -1;

        public override string Name => name;

        public override void Reset() => _phase++;

        public override double? Value => values[Math.Min(_phase, values.Length - 1)];
    }

    /// <summary>A fresh temporary folder, deleted by the returned scope.</summary>
    public static TempDir NewTempDir() => new();

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastcallbacks-" + Guid.NewGuid().ToString("N"));

        public TempDir() => Directory.CreateDirectory(Path);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Detached copies of the model's parameters.</summary>
    public static Tensor[] Weights(nn.Module model) => model.parameters().Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();

    public static bool SameWeights(Tensor[] a, Tensor[] b) => a.Length == b.Length && a.Zip(b).All(t => Same(t.First, t.Second));

    /// <summary>torch.equal: same shape and every element equal (TorchSharp's Tensor.equal is element-wise).</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    /// <summary>A two-class classifier (2 → 2).</summary>
    public static Sequential Classifier(int seed = 0)
    {
        manual_seed(seed);
        return nn.Sequential(("l1", nn.Linear(2, 8)), ("relu", nn.ReLU()), ("l2", nn.Linear(8, 2)));
    }

    public static Tensor CrossEntropy(Tensor pred, Tensor targ) => nn.functional.cross_entropy(pred, targ);

    /// <summary>A model that returns its input: the loader's inputs are the predictions, so metrics can be fed exact numbers.</summary>
    public static nn.Module<Tensor, Tensor> Identity() => nn.Identity();

    /// <summary>Train and validation loaders over fixed tensors, no shuffling.</summary>
    public static DataLoaders Loaders(Tensor x, Tensor y, int batchSize, Tensor? vx = null, Tensor? vy = null, int? validBatchSize = null) =>
        new(new TensorDataLoader([x], [y], batchSize), new TensorDataLoader([vx ?? x], [vy ?? y], validBatchSize ?? batchSize));
}
