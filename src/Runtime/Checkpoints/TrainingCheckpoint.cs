using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// A training checkpoint: the whole state of a fit at an epoch's end or after a training batch (the model, the optimizer
/// with its step counts, every stateful callback's state by name, torch's random generator and the loaders' positions,
/// where the fit was, and the learner's hyper-parameters), written by <see cref="CheckpointCallback"/> and resumed from
/// with <c>resumeFrom:</c>. This class writes the file, reads it back whole, checks it against a learner and applies it.
/// </summary>
/// <remarks>
/// <para>The file: an 8-byte header, the format version, the FastCallbacks version that wrote it, named sections (each with
/// its length), and the SHA-256 of everything before it. A file cut short or damaged is found before any of it is used.</para>
/// <para>Applying is all or nothing: everything that can be checked without changing the learner is checked first; the
/// callbacks' and loaders' states are then loaded (each one's previous state put back if any fails), then the optimizer's
/// (which checks itself before it changes), and only then the model, which can no longer fail.</para>
/// </remarks>
internal sealed class TrainingCheckpoint : IDisposable
{
    /// <summary>The format this version writes (and the newest it reads).</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Magic = [0x89, (byte)'F', (byte)'C', (byte)'K', (byte)'P', (byte)'T', 0x0D, 0x0A];
    private const int HashLength = 32;
    private static readonly string[] RequiredSections = ["position", "learner", "model", "grads", "optimizer", "rng", "data", "callbacks"];

    // The gradient of a parameter: none yet, all zeros (the usual case between batches: zero_grad zeroes in place), or
    // values (gradient accumulation skipped the step, so the next batch adds to them).
    private const byte NoGrad = 0, ZeroGrad = 1, GradValues = 2;

    private readonly Dictionary<string, Tensor> _model;
    private readonly Dictionary<string, (byte Kind, Tensor? Values)> _grads;
    private Tensor? _rng;

