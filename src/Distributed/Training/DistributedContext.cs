namespace FastCallbacks.Distributed;

/// <summary>Settings of <see cref="DistributedExtensions.ToDistributed"/>.</summary>
public sealed record DistributedOptions
{
    /// <summary>The ranks (default: <see cref="DistributedWorld.Current"/>, MPI when launched by mpiexec).</summary>
    public ICommunicator? Communicator { get; init; }

    /// <summary>
    /// Each rank trains on its own part of the data set with full batches (fastai's <c>DistributedDL</c>: a global
    /// batch of ranks × batch size, fewer steps per epoch), instead of on its slice of every global batch (the
    /// default: N ranks train exactly as one process).
    /// </summary>
    public bool ShardDataset { get; init; }

    /// <summary>The size of each piece of the gradient reduction, in bytes (default 1 MiB).</summary>
    public long BucketBytes { get; init; } = DistributedTrainer.DefaultBucketBytes;

    /// <summary>
    /// The deadline of every collective (default: the communicator's, 30 minutes unless FASTCALLBACKS_DISTRIBUTED_TIMEOUT
    /// says otherwise). It is set on the communicator, so it holds for everything that uses it afterwards.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// libtorch threads per rank. Null (the default): this machine's cores divided by its ranks, when there are
    /// several ranks (ranks that each use every core slow each other down); 0: leave libtorch's setting.
    /// </summary>
    public int? ThreadsPerRank { get; init; }

    /// <summary>Fail unless the job has at least this many ranks (default 1: one rank trains as a plain learner).</summary>
    public int MinRanks { get; init; } = 1;
}

/// <summary>
/// A learner trained across ranks until disposed (fastai's <c>learn.distrib_ctx()</c>): made by
/// <see cref="DistributedExtensions.ToDistributed"/>, it attaches a <see cref="DistributedTrainer"/> and sets
/// <see cref="Learner.IsMainProcess"/> so that only rank 0 writes the progress display, logs and checkpoints.
/// Disposing detaches the trainer and makes the learner a main process again.
/// </summary>
public sealed class DistributedContext : IDisposable
{
    private readonly bool _wasMain;
    private bool _disposed;

    internal DistributedContext(Learner learner, DistributedTrainer trainer)
    {
        Learner = learner;
        Trainer = trainer;
        _wasMain = learner.IsMainProcess;
        learner.AddCb(trainer);
        learner.IsMainProcess = _wasMain && trainer.Communicator.Rank == 0;
    }

    /// <summary>The learner.</summary>
    public Learner Learner { get; }

    /// <summary>The callback that does the work.</summary>
    public DistributedTrainer Trainer { get; }

    /// <summary>The ranks.</summary>
    public ICommunicator Communicator => Trainer.Communicator;

    /// <summary>This process's rank.</summary>
    public int Rank => Communicator.Rank;

    /// <summary>The number of ranks.</summary>
    public int Size => Communicator.Size;

    /// <summary>This process's rank on its machine.</summary>
    public int LocalRank => Communicator.LocalRank;

    /// <summary>Whether this is rank 0, the one that writes files and the console.</summary>
    public bool IsMainProcess => Rank == 0;

    /// <summary>Detaches the trainer; the learner trains alone again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Learner.RemoveCb(Trainer);
        Learner.IsMainProcess = _wasMain;
        Trainer.Dispose();
    }
}

/// <summary><c>learn.ToDistributed()</c>.</summary>
public static class DistributedExtensions
{
    /// <summary>
    /// Trains <paramref name="learn"/> across the ranks of this job until the result is disposed (fastai's
    /// <c>to_distributed</c> and <c>distrib_ctx</c>): <c>using var dist = learn.ToDistributed();</c>. Started by
    /// <c>mpiexec -n N dotnet app.dll</c> it trains on N ranks; started alone it trains exactly as without it.
    /// </summary>
    /// <param name="learn">The learner; every rank builds the same one (same model, data, seed and callbacks).</param>
    /// <param name="options">Settings; see <see cref="DistributedOptions"/>.</param>
    /// <returns>The context; dispose it to detach.</returns>
    /// <exception cref="InvalidOperationException">The job has fewer ranks than <see cref="DistributedOptions.MinRanks"/>,
    /// MPI cannot be used (the message says what to install or how to launch), or the learner is already distributed.</exception>
    public static DistributedContext ToDistributed(this Learner learn, DistributedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(learn);
        if (learn.Cb<DistributedTrainer>() is not null)
            throw new InvalidOperationException("This learner is already distributed (it has a DistributedTrainer); dispose the first ToDistributed() before calling it again.");
        options ??= new DistributedOptions();
        var comm = options.Communicator ?? DistributedWorld.Current;
        if (comm.Size < options.MinRanks) throw MpiDiscovery.TooFewRanks(options.MinRanks, comm.Size, comm is not LocalCommunicator);
        if (options.Timeout is { } timeout) comm.Timeout = timeout;
        var threads = options.ThreadsPerRank ?? (comm.Size > 1 ? Math.Max(1, Environment.ProcessorCount / Math.Max(1, comm.LocalSize)) : 0);
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        return new DistributedContext(learn, new DistributedTrainer(comm, options.ShardDataset, options.BucketBytes));
    }
}
