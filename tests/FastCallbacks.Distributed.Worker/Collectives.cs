using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed.Worker;

/// <summary>Every collective of <see cref="ICommunicator"/> on the real MPI, with values only a correct exchange gives.</summary>
public static class Collectives
{
    /// <summary>Runs the checks; returns the failures (empty when all passed).</summary>
    public static List<string> Check(ICommunicator comm)
    {
        var failures = new List<string>();
        var rank = comm.Rank;
        var size = comm.Size;
        void Expect(bool ok, string what)
        {
            if (!ok) failures.Add($"rank {rank}: {what}");
        }
        using var scope = NewDisposeScope();

        // Sums, in place, for each type: rank r contributes r + 1 (and i for element i).
        var expected = size * (size + 1) / 2;
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.Int32, ScalarType.Int64 })
        {
            var t = (arange(5, dtype: dtype) + (rank + 1)).contiguous();
            var before = GradientBufferAddress(t);
            comm.AllReduceSum(t, $"a {dtype} sum");
            var values = t.to_type(ScalarType.Float64).data<double>().ToArray();
            Expect(values.Select((v, i) => v == expected + i * size).All(b => b), $"AllReduceSum {dtype}: {string.Join(",", values)}");
            Expect(GradientBufferAddress(t) == before, $"AllReduceSum {dtype} moved the tensor");
        }
        Span<double> span = [rank, 0.5];
        comm.AllReduceSum(span);
        Expect(span[0] == size * (size - 1) / 2.0 && span[1] == 0.5 * size, $"AllReduceSum span: {span[0]},{span[1]}");
        Span<long> longs = [1L << 40];
        comm.AllReduceSum(longs);
        Expect(longs[0] == (1L << 40) * size, $"AllReduceSum long span: {longs[0]}");

        // Broadcast from the last rank, a tensor and a span.
        var root = size - 1;
        var b = full([2, 3], rank * 10.0f);
        comm.Broadcast(b, root);
        Expect(b.data<float>().ToArray().All(v => v == root * 10.0f), "Broadcast tensor");
        Span<int> ints = [rank, rank];
        comm.Broadcast(ints, root);
        Expect(ints[0] == root && ints[1] == root, "Broadcast span");

        // Gathers: equal, uneven (rank r sends r + 1 values), rows of a tensor with a rank that has none.
        var all = new long[2 * size];
        comm.AllGather<long>([rank, -rank], all);
        Expect(Enumerable.Range(0, size).All(r => all[2 * r] == r && all[2 * r + 1] == -r), $"AllGather equal: {string.Join(",", all)}");
        var uneven = comm.AllGather<int>(Enumerable.Repeat(rank, rank + 1).ToArray(), out var counts);
        Expect(counts.SequenceEqual(Enumerable.Range(1, size)) && uneven.SequenceEqual(Enumerable.Range(0, size).SelectMany(r => Enumerable.Repeat(r, r + 1))),
            $"AllGather uneven: {string.Join(",", uneven)}");
        var rows = rank == 0 ? 0 : rank + 1;
        var mine = full([rows, 2], (float)rank);
        var gathered = comm.AllGather(mine);
        var expectedRows = Enumerable.Range(0, size).Select(r => r == 0 ? 0 : r + 1).ToArray();
        Expect(gathered.shape[0] == expectedRows.Sum() && gathered.shape[1] == 2, $"AllGather rows: shape {string.Join("x", gathered.shape)}");
        var flat = gathered.data<float>().ToArray();
        var want = Enumerable.Range(0, size).SelectMany(r => Enumerable.Repeat((float)r, expectedRows[r] * 2)).ToArray();
        Expect(flat.SequenceEqual(want), $"AllGather rows: {string.Join(",", flat)}");
        var known = comm.AllGather(mine, expectedRows);
        Expect(known.data<float>().ToArray().SequenceEqual(want), "AllGather rows with known counts");

        comm.Barrier("the end of the collective checks");
        return failures;
    }

    private static nint GradientBufferAddress(Tensor t) => GradientBuffer.Address(t);
}