    private TrainingCheckpoint(string path, string writtenBy, StateDict position, StateDict learner, Dictionary<string, Tensor> model,
        Dictionary<string, (byte, Tensor?)> grads, byte[] optimizer, Tensor? rng, StateDict data, List<(string Key, string Type, StateDict State)> callbacks)
    {
        Path = path;
        WrittenBy = writtenBy;
        _model = model;
        _grads = grads;
        Optimizer = optimizer;
        _rng = rng;
        Data = data;
        Callbacks = callbacks;
        try
        {
            Recipe = position.Get<string?>("recipe") ?? "";
            Stage = position.Get<int>("stage");
            NEpoch = position.Get<int>("n_epoch");
            Epoch = position.Get<int>("epoch");
            Batch = position.Get<int>("batch");
            MidEpoch = position.Get<bool>("mid_epoch");
            TrainIter = position.Get<int>("train_iter");
            PctTrain = position.Get<double>("pct_train");
            SmoothLoss = position.Get<double>("smooth_loss");
            FinalRecord = position.Get<double?[]?>("final_record");
            Lr = learner.Get<double>("lr");
            Wd = learner.Get<double?>("wd");
            Moms = learner.Get<double[]?>("moms") ?? [];
            WdBnBias = learner.Get<bool>("wd_bn_bias");
            TrainBn = learner.Get<bool>("train_bn");
            Metrics = learner.Get<string?[]?>("metrics") ?? [];
            OptimizerName = learner.Get<string?>("optimizer");
            FrozenIdx = learner.Get<int>("frozen_idx");
            if (Moms.Length != 3) throw new InvalidDataException($"it holds {Moms.Length} momentums, not 3.");
        }
        catch (InvalidDataException e)
        {
            Dispose();
            throw new CheckpointException(path, $"{path} is not a checkpoint this FastCallbacks can read: {e.Message}", e);
        }
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>The FastCallbacks version that wrote it.</summary>
    public string WrittenBy { get; }
    /// <summary>The recipe of the fit it was taken in (<c>Fit</c>, <c>FitOneCycle</c>, ...).</summary>
    public string Recipe { get; }
    /// <summary>The fit of the recipe (FineTune's frozen stage is 0, its unfrozen one 1; other recipes 0).</summary>
    public int Stage { get; }
    /// <summary>The epochs of that fit.</summary>
    public int NEpoch { get; }
    /// <summary>The epoch a resumed fit starts at.</summary>
    public int Epoch { get; }
    /// <summary>The training batch of <see cref="Epoch"/> a resumed fit starts at (0 after an epoch's end).</summary>
    public int Batch { get; }
    /// <summary>Whether it was taken after a training batch, in the middle of <see cref="Epoch"/>.</summary>
    public bool MidEpoch { get; }
    /// <summary>The learner's <see cref="Learner.TrainIter"/> then.</summary>
    public int TrainIter { get; }
    /// <summary>The learner's <see cref="Learner.PctTrain"/> then.</summary>
    public double PctTrain { get; }
    /// <summary>The learner's <see cref="Learner.SmoothLoss"/> then.</summary>
    public double SmoothLoss { get; }
    /// <summary>The learner's <see cref="Learner.FinalRecord"/> then.</summary>
    public double?[]? FinalRecord { get; }
    /// <summary>The learner's <see cref="Learner.Lr"/>.</summary>
    public double Lr { get; }
    /// <summary>The learner's <see cref="Learner.Wd"/>.</summary>
    public double? Wd { get; }
    /// <summary>The learner's <see cref="Learner.Moms"/> (start, middle, end).</summary>
    public double[] Moms { get; }
    /// <summary>The learner's <see cref="Learner.WdBnBias"/>.</summary>
    public bool WdBnBias { get; }
    /// <summary>The learner's <see cref="Learner.TrainBn"/>.</summary>
    public bool TrainBn { get; }
    /// <summary>The names of the learner's metrics.</summary>
    public string?[] Metrics { get; }
    /// <summary>The optimizer's <see cref="FastCallbacks.Optimizer.Name"/>, or null when there was none.</summary>
    public string? OptimizerName { get; }
    /// <summary>The optimizer's frozen groups.</summary>
    public int FrozenIdx { get; }
    /// <summary>The optimizer's state (<see cref="FastCallbacks.Optimizer.SaveState"/>), empty when there was none.</summary>
    public byte[] Optimizer { get; }
    /// <summary>The loaders' states, by <c>train</c> and <c>valid</c>.</summary>
    public StateDict Data { get; }
    /// <summary>Every stateful callback's state, by key (its name, numbered when several share one), in the learner's order.</summary>
    public List<(string Key, string Type, StateDict State)> Callbacks { get; }

    /// <summary>The model's parameters and buffers, by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Model => _model;

    /// <summary>The FastCallbacks version of this assembly.</summary>
    internal static string LibraryVersion { get; } =
        typeof(Learner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Learner).Assembly.GetName().Version?.ToString() ?? "unknown";

    // ---------------------------------------------------------------------------------------------------------------
    // Writing

    /// <summary>Writes the learner's training state to <paramref name="path"/>, atomically (see <see cref="AtomicFile"/>).</summary>
    /// <param name="learn">The learner, between two events of a fit.</param>
    /// <param name="path">The file.</param>
    /// <param name="midEpoch">True after a training batch (the resumed fit finishes the epoch), false at an epoch's end.</param>
    public static void Write(Learner learn, string path, bool midEpoch) =>
        AtomicFile.Write(path, stream => WriteTo(learn, stream, midEpoch));

    /// <summary>Writes the checkpoint to a stream (for <see cref="Write"/>, and the tests and benchmarks).</summary>
    internal static void WriteTo(Learner learn, Stream stream, bool midEpoch)
    {
        var sections = new (string Name, Action<BinaryWriter> Write)[]
        {
            ("position", w => PositionOf(learn, midEpoch).WriteTo(w)),
            ("learner", w => LearnerOf(learn).WriteTo(w)),
            ("model", w => WriteModel(w, learn.Model)),
            ("grads", w => WriteGrads(w, learn.Model)),
            ("optimizer", w => learn.Opt?.SaveState(w)),
            ("rng", w =>
            {
                using var state = torch.get_rng_state();
                state.Save(w);
            }),
            ("data", w => DataOf(learn).WriteTo(w)),
            ("callbacks", w => WriteCallbacks(w, learn)),
        };
        using var hashing = new HashingStream(stream);
        using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(LibraryVersion);
            writer.Write(sections.Length);
            foreach (var (name, write) in sections)
            {
                using var section = new MemoryStream();
                using (var w = new BinaryWriter(section, Encoding.UTF8, leaveOpen: true)) write(w);
                writer.Write(name);
                writer.Write(section.Length);
                writer.Flush();
                section.Position = 0;
                section.CopyTo(hashing);
            }
        }
        stream.Write(hashing.Hash());
    }

