using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// A source of batches for one phase (training or validation). Enumerating it starts an epoch.
/// </summary>
/// <remarks>
/// The learner runs every batch inside a TorchSharp dispose scope that also covers the enumerator's
/// <c>MoveNext</c>, so the batch's tensors are freed when the batch ends. Copy what you keep
/// (see <c>docs/memory.md</c>).
/// </remarks>
public abstract class DataLoader : IEnumerable<Batch>
{
    /// <summary>The number of batches one pass yields.</summary>
    public abstract int Count { get; }

    /// <summary>The number of samples one pass yields.</summary>
    public abstract int ItemCount { get; }

    /// <summary>The device batches are moved to.</summary>
    public Device Device { get; set; } = CPU;

    /// <summary>Starts a pass over the data.</summary>
    public abstract IEnumerator<Batch> GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A loader over the same data that yields every sample once, in order (fastai's <c>dl.new(shuffle=False, drop_last=False)</c>).</summary>
    public abstract DataLoader Ordered();
}

/// <summary>
/// A <see cref="DataLoader"/> over in-memory tensors: row <c>i</c> of every input and target tensor is sample <c>i</c>.
/// </summary>
public sealed class TensorDataLoader : DataLoader, IDisposable
{
    private readonly Tensor[] _inputs;
    private readonly Tensor[] _targets;
    private readonly bool _ownsTensors;
    private readonly Random _random;

    /// <summary>Creates a loader over <paramref name="inputs"/> and <paramref name="targets"/> (same first dimension).</summary>
    /// <param name="inputs">Input tensors; row i of each is sample i.</param>
    /// <param name="targets">Target tensors (may be empty for unlabelled data).</param>
    /// <param name="batchSize">Samples per batch (at least 1).</param>
    /// <param name="shuffle">Reshuffle the samples at the start of every pass.</param>
    /// <param name="dropLast">Drop the last, incomplete batch.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    public TensorDataLoader(Tensor[] inputs, Tensor[] targets, int batchSize, bool shuffle = false, bool dropLast = false, int seed = 0)
        : this(inputs, targets, batchSize, shuffle, dropLast, seed, ownsTensors: false) { }

    internal TensorDataLoader(Tensor[] inputs, Tensor[] targets, int batchSize, bool shuffle, bool dropLast, int seed, bool ownsTensors)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Length == 0) throw new ArgumentException("A data loader needs at least one input tensor.", nameof(inputs));
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        var n = inputs[0].shape.Length == 0 ? throw new ArgumentException("Input tensors need a batch dimension.", nameof(inputs)) : inputs[0].shape[0];
        foreach (var t in inputs.Concat(targets))
            if (t.shape.Length == 0 || t.shape[0] != n)
                throw new ArgumentException($"Every input and target needs the same number of rows ({n}); one has shape [{string.Join(", ", t.shape)}].");
        _inputs = inputs;
        _targets = targets;
        _ownsTensors = ownsTensors;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        _random = new Random(seed);
        ItemCount = checked((int)n);
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each pass reshuffles the samples.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether the last incomplete batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>The shuffle's seed.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override int ItemCount { get; }

    /// <inheritdoc/>
    public override int Count => DropLast ? ItemCount / BatchSize : (ItemCount + BatchSize - 1) / BatchSize;

    /// <summary>The input tensors (all samples).</summary>
    public IReadOnlyList<Tensor> Inputs => _inputs;

    /// <summary>The target tensors (all samples).</summary>
    public IReadOnlyList<Tensor> Targets => _targets;

    /// <inheritdoc/>
    public override DataLoader Ordered() =>
        new TensorDataLoader(_inputs, _targets, BatchSize, shuffle: false, dropLast: false, Seed) { Device = Device };

    /// <inheritdoc/>
    public override IEnumerator<Batch> GetEnumerator()
    {
        long[]? order = null;
        if (Shuffle)
        {
            order = new long[ItemCount];
            for (var i = 0; i < order.Length; i++) order[i] = i;
            _random.Shuffle(order);
        }
        for (var b = 0; b < Count; b++)
        {
            var start = b * BatchSize;
            var length = Math.Min(BatchSize, ItemCount - start);
            if (order is null)
            {
                yield return new Batch(Slice(_inputs, start, length), Slice(_targets, start, length));
            }
            else
            {
                using var index = tensor(order.AsSpan(start, length).ToArray(), device: _inputs[0].device);
                yield return new Batch(Take(_inputs, index), Take(_targets, index));
            }
        }
    }

