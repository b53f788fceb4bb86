using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's optimizer (<c>fastai.optimizer</c>): parameter groups (<see cref="ParamLists"/>), per-group
/// hyper-parameters under fastai's names (<see cref="Hypers"/>: <c>lr</c>, <c>mom</c>, <c>sqr_mom</c>, <c>eps</c>,
/// <c>wd</c>, ...), per-parameter state (<see cref="State"/>), freezing (<see cref="FreezeTo"/>), and a state that
/// saves and loads (<see cref="SaveState"/>, <see cref="LoadState"/>). It is a TorchSharp optimizer, so a
/// TorchSharp learning-rate scheduler can drive it too.
/// </summary>
/// <remarks>
/// <para>Make one with <see cref="Optimizers"/> (fastai's <c>SGD</c>, <c>Adam</c>, <c>RAdam</c>, <c>RMSProp</c>,
/// <c>QHAdam</c>, <c>Lamb</c>, <c>Lookahead</c>, <c>ranger</c>), or wrap a TorchSharp optimizer in an
/// <see cref="OptimWrapper"/>. Derive from it for an algorithm of your own: implement <see cref="Name"/> and
/// <c>step</c>.</para>
/// <para>Gradients are read from each parameter's <c>grad</c> at every step and zeroed in place by
/// <see cref="zero_grad"/> (never replaced or set to null), so gradients that are views of one flat buffer stay
/// valid. Parameters of frozen groups are not updated (their <c>requires_grad</c> is off, so they get no
/// gradient), except those with <see cref="ParamState.ForceTrain"/>.</para>
/// </remarks>
public abstract class Optimizer : optim.Optimizer
{
    private const string StateFormat = "FastCallbacks.Optimizer/1";

    /// <summary>The first string of a state written by <see cref="SaveState"/>.</summary>
    internal static string StateFormatName => StateFormat;

    private readonly Shared _shared;

