using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed;

/// <summary>
/// A world of one rank: the process was not started by an MPI launcher. Reductions and broadcasts leave the
/// values as they are, gathers copy them, and <see cref="DistributedTrainer"/> stands aside, so training is exactly
/// that of a learner without it.
/// </summary>
public sealed class LocalCommunicator : ICommunicator
{
    private TimeSpan _timeout = DistributedWorld.DefaultTimeout;

    /// <inheritdoc/>
    public int Rank => 0;
    /// <inheritdoc/>
    public int Size => 1;
    /// <inheritdoc/>
    public int LocalRank => 0;
    /// <inheritdoc/>
    public int LocalSize => 1;
    /// <inheritdoc/>
    public string Description => "local (1 rank, no MPI)";

    /// <inheritdoc/>
    public TimeSpan Timeout
    {
        get => _timeout;
        set => _timeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The deadline of a collective must be positive.");
    }

    /// <inheritdoc/>
    public void AllReduceSum(Tensor tensor, string? label = null) => MpiCommunicator.CheckCpuContiguous(tensor, nameof(AllReduceSum));

    /// <inheritdoc/>
    public void AllReduceSum<T>(Span<T> values, string? label = null) where T : unmanaged { }

    /// <inheritdoc/>
    public void Broadcast(Tensor tensor, int root = 0, string? label = null)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
        MpiCommunicator.CheckCpuContiguous(tensor, nameof(Broadcast));
    }

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> values, int root = 0, string? label = null) where T : unmanaged =>
        ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);

    /// <inheritdoc/>
    public void AllGather<T>(ReadOnlySpan<T> values, Span<T> result, string? label = null) where T : unmanaged
    {
        if (result.Length != values.Length)
            throw new ArgumentException($"AllGather of {values.Length} values from 1 rank needs room for {values.Length}, not {result.Length}.", nameof(result));
        values.CopyTo(result);
    }

    /// <inheritdoc/>
    public T[] AllGather<T>(ReadOnlySpan<T> values, out int[] counts, string? label = null) where T : unmanaged
    {
        counts = [values.Length];
        return values.ToArray();
    }

    /// <inheritdoc/>
    public Tensor AllGather(Tensor tensor, IReadOnlyList<int>? rowsPerRank = null, string? label = null)
    {
        MpiCommunicator.CheckCpuContiguous(tensor, nameof(AllGather));
        return tensor.clone();
    }

    /// <inheritdoc/>
    public void Barrier(string? label = null) { }

    /// <inheritdoc/>
    [DoesNotReturn]
    public void Abort(string message, int exitCode = 1)
    {
        MpiCommunicator.WriteError(message);
        Environment.Exit(exitCode == 0 ? 1 : exitCode);
        throw new UnreachableException();
    }
}
