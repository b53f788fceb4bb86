using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// An in-memory copy of a model's state (parameters and buffers) and of its optimizer's state (hyper-parameters
/// and per-parameter buffers), put back by <see cref="Restore"/> into the same tensors. Used by
/// <see cref="LRFinder"/>, as fastai's <c>learn.save('_tmp')</c> / <c>learn.load('_tmp', with_opt=True)</c>.
/// </summary>
internal sealed class ModelSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> _weights;
    private readonly byte[]? _opt;

    private ModelSnapshot(Dictionary<string, Tensor> weights, byte[]? opt)
    {
        _weights = weights;
        _opt = opt;
    }

    /// <summary>Copies the model's state dict and the optimizer's state (hyper-parameters, step counts, buffers).</summary>
    public static ModelSnapshot Capture(nn.Module model, Optimizer? opt)
    {
        var weights = new Dictionary<string, Tensor>();
        using (no_grad())
        {
            foreach (var (name, t) in model.state_dict())
                weights[name] = t.detach().clone().DetachFromDisposeScope();
        }
        byte[]? bytes = null;
        if (opt is not null)
        {
            using var ms = new MemoryStream();
            using (var writer = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) opt.SaveState(writer);
            bytes = ms.ToArray();
        }
        return new ModelSnapshot(weights, bytes);
    }

    /// <summary>Whether the optimizer state was captured.</summary>
    public bool HasOptimizerState => _opt is not null;

    /// <summary>Copies the saved values back into the model's own tensors, and the optimizer state back into <paramref name="opt"/>.</summary>
    public void Restore(nn.Module model, Optimizer? opt)
    {
        using (no_grad())
        {
            foreach (var (name, t) in model.state_dict())
            {
                if (_weights.TryGetValue(name, out var saved)) t.copy_(saved);
            }
        }
        if (_opt is not null && opt is not null)
        {
            using var ms = new MemoryStream(_opt, writable: false);
            using var reader = new BinaryReader(ms);
            opt.LoadState(reader);
        }
    }

    public void Dispose()
    {
        foreach (var t in _weights.Values) t.Dispose();
        _weights.Clear();
    }
}
