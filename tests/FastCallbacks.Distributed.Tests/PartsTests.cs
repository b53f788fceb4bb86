using TorchSharp.Modules;

namespace FastCallbacks.Distributed.Tests;

/// <summary>The trainer's parts in one process: the gradient buffer, the row split, the data-set shards, the local world.</summary>
public class PartsTests
{
    private static (Sequential Model, List<Parameter> Params) Mlp()
    {
        manual_seed(0);
        var model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3));
        return (model, model.parameters().ToList());
    }

    private static bool Aliases(Parameter p, Tensor flat)
    {
        using var g = p.grad;
        if (g is null) return false;
        var start = GradientBuffer.Address(flat);
        var address = GradientBuffer.Address(g);
        return address >= start && address < start + (nint)(flat.NumberOfElements * flat.ElementSize);
    }

    [Test]
    public void Gradients_become_views_of_one_buffer_that_backward_and_zero_grad_keep()
    {
        var (model, ps) = Mlp();
        using var buffer = GradientBuffer.Bind(ps, bucketBytes: 1 << 20);
        Assert.That(buffer.Count, Is.EqualTo(ps.Sum(p => p.NumberOfElements)));
        var flat = buffer.Buckets.Single();
        Assert.That(ps.All(p => Aliases(p, flat)), Is.True, "every grad is a view of the buffer");
        using var opt = optim.Adam(model.parameters(), 0.01);
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            model.call(randn(4, 8)).pow(2).mean().backward();
            Assert.That(ps.All(p => Aliases(p, flat)), Is.True, "backward accumulates in place");
            Assert.That(flat.abs().sum().item<float>(), Is.GreaterThan(0), "the buffer holds the gradients");
            opt.step();
            opt.zero_grad();
            Assert.That(ps.All(p => Aliases(p, flat)), Is.True, "zero_grad zeroes in place");
            Assert.That(flat.abs().sum().item<float>(), Is.EqualTo(0));
        }
        buffer.Rebind();
        Assert.That(buffer.Rebinds, Is.EqualTo(0));
    }

    [Test]
    public void A_gradient_set_to_null_or_replaced_is_put_back_with_its_values()
    {
        var (model, ps) = Mlp();
        using var buffer = GradientBuffer.Bind(ps, bucketBytes: 1 << 20);
        var flat = buffer.Buckets.Single();
        ps[0].grad = null;
        ps[1].grad = full(ps[1].shape, 5f);
        model.call(randn(4, 8)).sum().backward();
        using (var fresh = ps[0].grad!) Assert.That(Aliases(ps[0], flat), Is.False, "backward made a new gradient");
        var expected0 = ps[0].grad!.clone();
        var expected1 = ps[1].grad!.clone();
        buffer.Rebind();
        Assert.That(buffer.Rebinds, Is.EqualTo(2));
        Assert.That(ps.All(p => Aliases(p, flat)), Is.True);
        Assert.That(ps[0].grad!.allclose(expected0, 0, 0), Is.True, "the new gradient's values are in the buffer");
        Assert.That(ps[1].grad!.allclose(expected1, 0, 0), Is.True);
        // A gradient set to null after backward is a parameter with no gradient this step: zeros.
        ps[2].grad = null;
        buffer.Rebind();
        Assert.That(ps[2].grad!.abs().sum().item<float>(), Is.EqualTo(0));
    }

    [Test]
    public void Buckets_cover_the_buffer_in_pieces_of_at_most_the_bucket_size()
    {
        var (_, ps) = Mlp();
        var total = ps.Sum(p => p.NumberOfElements); // 8*16 + 16 + 16*3 + 3 = 195
        using var buffer = GradientBuffer.Bind(ps, bucketBytes: 64 * 4);
        Assert.That(buffer.Buckets.Count, Is.EqualTo((int)Math.Ceiling(total / 64.0)));
        Assert.That(buffer.Buckets.All(b => b.NumberOfElements <= 64), Is.True);
        Assert.That(buffer.Buckets.Sum(b => b.NumberOfElements), Is.EqualTo(total));
        for (var i = 1; i < buffer.Buckets.Count; i++)
            Assert.That(GradientBuffer.Address(buffer.Buckets[i]), Is.EqualTo(GradientBuffer.Address(buffer.Buckets[i - 1]) + (nint)(64 * 4)), "contiguous");
    }

    [TestCase(64, 2, new long[] { 32, 32 })]
    [TestCase(63, 2, new long[] { 32, 31 })]
    [TestCase(1, 2, new long[] { 1, 0 })]
    [TestCase(10, 3, new long[] { 4, 3, 3 })]
    [TestCase(2, 4, new long[] { 1, 1, 0, 0 })]
    public void Each_rank_takes_a_near_equal_contiguous_slice_of_the_batch(int rows, int size, long[] counts)
    {
        long next = 0;
        for (var r = 0; r < size; r++)
        {
            var (start, count) = DistributedTrainer.Shard(rows, r, size);
            Assert.That(count, Is.EqualTo(counts[r]), $"rank {r}");
            Assert.That(start, Is.EqualTo(next), $"rank {r} starts where rank {r - 1} ended");
            next = start + count;
        }
        Assert.That(next, Is.EqualTo(rows));
    }

    [Test]
    public void Sharding_a_tensor_loader_gives_every_sample_to_one_rank_in_equal_parts_each_pass()
    {
        var x = arange(10).to_type(ScalarType.Float32).unsqueeze(1);
        var y = arange(10);
        using var inner = new TensorDataLoader([x], [y], batchSize: 3, shuffle: true, seed: 5);
        var shards = Enumerable.Range(0, 3).Select(r => new DistributedDataLoader(inner, r, 3)).ToArray();
        Assert.That(shards.Select(s => s.Count), Is.All.EqualTo(2), "4 samples per rank (10 padded to 12), batches of 3");
        for (var pass = 0; pass < 2; pass++)
        {
            var seen = shards.Select(s => s.SelectMany(b => b.Yb[0].data<long>().ToArray()).ToArray()).ToArray();
            Assert.That(seen.Select(s => s.Length), Is.All.EqualTo(4));
            Assert.That(seen.SelectMany(s => s).Distinct().Order(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)), $"pass {pass}: every sample");
            if (pass == 0) Assert.That(seen[0], Is.Not.EqualTo(new long[] { 0, 1, 2, 3 }), "shuffled");
        }
    }

    [Test]
    public void Sharding_any_other_loader_deals_whole_batches_in_turn()
    {
        var loader = new CountingLoader(7);
        var r0 = new DistributedDataLoader(loader, 0, 2).Select(b => b.Yb[0].item<long>()).ToArray();
        var r1 = new DistributedDataLoader(loader, 1, 2).Select(b => b.Yb[0].item<long>()).ToArray();
        Assert.That(r0, Is.EqualTo(new long[] { 0, 2, 4 }));
        Assert.That(r1, Is.EqualTo(new long[] { 1, 3, 5 }), "the 7th batch is left out: both ranks make 3 steps");
        Assert.That(new DistributedDataLoader(loader, 0, 2).Count, Is.EqualTo(3));
    }

    [Test]
    public void The_local_world_leaves_values_as_they_are_and_gathers_copies()
    {
        var comm = new LocalCommunicator();
        var t = arange(4).to_type(ScalarType.Float32);
        comm.AllReduceSum(t);
        comm.Broadcast(t);
        Assert.That(t.data<float>().ToArray(), Is.EqualTo(new float[] { 0, 1, 2, 3 }));
        var g = comm.AllGather(t.unsqueeze(1).contiguous());
        Assert.That(g.shape, Is.EqualTo(new long[] { 4, 1 }));
        Assert.That(comm.AllGather<int>([1, 2], out var counts), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(counts, Is.EqualTo(new[] { 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => comm.Broadcast(t, root: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => comm.Timeout = TimeSpan.Zero);
        Assert.Throws<NotSupportedException>(() => new MpiCommunicatorProbe().CheckMeta());
    }

    /// <summary>A loader that is not a TensorDataLoader: batch i holds the target i.</summary>
    private sealed class CountingLoader(int batches) : DataLoader
    {
        public override int Count => batches;
        public override int ItemCount => batches;
        public override DataLoader Ordered() => this;
        public override IEnumerator<Batch> GetEnumerator()
        {
            for (var i = 0; i < batches; i++) yield return new Batch([zeros(1, 1)], [tensor(new long[] { i })]);
        }
    }

    /// <summary>The tensor checks shared by both communicators: a tensor that is not on the CPU is refused.</summary>
    private sealed class MpiCommunicatorProbe
    {
        public void CheckMeta()
        {
            using var meta = empty([2], device: new Device("meta"));
            MpiCommunicator.CheckCpuContiguous(meta, "AllReduceSum");
        }
    }
}