    /// <summary>Creates an optimizer over <paramref name="groups"/> with the given hyper-parameters.</summary>
    /// <param name="groups">The parameter groups (last = head).</param>
    /// <param name="hypers">Every hyper-parameter this optimizer has, with its starting value for all groups
    /// (fastai's names: <c>lr</c> first by convention).</param>
    /// <param name="bufferNames">The names of the tensors the optimizer keeps per parameter (for <see cref="ParamState"/>).</param>
    /// <exception cref="ArgumentException">A hyper-parameter is named twice, or <c>lr</c> is missing.</exception>
    protected Optimizer(ParameterGroups groups, IEnumerable<KeyValuePair<string, double>> hypers, IEnumerable<string>? bufferNames = null)
        : base(IntPtr.Zero)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(hypers);
        _shared = new Shared(groups, [.. hypers], [.. bufferNames ?? []]);
    }

    /// <summary>An optimizer that shares <paramref name="inner"/>'s groups, hyper-parameters and state (for wrappers such as Lookahead).</summary>
    /// <param name="inner">The optimizer whose groups, hyper-parameters and state this one uses.</param>
    protected Optimizer(Optimizer inner) : base(IntPtr.Zero)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _shared = inner._shared;
    }

    /// <summary>The algorithm's name (<c>"Adam"</c>, <c>"SGD"</c>, ...), used in messages and stored with the saved state.</summary>
    public abstract string Name { get; }

    // ---- Groups and hyper-parameters ----

    /// <summary>The parameters of each group (fastai's <c>param_lists</c>); the last group is the head.</summary>
    public IReadOnlyList<IReadOnlyList<Parameter>> ParamLists => _shared.ParamLists;

    /// <summary>The number of parameter groups.</summary>
    public int GroupCount => _shared.Lists.Length;

    /// <summary>The names of this optimizer's hyper-parameters (fastai's names).</summary>
    public IReadOnlyList<string> HyperNames => _shared.HyperNames;

    /// <summary>Each group's hyper-parameters by name (fastai's <c>opt.hypers</c>); <c>Hypers[^1]["lr"]</c> is the head's rate. The entries can be set.</summary>
    public IReadOnlyList<GroupHypers> Hypers => _shared.Views;

    /// <summary>Whether this optimizer has a hyper-parameter called <paramref name="name"/>.</summary>
    /// <param name="name">A fastai name, such as <c>"mom"</c>.</param>
    public bool HasHyper(string name) => name is not null && _shared.Index.ContainsKey(name);

    /// <summary>The last group's value of <paramref name="name"/> (what fastai's Recorder logs).</summary>
    /// <param name="name">A hyper-parameter name, such as <c>"lr"</c>.</param>
    /// <exception cref="ArgumentException">The optimizer has no such hyper-parameter.</exception>
    public double GetHyper(string name) => _shared.Hypers[^1][HyperIndex(name)];

    /// <summary>Group <paramref name="group"/>'s value of <paramref name="name"/>.</summary>
    /// <param name="name">A hyper-parameter name.</param>
    /// <param name="group">The parameter group's index, from 0 (the head, fastai's last group, is the last).</param>
    /// <exception cref="ArgumentException">The optimizer has no such hyper-parameter.</exception>
    public double GetHyper(string name, int group) => _shared.Hypers[group][HyperIndex(name)];

    /// <summary>
    /// fastai's <c>set_hyper</c>: sets <paramref name="name"/> on every group, from one value, one value per group,
    /// or a <see cref="PerGroup.Slice(double, double)"/>. Nothing changes when the value does not fit.
    /// </summary>
    /// <param name="name">A hyper-parameter name (fastai's: <c>lr</c>, <c>mom</c>, <c>sqr_mom</c>, <c>eps</c>, <c>wd</c>, ...).</param>
    /// <param name="value">The value(s).</param>
    /// <exception cref="ArgumentException">The optimizer has no such hyper-parameter, or the values do not fit the groups.</exception>
    public void SetHyper(string name, PerGroup value)
    {
        var index = HyperIndex(name);
        var values = value.Resolve(GroupCount, name);
        for (var g = 0; g < values.Length; g++) _shared.Hypers[g][index] = values[g];
    }

    /// <summary>
    /// fastai's <c>set_hypers</c>: sets each hyper-parameter given (see <see cref="SetHyper"/>). All are checked
    /// before any is set.
    /// </summary>
    /// <param name="lr">Learning rate(s).</param>
    /// <param name="mom">Momentum (beta1 for Adam-like optimizers).</param>
    /// <param name="sqrMom">fastai's <c>sqr_mom</c> (beta2).</param>
    /// <param name="eps">The denominator's epsilon.</param>
    /// <param name="wd">Weight decay.</param>
    /// <exception cref="ArgumentException">A hyper-parameter given is not this optimizer's, or its values do not fit the groups.</exception>
    public void SetHypers(PerGroup? lr = null, PerGroup? mom = null, PerGroup? sqrMom = null, PerGroup? eps = null, PerGroup? wd = null)
    {
        var pending = new List<(int Index, double[] Values)>();
        void Add(string name, PerGroup? v)
        {
            if (v is { } value) pending.Add((HyperIndex(name), value.Resolve(GroupCount, name)));
        }
        Add("lr", lr);
        Add("mom", mom);
        Add("sqr_mom", sqrMom);
        Add("eps", eps);
        Add("wd", wd);
        foreach (var (index, values) in pending)
            for (var g = 0; g < values.Length; g++) _shared.Hypers[g][index] = values[g];
    }

    /// <summary>The index of hyper-parameter <paramref name="name"/>, or a clear error naming the ones there are.</summary>
    /// <exception cref="ArgumentException">The optimizer has no such hyper-parameter.</exception>
    internal int HyperIndex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_shared.Index.TryGetValue(name, out var i)) return i;
        throw UnknownHyper(name);
    }

    private ArgumentException UnknownHyper(string name) => new(
        $"{Name} has no hyper-parameter `{name}`; its hyper-parameters are {string.Join(", ", HyperNames.Select(n => $"`{n}`"))}" +
        (name is "momentum" or "beta1" or "beta2" or "betas" or "weight_decay" or "alpha"
            ? " (fastai's names: `mom` is the momentum or beta1, `sqr_mom` beta2 or RMSProp's alpha, `wd` the weight decay)."
            : "."),
        nameof(name));

    /// <summary>Sets hyper-parameter <paramref name="index"/> of every group (no checks: for schedulers on the hot path).</summary>
    internal void SetHyperAt(int index, double value)
    {
        foreach (var h in _shared.Hypers) h[index] = value;
    }

    /// <summary>Sets hyper-parameter <paramref name="index"/> of group <paramref name="group"/>.</summary>
    internal void SetHyperAt(int group, int index, double value) => _shared.Hypers[group][index] = value;

    /// <summary>Group <paramref name="group"/>'s hyper-parameter <paramref name="index"/>.</summary>
    internal double HyperAt(int group, int index) => _shared.Hypers[group][index];

    /// <summary>The hyper-parameter values of group <paramref name="group"/>, in <see cref="HyperNames"/> order, for <c>step</c>.</summary>
    /// <param name="group">The parameter group's index, from 0 (the head, fastai's last group, is the last).</param>
    protected ReadOnlySpan<double> HyperValues(int group) => _shared.Hypers[group];

    /// <summary>The index of <paramref name="name"/> in <see cref="HyperNames"/> (for reading <see cref="HyperValues"/>), or -1.</summary>
    /// <param name="name">A hyper-parameter name.</param>
    protected int IndexOfHyper(string name) => _shared.Index.TryGetValue(name, out var i) ? i : -1;

    // ---- State ----

    /// <summary>Every parameter's state, group by group (fastai's <c>opt.state</c>).</summary>
    public IReadOnlyList<ParamState> State => _shared.FlatStates;

    /// <summary>The states of group <paramref name="group"/>'s parameters, in order.</summary>
    /// <param name="group">The parameter group's index, from 0 (the head, fastai's last group, is the last).</param>
    protected ReadOnlySpan<ParamState> StatesOf(int group) => _shared.States[group];

    /// <summary>The state of parameter <paramref name="param"/>, or null when it is not one of this optimizer's.</summary>
    /// <param name="param">A parameter.</param>
    public ParamState? StateOf(Parameter param)
    {
        ArgumentNullException.ThrowIfNull(param);
        return _shared.ByHandle.GetValueOrDefault(param.Handle);
    }

    /// <summary>fastai's <c>clear_state</c>: every parameter's step count and buffers go; <see cref="ParamState.DoWd"/> and <see cref="ParamState.ForceTrain"/> stay.</summary>
    public virtual void ClearState()
    {
        foreach (var s in _shared.FlatStates) s.Clear();
    }

    // ---- Freezing ----

    /// <summary>The number of frozen groups (fastai's <c>frozen_idx</c>): groups before it get no gradient and no update.</summary>
    public int FrozenIdx => _shared.FrozenIdx;

    /// <summary>
    /// fastai's <c>freeze_to</c>: freezes the groups before <paramref name="n"/> (a negative <paramref name="n"/>
    /// counts from the end: -1 freezes all but the last) and unfreezes the others. A frozen parameter's
    /// <c>requires_grad</c> is turned off unless <see cref="ParamState.ForceTrain"/>; an unfrozen one's is turned on.
    /// </summary>
    /// <param name="n">Groups to freeze, from <c>-GroupCount</c> to <see cref="GroupCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">That is more groups than there are.</exception>
    public void FreezeTo(int n)
    {
        var count = GroupCount;
        var idx = n >= 0 ? n : count + n;
        if (idx < 0 || idx > count)
            throw new ArgumentOutOfRangeException(nameof(n), n,
                $"FreezeTo({n}) would freeze {(n >= 0 ? n : -n)} {(n >= 0 ? "groups" : "groups from the end")}, but the optimizer has {count} parameter group{(count == 1 ? "" : "s")}. " +
                $"Use a value from {-count} to {count}, or split the model into more groups with a splitter.");
        for (var g = 0; g < count; g++)
        {
            var frozen = g < idx;
            foreach (var s in _shared.States[g]) s.Param.requires_grad = !frozen || s.ForceTrain;
        }
        _shared.FrozenIdx = idx;
    }

    /// <summary>fastai's <c>freeze</c>: freezes every group but the last (the head). Needs at least two groups.</summary>
    /// <exception cref="InvalidOperationException">There is one group, so nothing would be frozen.</exception>
    public void Freeze()
    {
        if (GroupCount < 2)
            throw new InvalidOperationException(
                "Freeze trains only the last parameter group (the head), and this optimizer has one group, so nothing would be frozen. " +
                "Split the model into groups with the Learner's splitter (for example Splitters.ByChildren(...)).");
        FreezeTo(-1);
    }

    /// <summary>fastai's <c>unfreeze</c>: every group trains.</summary>
    public void Unfreeze() => FreezeTo(0);

    /// <summary>Whether a parameter of group <paramref name="group"/> with state <paramref name="state"/> is updated (not frozen, or forced to train).</summary>
    /// <param name="group">The parameter group's index, from 0 (the head, fastai's last group, is the last).</param>
    /// <param name="state">The parameter's state.</param>
    protected bool Trains(int group, ParamState state) => group >= _shared.FrozenIdx || state.ForceTrain;

    /// <summary>Whether any parameter of group <paramref name="group"/> can be updated (skips frozen groups without a forced parameter).</summary>
    /// <param name="group">The parameter group's index, from 0 (the head, fastai's last group, is the last).</param>
    protected bool GroupTrains(int group)
    {
        if (group >= _shared.FrozenIdx) return true;
        foreach (var s in _shared.States[group])
            if (s.ForceTrain) return true;
        return false;
    }

    // ---- TorchSharp's optimizer members ----

    /// <summary>Zeroes every parameter's gradient in place (fastai's <c>zero_grad</c>); gradient tensors are kept, never set to null.</summary>
    public override void zero_grad()
    {
        foreach (var s in _shared.FlatStates)
        {
            using var grad = s.Param.grad;
            grad?.zero_();
        }
    }

    /// <summary>Every parameter, group by group.</summary>
    public override IEnumerable<Parameter> parameters() => _shared.FlatStates.Select(s => s.Param);

    /// <summary>One learning-rate controller per group over <c>lr</c> (for TorchSharp's schedulers).</summary>
    public override IEnumerable<optim.ILearningRateController> ParamGroups => _shared.LrControllers;

    /// <summary>Not supported: the groups are fixed when the optimizer is made (by the learner's splitter).</summary>
    /// <param name="param_group">Not used.</param>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group) =>
        throw new NotSupportedException($"{Name}'s parameter groups are fixed when it is made; give the groups to it (the Learner's splitter) instead.");

    // ---- Saving and loading ----

    /// <summary>
    /// Writes the state (hyper-parameters of every group, and every parameter's step count, flags and buffers) to
    /// <paramref name="writer"/>, in FastCallbacks' format.
    /// </summary>
    /// <param name="writer">Where to write.</param>
    public virtual void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(StateFormat);
        writer.Write(Name);
        writer.Write(GroupCount);
        foreach (var list in _shared.Lists) writer.Write(list.Length);
        writer.Write(HyperNames.Count);
        for (var i = 0; i < HyperNames.Count; i++)
        {
            writer.Write(HyperNames[i]);
            foreach (var h in _shared.Hypers) writer.Write(h[i]);
        }
        foreach (var s in _shared.FlatStates)
        {
            writer.Write(s.Step);
            writer.Write(s.DoWd);
            writer.Write(s.ForceTrain);
            var buffers = s.Buffers.ToList();
            writer.Write(buffers.Count);
            foreach (var (name, t) in buffers)
            {
                writer.Write(name);
                t.Save(writer);
            }
        }
        SaveExtra(writer);
    }

    /// <summary>
    /// Reads a state written by <see cref="SaveState"/> of an optimizer of the same algorithm over parameters of the
    /// same shapes. Everything is read and checked first: on a mismatch nothing changes.
    /// </summary>
    /// <param name="reader">Where to read.</param>
    /// <exception cref="InvalidDataException">The data is not an optimizer state, is another algorithm's, or does not fit these parameters.</exception>
    public virtual void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var pending = new List<Tensor>();
        try
        {
            var format = reader.ReadString();
            if (format != StateFormat) throw new InvalidDataException($"This is not a FastCallbacks optimizer state (it starts with `{format}`).");
            var name = reader.ReadString();
            if (name != Name) throw new InvalidDataException($"The state is {name}'s, and this optimizer is {Name}.");
            var groups = reader.ReadInt32();
            if (groups != GroupCount) throw new InvalidDataException($"The state has {groups} parameter groups, and this optimizer {GroupCount}.");
            for (var g = 0; g < groups; g++)
            {
                var n = reader.ReadInt32();
                if (n != _shared.Lists[g].Length)
                    throw new InvalidDataException($"Group {g} of the state has {n} parameters, and this optimizer's {_shared.Lists[g].Length}.");
            }
            var hyperCount = reader.ReadInt32();
            var hypers = new List<(int Index, double[] Values)>();
            for (var i = 0; i < hyperCount; i++)
            {
                var hyper = reader.ReadString();
                var values = new double[groups];
                for (var g = 0; g < groups; g++) values[g] = reader.ReadDouble();
                if (!_shared.Index.TryGetValue(hyper, out var index))
                    throw new InvalidDataException($"The state has a hyper-parameter `{hyper}` that {Name} does not.");
                hypers.Add((index, values));
            }
            var states = new List<(ParamState State, long Step, bool DoWd, bool ForceTrain, List<(int Slot, Tensor Value)> Buffers)>();
            foreach (var s in _shared.FlatStates)
            {
                var step = reader.ReadInt64();
                var doWd = reader.ReadBoolean();
                var force = reader.ReadBoolean();
                var count = reader.ReadInt32();
                var buffers = new List<(int, Tensor)>();
                for (var b = 0; b < count; b++)
                {
                    var bufferName = reader.ReadString();
                    var t = Tensor.Load(reader).DetachFromDisposeScope();
                    pending.Add(t);
                    if (!t.shape.SequenceEqual(s.Param.shape))
                        throw new InvalidDataException(
                            $"The state's `{bufferName}` has shape [{string.Join(", ", t.shape)}] for a parameter of shape [{string.Join(", ", s.Param.shape)}].");
                    int slot;
                    try { slot = s.IndexOf(bufferName); }
                    catch (KeyNotFoundException e) { throw new InvalidDataException(e.Message, e); }
                    buffers.Add((slot, t));
                }
                states.Add((s, step, doWd, force, buffers));
            }
            var commitExtra = LoadExtra(reader, pending);
            // Everything fits: commit.
            foreach (var (index, values) in hypers)
                for (var g = 0; g < groups; g++) _shared.Hypers[g][index] = values[g];
            foreach (var (s, step, doWd, force, buffers) in states)
            {
                s.Clear();
                s.Step = step;
                s.DoWd = doWd;
                s.ForceTrain = force;
                foreach (var (slot, t) in buffers)
                {
                    var moved = t.device == s.Param.device ? t : t.to(s.Param.device).DetachFromDisposeScope();
                    if (!ReferenceEquals(moved, t)) t.Dispose();
                    s.SetBuffer(slot, moved);
                }
            }
            commitExtra();
            pending.Clear();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The optimizer state ends early; the file is truncated.", e);
        }
        finally
        {
            foreach (var t in pending) t.Dispose();
        }
    }

    /// <summary>Writes what a subclass keeps beyond the per-parameter state (nothing by default).</summary>
    /// <param name="writer">Where to write.</param>
    protected internal virtual void SaveExtra(BinaryWriter writer) { }

    /// <summary>
    /// Reads what <see cref="SaveExtra"/> wrote, without changing anything, and returns the action that applies it
    /// once everything is read and checked. Tensors read must be added to <paramref name="pending"/> (freed on failure)
    /// and taken out of it when the commit keeps them.
    /// </summary>
    /// <param name="reader">Where to read.</param>
    /// <param name="pending">Tensors read so far; freed if loading fails.</param>
    protected internal virtual Action LoadExtra(BinaryReader reader, List<Tensor> pending) => static () => { };

    /// <summary>Frees the per-parameter buffers.</summary>
    /// <param name="disposing">True from <see cref="IDisposable.Dispose"/>.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_shared.Disposed)
        {
            _shared.Disposed = true;
            foreach (var s in _shared.FlatStates) s.Clear();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}({GroupCount} group{(GroupCount == 1 ? "" : "s")}: " +
        string.Join("; ", Hypers.Select(h => string.Join(", ", h.Select(kv => $"{kv.Key}={kv.Value.ToString("G4", CultureInfo.InvariantCulture)}")))) + ")";

    /// <summary>One group's hyper-parameters by name (fastai's <c>opt.hypers[i]</c>); setting an entry changes the optimizer.</summary>
    public sealed class GroupHypers : IReadOnlyDictionary<string, double>
    {
        private readonly Shared _shared;
        private readonly int _group;

        internal GroupHypers(Shared shared, int group)
        {
            _shared = shared;
            _group = group;
        }

        /// <summary>The value of <paramref name="key"/> in this group.</summary>
        /// <param name="key">A hyper-parameter name.</param>
        /// <exception cref="KeyNotFoundException">The optimizer has no such hyper-parameter.</exception>
        public double this[string key]
        {
            get => _shared.Hypers[_group][IndexOf(key)];
            set => _shared.Hypers[_group][IndexOf(key)] = value;
        }

        private int IndexOf(string key) => _shared.Index.TryGetValue(key, out var i)
            ? i
            : throw new KeyNotFoundException($"There is no hyper-parameter `{key}`; there are {string.Join(", ", _shared.HyperNames.Select(n => $"`{n}`"))}.");

        /// <inheritdoc/>
        public IEnumerable<string> Keys => _shared.HyperNames;

        /// <inheritdoc/>
        public IEnumerable<double> Values => _shared.Hypers[_group];

        /// <inheritdoc/>
        public int Count => _shared.HyperNames.Count;

        /// <inheritdoc/>
        public bool ContainsKey(string key) => _shared.Index.ContainsKey(key);

        /// <inheritdoc/>
        public bool TryGetValue(string key, [MaybeNullWhen(false)] out double value)
        {
            if (_shared.Index.TryGetValue(key, out var i))
            {
                value = _shared.Hypers[_group][i];
                return true;
            }
            value = 0;
            return false;
        }

        /// <inheritdoc/>
        public IEnumerator<KeyValuePair<string, double>> GetEnumerator()
        {
            for (var i = 0; i < _shared.HyperNames.Count; i++)
                yield return new(_shared.HyperNames[i], _shared.Hypers[_group][i]);
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A group's <c>lr</c> as TorchSharp's <see cref="optim.ILearningRateController"/>.</summary>
    private sealed class LrController(Shared shared, int group, int lrIndex) : optim.ILearningRateController
    {
        public double LearningRate
        {
            get => shared.Hypers[group][lrIndex];
            set => shared.Hypers[group][lrIndex] = value;
        }

        public double InitialLearningRate { get; set; } = shared.Hypers[group][lrIndex];
    }

    /// <summary>Groups, hyper-parameters and state: shared by an optimizer and the wrappers around it.</summary>
    internal sealed class Shared
    {
        public Shared(ParameterGroups groups, KeyValuePair<string, double>[] hypers, string[] bufferNames)
        {
            Lists = groups.Arrays;
            ParamLists = groups.Groups;
            HyperNames = Array.AsReadOnly(hypers.Select(h => h.Key).ToArray());
            Index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < hypers.Length; i++)
            {
                if (string.IsNullOrEmpty(hypers[i].Key)) throw new ArgumentException("A hyper-parameter needs a name.", nameof(hypers));
                if (!Index.TryAdd(hypers[i].Key, i)) throw new ArgumentException($"The hyper-parameter `{hypers[i].Key}` is named twice.", nameof(hypers));
            }
            if (!Index.ContainsKey("lr")) throw new ArgumentException("An optimizer needs an `lr` hyper-parameter.", nameof(hypers));
            Hypers = Lists.Select(_ => hypers.Select(h => h.Value).ToArray()).ToArray();
            var names = Array.AsReadOnly(bufferNames);
            States = Lists.Select(list => list.Select(p => new ParamState(p, names)).ToArray()).ToArray();
            FlatStates = Array.AsReadOnly(States.SelectMany(s => s).ToArray());
            ByHandle = FlatStates.ToDictionary(s => s.Param.Handle);
            Views = Array.AsReadOnly(Enumerable.Range(0, Lists.Length).Select(g => new GroupHypers(this, g)).ToArray());
            LrControllers = Enumerable.Range(0, Lists.Length).Select(g => (optim.ILearningRateController)new LrController(this, g, Index["lr"])).ToArray();
        }

        public Parameter[][] Lists { get; }
        public IReadOnlyList<IReadOnlyList<Parameter>> ParamLists { get; }
        public IReadOnlyList<string> HyperNames { get; }
        public Dictionary<string, int> Index { get; }
        public double[][] Hypers { get; }
        public ParamState[][] States { get; }
        public IReadOnlyList<ParamState> FlatStates { get; }
        public Dictionary<IntPtr, ParamState> ByHandle { get; }
        public IReadOnlyList<GroupHypers> Views { get; }
        public optim.ILearningRateController[] LrControllers { get; }
        public int FrozenIdx { get; set; }
        public bool Disposed { get; set; }
    }
}