    private static StateDict PositionOf(Learner learn, bool midEpoch)
    {
        var (recipe, stage) = learn.CurrentRecipe;
        var state = new StateDict();
        state.Set("recipe", recipe);
        state.Set("stage", stage);
        state.Set("n_epoch", learn.NEpoch);
        state.Set("epoch", midEpoch ? learn.Epoch : learn.Epoch + 1);
        state.Set("batch", midEpoch ? learn.Iter + 1 : 0);
        state.Set("mid_epoch", midEpoch);
        state.Set("train_iter", learn.TrainIter);
        state.Set("pct_train", learn.PctTrain);
        state.Set("smooth_loss", learn.SmoothLoss);
        state.Set("final_record", learn.FinalRecord?.ToArray());
        state.Set("saved_at", DateTime.UtcNow);
        return state;
    }

    private static StateDict LearnerOf(Learner learn)
    {
        var state = new StateDict();
        state.Set("lr", learn.Lr);
        state.Set("wd", learn.Wd);
        state.Set("moms", new[] { learn.Moms.Start, learn.Moms.Middle, learn.Moms.End });
        state.Set("wd_bn_bias", learn.WdBnBias);
        state.Set("train_bn", learn.TrainBn);
        state.Set("metrics", learn.Metrics.Select(m => m.Name).ToArray());
        state.Set("model", learn.Model.GetType().FullName);
        state.Set("optimizer", learn.Opt?.Name);
        state.Set("frozen_idx", learn.Opt?.FrozenIdx ?? 0);
        return state;
    }

    private static void WriteModel(BinaryWriter w, nn.Module model)
    {
        var sd = model.state_dict();
        w.Write(sd.Count);
        foreach (var (name, t) in sd)
        {
            w.Write(name);
            using var scope = NewDisposeScope();
            t.detach().cpu().Save(w);
        }
    }

    private static void WriteGrads(BinaryWriter w, nn.Module model)
    {
        var parameters = model.named_parameters().ToList();
        w.Write(parameters.Count);
        foreach (var (name, p) in parameters)
        {
            w.Write(name);
            using var scope = NewDisposeScope();
            var grad = p.grad;
            if (grad is null)
            {
                w.Write(NoGrad);
                continue;
            }
            var any = grad.ne(0).any().item<bool>();
            w.Write(any ? GradValues : ZeroGrad);
            if (any) grad.detach().cpu().Save(w);
        }
    }

    private static StateDict DataOf(Learner learn)
    {
        var state = new StateDict();
        state.Set("train", Saved(learn.Dls.Train.SaveState), StateCodecs.State);
        if (learn.Dls.Valid is { } valid) state.Set("valid", Saved(valid.SaveState), StateCodecs.State);
        return state;
    }

    private static void WriteCallbacks(BinaryWriter w, Learner learn)
    {
        var stateful = StatefulCallbacks(learn);
        w.Write(stateful.Count);
        foreach (var (key, cb) in stateful)
        {
            w.Write(key);
            w.Write(TypeName(cb));
            Saved(((IStatefulCallback)cb).SaveState).WriteTo(w);
        }
    }

    private static StateDict Saved(Action<StateDict> save)
    {
        var state = new StateDict();
        save(state);
        return state;
    }

