using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// A <see cref="DataLoader"/> that gathers its batches from samples by index (PyTorch's map-style datasets): it
/// shuffles, drops the last incomplete batch, runs a <see cref="FastCallbacks.BatchTransform"/>, and with
/// <see cref="NumWorkers"/> above 0 prepares batches ahead on worker threads. <see cref="TensorDataLoader"/> and
/// <see cref="DatasetDataLoader"/> are the two kinds.
/// </summary>
/// <remarks>
/// <para>A pass yields the same batches, in the same order, with any number of workers: each batch is a pure function
/// of (<see cref="Seed"/>, the pass, the batch index), whichever worker prepares it and whenever it finishes. The
/// shuffle of pass <c>k</c> depends on (<see cref="Seed"/>, <c>k</c>) alone, so <see cref="Epoch"/> is the loader's
/// whole position: save it, set it back, and the next pass replays.</para>
/// <para>Tensors made while preparing a batch belong to the batch: they are handed to the dispose scope that is
/// current where the batch is taken (the learner's batch scope), as if they had been made there. Everything else made
/// on a worker (the dataset's items, intermediate results) is freed as soon as the batch is ready.</para>
/// <para>One pass at a time: a second enumeration while one is running is an error. Disposing the enumerator (a
/// <c>foreach</c> does) or reaching the end stops the workers and frees the batches prepared ahead.</para>
/// </remarks>
public abstract class IndexedDataLoader : DataLoader
{
    // Salts that keep the shuffle's and the transforms' random streams apart for the same seed.
    private const ulong ShuffleSalt = 0x5348554646_4C45UL, TransformSalt = 0x5452414E53_464FUL;

    private int _enumerating;
    private int _epoch;

    private protected IndexedDataLoader(int itemCount, int batchSize, bool shuffle, bool dropLast, int seed,
        int? numWorkers, int prefetchFactor, BatchTransform? batchTransform, int defaultWorkers)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        if (numWorkers < 0) throw new ArgumentOutOfRangeException(nameof(numWorkers), numWorkers, "numWorkers is a number of threads: 0 loads on the calling thread, null takes the default.");
        if (prefetchFactor < 1) throw new ArgumentOutOfRangeException(nameof(prefetchFactor), prefetchFactor, "prefetchFactor is the batches each worker may prepare ahead, at least 1.");
        ItemCount = itemCount;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        NumWorkers = numWorkers ?? defaultWorkers;
        PrefetchFactor = prefetchFactor;
        BatchTransform = batchTransform;
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each pass reshuffles the samples.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether the last incomplete batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>The seed of the shuffles and of the transforms' random generators.</summary>
    public int Seed { get; }

    /// <summary>The worker threads that prepare batches ahead; 0 prepares each batch on the enumerating thread when it is asked for.</summary>
    public int NumWorkers { get; }

    /// <summary>How many batches each worker may have prepared ahead of the one being used (PyTorch's <c>prefetch_factor</c>): at most <c>NumWorkers * PrefetchFactor</c> batches wait in memory.</summary>
    public int PrefetchFactor { get; }

    /// <summary>fastai's <c>after_batch</c>: applied to each collated batch on its device, on the workers; null for none.</summary>
    public BatchTransform? BatchTransform { get; }

