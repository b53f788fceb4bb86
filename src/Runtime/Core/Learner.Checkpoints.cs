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

    /// <summary>Writes a message to <see cref="MessageWriter"/>.</summary>
    public void Log(string message) => MessageWriter?.Invoke(message);

    /// <summary>The file of checkpoint <paramref name="name"/>: <c>Path/ModelDir/name.pt</c>.</summary>
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
    /// <c>model.load(path)</c> reads it too.
    /// </summary>
    /// <param name="name">The checkpoint's name (without extension).</param>
    /// <param name="withOpt">Also save the optimizer's state (skipped when there is no optimizer yet).</param>
    /// <returns>The file written.</returns>
    public string Save(string name, bool withOpt = true)
    {
        var file = CheckpointPath(name);
        AtomicFile.Write(file, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            Model.save(writer);
            if (withOpt && Opt is { } opt)
            {
                if (opt is OptimizerHelper helper)
                {
                    writer.Write(OptimizerMarker);
                    helper.save_state_dict(writer);
                }
                else
                {
                    Log($"{opt.GetType().Name} cannot save its state; the checkpoint holds the model only.");
                }
            }
            writer.Flush();
        });
        return file;
    }

    /// <summary>
    /// Loads checkpoint <paramref name="name"/> written by <see cref="Save"/> (fastai's <c>load</c>): the model's
    /// parameters and buffers and, when <paramref name="withOpt"/> and the file has it, the optimizer's state
    /// (the optimizer is created first if needed). A file without optimizer state loads the model and says so
    /// through <see cref="Log"/>, as fastai warns.
    /// </summary>
    /// <param name="name">The checkpoint's name (without extension).</param>
    /// <param name="withOpt">Also load the optimizer's state.</param>
    /// <param name="strict">Require the file's parameter names to match the model's exactly.</param>
    /// <exception cref="FileNotFoundException">There is no such checkpoint.</exception>
    /// <exception cref="InvalidOperationException">The file holds another optimizer type's state.</exception>
    public void Load(string name, bool withOpt = true, bool strict = true)
    {
        var file = CheckpointPath(name);
        if (!File.Exists(file))
            throw new FileNotFoundException(
                $"There is no checkpoint `{name}` at {IOPath.GetFullPath(file)}. Save one with learner.Save(\"{name}\") or SaveModelCallback, or check Path and ModelDir.", file);
        using var stream = File.OpenRead(file);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        Model.load(reader, strict);
        if (!withOpt) return;
        if (stream.Position >= stream.Length)
        {
            Log("Saved file doesn't contain an optimizer state.");
            return;
        }
        var marker = reader.ReadString();
        if (marker != OptimizerMarker)
            throw new InvalidDataException($"Checkpoint {file} has unexpected data after the model's state; it was not written by Learner.Save.");
        if (Opt is null) CreateOpt();
        if (Opt is not OptimizerHelper helper)
            throw new InvalidOperationException(
                $"Checkpoint `{name}` holds an optimizer state, but this learner's {Opt!.GetType().Name} cannot load one. Load it with withOpt: false.");
        try
        {
            helper.load_state_dict(reader);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException(
                $"Checkpoint `{name}` holds the state of a different optimizer than this learner's {Opt!.GetType().Name} ({e.Message}). " +
                "Load it with withOpt: false, or create the learner with the same optFunc.", e);
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
