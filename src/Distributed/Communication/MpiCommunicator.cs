using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> on MPI's world communicator. Every collective is MPI's non-blocking form, tested in a
/// loop until it completes or its deadline passes; blocking MPI calls cannot be given a deadline, and a rank that
/// never arrives would hold the others for ever.
/// </summary>
internal sealed unsafe class MpiCommunicator : ICommunicator
{
    // One MPI call moves at most int.MaxValue elements; tensors are sent in chunks of this many bytes.
    private const int ChunkBytes = 1 << 30;

    private readonly MpiLibrary _mpi;
    private readonly string _version;
    private TimeSpan _timeout;

    internal MpiCommunicator(MpiLibrary mpi, TimeSpan timeout)
    {
        _mpi = mpi;
        _timeout = timeout;
        int rank, size;
        Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        // The ranks sharing this machine's memory: MPI's own notion of a node, whatever the launcher.
        nint node = 0;
        Check(mpi.CommSplitType(mpi.CommWorld, mpi.CommTypeShared, rank, mpi.InfoNull, &node), "MPI_Comm_split_type");
        int localRank, localSize;
        Check(mpi.CommRank(node, &localRank), "MPI_Comm_rank");
        Check(mpi.CommSize(node, &localSize), "MPI_Comm_size");
        LocalRank = localRank;
        LocalSize = localSize;
        _version = mpi.Version();
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    public int LocalSize { get; }
    public string Description => $"{_version} ({_mpi.Abi} ABI, {_mpi.Path})";
    internal MpiLibrary Library => _mpi;

    public TimeSpan Timeout
    {
        get => _timeout;
        set => _timeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The deadline of a collective must be positive.");
    }

    public void AllReduceSum(Tensor tensor, string? label = null)
    {
        var type = ReduceType(tensor, nameof(AllReduceSum));
        var elementSize = (int)tensor.ElementSize;
        if (tensor.NumberOfElements * elementSize <= ChunkBytes)
        {
            Reduce(Pointer(tensor), (int)tensor.NumberOfElements, type, tensor.dtype, label);
            return;
        }
        using var flat = tensor.view(-1);
        var perChunk = ChunkBytes / elementSize;
        for (long start = 0; start < tensor.NumberOfElements; start += perChunk)
        {
            using var piece = flat.narrow(0, start, Math.Min(perChunk, tensor.NumberOfElements - start));
            Reduce(Pointer(piece), (int)piece.NumberOfElements, type, tensor.dtype, label);
        }
    }

    private void Reduce(void* data, int count, nint type, ScalarType dtype, string? label)
    {
        nint request = 0;
        Check(_mpi.Iallreduce((void*)_mpi.InPlace, data, count, type, _mpi.OpSum, _mpi.CommWorld, &request), "MPI_Iallreduce");
        Wait(&request, "Allreduce", count, dtype.ToString(), label);
    }

    public void AllReduceSum<T>(Span<T> values, string? label = null) where T : unmanaged
    {
        var (type, dtype) = ReduceType<T>();
        fixed (T* p = values)
        {
            for (var start = 0; start < values.Length; start += ChunkBytes / sizeof(T))
                Reduce(p + start, Math.Min(values.Length - start, ChunkBytes / sizeof(T)), type, dtype, label);
        }
    }

    public void Broadcast(Tensor tensor, int root = 0, string? label = null)
    {
        CheckRoot(root);
        CheckCpuContiguous(tensor, nameof(Broadcast));
        var bytes = tensor.NumberOfElements * tensor.ElementSize;
        if (bytes <= ChunkBytes)
        {
            Send(Pointer(tensor), (int)bytes, root, label);
            return;
        }
        using var flat = tensor.view(-1);
        var perChunk = ChunkBytes / tensor.ElementSize;
        for (long start = 0; start < tensor.NumberOfElements; start += perChunk)
        {
            using var piece = flat.narrow(0, start, Math.Min(perChunk, tensor.NumberOfElements - start));
            Send(Pointer(piece), (int)(piece.NumberOfElements * tensor.ElementSize), root, label);
        }
    }

    private void Send(void* data, int bytes, int root, string? label)
    {
        nint request = 0;
        Check(_mpi.Ibcast(data, bytes, _mpi.Byte, root, _mpi.CommWorld, &request), "MPI_Ibcast");
        Wait(&request, "Broadcast", bytes, "bytes", label);
    }

    public void Broadcast<T>(Span<T> values, int root = 0, string? label = null) where T : unmanaged
    {
        CheckRoot(root);
        fixed (T* p = values)
        {
            var bytes = (long)values.Length * sizeof(T);
            for (long start = 0; start < bytes; start += ChunkBytes)
                Send((byte*)p + start, (int)Math.Min(bytes - start, ChunkBytes), root, label);
        }
    }

    public void AllGather<T>(ReadOnlySpan<T> values, Span<T> result, string? label = null) where T : unmanaged
    {
        if (result.Length != (long)values.Length * Size)
            throw new ArgumentException($"AllGather of {values.Length} values from {Size} ranks needs room for {values.Length * (long)Size}, not {result.Length}.", nameof(result));
        var bytes = checked(values.Length * sizeof(T));
        fixed (T* send = values)
        fixed (T* receive = result)
        {
            nint request = 0;
            Check(_mpi.Iallgather(send, bytes, _mpi.Byte, receive, bytes, _mpi.Byte, _mpi.CommWorld, &request), "MPI_Iallgather");
            Wait(&request, "Allgather", bytes, "bytes", label);
        }
    }

    public T[] AllGather<T>(ReadOnlySpan<T> values, out int[] counts, string? label = null) where T : unmanaged
    {
        counts = new int[Size];
        AllGather<int>([values.Length], counts, label is null ? "the counts of an Allgatherv" : $"the counts of {label}");
        var result = new T[counts.Sum(c => (long)c)];
        fixed (T* send = values)
        fixed (T* receive = result)
            GatherV(send, values.Length * sizeof(T), receive, Bytes(counts, sizeof(T)), label);
        return result;
    }

    public Tensor AllGather(Tensor tensor, IReadOnlyList<int>? rowsPerRank = null, string? label = null)
    {
        CheckCpuContiguous(tensor, nameof(AllGather));
        if (tensor.Dimensions == 0) throw new ArgumentException("AllGather concatenates rows: the tensor needs at least one dimension.", nameof(tensor));
        var rows = (int)tensor.shape[0];
        int[] counts;
        if (rowsPerRank is null)
        {
            counts = new int[Size];
            AllGather<int>([rows], counts, label is null ? "the row counts of an Allgatherv" : $"the row counts of {label}");
        }
        else
        {
            if (rowsPerRank.Count != Size || rowsPerRank[Rank] != rows)
                throw new ArgumentException($"rowsPerRank must list {Size} counts, and this rank's ({Rank}) must be the tensor's {rows} rows.", nameof(rowsPerRank));
            counts = [.. rowsPerRank];
        }
        var shape = tensor.shape.ToArray();
        var rowBytes = rows == 0 ? RowBytes(tensor) : tensor.NumberOfElements * tensor.ElementSize / rows;
        shape[0] = counts.Sum();
        var result = empty(shape, tensor.dtype);
        GatherV(Pointer(tensor), checked((int)(rows * rowBytes)), Pointer(result), Bytes(counts, rowBytes), label);
        return result;
    }

    public void Barrier(string? label = null)
    {
        nint request = 0;
        Check(_mpi.Ibarrier(_mpi.CommWorld, &request), "MPI_Ibarrier");
        Wait(&request, "Barrier", 0, "", label);
    }

    [DoesNotReturn]
    public void Abort(string message, int exitCode = 1) => Abort(message, details: null, exitCode);

    /// <summary>Aborts the job after writing <paramref name="message"/>, then <paramref name="details"/> (a stack trace).</summary>
    [DoesNotReturn]
    internal void Abort(string message, string? details, int exitCode = 1)
    {
        DistributedWorld.MarkAborting();
        WriteError(message);
        if (details is not null) WriteError(details);
        // The launcher forwards each rank's output through a pipe and stops reading once it acts on MPI_Abort: give it
        // a moment to pass on the message, which is the whole point of the abort.
        Thread.Sleep(300);
        _mpi.AbortFn(_mpi.CommWorld, exitCode == 0 ? 1 : exitCode);
        // MPI_Abort does not return; if a broken library does, end this process at least.
        Environment.Exit(exitCode == 0 ? 1 : exitCode);
        throw new UnreachableException();
    }

    /// <summary>Writes one line to standard error and flushes it, so it is out before the job is torn down.</summary>
    internal static void WriteError(string message)
    {
        try
        {
            Console.Error.WriteLine(message);
            Console.Error.Flush();
        }
        catch (IOException)
        {
            // Standard error is gone; the exit code still tells.
        }
    }

    /// <summary>MPI_Finalize, once every rank agreed to leave (never on an error path: it waits for the others).</summary>
    internal void FinalizeMpi()
    {
        int finalized;
        if (_mpi.Finalized(&finalized) == 0 && finalized != 0) return;
        Check(_mpi.FinalizeFn(), "MPI_Finalize");
    }

    // ---- Waiting with a deadline ----

    private void Wait(nint* request, string collective, long count, string type, string? label)
    {
        int done = 0;
        Check(_mpi.Test(request, &done, _mpi.StatusIgnore), "MPI_Test");
        if (done != 0) return;
        var start = Stopwatch.GetTimestamp();
        var limit = (long)(_timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            // Polling drives MPI's progress (as its blocking calls do); yielding lets another thread of this core run.
            Thread.Yield();
            Check(_mpi.Test(request, &done, _mpi.StatusIgnore), "MPI_Test");
            if (done != 0) return;
            if (Stopwatch.GetTimestamp() - start > limit) TimedOut(collective, count, type, label);
        }
    }

    [DoesNotReturn]
    private void TimedOut(string collective, long count, string type, string? label)
    {
        var what = count > 0 ? $"{collective} of {count.ToString("N0", CultureInfo.InvariantCulture)} {type}" : collective;
        Abort($"FastCallbacks.Distributed: rank {Rank} of {Size} waited {FormatTime(_timeout)} (the deadline) in {what}" +
              (label is null ? "" : $" ({label})") +
              ", but another rank did not reach it: one hangs, failed without aborting, or runs a different program. Aborting the job. " +
              "If a rank is legitimately this slow, raise the deadline (DistributedOptions.Timeout, or FASTCALLBACKS_DISTRIBUTED_TIMEOUT in seconds).");
    }

    internal static string FormatTime(TimeSpan t) => t.TotalSeconds < 120
        ? $"{t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s"
        : $"{t.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min";

    // ---- Helpers ----

    private void GatherV(void* send, int sendBytes, void* receive, int[] byteCounts, string? label)
    {
        var displacements = new int[byteCounts.Length];
        long offset = 0;
        for (var r = 0; r < byteCounts.Length; r++)
        {
            displacements[r] = checked((int)offset);
            offset += byteCounts[r];
        }
        fixed (int* counts = byteCounts)
        fixed (int* displs = displacements)
        {
            nint request = 0;
            Check(_mpi.Iallgatherv(send, sendBytes, _mpi.Byte, receive, counts, displs, _mpi.Byte, _mpi.CommWorld, &request), "MPI_Iallgatherv");
            Wait(&request, "Allgatherv", offset, "bytes", label);
        }
    }

    private static int[] Bytes(int[] counts, long elementBytes)
    {
        var bytes = new int[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            bytes[i] = counts[i] * elementBytes <= int.MaxValue
                ? (int)(counts[i] * elementBytes)
                : throw new NotSupportedException($"AllGather: rank {i} sends {counts[i] * elementBytes} bytes, more than one MPI call carries (2 GiB); gather in parts.");
        }
        return bytes;
    }

    private static long RowBytes(Tensor t)
    {
        long n = t.ElementSize;
        for (var d = 1; d < t.Dimensions; d++) n *= t.shape[d];
        return n;
    }

    /// <summary>The address of a contiguous CPU tensor's first element (of at most 2 GiB: callers chunk larger ones).</summary>
    internal static void* Pointer(Tensor t) => Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    private nint ReduceType(Tensor t, string operation)
    {
        CheckCpuContiguous(t, operation);
        return t.dtype switch
        {
            ScalarType.Float32 => _mpi.Float,
            ScalarType.Float64 => _mpi.Double,
            ScalarType.Int32 => _mpi.Int,
            ScalarType.Int64 => _mpi.Int64,
            _ => throw new NotSupportedException(
                $"{operation} sums float32, float64, int32 and int64 tensors, not {t.dtype}. Convert it first (tensor.to_type(ScalarType.Float32)), and back."),
        };
    }

    private (nint Type, ScalarType DType) ReduceType<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? (_mpi.Float, ScalarType.Float32)
        : typeof(T) == typeof(double) ? (_mpi.Double, ScalarType.Float64)
        : typeof(T) == typeof(int) ? (_mpi.Int, ScalarType.Int32)
        : typeof(T) == typeof(long) ? (_mpi.Int64, ScalarType.Int64)
        : throw new NotSupportedException($"AllReduceSum sums float, double, int and long values, not {typeof(T).Name}.");

    internal static void CheckCpuContiguous(Tensor t, string operation)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.device_type != DeviceType.CPU)
            throw new NotSupportedException($"{operation}: MPI moves CPU memory; this tensor is on {t.device}. Copy it to the CPU (tensor.cpu()) and back, or see docs/distributed.md for GPUs.");
        if (!t.is_contiguous())
            throw new ArgumentException($"{operation} works in place on contiguous memory; this tensor is a strided view. Pass tensor.contiguous() and copy the result back.", nameof(t));
    }

    private void CheckRoot(int root)
    {
        if (root < 0 || root >= Size) throw new ArgumentOutOfRangeException(nameof(root), root, $"The root must be a rank, 0 to {Size - 1}.");
    }

    private void Check(int code, string function)
    {
        // MPI's default error handler aborts the job itself; a library set to return errors ends up here.
        if (code != 0) Abort($"FastCallbacks.Distributed: rank {Rank} of {Size}: {function} failed with MPI error {code}. Aborting the job.");
    }
}
