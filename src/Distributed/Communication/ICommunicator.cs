using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed;

/// <summary>
/// The processes of one data-parallel job and the collectives between them: every rank calls the same
/// collectives in the same order. <see cref="DistributedWorld.Current"/> is this process's: MPI when the process
/// was started by an MPI launcher, otherwise a world of one rank in which every collective is a no-op.
/// </summary>
/// <remarks>
/// Every collective has a deadline (<see cref="Timeout"/>): a rank that waits longer for the others aborts the
/// whole job with a message naming itself and the collective, because a rank that does not arrive (hung,
/// crashed without aborting, or running a different program) would otherwise leave the others waiting for
/// ever. Tensors must be contiguous and on the CPU; reductions support float32, float64, int32 and int64.
/// </remarks>
public interface ICommunicator
{
    /// <summary>This process's rank, 0 to <see cref="Size"/> - 1 (fastai's <c>rank_distrib()</c>).</summary>
    int Rank { get; }

    /// <summary>The number of ranks (fastai's <c>num_distrib()</c>, or 1).</summary>
    int Size { get; }

    /// <summary>This process's rank among the ranks on its machine (the GPU to use, one per rank).</summary>
    int LocalRank { get; }

    /// <summary>The number of ranks on this machine (the cores to share between them).</summary>
    int LocalSize { get; }

    /// <summary>How long a collective waits for the other ranks before aborting the job.</summary>
    TimeSpan Timeout { get; set; }

    /// <summary>What carries the collectives: the MPI library's description, or "local (1 rank)".</summary>
    string Description { get; }

    /// <summary>Replaces <paramref name="tensor"/> with its element-wise sum over all ranks, in place (no copy).</summary>
    /// <param name="tensor">A contiguous CPU tensor, the same shape and type on every rank.</param>
    /// <param name="label">What is being reduced, for the message if the deadline passes.</param>
    void AllReduceSum(Tensor tensor, string? label = null);

    /// <summary>Replaces <paramref name="values"/> with their element-wise sum over all ranks, in place.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="double"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="values">The same length on every rank.</param>
    /// <param name="label">What is being reduced, for the message if the deadline passes.</param>
    void AllReduceSum<T>(Span<T> values, string? label = null) where T : unmanaged;

    /// <summary>Copies <paramref name="root"/>'s <paramref name="tensor"/> into every other rank's, in place.</summary>
    /// <param name="tensor">A contiguous CPU tensor, the same shape and type on every rank.</param>
    /// <param name="root">The rank whose values are sent.</param>
    /// <param name="label">What is being sent, for the message if the deadline passes.</param>
    void Broadcast(Tensor tensor, int root = 0, string? label = null);

    /// <summary>Copies <paramref name="root"/>'s <paramref name="values"/> into every other rank's, in place.</summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="values">The same length on every rank.</param>
    /// <param name="root">The rank whose values are sent.</param>
    /// <param name="label">What is being sent, for the message if the deadline passes.</param>
    void Broadcast<T>(Span<T> values, int root = 0, string? label = null) where T : unmanaged;

    /// <summary>Every rank's <paramref name="values"/>, of the same length on every rank, concatenated in rank order into <paramref name="result"/>.</summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="values">This rank's values.</param>
    /// <param name="result">Receives <see cref="Size"/> × <paramref name="values"/>.Length values.</param>
    /// <param name="label">What is being gathered, for the message if the deadline passes.</param>
    void AllGather<T>(ReadOnlySpan<T> values, Span<T> result, string? label = null) where T : unmanaged;

    /// <summary>Every rank's <paramref name="values"/>, of any length, concatenated in rank order.</summary>
    /// <typeparam name="T">An unmanaged element type.</typeparam>
    /// <param name="values">This rank's values.</param>
    /// <param name="counts">Receives the number of values each rank sent.</param>
    /// <param name="label">What is being gathered, for the message if the deadline passes.</param>
    T[] AllGather<T>(ReadOnlySpan<T> values, out int[] counts, string? label = null) where T : unmanaged;

    /// <summary>
    /// Every rank's <paramref name="tensor"/> concatenated along the first dimension in rank order; the ranks may
    /// have different numbers of rows (the other dimensions and the type must agree).
    /// </summary>
    /// <param name="tensor">This rank's rows (a CPU tensor with at least one dimension).</param>
    /// <param name="rowsPerRank">The number of rows of every rank, when every rank knows them (saves exchanging them); null to exchange them.</param>
    /// <param name="label">What is being gathered, for the message if the deadline passes.</param>
    /// <returns>A new tensor the caller owns.</returns>
    Tensor AllGather(Tensor tensor, IReadOnlyList<int>? rowsPerRank = null, string? label = null);

    /// <summary>Waits until every rank has called it.</summary>
    /// <param name="label">What is being waited for, for the message if the deadline passes.</param>
    void Barrier(string? label = null);

    /// <summary>Ends the whole job now with <paramref name="exitCode"/> after writing <paramref name="message"/> to standard error (MPI_Abort).</summary>
    /// <param name="message">Why, for the job's output.</param>
    /// <param name="exitCode">The job's exit code (not 0).</param>
    [DoesNotReturn]
    void Abort(string message, int exitCode = 1);
}
