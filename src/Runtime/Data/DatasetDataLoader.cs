using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// Adapts a TorchSharp dataset (items are dictionaries of tensors) to a <see cref="DataLoader"/> by collating
/// items into batches; <c>inputKeys</c> and <c>targetKeys</c> name the dictionary entries. By default
/// <see cref="Defaults.Cpus"/> worker threads load, transform and collate the next batches while the model trains.
/// </summary>
/// <remarks>
/// With workers, the dataset's <c>GetTensor</c> and the transforms are called from several threads at once: they must
/// not change shared state (read-only data, or a lock around what they share). With <c>numWorkers: 0</c> everything
/// runs on the enumerating thread, as a debugger likes it.
/// </remarks>
public sealed class DatasetDataLoader : IndexedDataLoader
{
    private readonly utils.data.Dataset _dataset;
    private readonly string[] _inputKeys;
    private readonly string[] _targetKeys;

    /// <summary>Creates a loader over <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The dataset; item <c>i</c> is <c>GetTensor(i)</c>.</param>
    /// <param name="batchSize">Samples per batch (at least 1).</param>
    /// <param name="inputKeys">The entries stacked into the inputs (<see cref="Batch.Xb"/>), in order.</param>
    /// <param name="targetKeys">The entries stacked into the targets (<see cref="Batch.Yb"/>); empty for unlabelled data.</param>
    /// <param name="shuffle">Reshuffle the samples at the start of every pass.</param>
    /// <param name="dropLast">Drop the last, incomplete batch.</param>
    /// <param name="seed">Seed of the shuffle and of the transforms' random generators.</param>
    /// <param name="numWorkers">Threads that prepare batches ahead (null: <see cref="Defaults.Cpus"/>, as fastai's
    /// <c>num_workers</c>); 0 loads each batch on the enumerating thread when it is asked for.</param>
    /// <param name="prefetchFactor">Batches each worker may prepare ahead (at least 1).</param>
    /// <param name="itemTransform">fastai's <c>after_item</c>, applied to each item before collating, on the workers.</param>
    /// <param name="batchTransform">fastai's <c>after_batch</c>, applied to each batch on its device, on the workers.</param>
    public DatasetDataLoader(utils.data.Dataset dataset, int batchSize, string[] inputKeys, string[] targetKeys,
        bool shuffle = false, bool dropLast = false, int seed = 0,
        int? numWorkers = null, int prefetchFactor = 2, ItemTransform? itemTransform = null, BatchTransform? batchTransform = null)
        : base(ItemsOf(dataset), batchSize, shuffle, dropLast, seed, numWorkers, prefetchFactor, batchTransform, Defaults.Cpus)
    {
        ArgumentNullException.ThrowIfNull(inputKeys);
        ArgumentNullException.ThrowIfNull(targetKeys);
        if (inputKeys.Length == 0) throw new ArgumentException("Name at least one input key.", nameof(inputKeys));
        _dataset = dataset;
        _inputKeys = inputKeys;
        _targetKeys = targetKeys;
        ItemTransform = itemTransform;
    }

    private static int ItemsOf(utils.data.Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return checked((int)dataset.Count);
    }

    /// <summary>fastai's <c>after_item</c>: applied to each item before collating, on the workers; null for none.</summary>
    public ItemTransform? ItemTransform { get; }

    /// <inheritdoc/>
    public override DataLoader Ordered() =>
        new DatasetDataLoader(_dataset, BatchSize, _inputKeys, _targetKeys, shuffle: false, dropLast: false, Seed,
            NumWorkers, PrefetchFactor, ItemTransform, BatchTransform) { Device = Device };

    private protected override Batch Collate(ArraySegment<int> items, TransformContext context)
    {
        var loaded = new Dictionary<string, Tensor>[items.Count];
        for (var i = 0; i < loaded.Length; i++)
        {
            context.ThrowIfAbandoned();
            context.ItemIndex = items[i];
            context.Stage = StageLoading;
            var item = _dataset.GetTensor(items[i]) ?? throw new InvalidOperationException("GetTensor returned null.");
            if (ItemTransform is { } transform)
            {
                context.Stage = StageItemTransform;
                item = transform(item, context) ?? throw new InvalidOperationException("The item transform returned null; return the item it was given, or a new one.");
            }
            loaded[i] = item;
        }
        context.Stage = StageCollating;
        var xb = Collate(loaded, items, _inputKeys, context);
        var yb = Collate(loaded, items, _targetKeys, context);
        context.Stage = StageMoving;
        return new Batch(TensorDataLoader.MoveTo(xb, context.Device), TensorDataLoader.MoveTo(yb, context.Device));
    }

    private static Tensor[] Collate(Dictionary<string, Tensor>[] loaded, ArraySegment<int> items, string[] keys, TransformContext context)
    {
        var result = new Tensor[keys.Length];
        for (var k = 0; k < keys.Length; k++)
        {
            var key = keys[k];
            var parts = new Tensor[loaded.Length];
            for (var i = 0; i < loaded.Length; i++)
            {
                context.ItemIndex = items[i];
                parts[i] = loaded[i].TryGetValue(key, out var t)
                    ? t
                    : throw new KeyNotFoundException($"The item has no '{key}' entry; it has: {string.Join(", ", loaded[i].Keys)}. Check inputKeys and targetKeys.");
            }
            context.ItemIndex = -1;
            result[k] = stack(parts);
        }
        return result;
    }

    private protected override string DescribeDataset() => $"dataset {_dataset.GetType().Name} ({ItemCount} items)";
}
