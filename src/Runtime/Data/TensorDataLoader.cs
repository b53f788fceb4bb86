using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// A <see cref="DataLoader"/> over in-memory tensors: row <c>i</c> of every input and target tensor is sample <c>i</c>.
/// Unshuffled batches are views (<c>narrow</c>); shuffled ones are gathered by index (<c>index_select</c>), which copies,
/// so for a large set a worker gathering the next batches while the model trains saves that time.
/// </summary>
public sealed class TensorDataLoader : IndexedDataLoader, IDisposable
{
    private readonly Tensor[] _inputs;
    private readonly Tensor[] _targets;
    private readonly bool _ownsTensors;

    /// <summary>Creates a loader over <paramref name="inputs"/> and <paramref name="targets"/> (same first dimension).</summary>
    /// <param name="inputs">Input tensors; row i of each is sample i.</param>
    /// <param name="targets">Target tensors (may be empty for unlabelled data).</param>
    /// <param name="batchSize">Samples per batch (at least 1).</param>
    /// <param name="shuffle">Reshuffle the samples at the start of every pass.</param>
    /// <param name="dropLast">Drop the last, incomplete batch.</param>
    /// <param name="seed">Seed of the shuffle and of the transform's random generators.</param>
    /// <param name="numWorkers">Threads that prepare batches ahead. Null: one when there is work to move off the
    /// training thread (a shuffle's gathering or a <paramref name="batchTransform"/>), none for plain views. 0: every
    /// batch is made on the enumerating thread.</param>
    /// <param name="prefetchFactor">Batches each worker may prepare ahead (at least 1).</param>
    /// <param name="batchTransform">fastai's <c>after_batch</c>, applied to each batch on its device, on the workers.</param>
    public TensorDataLoader(Tensor[] inputs, Tensor[] targets, int batchSize, bool shuffle = false, bool dropLast = false, int seed = 0,
        int? numWorkers = null, int prefetchFactor = 2, BatchTransform? batchTransform = null)
        : this(inputs, targets, batchSize, shuffle, dropLast, seed, ownsTensors: false, numWorkers, prefetchFactor, batchTransform) { }

    internal TensorDataLoader(Tensor[] inputs, Tensor[] targets, int batchSize, bool shuffle, bool dropLast, int seed, bool ownsTensors,
        int? numWorkers = null, int prefetchFactor = 2, BatchTransform? batchTransform = null)
        : base(Rows(inputs, targets), batchSize, shuffle, dropLast, seed, numWorkers, prefetchFactor, batchTransform,
            defaultWorkers: shuffle || batchTransform is not null ? 1 : 0)
    {
        _inputs = inputs;
        _targets = targets;
        _ownsTensors = ownsTensors;
    }

    private static int Rows(Tensor[] inputs, Tensor[] targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Length == 0) throw new ArgumentException("A data loader needs at least one input tensor.", nameof(inputs));
        var n = inputs[0].shape.Length == 0 ? throw new ArgumentException("Input tensors need a batch dimension.", nameof(inputs)) : inputs[0].shape[0];
        foreach (var t in inputs.Concat(targets))
            if (t.shape.Length == 0 || t.shape[0] != n)
                throw new ArgumentException($"Every input and target needs the same number of rows ({n}); one has shape [{string.Join(", ", t.shape)}].");
        return checked((int)n);
    }

    /// <summary>The input tensors (all samples).</summary>
    public IReadOnlyList<Tensor> Inputs => _inputs;

    /// <summary>The target tensors (all samples).</summary>
    public IReadOnlyList<Tensor> Targets => _targets;

    /// <inheritdoc/>
    public override DataLoader Ordered() =>
        new TensorDataLoader(_inputs, _targets, BatchSize, shuffle: false, dropLast: false, Seed, NumWorkers, PrefetchFactor, BatchTransform) { Device = Device };

    private protected override Batch Collate(ArraySegment<int> items, TransformContext context)
    {
        context.Stage = StageCollating;
        var start = items[0];
        var contiguous = true;
        for (var i = 1; i < items.Count && contiguous; i++) contiguous = items[i] == start + i;
        Tensor? index = null;
        if (!contiguous)
        {
            var rows = new long[items.Count];
            for (var i = 0; i < rows.Length; i++) rows[i] = items[i];
            index = tensor(rows, device: _inputs[0].device);
        }
        var xb = Gather(_inputs, start, items.Count, index);
        var yb = Gather(_targets, start, items.Count, index);
        context.Stage = StageMoving;
        return new Batch(MoveTo(xb, context.Device), MoveTo(yb, context.Device));
    }

    private static Tensor[] Gather(Tensor[] source, int start, int length, Tensor? index)
    {
        var result = new Tensor[source.Length];
        for (var i = 0; i < source.Length; i++)
            result[i] = index is null ? source[i].narrow(0, start, length) : source[i].index_select(0, index);
        return result;
    }

    /// <summary>Moves each tensor to <paramref name="device"/>; one already there is kept (no second handle).</summary>
    internal static Tensor[] MoveTo(Tensor[] tensors, Device device)
    {
        for (var i = 0; i < tensors.Length; i++)
            if (tensors[i].device_type != device.type || tensors[i].device_index != device.index) tensors[i] = tensors[i].to(device);
        return tensors;
    }

    private protected override string DescribeDataset() =>
        $"the tensors of a TensorDataLoader ({ItemCount} rows; inputs {Shapes(_inputs)}, targets {Shapes(_targets)})";

    private static string Shapes(Tensor[] ts) => ts.Length == 0 ? "none" : string.Join(" ", ts.Select(t => $"[{string.Join(", ", t.shape)}]"));

    /// <summary>Frees the tensors this loader made (the split made by <see cref="DataLoaders.FromTensors"/>); tensors passed in are the caller's.</summary>
    public void Dispose()
    {
        if (!_ownsTensors) return;
        foreach (var t in _inputs.Concat(_targets)) t.Dispose();
    }
}
