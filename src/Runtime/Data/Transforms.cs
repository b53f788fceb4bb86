using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>after_item</c>: changes one dataset item (a dictionary of tensors) before the items of a batch are
/// collated. Runs on the loader's data workers, several at once: keep it free of shared mutable state.
/// </summary>
/// <param name="item">The item as the dataset returned it (the dictionary may be changed and returned).</param>
/// <param name="context">Where the item is and the random generators to draw from (the same for any number of workers).</param>
/// <returns>The item to collate.</returns>
public delegate Dictionary<string, Tensor> ItemTransform(Dictionary<string, Tensor> item, TransformContext context);

/// <summary>
/// fastai's <c>after_batch</c>: changes a collated batch, after it is moved to the loader's device. Runs on the
/// loader's data workers, several at once: keep it free of shared mutable state.
/// </summary>
/// <param name="batch">The collated batch, on the loader's device.</param>
/// <param name="context">Where the batch is and the random generators to draw from (the same for any number of workers).</param>
/// <returns>The batch the learner trains on.</returns>
public delegate Batch BatchTransform(Batch batch, TransformContext context);

/// <summary>
/// What an <see cref="ItemTransform"/> or <see cref="BatchTransform"/> knows about the work at hand, and the random
/// generators it draws from. Both generators are seeded from the loader's seed, the pass and the batch index alone,
/// so a random augmentation gives the same batches with 0, 1 or any number of workers, whatever their timing.
/// </summary>
/// <remarks>
/// One context per worker, reused for every batch it prepares: read it during the call, do not keep it. Draw from
/// <see cref="Random"/> or <see cref="Generator"/> (<c>torch.rand(..., generator: context.Generator)</c>), never from
/// torch's global generator or a shared <see cref="System.Random"/>: workers run at once, so those would make the
/// batches depend on scheduling.
/// </remarks>
public sealed class TransformContext
{
    private Random? _random;
    private Generator? _generator;
    private bool _generatorSeeded;
    private ulong _seed;

    internal TransformContext(int worker, Device device)
    {
        Worker = worker;
        Device = device;
    }

    /// <summary>The pass over the data (<see cref="IndexedDataLoader.Epoch"/> when it started).</summary>
    public int Epoch { get; private set; }

    /// <summary>The batch being prepared, counted from 0 in its pass.</summary>
    public int BatchIndex { get; private set; }

    /// <summary>In an <see cref="ItemTransform"/>, the item's index in the dataset; -1 in a <see cref="BatchTransform"/>.</summary>
    public int ItemIndex { get; internal set; } = -1;

    /// <summary>The data worker preparing the batch (0 to <c>NumWorkers - 1</c>), or -1 on the caller's thread (no workers).</summary>
    public int Worker { get; }

    /// <summary>The device the batch goes to.</summary>
    public Device Device { get; }

    /// <summary>A .NET random generator for this batch, seeded from (seed, pass, batch): items of a batch draw from it in order.</summary>
    public Random Random => _random ??= new Random(unchecked((int)(_seed >> 32) ^ (int)_seed));

    /// <summary>A torch generator for this batch, seeded from (seed, pass, batch); pass it as <c>generator:</c> to torch's random functions.</summary>
    public Generator Generator
    {
        get
        {
            _generator ??= new Generator();
            if (!_generatorSeeded)
            {
                _generator.manual_seed(unchecked((long)_seed));
                _generatorSeeded = true;
            }
            return _generator;
        }
    }

    /// <summary>What failed, for the error message: set as the loader moves through a batch.</summary>
    internal string Stage { get; set; } = "";

    /// <summary>Set by a pass whose workers may be told to stop: true when the batch at hand is no longer wanted.</summary>
    internal Func<TransformContext, bool>? Abandoned { get; init; }

    /// <summary>Between items: stops preparing a batch nobody will take (the pass is ending, or an earlier batch failed).</summary>
    /// <exception cref="OperationCanceledException">The batch is abandoned.</exception>
    internal void ThrowIfAbandoned()
    {
        if (Abandoned?.Invoke(this) == true) throw new OperationCanceledException("The pass no longer needs this batch.");
    }

    /// <summary>Starts batch <paramref name="batchIndex"/> of pass <paramref name="epoch"/>: fresh generators, seeded lazily.</summary>
    internal void BeginBatch(int epoch, int batchIndex, ulong seed)
    {
        Epoch = epoch;
        BatchIndex = batchIndex;
        ItemIndex = -1;
        _seed = seed;
        _random = null;
        _generatorSeeded = false;
    }

    /// <summary>Frees the torch generator (on the thread that used it).</summary>
    internal void Release()
    {
        _generator?.Dispose();
        _generator = null;
    }
}
