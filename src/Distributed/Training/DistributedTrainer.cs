using System.Runtime.InteropServices;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed;

/// <summary>
/// fastai's <c>DistributedTrainer</c> (order 10: after <see cref="GradientAccumulation"/>, before
/// <see cref="GradientClip"/>): data-parallel training over the ranks of an <see cref="ICommunicator"/>, so that N
/// ranks at batch size B train as one process at batch size B. Add it with <c>learn.ToDistributed()</c>.
/// </summary>
/// <remarks>
/// <para>Per fit: rank 0's parameters and buffers are broadcast at <c>before_fit</c> (so every rank starts from
/// the same model) and again at <c>after_fit</c>.</para>
/// <para>Per batch: at <c>before_batch</c> every rank keeps its own rows of the global batch in <c>Xb</c> (rank r of
/// N takes the r-th of N near-equal slices); at <c>after_pred</c> the predictions of all ranks are gathered, so from
/// there on <c>Xb</c>, <c>Yb</c>, <c>Pred</c>, the loss and every metric are those of the whole batch, identical on
/// every rank, and trackers (early stopping, saving the best model) decide the same everywhere. Backward reaches each
/// rank's parameters through its own rows only; at <c>before_step</c> the gradients, which are views of one flat
/// buffer, are summed over the ranks in buckets. With <c>shardDataset</c>, each rank trains instead on its own
/// batches of its own part of the data set (fastai's <c>DistributedDL</c>), a global batch of N times the loader's
/// batch size; validation is always sharded batch by batch, so metrics are exact.</para>
/// <para>Agreement: before each collective every rank reports where it is. A rank that skipped ahead (a cancel
/// exception on that rank only, a cancellation token, <see cref="Environment.Exit(int)"/>) is followed: the others
/// throw the cancel exception that brings them to the same point, so every rank stops at the same batch. A rank
/// that cannot be followed (its program ended while others train; the ranks run different fits) aborts the job.</para>
/// <para>With one rank (no MPI launcher) it does nothing at all. During <see cref="Learner.GetPreds"/> and
/// <see cref="Learner.Validate"/> it stands aside: each rank predicts on the whole set by itself, so calling them on
/// one rank only is safe.</para>
/// </remarks>
public sealed partial class DistributedTrainer : Callback, IDisposable
{
    /// <summary>
    /// The default bucket of the gradient reduction: 1 MiB, with which 10M parameters were summed fastest between two ranks
    /// of an idle 2-core machine (docs/distributed.md; benchmarks/distributed.sh measures yours).
    /// </summary>
    public const long DefaultBucketBytes = 1 << 20;

    private readonly Rendezvous _sync;
    private GradientBuffer? _grads;
    private DistributedDataLoader? _trainShard;
    private Tensor[]? _globalXb;
    private long _globalRows;
    private int _shardRows;
    private long _run;
    private int _validPass;
    private Event _lastEvent;

