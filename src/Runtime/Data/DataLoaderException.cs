namespace FastCallbacks;

/// <summary>
/// Preparing a batch failed: loading an item, an <see cref="ItemTransform"/>, collating, moving to the device, or a
/// <see cref="BatchTransform"/>. The message names the dataset, the item (when one item is at fault), the batch and
/// the pass; the original exception is <see cref="Exception.InnerException"/>. Thrown on the thread that enumerates
/// the loader (the learner's), whichever worker failed, when the enumeration reaches the failed batch: the batches
/// before it are yielded as without workers, and the other workers stop.
/// </summary>
public sealed class DataLoaderException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The whole message, naming the dataset, the item or batch, the pass and the fix.</param>
    /// <param name="dataset">A description of the dataset (its type and size, or the tensors' shapes).</param>
    /// <param name="epoch">The pass over the data, counted from 0 (<see cref="IndexedDataLoader.Epoch"/> when it started).</param>
    /// <param name="batchIndex">The batch, counted from 0 in its pass.</param>
    /// <param name="itemIndex">The item's index in the dataset, or null when the batch as a whole failed.</param>
    /// <param name="innerException">The original exception.</param>
    public DataLoaderException(string message, string dataset, int epoch, int batchIndex, int? itemIndex, Exception innerException)
        : base(message, innerException)
    {
        Dataset = dataset;
        Epoch = epoch;
        BatchIndex = batchIndex;
        ItemIndex = itemIndex;
    }

    /// <summary>A description of the dataset (its type and size, or the tensors' shapes).</summary>
    public string Dataset { get; }

    /// <summary>The pass over the data (<see cref="IndexedDataLoader.Epoch"/> when it started).</summary>
    public int Epoch { get; }

    /// <summary>The batch, counted from 0 in its pass.</summary>
    public int BatchIndex { get; }

    /// <summary>The item's index in the dataset, or null when the batch as a whole failed (collating, the batch transform).</summary>
    public int? ItemIndex { get; }
}