    private Tensor[] Slice(Tensor[] source, int start, int length)
    {
        var result = new Tensor[source.Length];
        for (var i = 0; i < source.Length; i++) result[i] = source[i].narrow(0, start, length).to(Device);
        return result;
    }

    private Tensor[] Take(Tensor[] source, Tensor index)
    {
        var result = new Tensor[source.Length];
        for (var i = 0; i < source.Length; i++) result[i] = source[i].index_select(0, index).to(Device);
        return result;
    }

    /// <summary>Frees the tensors this loader made (the split made by <see cref="DataLoaders.FromTensors"/>); tensors passed in are the caller's.</summary>
    public void Dispose()
    {
        if (!_ownsTensors) return;
        foreach (var t in _inputs.Concat(_targets)) t.Dispose();
    }
}

/// <summary>
/// Adapts a TorchSharp dataset (items are dictionaries of tensors) to a <see cref="DataLoader"/> by collating
/// items into batches; <c>inputKeys</c> and <c>targetKeys</c> name the dictionary entries.
/// </summary>
public sealed class DatasetDataLoader : DataLoader
{
    private readonly utils.data.Dataset _dataset;
    private readonly string[] _inputKeys;
    private readonly string[] _targetKeys;
    private readonly Random _random;

    /// <summary>Creates a loader over <paramref name="dataset"/>.</summary>
    public DatasetDataLoader(utils.data.Dataset dataset, int batchSize, string[] inputKeys, string[] targetKeys,
        bool shuffle = false, bool dropLast = false, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(inputKeys);
        ArgumentNullException.ThrowIfNull(targetKeys);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        if (inputKeys.Length == 0) throw new ArgumentException("Name at least one input key.", nameof(inputKeys));
        _dataset = dataset;
        _inputKeys = inputKeys;
        _targetKeys = targetKeys;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _random = new Random(seed);
        Seed = seed;
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each pass reshuffles the samples.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether the last incomplete batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>The shuffle's seed.</summary>
    public int Seed { get; }

    /// <inheritdoc/>
    public override int ItemCount => checked((int)_dataset.Count);

    /// <inheritdoc/>
    public override int Count => DropLast ? ItemCount / BatchSize : (ItemCount + BatchSize - 1) / BatchSize;

    /// <inheritdoc/>
    public override DataLoader Ordered() =>
        new DatasetDataLoader(_dataset, BatchSize, _inputKeys, _targetKeys, shuffle: false, dropLast: false, Seed) { Device = Device };

    /// <inheritdoc/>
    public override IEnumerator<Batch> GetEnumerator()
    {
        var order = Enumerable.Range(0, ItemCount).ToArray();
        if (Shuffle) _random.Shuffle(order);
        for (var b = 0; b < Count; b++)
        {
            var start = b * BatchSize;
            var length = Math.Min(BatchSize, ItemCount - start);
            var items = new Dictionary<string, Tensor>[length];
            for (var i = 0; i < length; i++) items[i] = _dataset.GetTensor(order[start + i]);
            yield return new Batch(Collate(items, _inputKeys), Collate(items, _targetKeys));
        }
    }

    private Tensor[] Collate(Dictionary<string, Tensor>[] items, string[] keys)
    {
        var result = new Tensor[keys.Length];
        for (var k = 0; k < keys.Length; k++)
        {
            var key = keys[k];
            var parts = new Tensor[items.Length];
            for (var i = 0; i < items.Length; i++)
                parts[i] = items[i].TryGetValue(key, out var t)
                    ? t
                    : throw new KeyNotFoundException($"Dataset item {i} has no '{key}' entry; it has: {string.Join(", ", items[i].Keys)}.");
            result[k] = stack(parts).to(Device);
        }
        return result;
    }
}
