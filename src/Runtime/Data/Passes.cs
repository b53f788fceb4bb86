using System.Collections;
using System.Runtime.ExceptionServices;

namespace FastCallbacks;

/// <summary>
/// One enumeration of an <see cref="IndexedDataLoader"/>: yields its batches in order, attaching each one's tensors to
/// the dispose scope current when <see cref="MoveNext"/> is called (the learner's batch scope). Ending, by reaching the
/// end or by <see cref="Dispose"/>, frees what was prepared but not taken and lets the loader be enumerated again.
/// </summary>
internal abstract class PassEnumerator(Pass pass) : IEnumerator<Batch>
{
    private int _ended;

    protected Pass Pass { get; } = pass;

    public Batch Current { get; private set; }

    object IEnumerator.Current => Current;

    public bool MoveNext()
    {
        if (Volatile.Read(ref _ended) != 0) return false;
        if (!TryTake(out var prepared))
        {
            End();
            return false;
        }
        Current = prepared.AttachToCurrentScope();
        return true;
    }

    /// <summary>The next batch in order, or false after the last. Throws the <see cref="DataLoaderException"/> of a failed batch.</summary>
    protected abstract bool TryTake(out PreparedBatch batch);

    /// <summary>Stops the work of the pass and frees what it holds; called once.</summary>
    protected abstract void Stop();

    public void Reset() => throw new NotSupportedException("A pass cannot restart: enumerate the loader again for the next pass.");

    public void Dispose() => End();

    private void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        try
        {
            Stop();
        }
        finally
        {
            Pass.Loader.EndPass();
        }
    }
}

/// <summary>No workers: each batch is prepared on the enumerating thread when it is asked for (the loaders' behaviour before workers).</summary>
internal sealed class SequentialPass(Pass pass) : PassEnumerator(pass)
{
    private readonly TransformContext _context = new(worker: -1, pass.Device);
    private int _next;

    protected override bool TryTake(out PreparedBatch batch)
    {
        if (_next >= Pass.Count)
        {
            batch = default;
            return false;
        }
        batch = Pass.Loader.Prepare(Pass, _next++, _context);
        return true;
    }

    protected override void Stop() => _context.Release();
}

/// <summary>
/// Workers prepare batches ahead, in a ring of <c>workers * prefetchFactor</c> slots: a worker claims the next batch
/// index only while fewer than that many batches are claimed and not yet taken, so memory stays bounded, and puts
/// the batch in the slot of its index, so the taker receives them in order whatever the workers' timing.
/// </summary>
/// <remarks>
/// A worker that fails records its batch index (the lowest failure wins) and stops; the others stop claiming, finish
/// batches before the failed one (the taker receives those first, as without workers) and drop any after it. The
/// taker throws the failure when it reaches that index. <see cref="Stop"/> tells the workers to stop, waits for them
/// (at most the item each is on), and frees the batches nobody took: no thread and no tensor outlives the pass.
/// </remarks>
internal sealed class PrefetchingPass : PassEnumerator
{
    private readonly object _gate = new();
    private readonly PreparedBatch[] _ring;
    private readonly bool[] _ready;
    private readonly Thread[] _workers;
    private int _claimed;                  // the next batch index a worker may claim
    private int _taken;                    // the next batch index the taker receives
    private int _running;                  // workers not yet exited
    private int _failedAt = int.MaxValue;  // the lowest batch index that failed
    private ExceptionDispatchInfo? _failure;
    private volatile bool _stopping;

    public PrefetchingPass(Pass pass, int workers, int prefetchFactor) : base(pass)
    {
        var n = Math.Min(workers, pass.Count);
        _ring = new PreparedBatch[Math.Min(pass.Count, checked(n * prefetchFactor))];
        _ready = new bool[_ring.Length];
        _workers = new Thread[n];
        _running = n;
        for (var w = 0; w < n; w++)
        {
            var worker = w;
            // Short names: Linux shows the first 15 characters of a thread's name (top -H, /proc/<pid>/task/*/comm).
            _workers[w] = new Thread(() => Work(worker)) { IsBackground = true, Name = $"FCDataWorker {worker}" };
        }
        try
        {
            foreach (var t in _workers) t.Start();
        }
        catch
        {
            Stop();
            throw;
        }
    }

    protected override bool TryTake(out PreparedBatch batch)
    {
        if (_taken >= Pass.Count)
        {
            batch = default;
            return false;
        }
        lock (_gate)
        {
            var slot = _taken % _ring.Length;
            while (!_ready[slot])
            {
                if (_failedAt <= _taken) _failure!.Throw(); // the failed batch is next: it never comes
                if (_running == 0) throw new InvalidOperationException($"The data workers stopped before batch {_taken} of {Pass.Count} was prepared.");
                Monitor.Wait(_gate);
            }
            batch = _ring[slot];
            _ring[slot] = default;
            _ready[slot] = false;
            _taken++;
            Monitor.PulseAll(_gate); // a slot is free: a worker may claim the next batch
        }
        return true;
    }

    private void Work(int worker)
    {
        // Checked between items, so a stopping pass waits for at most the item each worker is on.
        var context = new TransformContext(worker, Pass.Device) { Abandoned = c => _stopping || c.BatchIndex > Volatile.Read(ref _failedAt) };
        var index = -1;
        try
        {
            WorkerPriority.LowerCurrentThread();
            while (true)
            {
                lock (_gate)
                {
                    while (!_stopping && _claimed < Pass.Count && _claimed < _failedAt && _claimed - _taken >= _ring.Length) Monitor.Wait(_gate);
                    if (_stopping || _claimed >= Pass.Count || _claimed >= _failedAt) return;
                    index = _claimed++;
                }
                PreparedBatch batch;
                try
                {
                    batch = Pass.Loader.Prepare(Pass, index, context);
                }
                catch (OperationCanceledException) when (context.Abandoned!(context))
                {
                    return;
                }
                catch (Exception ex)
                {
                    Fail(index, ex);
                    return;
                }
                var keep = false;
                lock (_gate)
                {
                    if (!_stopping && index < _failedAt)
                    {
                        _ring[index % _ring.Length] = batch;
                        _ready[index % _ring.Length] = true;
                        keep = true;
                        Monitor.PulseAll(_gate);
                    }
                }
                if (!keep)
                {
                    batch.Dispose();
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            // Not from Prepare (which names its failures): a fault of this class. Never let it end the process.
            Fail(Math.Max(index, 0), ex);
        }
        finally
        {
            context.Release();
            lock (_gate)
            {
                _running--;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Fail(int index, Exception ex)
    {
        lock (_gate)
        {
            if (index >= _failedAt) return;
            _failedAt = index;
            _failure = ExceptionDispatchInfo.Capture(ex);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Whether <see cref="Stop"/> has told the workers to stop (for tests).</summary>
    internal bool Stopping => _stopping;

    protected override void Stop()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _workers)
            if (t.ThreadState != ThreadState.Unstarted) t.Join();
        // The workers are gone: nothing else touches the ring.
        for (var i = 0; i < _ring.Length; i++)
        {
            if (_ready[i]) _ring[i].Dispose();
            _ring[i] = default;
            _ready[i] = false;
        }
    }
}
