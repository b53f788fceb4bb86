namespace FastCallbacks.Tests.Data;

/// <summary>
/// Item i is {"x": [i, i / 2], "y": [i % 3]}. Some items take a few milliseconds (by index), so workers finish
/// batches out of order; <see cref="FailAt"/> makes one item throw. Counts the items loaded; safe to call from
/// several threads at once.
/// </summary>
public sealed class NumberedDataset(int n, int? failAt = null, int slowEvery = 5, int slowMs = 2) : utils.data.Dataset
{
    private int _loads;

    public int? FailAt => failAt;

    /// <summary>Items loaded so far.</summary>
    public int Loads => Volatile.Read(ref _loads);

    public override long Count => n;

    public override Dictionary<string, Tensor> GetTensor(long index)
    {
        Interlocked.Increment(ref _loads);
        if (index == failAt) throw new InvalidOperationException($"item {index} is broken");
        if (slowEvery > 0 && index % slowEvery == 0) Thread.Sleep(slowMs);
        return new()
        {
            ["x"] = tensor(new float[] { index, index / 2f }),
            ["y"] = tensor(new float[] { index % 3 }),
        };
    }
}

/// <summary>What the tests check after a fit or an enumeration: live native tensors and data worker threads.</summary>
public static class Leaks
{
    /// <summary>Live native tensors, after finalizing garbage (of this test and earlier ones).</summary>
    public static long LiveTensors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Tensor.TotalCount;
    }

    /// <summary>
    /// The data worker threads still alive, by the name the OS shows (Linux: /proc/self/task/*/comm). A joined
    /// thread can linger there for a moment after its managed code returned, so this waits up to 30 s for none;
    /// a thread that is really left behind (blocked for ever) stays and fails the test.
    /// </summary>
    public static string[] WorkerThreads()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var names = Names();
            if (names.Length == 0 || DateTime.UtcNow > deadline) return names;
            Thread.Sleep(20);
        }

        static string[] Names()
        {
            if (!OperatingSystem.IsLinux()) return [];
            var names = new List<string>();
            foreach (var task in Directory.GetDirectories("/proc/self/task"))
            {
                try
                {
                    var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                    if (name.StartsWith("FCDataWorker", StringComparison.Ordinal)) names.Add(name);
                }
                catch (IOException)
                {
                    // The thread exited between listing and reading.
                }
            }
            return names.ToArray();
        }
    }

    /// <summary>Every batch's values (inputs then targets), each batch read inside its own dispose scope as the learner does.</summary>
    public static List<float[]> Values(DataLoader dl)
    {
        var batches = new List<float[]>();
        using var e = dl.GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!e.MoveNext()) break;
            var b = e.Current;
            batches.Add(b.Xb.Concat(b.Yb).SelectMany(t => t.to_type(ScalarType.Float32).data<float>().ToArray()).ToArray());
        }
        return batches;
    }
}

/// <summary>
/// Transforms that keep a reference to every tensor of every item and batch they see, so a test can tell that each
/// one was disposed (freed on time), not left to the garbage collector: the references keep the finalizer from hiding
/// a leak. They fail where told to.
/// </summary>
public sealed class Made(Func<TransformContext, bool>? failItem = null, Func<TransformContext, bool>? failBatch = null)
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<Tensor> _tensors = new();

    public ItemTransform Items => (item, ctx) =>
    {
        if (failItem?.Invoke(ctx) == true) throw new ArgumentException("bad crop");
        foreach (var t in item.Values) _tensors.Enqueue(t);
        return item;
    };

    public BatchTransform Batches => (b, ctx) =>
    {
        if (failBatch?.Invoke(ctx) == true) throw new ArgumentException("bad crop");
        var result = new Batch([b.Xb[0] * 2], [b.Yb[0] + 0]);
        foreach (var t in b.Xb.Concat(b.Yb).Concat(result.Xb).Concat(result.Yb)) _tensors.Enqueue(t);
        return result;
    };

    /// <summary>Tensors seen.</summary>
    public int Count => _tensors.Count;

    /// <summary>Tensors seen and not disposed.</summary>
    public int Alive => _tensors.Count(t => !t.IsInvalid);
}
