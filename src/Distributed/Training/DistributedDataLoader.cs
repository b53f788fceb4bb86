using static TorchSharp.torch;

namespace FastCallbacks.Distributed;

/// <summary>
/// One rank's part of a training loader, for <see cref="DistributedTrainer"/>'s <c>shardDataset</c> mode (fastai's
/// <c>DistributedDL</c>): every pass deals the samples out so that each rank trains on its own batches of the
/// loader's batch size, and every rank makes the same number of steps.
/// </summary>
/// <remarks>
/// <para>Over a <see cref="TensorDataLoader"/> it works on samples, as fastai does: each pass takes the loader's
/// order (the same shuffle on every rank, from its seed), pads it by repeating its start to a multiple of the
/// number of ranks, and gives rank r the r-th contiguous part, cut into batches.</para>
/// <para>Over any other loader it works on whole batches: rank r takes batches r, r + N, r + 2N, … of each pass,
/// and the last (count mod N) batches are left out so that the ranks stay in step. Each rank still builds every
/// batch of the pass; implement your own loader's sharding where that is costly.</para>
/// </remarks>
public sealed class DistributedDataLoader : DataLoader
{
    private readonly Random? _random;

    /// <summary>Creates rank <paramref name="rank"/>'s part of <paramref name="inner"/>, out of <paramref name="ranks"/>.</summary>
    /// <param name="inner">The loader to share out; every rank must build it the same way (same data, same seed).</param>
    /// <param name="rank">This process's rank, 0 to <paramref name="ranks"/> − 1: which part of every pass it gets.</param>
    /// <param name="ranks">The number of ranks in the job (the communicator's size), at least 1.</param>
    public DistributedDataLoader(DataLoader inner, int rank, int ranks)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        if (rank < 0 || rank >= ranks) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be 0 to {ranks - 1}.");
        Inner = inner;
        Rank = rank;
        Ranks = ranks;
        Device = inner.Device;
        if (inner is TensorDataLoader t && t.Shuffle) _random = new Random(t.Seed);
    }

    /// <summary>The loader shared out.</summary>
    public DataLoader Inner { get; }

    /// <summary>This rank.</summary>
    public int Rank { get; }

    /// <summary>The number of ranks.</summary>
    public int Ranks { get; }

    /// <summary>Samples of each pass this rank gets (with the padding).</summary>
    private int PerRank => (Inner.ItemCount + Ranks - 1) / Ranks;

    /// <inheritdoc/>
    public override int ItemCount => Inner is TensorDataLoader ? PerRank : Inner.ItemCount / Ranks;

    /// <inheritdoc/>
    public override int Count => Inner switch
    {
        TensorDataLoader t => t.DropLast ? PerRank / t.BatchSize : (PerRank + t.BatchSize - 1) / t.BatchSize,
        _ => Inner.Count / Ranks,
    };

    /// <inheritdoc/>
    public override DataLoader Ordered() => Inner.Ordered();

    /// <inheritdoc/>
    public override IEnumerator<Batch> GetEnumerator() => Inner is TensorDataLoader t ? Samples(t) : WholeBatches();

    private IEnumerator<Batch> Samples(TensorDataLoader t)
    {
        var n = t.ItemCount;
        var order = new long[n];
        for (var i = 0; i < n; i++) order[i] = i;
        _random?.Shuffle(order);
        var perRank = PerRank;
        var mine = new long[perRank];
        // fastai's padding: the order repeated from its start until every rank has as many samples.
        for (var i = 0; i < perRank; i++) mine[i] = order[(Rank * perRank + i) % n];
        for (var b = 0; b < Count; b++)
        {
            var start = b * t.BatchSize;
            var length = Math.Min(t.BatchSize, perRank - start);
            using var index = tensor(mine.AsSpan(start, length).ToArray(), device: t.Inputs[0].device);
            yield return new Batch(Take(t.Inputs, index), Take(t.Targets, index));
        }
    }

    private IEnumerator<Batch> WholeBatches()
    {
        var count = Count * Ranks;
        var i = 0;
        foreach (var batch in Inner)
        {
            if (i >= count) yield break;
            if (i++ % Ranks == Rank) yield return batch;
        }
    }

    private Tensor[] Take(IReadOnlyList<Tensor> source, Tensor index)
    {
        var result = new Tensor[source.Count];
        for (var i = 0; i < source.Count; i++) result[i] = source[i].index_select(0, index).to(Device);
        return result;
    }
}