    /// <summary>
    /// The pass the next enumeration makes: 0 for a new loader, one more after each enumeration starts. The shuffle
    /// and the transforms' seeds of a pass depend on (<see cref="Seed"/>, pass) alone, so setting this replays a pass
    /// (or resumes after a checkpoint).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative number.</exception>
    /// <exception cref="InvalidOperationException">Set while the loader is being enumerated.</exception>
    public int Epoch
    {
        get => Volatile.Read(ref _epoch);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            if (Volatile.Read(ref _enumerating) != 0) throw new InvalidOperationException("The loader's Epoch cannot change while it is being enumerated.");
            Volatile.Write(ref _epoch, value);
        }
    }

    /// <inheritdoc/>
    public override int ItemCount { get; }

    /// <inheritdoc/>
    public override int Count => DropLast ? ItemCount / BatchSize : (ItemCount + BatchSize - 1) / BatchSize;

    /// <summary>The order in which pass <paramref name="epoch"/> visits the samples (by index; the identity without shuffle).</summary>
    /// <param name="epoch">The pass (see <see cref="Epoch"/>).</param>
    public IReadOnlyList<int> SampleOrder(int epoch) => Order(epoch);

    /// <summary>Starts a pass: pass <see cref="Epoch"/>, which then moves on by one.</summary>
    /// <exception cref="InvalidOperationException">The loader is already being enumerated.</exception>
    public override IEnumerator<Batch> GetEnumerator() => GetEnumerator(0);

    /// <summary>
    /// Starts pass <see cref="Epoch"/> (which then moves on by one) at batch <paramref name="startBatch"/>: the batches
    /// before it are never made, and the ones after are those of the whole pass (the same samples, transforms and seeds).
    /// </summary>
    /// <param name="startBatch">The first batch to make (from 0); at or past <see cref="Count"/> the pass yields nothing.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startBatch"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The loader is already being enumerated.</exception>
    public override IEnumerator<Batch> GetEnumerator(int startBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startBatch);
        if (Interlocked.CompareExchange(ref _enumerating, 1, 0) != 0)
            throw new InvalidOperationException(
                $"This {GetType().Name} is already being enumerated: a loader runs one pass at a time (its workers, prefetch queue and " +
                "shuffle position belong to that pass). Finish or dispose the first enumeration (foreach does), or enumerate another " +
                "loader (Ordered() makes one over the same data).");
        try
        {
            var epoch = _epoch;
            Volatile.Write(ref _epoch, epoch + 1);
            var count = Count;
            var pass = new Pass(this, epoch, Order(epoch), count, Device, Math.Min(startBatch, count));
            return NumWorkers == 0 || pass.Start == count ? new SequentialPass(pass) : new PrefetchingPass(pass, NumWorkers, PrefetchFactor);
        }
        catch
        {
            EndPass();
            throw;
        }
    }

    /// <summary>
    /// Saves the pass to make next: during a pass (a checkpoint taken mid-epoch) the one being made, which the resumed fit
    /// finishes from its next batch; otherwise <see cref="Epoch"/>. With it, the seed and the number of batches, which
    /// <see cref="LoadState"/> checks.
    /// </summary>
    /// <param name="state">Where to write.</param>
    public override void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var epoch = Volatile.Read(ref _epoch);
        state.Set("pass", Volatile.Read(ref _enumerating) != 0 ? epoch - 1 : epoch);
        state.Set("seed", Seed);
        state.Set("shuffle", Shuffle);
        state.Set("batches", Count);
    }

    /// <summary>Sets <see cref="Epoch"/> to the saved pass, after checking the state is this loader's.</summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    /// <exception cref="InvalidDataException">The state was saved by a loader with another seed, shuffle or number of batches.</exception>
    public override void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var pass = state.Get<int>("pass");
        var seed = state.Get<int>("seed");
        var shuffle = state.Get<bool>("shuffle");
        var batches = state.Get<int>("batches");
        if (seed != Seed || shuffle != Shuffle)
            throw new InvalidDataException($"It was saved by a loader with seed {seed}{(shuffle ? ", shuffled" : ", not shuffled")}; this one has seed {Seed}{(Shuffle ? ", shuffled" : ", not shuffled")}, so its batches would differ.");
        if (batches != Count)
            throw new InvalidDataException($"It was saved by a loader of {batches} batches per pass; this one makes {Count} ({ItemCount} samples in batches of {BatchSize}).");
        if (pass < 0) throw new InvalidDataException($"It saves pass {pass}.");
        Epoch = pass;
    }

    /// <summary>The pass's enumerator has stopped: the loader may be enumerated again.</summary>
    internal void EndPass() => Volatile.Write(ref _enumerating, 0);

    /// <summary>
    /// Makes batch <paramref name="batchIndex"/> of <paramref name="pass"/> on the current thread, in a dispose scope of
    /// its own: the batch's tensors leave it unowned (the taker attaches them to its scope), everything else is freed.
    /// A failure is a <see cref="DataLoaderException"/> naming the item or the batch.
    /// </summary>
    internal PreparedBatch Prepare(in Pass pass, int batchIndex, TransformContext context)
    {
        var start = batchIndex * BatchSize;
        var items = new ArraySegment<int>(pass.Order, start, Math.Min(BatchSize, pass.Order.Length - start));
        context.BeginBatch(pass.Epoch, batchIndex, Mix(Mix(Mix((uint)Seed ^ TransformSalt) ^ (uint)pass.Epoch) ^ (uint)batchIndex));
        using var scope = NewDisposeScope();
        Batch batch;
        try
        {
            batch = Collate(items, context);
            if (BatchTransform is { } transform)
            {
                context.ItemIndex = -1;
                context.Stage = StageBatchTransform;
                batch = transform(batch, context);
                if (batch.Xb is null || batch.Yb is null || batch.Xb.Any(t => t is null) || batch.Yb.Any(t => t is null))
                    throw new InvalidOperationException("The batch transform returned a batch with a null Xb, Yb or tensor; return the batch it was given, or a new one.");
            }
        }
        catch (OperationCanceledException) when (context.Abandoned?.Invoke(context) == true)
        {
            throw; // the pass stopped wanting this batch: not a failure
        }
        catch (Exception ex)
        {
            throw Failure(ex, pass, context, items);
        }
        return new PreparedBatch(batch, TakeOwnership(scope, batch));
    }

    /// <summary>Names of the stages of <see cref="Prepare"/>, for the error message (subclasses set the ones they run).</summary>
    private protected const string StageLoading = "loading", StageItemTransform = "item transform", StageCollating = "collating",
        StageMoving = "moving", StageBatchTransform = "batch transform";

    /// <summary>
    /// Gathers the samples <paramref name="items"/> into a batch on <see cref="TransformContext.Device"/>. Runs on a
    /// worker (several at once) or the enumerating thread; sets <see cref="TransformContext.Stage"/> and
    /// <see cref="TransformContext.ItemIndex"/> as it goes, so a failure names its place.
    /// </summary>
    private protected abstract Batch Collate(ArraySegment<int> items, TransformContext context);

    /// <summary>The dataset, for error messages: its type and size, or its tensors' shapes.</summary>
    private protected abstract string DescribeDataset();

    private int[] Order(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new int[ItemCount];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Shuffle) new Random(unchecked((int)Mix(Mix((uint)Seed ^ ShuffleSalt) ^ (uint)epoch))).Shuffle(order);
        return order;
    }

    /// <summary>SplitMix64's finalizer: consecutive inputs give unrelated seeds.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The tensors of <paramref name="batch"/> that were made in <paramref name="scope"/>, taken out of it; tensors the batch reuses from elsewhere stay their owner's.</summary>
    private static Tensor[] TakeOwnership(DisposeScope scope, Batch batch)
    {
        var owned = new List<Tensor>(batch.Xb.Length + batch.Yb.Length);
        foreach (var t in batch.Xb.Concat(batch.Yb))
        {
            if (!scope.Contains(t)) continue;
            scope.Detach(t);
            owned.Add(t);
        }
        return owned.ToArray();
    }

    private DataLoaderException Failure(Exception ex, in Pass pass, TransformContext context, ArraySegment<int> items)
    {
        var dataset = DescribeDataset();
        int? item = context.ItemIndex >= 0 ? context.ItemIndex : null;
        var what = (context.Stage, item) switch
        {
            (StageLoading, { } i) => $"Loading item {i} of {dataset} failed",
            (StageItemTransform, { } i) => $"The item transform failed on item {i} of {dataset}",
            (StageCollating, { } i) => $"Collating item {i} of {dataset} failed",
            (StageMoving, _) => $"Moving batch {context.BatchIndex} of {dataset} to {pass.Device} failed",
            (StageBatchTransform, _) => $"The batch transform failed on batch {context.BatchIndex} of {dataset}",
            _ => $"Collating batch {context.BatchIndex} of {dataset} failed",
        };
        var shown = string.Join(", ", items.Take(8));
        var where = item is null
            ? $"batch {context.BatchIndex} of epoch {pass.Epoch}, items {shown}{(items.Count > 8 ? $", … ({items.Count} in all)" : "")}"
            : $"batch {context.BatchIndex} of epoch {pass.Epoch}";
        var thread = context.Worker >= 0
            ? $"on data worker {context.Worker} of {NumWorkers}; with numWorkers: 0 it runs on the calling thread, easier to debug"
            : "on the calling thread";
        var message = $"{what} ({where}, {thread}): {ex.GetType().Name}: {FirstLine(ex.Message)} The original exception is the inner exception.";
        return new DataLoaderException(message, dataset, pass.Epoch, context.BatchIndex, item, ex);

        static string FirstLine(string s)
        {
            var line = s.Split('\n', 2)[0].TrimEnd();
            return line.EndsWith('.') ? line : line + ".";
        }
    }
}

/// <summary>One pass's plan: which loader, which pass, the sample order, how many batches, where they go, and the first batch to make.</summary>
internal readonly record struct Pass(IndexedDataLoader Loader, int Epoch, int[] Order, int Count, Device Device, int Start = 0);

/// <summary>A batch made off the enumerating thread's scopes, and the tensors in it that the batch owns.</summary>
internal readonly record struct PreparedBatch(Batch Batch, Tensor[] Owned)
{
    /// <summary>Hands the batch's tensors to the dispose scope current on this thread (none: the caller owns them, as tensors made outside a scope).</summary>
    public Batch AttachToCurrentScope()
    {
        if (Owned.Length > 0 && torch.CurrentDisposeScope is { } scope) scope.Attach(Owned);
        return Batch;
    }

    /// <summary>Frees a batch nobody took.</summary>
    public void Dispose()
    {
        foreach (var t in Owned) t.Dispose();
    }
}