    /// <summary>The learner's stateful callbacks by key: the name, or <c>name_2</c>, <c>name_3</c>, ... for later ones of the same name.</summary>
    internal static List<(string Key, Callback Callback)> StatefulCallbacks(Learner learn)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<(string, Callback)>();
        foreach (var cb in learn.Cbs)
        {
            if (cb is not IStatefulCallback) continue;
            var n = seen[cb.Name] = seen.GetValueOrDefault(cb.Name) + 1;
            list.Add((n == 1 ? cb.Name : $"{cb.Name}_{n}", cb));
        }
        return list;
    }

    private static string TypeName(Callback cb) => cb.GetType().FullName ?? cb.GetType().Name;

    // ---------------------------------------------------------------------------------------------------------------
    // Reading

    /// <summary>Whether <paramref name="path"/> starts with a training checkpoint's header.</summary>
    public static bool HasHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var head = new byte[Magic.Length];
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.AsSpan().SequenceEqual(Magic);
    }

    /// <summary>Reads <paramref name="path"/> whole, checking its header, version, length and checksum.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="CheckpointException">It is not a training checkpoint, is truncated or damaged, or is from a newer format.</exception>
    public static TrainingCheckpoint Read(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException(
                $"There is no training checkpoint at {full}. CheckpointCallback writes one (Path/ModelDir/checkpoint.pt by default); " +
                "start the fit without resumeFrom when there is none yet.", full);
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = stream.Length;
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var head = reader.ReadBytes(Magic.Length);
        if (!head.AsSpan().SequenceEqual(Magic))
            throw new CheckpointException(full,
                $"{full} is not a FastCallbacks training checkpoint: it does not start with a checkpoint's header{(head.Length < Magic.Length ? $" (it has {length} bytes)" : "")}. " +
                "A file written by learn.Save or SaveModelCallback holds only the model and the optimizer: load it with learn.Load(name) and go on with " +
                "Fit(startEpoch: ...). The checkpoints a fit resumes from are written by CheckpointCallback.");
        int format;
        string writtenBy;
        var sections = new Dictionary<string, (long Offset, long Length)>(StringComparer.Ordinal);
        try
        {
            format = reader.ReadInt32();
            if (format > FormatVersion)
                throw new CheckpointException(full,
                    $"{full} is in checkpoint format {format}, from a newer FastCallbacks; this one ({LibraryVersion}) reads format {FormatVersion}. " +
                    "Resume with the FastCallbacks that wrote it, or a newer one.");
            if (format < 1)
                throw new CheckpointException(full, $"{full} says it is in checkpoint format {format}, which no FastCallbacks writes: the file is damaged.");
            writtenBy = reader.ReadString();
            var count = reader.ReadInt32();
            if (count < 0 || count > 1024) throw Damaged(full, $"it says it has {count} sections");
            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                var sectionLength = reader.ReadInt64();
                var offset = stream.Position;
                if (sectionLength < 0 || offset + sectionLength > length - HashLength)
                    throw Truncated(full, length, offset + Math.Max(sectionLength, 0) + HashLength);
                if (!sections.TryAdd(name, (offset, sectionLength))) throw Damaged(full, $"its section `{name}` appears twice");
                stream.Position = offset + sectionLength;
            }
        }
        catch (EndOfStreamException)
        {
            throw Truncated(full, length, null);
        }
        var end = stream.Position;
        if (end + HashLength > length) throw Truncated(full, length, end + HashLength);
        if (end + HashLength < length) throw Damaged(full, $"it has {length - end - HashLength} bytes after its content");
        stream.Position = 0;
        var hash = HashOf(stream, end);
        var trailer = reader.ReadBytes(HashLength);
        if (!hash.AsSpan().SequenceEqual(trailer)) throw Damaged(full, "its content does not match its checksum");
        foreach (var required in RequiredSections)
        {
            if (!sections.ContainsKey(required)) throw Damaged(full, $"it has no `{required}` section");
        }

        byte[] Section(string name)
        {
            var (offset, sectionLength) = sections[name];
            stream.Position = offset;
            return reader.ReadBytes(checked((int)sectionLength));
        }

        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var grads = new Dictionary<string, (byte, Tensor?)>(StringComparer.Ordinal);
        Tensor? rng = null;
        try
        {
            var position = StateDict.FromBytes(Section("position"));
            var learner = StateDict.FromBytes(Section("learner"));
            ReadModel(Section("model"), model);
            ReadGrads(Section("grads"), grads);
            var optimizer = Section("optimizer");
            rng = ReadTensor(Section("rng"));
            var data = StateDict.FromBytes(Section("data"));
            var callbacks = ReadCallbacks(Section("callbacks"));
            return new TrainingCheckpoint(full, writtenBy, position, learner, model, grads, optimizer, rng, data, callbacks);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException)
        {
            foreach (var t in model.Values) t.Dispose();
            foreach (var (_, t) in grads.Values) t?.Dispose();
            rng?.Dispose();
            throw new CheckpointException(full, $"{full} passed its checksum but does not read as a checkpoint of format {format} (written by FastCallbacks {writtenBy}): {e.Message}", e);
        }
    }

    private static CheckpointException Truncated(string path, long length, long? needed) => new(path,
        $"{path} is truncated: it has {length} bytes{(needed is { } n ? $", and its content needs {n}" : "")}. It was cut short (a write or copy " +
        "that did not finish) or damaged; a checkpoint written by CheckpointCallback is replaced whole, so resume from the one before, or start over.");

    private static CheckpointException Damaged(string path, string what) => new(path,
        $"{path} is damaged: {what}. Resume from another checkpoint, or start over.");

    private static byte[] HashOf(Stream stream, long count)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        while (count > 0)
        {
            var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read == 0) throw new EndOfStreamException();
            hash.AppendData(buffer, 0, read);
            count -= read;
        }
        return hash.GetHashAndReset();
    }

    private static void ReadModel(byte[] bytes, Dictionary<string, Tensor> into)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        var count = r.ReadInt32();
        if (count < 0) throw new InvalidDataException($"the model section says it has {count} tensors");
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadString();
            var t = torch.Tensor.Load(r).DetachFromDisposeScope();
            if (!into.TryAdd(name, t))
            {
                t.Dispose();
                throw new InvalidDataException($"the model's `{name}` appears twice");
            }
        }
    }

    private static void ReadGrads(byte[] bytes, Dictionary<string, (byte, Tensor?)> into)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        var count = r.ReadInt32();
        if (count < 0) throw new InvalidDataException($"the gradients section says it has {count} parameters");
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadString();
            var kind = r.ReadByte();
            if (kind > GradValues) throw new InvalidDataException($"the gradient of `{name}` is of kind {kind}");
            var t = kind == GradValues ? torch.Tensor.Load(r).DetachFromDisposeScope() : null;
            if (!into.TryAdd(name, (kind, t)))
            {
                t?.Dispose();
                throw new InvalidDataException($"the gradient of `{name}` appears twice");
            }
        }
    }

    private static Tensor ReadTensor(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        return torch.Tensor.Load(r).DetachFromDisposeScope();
    }

    private static List<(string, string, StateDict)> ReadCallbacks(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        var count = r.ReadInt32();
        if (count < 0) throw new InvalidDataException($"the callbacks section says it has {count} states");
        var list = new List<(string, string, StateDict)>(count);
        for (var i = 0; i < count; i++) list.Add((r.ReadString(), r.ReadString(), StateDict.ReadFrom(r)));
        return list;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Checking and applying

    /// <summary>
    /// Checks the checkpoint against the fit that resumes from it (<paramref name="recipe"/>, <paramref name="stage"/>,
    /// <paramref name="nEpoch"/>) and the learner, then applies it: callbacks (loaded once, to check them; a resumed fit
    /// loads them again after BeforeFit), loaders, optimizer, model, frozen groups, random generator and hyper-parameters.
    /// </summary>
    /// <param name="learn">The learner, with the fit's callbacks attached.</param>
    /// <param name="opt">The optimizer the fit will use (the learner's, or a new one not yet installed).</param>
    /// <param name="recipe">The recipe resuming.</param>
    /// <param name="stage">Its stage.</param>
    /// <param name="nEpoch">The epochs of the fit resuming.</param>
    /// <exception cref="CheckpointException">Something does not fit; nothing changed.</exception>
    public void ApplyTo(Learner learn, Optimizer opt, string recipe, int stage, int nEpoch)
    {
        CheckFit(recipe, stage, nEpoch);
        CheckLearner(learn, opt);
        var callbacks = MatchCallbacks(learn);
        var undo = new List<Action>();
        try
        {
            foreach (var (key, cb, state) in callbacks)
                Load(undo, $"the state of callback `{key}` ({TypeNames.Simple(cb.GetType())})", (IStatefulCallback)cb, c => c.SaveState, c => c.LoadState, state);
            LoadData(learn, undo);
            if (Optimizer.Length > 0)
            {
                using var ms = new MemoryStream(Optimizer, writable: false);
                using var reader = new BinaryReader(ms, Encoding.UTF8);
                try
                {
                    opt.LoadState(reader);
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
                {
                    throw Mismatch($"its optimizer state does not fit this learner's {opt.Name}: {e.Message}", e);
                }
            }
        }
        catch
        {
            for (var i = undo.Count - 1; i >= 0; i--) undo[i]();
            throw;
        }
        // Checked above: nothing below can fail.
        using (no_grad())
        {
            foreach (var (name, t) in learn.Model.state_dict()) t.copy_(_model[name]);
            foreach (var (name, p) in learn.Model.named_parameters())
            {
                var (kind, values) = _grads[name];
                p.grad = kind switch
                {
                    ZeroGrad => zeros_like(p).DetachFromDisposeScope(),
                    GradValues => CopyTo(values!, p.device),
                    _ => null,
                };
            }
        }
        opt.FreezeTo(FrozenIdx);
        if (_rng is not null) torch.set_rng_state(_rng);
        learn.Lr = Lr;
        learn.Wd = Wd;
        learn.Moms = (Moms[0], Moms[1], Moms[2]);
        learn.WdBnBias = WdBnBias;
        learn.TrainBn = TrainBn;
    }

    /// <summary>A copy of <paramref name="t"/> on <paramref name="device"/>, outside every dispose scope (the checkpoint keeps its own).</summary>
    private static Tensor CopyTo(Tensor t, Device device)
    {
        using var scope = NewDisposeScope();
        return t.to(device).clone().DetachFromDisposeScope();
    }

    /// <summary>Loads every stateful callback's state again (after BeforeFit, and mid-epoch after BeforeTrain), and the learner's place in the fit.</summary>
    public void ApplyCallbackStates(Learner learn, bool midEpochPhase)
    {
        foreach (var (_, cb, state) in MatchCallbacks(learn)) ((IStatefulCallback)cb).LoadState(state);
        learn.TrainIter = TrainIter;
        learn.SmoothLoss = SmoothLoss;
        learn.FinalRecord = FinalRecord;
        if (midEpochPhase) learn.PctTrain = PctTrain;
    }

    private void CheckFit(string recipe, int stage, int nEpoch)
    {
        if (Recipe != recipe || Stage != stage)
            throw Mismatch($"it was taken in {Describe(Recipe, Stage)}, and this is {Describe(recipe, stage)}. Resume with the call that started the training");
        if (NEpoch != nEpoch)
            throw Mismatch($"it was taken in a fit of {NEpoch} epoch{(NEpoch == 1 ? "" : "s")}, and this one has {nEpoch}: the schedules would differ. " +
                $"Resume with the arguments the fit was started with (nEpoch: {NEpoch})");
        if (Epoch > NEpoch || Epoch < 0 || Batch < 0)
            throw Mismatch($"it says it resumes at batch {Batch} of epoch {Epoch} of {NEpoch}");
    }

    private static string Describe(string recipe, int stage) => recipe == "FineTune" ? $"FineTune's {(stage == 0 ? "frozen" : "unfrozen")} stage" : recipe;

    private void CheckLearner(Learner learn, Optimizer opt)
    {
        var names = learn.Metrics.Select(m => m.Name).ToArray();
        if (!names.SequenceEqual(Metrics))
            throw Mismatch($"its fit had the metrics {List(Metrics)}, and this learner has {List(names)}");
        var sd = learn.Model.state_dict();
        var missing = sd.Keys.Where(k => !_model.ContainsKey(k)).ToList();
        var unknown = _model.Keys.Where(k => !sd.ContainsKey(k)).ToList();
        var different = sd.Where(kv => _model.TryGetValue(kv.Key, out var saved) && (!saved.shape.SequenceEqual(kv.Value.shape) || saved.dtype != kv.Value.dtype))
            .Select(kv => $"`{kv.Key}` is {Shape(_model[kv.Key])} in the checkpoint and {Shape(kv.Value)} in this model").ToList();
        if (missing.Count > 0 || unknown.Count > 0 || different.Count > 0)
        {
            var parts = new List<string>();
            if (different.Count > 0) parts.Add(string.Join("; ", different.Take(5)) + (different.Count > 5 ? $"; and {different.Count - 5} more" : ""));
            if (missing.Count > 0) parts.Add($"this model has {List(missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}, which the checkpoint lacks");
            if (unknown.Count > 0) parts.Add($"the checkpoint has {List(unknown.Take(5))}{(unknown.Count > 5 ? $" and {unknown.Count - 5} more" : "")}, which this model lacks");
            throw Mismatch($"its model does not fit this one: {string.Join("; ", parts)}. Resume with the model the checkpoint was taken from");
        }
        var parameters = learn.Model.named_parameters().ToList();
        if (parameters.Count != _grads.Count || parameters.Any(p => !_grads.TryGetValue(p.name, out var g) || (g.Values is { } v && !v.shape.SequenceEqual(p.parameter.shape))))
            throw Mismatch("its gradients do not fit this model's parameters (the model's state and its parameters disagree)");
        if (OptimizerName is not null && OptimizerName != opt.Name)
            throw Mismatch($"its optimizer is {OptimizerName}, and this learner's is {opt.Name}. Create the learner with the optFunc the fit was started with");
        if (FrozenIdx < 0 || FrozenIdx > opt.GroupCount)
            throw Mismatch($"{FrozenIdx} of its parameter groups were frozen, and this learner's optimizer has {opt.GroupCount}");
        if (_rng is not null)
        {
            using var current = torch.get_rng_state();
            if (!current.shape.SequenceEqual(_rng.shape) || current.dtype != _rng.dtype)
                throw Mismatch($"its random generator state is {Shape(_rng)}, and this libtorch's is {Shape(current)}");
        }
    }

    /// <summary>The learner's stateful callbacks with their states; a callback without one, or a state without a callback, is an error.</summary>
    private List<(string Key, Callback Callback, StateDict State)> MatchCallbacks(Learner learn)
    {
        var mine = StatefulCallbacks(learn);
        var saved = Callbacks.ToDictionary(c => c.Key, StringComparer.Ordinal);
        var missing = mine.Where(m => !saved.ContainsKey(m.Key)).Select(m => $"`{m.Key}` ({TypeNames.Simple(m.Callback.GetType())})").ToList();
        var unknown = Callbacks.Where(c => mine.All(m => m.Key != c.Key)).Select(c => $"`{c.Key}` ({Simple(c.Type)})").ToList();
        if (missing.Count > 0 || unknown.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"it holds no state for this learner's {string.Join(", ", missing)}");
            if (unknown.Count > 0) parts.Add($"it holds the state of {string.Join(", ", unknown)}, which this learner does not have");
            throw Mismatch($"{string.Join(", and ", parts)}. A resumed fit needs the stateful callbacks the checkpoint was taken with " +
                $"({(Callbacks.Count == 0 ? "none" : string.Join(", ", Callbacks.Select(c => $"`{c.Key}`")))}): add or remove callbacks to match");
        }
        var list = new List<(string, Callback, StateDict)>();
        foreach (var (key, cb) in mine)
        {
            var (_, type, state) = saved[key];
            if (type != TypeName(cb))
                throw Mismatch($"its callback `{key}` is a {Simple(type)}, and this learner's `{key}` is a {TypeNames.Simple(cb.GetType())}");
            list.Add((key, cb, state));
        }
        return list;
    }

    private void LoadData(Learner learn, List<Action> undo)
    {
        foreach (var (key, loader) in new[] { ("train", (DataLoader?)learn.Dls.Train), ("valid", learn.Dls.Valid) })
        {
            var saved = Data.Contains(key) ? Data.Get(key, StateCodecs.State) : null;
            if (loader is null && saved is null) continue;
            if (loader is null || saved is null)
                throw Mismatch(loader is null
                    ? $"it was taken with a {key} loader, and this learner has none"
                    : $"it was taken without a {key} loader, and this learner has one");
            Load(undo, $"the state of the {key} loader", loader, l => l.SaveState, l => l.LoadState, saved);
        }
    }

    /// <summary>Loads <paramref name="state"/> into <paramref name="target"/>, first keeping its current state to put back if a later step fails.</summary>
    private void Load<T>(List<Action> undo, string what, T target, Func<T, Action<StateDict>> save, Func<T, Action<StateDict>> load, StateDict state)
    {
        var before = Saved(save(target));
        try
        {
            load(target)(state);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            load(target)(before);
            throw Mismatch($"{what} does not fit: {e.Message}", e);
        }
        undo.Add(() => load(target)(before));
    }

    private CheckpointException Mismatch(string what, Exception? inner = null) =>
        new(Path, $"{Path} does not fit: {what}. Nothing was changed.", inner);

    private static string List(IEnumerable<string?> names)
    {
        var list = names.Select(n => $"`{n}`").ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }

    private static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}] {t.dtype}";

    private static string Simple(string typeName)
    {
        var name = typeName[(typeName.LastIndexOfAny(['.', '+']) + 1)..];
        var tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }

    /// <summary>Frees the tensors read.</summary>
    public void Dispose()
    {
        foreach (var t in _model.Values) t.Dispose();
        _model.Clear();
        foreach (var (_, t) in _grads.Values) t?.Dispose();
        _grads.Clear();
        _rng?.Dispose();
        _rng = null;
    }

    /// <summary>Forwards writes to a stream and hashes them.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => _hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count)
        {
            _hash.AppendData(buffer, offset, count);
            inner.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