    /// <summary>Creates the trainer.</summary>
    /// <param name="communicator">The ranks (default: <see cref="DistributedWorld.Current"/>).</param>
    /// <param name="shardDataset">Each rank trains on its own part of the data set with full batches (fastai's
    /// default), instead of on its slice of every global batch (this trainer's default, which trains exactly as one
    /// process).</param>
    /// <param name="bucketBytes">The size of each piece of the gradient reduction.</param>
    public DistributedTrainer(ICommunicator? communicator = null, bool shardDataset = false, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 4);
        Communicator = communicator ?? DistributedWorld.Current;
        ShardDataset = shardDataset;
        BucketBytes = bucketBytes;
        _sync = Rendezvous.For(Communicator);
    }

    /// <inheritdoc/>
    public override int Order => 10;

    /// <summary>The ranks.</summary>
    public ICommunicator Communicator { get; }

    /// <summary>Whether each rank trains on its own part of the data set (fastai's mode).</summary>
    public bool ShardDataset { get; }

    /// <summary>The largest piece of the gradient reduction, in bytes.</summary>
    public long BucketBytes { get; }

    /// <summary>Gradient reductions done (optimizer steps taken) since the trainer was created.</summary>
    public long Reductions { get; private set; }

    /// <summary>Gradients found replaced or set to null (and put back into the flat buffer) before a reduction.</summary>
    public int GradientRebinds => _grads?.Rebinds ?? 0;

    /// <summary>The number of gradient elements reduced per step (0 before the first fit).</summary>
    public long GradientCount => _grads?.Count ?? 0;

    private int Rank => Communicator.Rank;
    private int Size => Communicator.Size;
    private bool ShardsThisBatch => !(ShardDataset && Attached.Training);

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        // One rank: nothing to share. Inference runs: every rank predicts on its own.
        Run = Size > 1 && !learn.IsInferenceRun;
        if (!Run) return;
        _lastEvent = Event.BeforeFit;
        // Before the progress display, the loggers and the trackers look (orders 50 and up): only rank 0 writes.
        if (Rank != 0) learn.IsMainProcess = false;
        DistributedWorld.DescribeFailure = DescribeFailure;
        _run = _sync.NextRun();
        if (Sync(SyncPoint.StartOfFit(_run)) is null) return;
        Handshake(learn);
        var trainable = learn.Model.parameters().Where(p => p.requires_grad).ToList();
        if (_grads is null || !_grads.Holds(trainable))
        {
            _grads?.Dispose();
            _grads = GradientBuffer.Bind(trainable, BucketBytes);
        }
        BroadcastModel(learn.Model, "rank 0's model at the start of the fit");
    }

    [On(Event.BeforeEpoch)]
    private void BeforeEpoch() => _validPass = 0;

    [On(Event.BeforeTrain)]
    private void BeforeTrain()
    {
        var learn = Attached;
        _lastEvent = Event.BeforeTrain;
        if (!ShardDataset || learn.Dl is not { } dl) return;
        if (_trainShard?.Inner != dl) _trainShard = new DistributedDataLoader(dl, Rank, Size);
        learn.Dl = _trainShard;
    }

    [On(Event.BeforeValidate)]
    private void BeforeValidate()
    {
        var learn = Attached;
        _lastEvent = Event.BeforeValidate;
        _validPass++;
        if (Sync(new SyncPoint(_run, learn.Epoch, _validPass, -1, Event.BeforeValidate)) is null) return;
        // Batch norm's running statistics come from each rank's own rows: validate with their mean over the ranks.
        AverageBuffers(learn.Model);
    }

    [On(Event.BeforeBatch)]
    private void BeforeBatch()
    {
        var learn = Attached;
        _lastEvent = Event.BeforeBatch;
        _globalXb = null;
        _globalRows = _shardRows = 0;
        var xb = learn.Xb;
        if (xb.Length == 0) return;
        var rows = xb[0].shape.Length == 0 ? 0 : xb[0].shape[0];
        _globalRows = rows;
        _shardRows = (int)rows;
        if (!ShardsThisBatch) return;
        foreach (var t in xb.Concat(learn.Yb))
        {
            if (t.shape.Length == 0 || t.shape[0] != rows)
                throw new InvalidOperationException(
                    $"DistributedTrainer splits each batch by rows, but the batch's tensors have different first dimensions ([{string.Join(", ", t.shape)}] against {rows} rows). " +
                    "Every input and target must hold one row per sample.");
        }
        var (start, count) = Shard(rows, Rank, Size);
        _shardRows = (int)count;
        _globalXb = xb;
        // A rank with no rows of a batch smaller than the world runs the model on a stand-in row and contributes nothing.
        var take = count > 0 ? count : Math.Min(rows, 1);
        var local = new Tensor[xb.Length];
        for (var i = 0; i < xb.Length; i++) local[i] = xb[i].narrow(0, count > 0 ? start : 0, take);
        learn.Xb = local;
    }

    [On(Event.AfterPred)]
    private void AfterPred()
    {
        var learn = Attached;
        _lastEvent = Event.AfterPred;
        var here = new SyncPoint(_run, learn.Epoch, learn.Training ? 0 : _validPass, learn.Iter, Event.AfterPred);
        var sharded = ShardsThisBatch;
        var reports = Sync(here, _shardRows, _globalRows, sharded ? Checksum(learn) : 0);
        if (reports is null) return;
        if (sharded) CheckSameBatch(reports, here);
        var rows = reports.RowCounts();
        var pred = learn.Pred ?? throw new InvalidOperationException("DistributedTrainer: the batch has no prediction at after_pred.");
        // The gradient of each rank's rows comes back times N: backward then runs on the loss divided by N (see
        // BeforeBackward), so terms of the loss that do not go through the predictions (a weight penalty) average over the
        // ranks while the predictions' part sums to the whole batch's.
        var plan = new GatherPlan(Communicator, rows, pred.shape[0], pred.shape, Size, $"the predictions at {here}");
        learn.Pred = GatherRows.Apply(pred, plan);
        if (sharded)
        {
            if (_globalXb is not null) learn.Xb = _globalXb;
        }
        else
        {
            var yb = learn.Yb;
            var global = new Tensor[yb.Length];
            for (var i = 0; i < yb.Length; i++) global[i] = Communicator.AllGather(yb[i].contiguous(), rows, $"the targets at {here}");
            learn.Yb = global;
        }
    }

    [On(Event.BeforeBackward)]
    private void BeforeBackward()
    {
        var learn = Attached;
        _lastEvent = Event.BeforeBackward;
        if (learn.LossGrad is { } loss) learn.LossGrad = loss / Size;
    }

    [On(Event.BeforeStep)]
    private void BeforeStep()
    {
        var learn = Attached;
        _lastEvent = Event.BeforeStep;
        var here = new SyncPoint(_run, learn.Epoch, 0, learn.Iter, Event.BeforeStep);
        if (Sync(here) is null) return;
        var grads = _grads ?? throw new InvalidOperationException("DistributedTrainer: no gradient buffer; was the trainer added during the fit?");
        grads.Rebind();
        grads.Reduce(Communicator, $"the gradients at {here}");
        Reductions++;
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        _lastEvent = Event.AfterBatch;
        // Nothing to send: a rank that stopped during this batch is followed before the recorder and the others see it.
        Sync(new SyncPoint(_run, learn.Epoch, learn.Training ? 0 : _validPass, learn.Iter, Event.AfterBatch));
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        _lastEvent = Event.AfterEpoch;
        Sync(new SyncPoint(_run, learn.Epoch, long.MaxValue, 0, Event.AfterEpoch));
    }

    [On(Event.AfterFit)]
    private void AfterFit()
    {
        var learn = Attached;
        _lastEvent = Event.AfterFit;
        if (Sync(SyncPoint.EndOfFit(_run)) is null) return;
        BroadcastModel(learn.Model, "rank 0's model at the end of the fit");
    }

    /// <summary>Frees the flat gradient buffer (the parameters' gradients stay valid: each view holds its memory).</summary>
    public void Dispose()
    {
        _grads?.Dispose();
        _grads = null;
    }

    // ---- Agreement ----

    /// <summary>
    /// Reports <paramref name="here"/> and returns what every rank reported once all are here. When another rank
    /// is further along, this rank follows it (throws the cancel exception that skips to its point, or returns null
    /// at the end of a fit, when the others are in a later one); when this rank is furthest along, it waits for the
    /// others to come. Aborts the job when a rank left or the ranks cannot meet.
    /// </summary>
    private Reports? Sync(SyncPoint here, long rows = 0, long globalRows = 0, long checksum = 0)
    {
        while (true)
        {
            var reports = _sync.Exchange(here, rows, globalRows, checksum);
            if (reports.AllAt(here)) return reports;
            var leader = reports.Furthest();
            var ahead = reports.At(leader);
            if (ahead.IsLeave)
                Communicator.Abort($"FastCallbacks.Distributed: rank {leader}'s program ended while rank {Rank} is at {here}: " +
                                   "every rank must run the same fits (a rank returned early, or called Environment.Exit). Aborting the job.");
            if (ahead == here) continue;
            FollowTo(here, ahead, leader, reports);
            return null;
        }
    }

    /// <summary>
    /// Skips this rank forward to where <paramref name="ahead"/> is, with fastai's own cancel exceptions: the one of
    /// the innermost stage the two positions do not share, when the loop catches it where this rank is (an After
    /// event runs outside its own stage, so its stage's cancel would escape the fit).
    /// </summary>
    private void FollowTo(SyncPoint here, SyncPoint ahead, int leader, Reports reports)
    {
        var inBatch = here.Event is Event.AfterPred or Event.BeforeStep;
        CancelException? cancel = null;
        if (ahead.Run > here.Run || ahead.IsEndOfFit)
        {
            // The others' fit ended (early stopping, a cancellation token, CancelFitException on that rank).
            if (here.IsEndOfFit) return;
            if (here.Event != Event.BeforeFit) cancel = new CancelFitException();
        }
        else if (ahead.Epoch > here.Epoch || (ahead.Event == Event.AfterEpoch && here.Event != Event.AfterEpoch))
        {
            if (here.Epoch >= 0 && here.Event != Event.AfterEpoch) cancel = new CancelEpochException();
        }
        else if (ahead.Phase > here.Phase)
        {
            cancel = here.Phase == 0 ? new CancelTrainException() : new CancelValidException();
        }
        else if (ahead.Iter > here.Iter || (ahead.Event == Event.AfterBatch && here.Event != Event.AfterBatch))
        {
            if (inBatch) cancel = new CancelBatchException();
        }
        if (cancel is not null) throw cancel;
        var positions = string.Join(", ", Enumerable.Range(0, reports.Size).Select(r => $"rank {r} at {reports.At(r)}"));
        Communicator.Abort($"FastCallbacks.Distributed: the ranks cannot meet ({positions}; rank {leader} is furthest): they run different fits, " +
                           "or a callback's Run flag differs between ranks. Every rank must run the same program with the same callbacks. Aborting the job.");
    }

    /// <summary>Every rank must see the same global batch, or training on slices of it means nothing.</summary>
    private void CheckSameBatch(Reports reports, SyncPoint here)
    {
        for (var r = 1; r < reports.Size; r++)
        {
            if (reports.GlobalRows(r) == reports.GlobalRows(0) && reports.Checksum(r) == reports.Checksum(0)) continue;
            throw new InvalidOperationException(
                $"The ranks load different batches at {here}: rank 0's has {reports.GlobalRows(0)} rows, rank {r}'s {reports.GlobalRows(r)}" +
                (reports.GlobalRows(r) == reports.GlobalRows(0) ? ", with different targets" : "") + ". " +
                "DistributedTrainer splits every global batch between the ranks, so every rank must build the same data loaders " +
                "(same data, same seed). To give each rank its own data instead, use shardDataset: true.");
        }
    }

    /// <summary>The ranks must be training the same model on the same data the same way.</summary>
    private void Handshake(Learner learn)
    {
        var parameters = learn.Model.named_parameters().ToList();
        long shapes = 17;
        foreach (var (name, p) in parameters)
        {
            shapes = Mix(shapes, name.GetHashCodeStable());
            foreach (var d in p.shape) shapes = Mix(shapes, d);
        }
        var fields = new (string Name, long Value)[]
        {
            ("model parameters (names and shapes)", shapes),
            ("parameter elements", parameters.Sum(p => p.parameter.NumberOfElements)),
            ("training batches", learn.Dls.Train.Count),
            ("validation batches", learn.Dls.Valid?.Count ?? -1),
            ("epochs", learn.NEpoch),
            ("shardDataset", ShardDataset ? 1 : 0),
        };
        var mine = fields.Select(f => f.Value).ToArray();
        var all = new long[mine.Length * Size];
        Communicator.AllGather<long>(mine, all, $"the settings of fit {_run}");
        for (var r = 1; r < Size; r++)
        {
            for (var f = 0; f < fields.Length; f++)
            {
                if (all[r * fields.Length + f] == all[f]) continue;
                throw new InvalidOperationException(
                    $"The ranks start fit {_run} differently: {fields[f].Name} are {all[f]} on rank 0 but {all[r * fields.Length + f]} on rank {r}. " +
                    "Every rank must run the same program with the same model, data and settings.");
            }
        }
    }

    // ---- Payloads ----

    private void BroadcastModel(nn.Module model, string label)
    {
        using var noGrad = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            if (t.is_contiguous())
            {
                Communicator.Broadcast(t, 0, $"{label}: {name}");
                continue;
            }
            using var copy = t.contiguous();
            Communicator.Broadcast(copy, 0, $"{label}: {name}");
            t.copy_(copy);
        }
    }

    private void AverageBuffers(nn.Module model)
    {
        var buffers = model.buffers().Where(b => b.is_floating_point()).ToList();
        if (buffers.Count == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = cat(buffers.Select(b => b.reshape(-1).to_type(ScalarType.Float64)).ToList(), 0);
        Communicator.AllReduceSum(flat, "the model's buffers (batch norm statistics)");
        flat.div_(Size);
        long offset = 0;
        foreach (var b in buffers)
        {
            b.copy_(flat.narrow(0, offset, b.NumberOfElements).view(b.shape));
            offset += b.NumberOfElements;
        }
    }

    // ---- Helpers ----

    /// <summary>Rank <paramref name="rank"/>'s rows of <paramref name="rows"/>: near-equal slices, the larger first (numpy's array_split).</summary>
    internal static (long Start, long Count) Shard(long rows, int rank, int size)
    {
        var small = rows / size;
        var larger = rows % size;
        var start = rank * small + Math.Min(rank, larger);
        return (start, small + (rank < larger ? 1 : 0));
    }

    /// <summary>A checksum of the batch's targets (or first input), so ranks that load different batches are caught.</summary>
    private long Checksum(Learner learn)
    {
        var source = learn.Yb.Length > 0 ? learn.Yb : learn.Xb;
        long h = 23;
        foreach (var t in source)
        {
            if (t.device_type != DeviceType.CPU) return 0;
            using var c = t.contiguous();
            // Bytes, not a sum of values: a float sum depends on the number of threads, which ranks may not share.
            var bytes = c.bytes;
            bytes = bytes[..Math.Min(bytes.Length, 1 << 20)];
            var words = MemoryMarshal.Cast<byte, ulong>(bytes);
            foreach (var w in words) h = Mix(h, (long)w);
            foreach (var b in bytes[(words.Length * 8)..]) h = Mix(h, b);
            foreach (var d in t.shape) h = Mix(h, d);
        }
        return h;
    }

    private static long Mix(long h, long v) => unchecked((h ^ v) * 0x100000001B3L + (long)0x9E3779B97F4A7C15UL);

    private string DescribeFailure(Exception exception)
    {
        if (Learn is not { } learn) return "";
        var when = exception is CallbackException ce
            ? $" at `{Events.Name(ce.Event)}` (in `{ce.CallbackType.Name}`)"
            : $" after `{Events.Name(_lastEvent)}`";
        return learn.NIter > 0 || learn.Iter > 0
            ? $"{when}, {(learn.Training ? "training" : "validation")} batch {learn.Iter} of epoch {learn.Epoch}"
            : when;
    }
}

internal static class StableHash
{
    /// <summary>A hash of the text that is the same in every process (string.GetHashCode is randomized per process).</summary>
    public static long GetHashCodeStable(this string text)
    {
        var h = unchecked((long)0xCBF29CE484222325);
        foreach (var c in text) h = unchecked((h ^ c) * 0x100000001B3L);
        return h;
    }
}
