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
