using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks.Distributed;

/// <summary>
/// One flat buffer per element type holding the gradients of all trainable parameters, each parameter's
/// <c>.grad</c> a view of its slice (PyTorch DDP's <c>gradient_as_bucket_view</c>): libtorch accumulates into an
/// existing gradient in place and optimizers zero gradients in place, so after backward the buffer holds every
/// gradient and is reduced as it is, in buckets, with no copy.
/// </summary>
/// <remarks>
/// An optimizer or callback that sets a gradient to null, or replaces the tensor, would drop that parameter from
/// the reduction without a sound; <see cref="Rebind"/> checks every view before each reduction and puts back any
/// that no longer aliases the buffer (copying the values it finds).
/// </remarks>
internal sealed class GradientBuffer : IDisposable
{
    private readonly Slot[] _slots;
    private readonly Tensor[] _flats;
    private readonly Tensor[] _buckets;

    private GradientBuffer(Slot[] slots, Tensor[] flats, Tensor[] buckets)
    {
        _slots = slots;
        _flats = flats;
        _buckets = buckets;
    }

    /// <summary>The parameters whose gradients live here, in the model's order.</summary>
    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Parameter);

    /// <summary>The buckets, views of the flat buffers of at most the bucket size each.</summary>
    public IReadOnlyList<Tensor> Buckets => _buckets;

    /// <summary>The number of gradient elements.</summary>
    public long Count => _flats.Sum(f => f.NumberOfElements);

    /// <summary>How many times a gradient was found detached from the buffer and put back.</summary>
    public int Rebinds { get; private set; }

    /// <summary>Whether this buffer holds exactly <paramref name="parameters"/> (the trainable ones, same order).</summary>
    public bool Holds(IReadOnlyList<Parameter> parameters)
    {
        if (parameters.Count != _slots.Length) return false;
        for (var i = 0; i < _slots.Length; i++)
            if (!ReferenceEquals(parameters[i], _slots[i].Parameter)) return false;
        return true;
    }

    /// <summary>
    /// Makes the flat buffers for <paramref name="parameters"/> and points their gradients at it, keeping any
    /// gradient they already hold.
    /// </summary>
    /// <param name="parameters">The trainable parameters (requires_grad), CPU and contiguous.</param>
    /// <param name="bucketBytes">The largest bucket, in bytes.</param>
    public static GradientBuffer Bind(IReadOnlyList<Parameter> parameters, long bucketBytes)
    {
        var slots = new List<Slot>(parameters.Count);
        var flats = new List<Tensor>();
        var buckets = new List<Tensor>();
        using var scope = NewDisposeScope();
        foreach (var group in parameters.GroupBy(p => p.dtype))
        {
            var ps = group.ToArray();
            var flat = zeros(ps.Sum(p => p.NumberOfElements), group.Key);
            long offset = 0;
            foreach (var p in ps)
            {
                if (p.device_type != DeviceType.CPU)
                    throw new NotSupportedException($"DistributedTrainer reduces CPU gradients over MPI; a parameter is on {p.device}. See docs/distributed.md for GPUs.");
                var view = flat.narrow(0, offset, p.NumberOfElements).view(p.shape);
                using (var old = p.grad)
                {
                    if (old is not null) view.copy_(old);
                }
                p.grad = view;
                slots.Add(new Slot(p, view.MoveToOuterDisposeScope(), Address(view)));
                offset += p.NumberOfElements;
            }
            var perBucket = Math.Max(1, bucketBytes / flat.ElementSize);
            for (long start = 0; start < flat.NumberOfElements; start += perBucket)
                buckets.Add(flat.narrow(0, start, Math.Min(perBucket, flat.NumberOfElements - start)).MoveToOuterDisposeScope());
            flats.Add(flat.MoveToOuterDisposeScope());
        }
        return new GradientBuffer([.. slots], [.. flats], [.. buckets]);
    }

    /// <summary>
    /// Checks that every parameter's gradient is still its view of the buffer, and puts back any that is not: a
    /// null gradient becomes zeros (the parameter got none this step), a replaced one is copied in.
    /// </summary>
    public void Rebind()
    {
        foreach (var slot in _slots)
        {
            using var grad = slot.Parameter.grad;
            if (grad is not null && Address(grad) == slot.Address) continue;
            using (no_grad())
            {
                if (grad is null) slot.View.zero_();
                else slot.View.copy_(grad);
            }
            slot.Parameter.grad = slot.View;
            Rebinds++;
        }
    }

    /// <summary>Sums the buffer over all ranks, bucket by bucket.</summary>
    public void Reduce(ICommunicator comm, string label)
    {
        for (var b = 0; b < _buckets.Length; b++)
            comm.AllReduceSum(_buckets[b], _buckets.Length == 1 ? label : $"{label}, bucket {b + 1} of {_buckets.Length}");
    }

    public void Dispose()
    {
        foreach (var t in _buckets) t.Dispose();
        foreach (var s in _slots) s.View.Dispose();
        foreach (var t in _flats) t.Dispose();
    }

    /// <summary>The address of a tensor's first element (CPU).</summary>
    internal static unsafe nint Address(Tensor t)
    {
        if (t.NumberOfElements * t.ElementSize <= int.MaxValue)
            return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
        using var flat = t.view(-1);
        using var first = flat.narrow(0, 0, 1);
        return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(first.bytes));
    }

    private sealed record Slot(Parameter Parameter, Tensor View, nint Address);
}
