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

    /// <summary>
    /// Starts a pass at batch <paramref name="startBatch"/>: the batches before it are not yielded (a fit resumed from a
    /// checkpoint taken in the middle of an epoch continues the pass there). This default makes those batches and frees
    /// them; a loader that can start anywhere overrides it, as <see cref="IndexedDataLoader"/> does, which never makes them.
    /// </summary>
    /// <param name="startBatch">The first batch to yield (from 0); at or past <see cref="Count"/> the pass yields nothing.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startBatch"/> is negative.</exception>
    public virtual IEnumerator<Batch> GetEnumerator(int startBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startBatch);
        var batches = GetEnumerator();
        try
        {
            for (var i = 0; i < startBatch; i++)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) break;
            }
        }
        catch
        {
            batches.Dispose();
            throw;
        }
        return batches;
    }

    /// <summary>
    /// Writes the loader's position for a training checkpoint: what it needs to make, after <see cref="LoadState"/>, the
    /// pass it would have made next, or finish the pass it is making (with <see cref="GetEnumerator(int)"/>). The default
    /// writes nothing, which is right for a loader whose passes are all alike; a loader that shuffles or draws random
    /// numbers overrides both, as <see cref="IndexedDataLoader"/> does.
    /// </summary>
    /// <param name="state">Where to write.</param>
    public virtual void SaveState(StateDict state) { }

    /// <summary>Reads what <see cref="SaveState"/> wrote. Not called while the loader is being enumerated.</summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    /// <exception cref="InvalidDataException">The state is another loader's (another seed, size or batch size).</exception>
    public virtual void LoadState(StateDict state) { }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A loader over the same data that yields every sample once, in order (fastai's <c>dl.new(shuffle=False, drop_last=False)</c>).</summary>
    public abstract DataLoader Ordered();
}
