using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// What an optimizer keeps for one parameter (fastai's <c>opt.state[p]</c>): its step count, its buffers (such as
/// Adam's <c>grad_avg</c> and <c>sqr_avg</c>, made at the parameter's first step), and the two flags the learner
/// sets: <see cref="DoWd"/> and <see cref="ForceTrain"/>.
/// </summary>
public sealed class ParamState
{
    private readonly IReadOnlyList<string> _bufferNames;
    private readonly Tensor?[] _buffers;

    internal ParamState(Parameter param, IReadOnlyList<string> bufferNames)
    {
        Param = param;
        _bufferNames = bufferNames;
        _buffers = new Tensor?[bufferNames.Count];
    }

    /// <summary>The parameter.</summary>
    public Parameter Param { get; }

    /// <summary>Steps taken on this parameter since the state was last cleared (fastai's <c>step</c>; used for debiasing).</summary>
    public long Step { get; set; }

    /// <summary>Whether weight decay applies (fastai's <c>do_wd</c>; false for biases and normalization layers unless <c>wdBnBias</c>).</summary>
    public bool DoWd { get; set; } = true;

    /// <summary>Whether the parameter trains even in a frozen group (fastai's <c>force_train</c>; normalization layers with <c>trainBn</c>).</summary>
    public bool ForceTrain { get; set; }

    /// <summary>The names of the buffers this optimizer keeps per parameter.</summary>
    public IReadOnlyList<string> BufferNames => _bufferNames;

    /// <summary>The buffers that exist (a buffer is made at the parameter's first step), by name.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Buffers
    {
        get
        {
            for (var i = 0; i < _buffers.Length; i++)
                if (_buffers[i] is { } t) yield return new(_bufferNames[i], t);
        }
    }

    /// <summary>The buffer called <paramref name="name"/>, or null before the parameter's first step.</summary>
    /// <param name="name">A buffer name, such as <c>"grad_avg"</c>.</param>
    /// <exception cref="KeyNotFoundException">This optimizer keeps no buffer of that name.</exception>
    public Tensor? this[string name] => _buffers[IndexOf(name)];

    internal ref Tensor? Slot(int index) => ref _buffers[index];

    internal int IndexOf(string name)
    {
        for (var i = 0; i < _bufferNames.Count; i++)
            if (_bufferNames[i] == name) return i;
        throw new KeyNotFoundException(
            $"This optimizer keeps no `{name}` per parameter; it keeps {(_bufferNames.Count == 0 ? "no buffers" : string.Join(", ", _bufferNames.Select(n => $"`{n}`")))}.");
    }

    /// <summary>Replaces buffer <paramref name="index"/> (the old tensor is freed); the state owns the new one.</summary>
    internal void SetBuffer(int index, Tensor? value)
    {
        var old = _buffers[index];
        if (ReferenceEquals(old, value)) return;
        old?.Dispose();
        _buffers[index] = value;
    }

    /// <summary>fastai's <c>clear_state</c> for one parameter: the step count and buffers go, <see cref="DoWd"/> and <see cref="ForceTrain"/> stay.</summary>
    internal void Clear()
    {
        Step = 0;
        for (var i = 0; i < _buffers.Length; i++) SetBuffer(i, null);
    }
}
