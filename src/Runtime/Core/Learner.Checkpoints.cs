using System.Text;
using TorchSharp.Modules;
using IOPath = System.IO.Path;

namespace FastCallbacks;

// Checkpoints (fastai's learn.save / learn.load) and the learner's message line (fastai's print).
public partial class Learner
{
    // Written between the model's state and the optimizer's, so Load can tell a model-only file from a full one.
    private const string OptimizerMarker = "FastCallbacks.optimizer";

    /// <summary>
    /// Receives the learner's messages (fastai's <c>print</c>): early stopping, new best models, learning-rate
    /// reductions, and, once per class, a callback that runs on run-time dispatch because its handlers were compiled
    /// without the FastCallbacks generator (a notebook cell, F#). Default: the console. Null prints nothing.
    /// Independent of <see cref="Logger"/>.
    /// </summary>
    public Action<string>? MessageWriter { get; set; } = Console.WriteLine;

    /// <summary>Writes a message to <see cref="MessageWriter"/> (on the main process only, see <see cref="IsMainProcess"/>).</summary>
    /// <param name="message">One line, without its line break; dropped on the other ranks of a distributed job and
    /// when <see cref="MessageWriter"/> is null.</param>
    public void Log(string message)
    {
        if (IsMainProcess) MessageWriter?.Invoke(message);
    }

