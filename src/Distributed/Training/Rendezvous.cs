using System.Runtime.CompilerServices;

namespace FastCallbacks.Distributed;

/// <summary>
/// Where a rank is: the fit (every fit and every trainer of the process counts), the epoch, the phase (0 training,
/// k the k-th validation pass of the epoch), the batch and the event. Positions are ordered as the loop runs.
/// </summary>
internal readonly record struct SyncPoint(long Run, long Epoch, long Phase, long Iter, Event Event) : IComparable<SyncPoint>
{
    /// <summary>The end of a rank's program (it is exiting).</summary>
    public static SyncPoint Leave { get; } = new(long.MaxValue, 0, 0, 0, Event.AfterFit);

    /// <summary>The end of fit <paramref name="run"/>.</summary>
    public static SyncPoint EndOfFit(long run) => new(run, long.MaxValue, 0, 0, Event.AfterFit);

    /// <summary>The start of fit <paramref name="run"/>.</summary>
    public static SyncPoint StartOfFit(long run) => new(run, -1, 0, 0, Event.BeforeFit);

    public bool IsLeave => Run == long.MaxValue;

    public bool IsEndOfFit => !IsLeave && Epoch == long.MaxValue;

    public int CompareTo(SyncPoint other)
    {
        var c = Run.CompareTo(other.Run);
        if (c == 0) c = Epoch.CompareTo(other.Epoch);
        if (c == 0) c = Phase.CompareTo(other.Phase);
        if (c == 0) c = Iter.CompareTo(other.Iter);
        if (c == 0) c = ((int)Event).CompareTo((int)other.Event);
        return c;
    }

    public override string ToString() =>
        IsLeave ? "the end of its program"
        : IsEndOfFit ? $"the end of fit {Run}"
        : Event == Event.BeforeFit ? $"the start of fit {Run}"
        : Iter < 0 || Event == Event.AfterEpoch ? $"`{Events.Name(Event)}` of epoch {Epoch} (fit {Run})"
        : $"`{Events.Name(Event)}` of {(Phase == 0 ? "training" : "validation")} batch {Iter} of epoch {Epoch} (fit {Run})";
}

/// <summary>
/// The agreement between ranks at each synchronization point: before every collective payload, every rank
/// reports where it is (<see cref="SyncPoint"/>) and a few numbers (its rows, the batch's rows and a checksum of
/// its targets). When the positions differ, a rank skipped ahead (a cancel exception, a cancellation token, early
/// stopping, a program that ended) and the others follow it (see <see cref="DistributedTrainer"/>), so every
/// payload collective is one that all ranks make.
/// </summary>
internal sealed class Rendezvous
{
    /// <summary>Numbers each rank reports: the position (5), its rows, the global batch's rows, the checksum.</summary>
    public const int Fields = 8;

    private static readonly ConditionalWeakTable<ICommunicator, Rendezvous> ByCommunicator = [];
    private readonly ICommunicator _comm;
    private long _runs;

    private Rendezvous(ICommunicator comm) => _comm = comm;

    /// <summary>The rendezvous of <paramref name="comm"/> (one per communicator: fits are counted across trainers).</summary>
    public static Rendezvous For(ICommunicator comm) => ByCommunicator.GetValue(comm, static c => new Rendezvous(c));

    public ICommunicator Communicator => _comm;

    /// <summary>Numbers the next fit.</summary>
    public long NextRun() => ++_runs;

    /// <summary>Every rank's report at this point.</summary>
    public Reports Exchange(SyncPoint here, long rows = 0, long globalRows = 0, long checksum = 0)
    {
        Span<long> mine = [here.Run, here.Epoch, here.Phase, here.Iter, (long)here.Event, rows, globalRows, checksum];
        var all = new long[Fields * _comm.Size];
        _comm.AllGather<long>(mine, all, $"rank {_comm.Rank} at {here}");
        return new Reports(all, _comm.Size);
    }

    /// <summary>
    /// The end of this rank's program: returns when every rank has ended too (then MPI may be finalized), and
    /// aborts the job when another rank is still training (it would wait for this one for ever).
    /// </summary>
    public void Leave()
    {
        var reports = Exchange(SyncPoint.Leave);
        for (var r = 0; r < reports.Size; r++)
        {
            if (reports.At(r).IsLeave) continue;
            _comm.Abort($"FastCallbacks.Distributed: rank {_comm.Rank}'s program ended while rank {r} is at {reports.At(r)}: " +
                        "every rank must run the same fits (a rank returned early, or called Environment.Exit). Aborting the job.");
        }
    }
}

/// <summary>What every rank reported at one synchronization point.</summary>
internal sealed class Reports(long[] data, int size)
{
    public int Size { get; } = size;

    public SyncPoint At(int rank)
    {
        var o = rank * Rendezvous.Fields;
        return new SyncPoint(data[o], data[o + 1], data[o + 2], data[o + 3], (Event)data[o + 4]);
    }

    public long Rows(int rank) => data[rank * Rendezvous.Fields + 5];

    public long GlobalRows(int rank) => data[rank * Rendezvous.Fields + 6];

    public long Checksum(int rank) => data[rank * Rendezvous.Fields + 7];

    /// <summary>Whether every rank reported <paramref name="here"/>.</summary>
    public bool AllAt(SyncPoint here)
    {
        for (var r = 0; r < Size; r++)
            if (At(r) != here) return false;
        return true;
    }

    /// <summary>The rank furthest along (the lowest such rank).</summary>
    public int Furthest()
    {
        var best = 0;
        for (var r = 1; r < Size; r++)
            if (At(r).CompareTo(At(best)) > 0) best = r;
        return best;
    }

    /// <summary>Every rank's rows, as a gather needs them.</summary>
    public int[] RowCounts()
    {
        var rows = new int[Size];
        for (var r = 0; r < Size; r++) rows[r] = checked((int)Rows(r));
        return rows;
    }
}