    /// <summary>The file of checkpoint <paramref name="name"/>: <c>Path/ModelDir/name.pt</c>.</summary>
    /// <param name="name">The checkpoint's name as <see cref="Save"/> and <see cref="Load"/> take it: no folder, no
    /// <c>.pt</c> (<c>"model"</c>, <c>"best"</c>).</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public string CheckpointPath(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("Name the checkpoint, for example learner.Save(\"model\").", nameof(name));
        return IOPath.Combine(Path, ModelDir, name + ".pt");
    }

    /// <summary>
    /// Saves the model's parameters and buffers, and the optimizer's state when <paramref name="withOpt"/>, to
    /// <c>Path/ModelDir/name.pt</c> (fastai's <c>save</c>). The write is atomic: the checkpoint is written to a
    /// temporary file in the same folder and then renamed over the old one, so a crash while saving leaves the
    /// previous checkpoint intact. The model part is TorchSharp's <c>Module.save</c> format, so
    /// <c>model.load(path)</c> reads it too. Only the main process of a distributed job writes (see
    /// <see cref="IsMainProcess"/>); the others return the same path and write nothing, as fastai's <c>save</c>.
    /// </summary>
    /// <param name="name">The checkpoint's name (without extension).</param>
    /// <param name="withOpt">Also save the optimizer's state (skipped when there is no optimizer yet).</param>
    /// <returns>The file written.</returns>
    public string Save(string name, bool withOpt = true)
    {
        var file = CheckpointPath(name);
        if (!IsMainProcess) return file;
        AtomicFile.Write(file, stream => WriteCheckpoint(stream, withOpt));
        return file;
    }

    /// <summary>The checkpoint <see cref="Save"/> writes, in memory (the other ranks of a distributed job keep their best model so).</summary>
    internal byte[] SaveToMemory(bool withOpt)
    {
        using var stream = new MemoryStream();
        WriteCheckpoint(stream, withOpt);
        return stream.ToArray();
    }

    /// <summary>Loads a checkpoint made by <see cref="SaveToMemory"/>.</summary>
    internal void LoadFromMemory(byte[] checkpoint, bool withOpt)
    {
        using var stream = new MemoryStream(checkpoint, writable: false);
        ReadCheckpoint(stream, "in memory", "memory", withOpt, strict: true);
    }

    private void WriteCheckpoint(Stream stream, bool withOpt)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        Model.save(writer);
        if (withOpt && Opt is { } opt)
        {
            writer.Write(OptimizerMarker);
            opt.SaveState(writer);
        }
        writer.Flush();
    }

    /// <summary>
    /// Loads checkpoint <paramref name="name"/> written by <see cref="Save"/> (fastai's <c>load</c>): the model's
    /// parameters and buffers and, when <paramref name="withOpt"/> and the file has it, the optimizer's state:
    /// per-group hyper-parameters, step counts and buffers, so training resumes exactly (the optimizer is created
    /// first if needed). A file without optimizer state loads the model and says so through <see cref="Log"/>, as
    /// fastai warns. When the optimizer state does not fit this learner's optimizer, the model is put back as it was.
    /// </summary>
    /// <param name="name">The checkpoint's name (without extension).</param>
    /// <param name="withOpt">Also load the optimizer's state.</param>
    /// <param name="strict">Require the file's parameter names to match the model's exactly.</param>
    /// <exception cref="FileNotFoundException">There is no such checkpoint.</exception>
    /// <exception cref="InvalidOperationException">The file holds the state of an optimizer that does not fit this learner's.</exception>
    public void Load(string name, bool withOpt = true, bool strict = true)
    {
        var file = CheckpointPath(name);
        if (!File.Exists(file))
            throw new FileNotFoundException(
                $"There is no checkpoint `{name}` at {IOPath.GetFullPath(file)}. Save one with learner.Save(\"{name}\") or SaveModelCallback, or check Path and ModelDir.", file);
        if (TrainingCheckpoint.HasHeader(file))
        {
            LoadFromTrainingCheckpoint(name, file, withOpt, strict);
            return;
        }
        using var stream = File.OpenRead(file);
        ReadCheckpoint(stream, name, file, withOpt, strict);
    }

    /// <summary>The model (and the optimizer's state) of a training checkpoint that <see cref="CheckpointCallback"/> wrote.</summary>
    private void LoadFromTrainingCheckpoint(string name, string file, bool withOpt, bool strict)
    {
        using var checkpoint = TrainingCheckpoint.Read(file);
        var sd = Model.state_dict();
        var saved = checkpoint.Model;
        var wrong = sd.Where(kv => saved.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape)).Select(kv => $"`{kv.Key}`").ToList();
        var missing = sd.Keys.Where(k => !saved.ContainsKey(k)).Select(k => $"`{k}`").ToList();
        var unexpected = saved.Keys.Where(k => !sd.ContainsKey(k)).Select(k => $"`{k}`").ToList();
        if (wrong.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new InvalidOperationException(
                $"Checkpoint `{name}` ({file}) holds another model: " +
                string.Join("; ", new[]
                {
                    wrong.Count > 0 ? $"other shapes for {string.Join(", ", wrong.Take(5))}" : null,
                    missing.Count > 0 ? $"no {string.Join(", ", missing.Take(5))}" : null,
                    unexpected.Count > 0 ? $"unknown {string.Join(", ", unexpected.Take(5))}" : null,
                }.OfType<string>()) + ". The model is as it was.");
        if (withOpt && Opt is null) CreateOpt();
        using var before = withOpt ? ModelSnapshot.Capture(Model, null) : null;
        using (TorchSharp.torch.no_grad())
        {
            foreach (var (key, t) in sd)
                if (saved.TryGetValue(key, out var value)) t.copy_(value);
        }
        if (!withOpt) return;
        if (checkpoint.Optimizer.Length == 0)
        {
            Log("Saved file doesn't contain an optimizer state.");
            return;
        }
        using var ms = new MemoryStream(checkpoint.Optimizer, writable: false);
        using var reader = new BinaryReader(ms, Encoding.UTF8);
        try
        {
            Opt!.LoadState(reader);
        }
        catch (InvalidDataException e)
        {
            before!.Restore(Model, null);
            throw new InvalidOperationException(
                $"Checkpoint `{name}` holds an optimizer state that does not fit this learner's {Opt!.Name} ({e.Message}). The model is as it was. " +
                "Load it with withOpt: false, or create the learner with the same optFunc and splitter.", e);
        }
    }

    private void ReadCheckpoint(Stream stream, string name, string file, bool withOpt, bool strict)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (!withOpt)
        {
            Model.load(reader, strict);
            return;
        }
        if (Opt is null) CreateOpt();
        // The model is loaded before the optimizer's state can be read: keep a copy to put back if that state does not fit.
        using var before = ModelSnapshot.Capture(Model, null);
        Model.load(reader, strict);
        if (stream.Position >= stream.Length)
        {
            Log("Saved file doesn't contain an optimizer state.");
            return;
        }
        try
        {
            var marker = reader.ReadString();
            if (marker != OptimizerMarker)
                throw new InvalidDataException($"Checkpoint {file} has unexpected data after the model's state; it was not written by Learner.Save.");
            LoadOptimizerState(stream, reader);
        }
        catch (InvalidDataException e)
        {
            before.Restore(Model, null);
            throw new InvalidOperationException(
                $"Checkpoint `{name}` holds an optimizer state that does not fit this learner's {Opt!.Name} ({e.Message}). The model is as it was. " +
                "Load it with withOpt: false, or create the learner with the same optFunc and splitter.", e);
        }
    }

    /// <summary>Reads the optimizer's state: FastCallbacks' format, or TorchSharp's (checkpoints from before FastCallbacks had its own optimizers).</summary>
    private void LoadOptimizerState(Stream stream, BinaryReader reader)
    {
        var start = stream.Position;
        var head = reader.ReadString();
        stream.Position = start;
        if (head == Optimizer.StateFormatName)
        {
            Opt!.LoadState(reader);
            return;
        }
        if (Opt is not OptimWrapper wrapper)
            throw new InvalidDataException($"it is TorchSharp's {head} state, and this learner's optimizer is {Opt!.Name}; use optFunc: (ps, lr) => optim.{head}(ps, lr) to read it");
        try
        {
            wrapper.LoadTorchSharpState(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }
}

/// <summary>Writes files so that readers see the old content or the new one, never a partial write.</summary>
internal static class AtomicFile
{
    /// <summary>Test hook: runs after the content is written to the temporary file and before it replaces the target.</summary>
    [ThreadStatic]
    internal static Action<Stream>? BeforeCommit;

    /// <summary>
    /// Deletes the temporary files that writes of <paramref name="path"/> left behind when their process was killed
    /// (a write that fails otherwise deletes its own). Only for a file one process writes at a time.
    /// </summary>
    public static void RemoveLeftovers(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) return;
        var prefix = $".{Path.GetFileName(full)}.";
        foreach (var file in Directory.EnumerateFiles(folder, prefix + "*.tmp"))
        {
            var guid = Path.GetFileName(file)[prefix.Length..^".tmp".Length];
            if (guid.Length != 32 || !Guid.TryParseExact(guid, "N", out _)) continue;
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>: into a temporary file in the same folder,
    /// flushed to disk, then renamed over <paramref name="path"/> (a rename within a folder is atomic). If anything
    /// fails the temporary file is deleted and <paramref name="path"/> is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                BeforeCommit?.Invoke(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
