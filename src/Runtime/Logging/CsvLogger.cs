using System.Globalization;
using System.Text;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>CSVLogger</c> (order 60): writes the per-epoch table to a CSV file, the header
/// (<see cref="Recorder.MetricNames"/> joined by commas) when the fit begins, then one row per epoch, each flushed
/// to disk as it is written so the file is complete up to the last finished epoch even if a later one fails. Rows
/// are also passed on to the logger it replaced (so the progress table still shows).
/// </summary>
/// <remarks>
/// <para>Its state (<see cref="IStatefulCallback"/>) is what the current fit has written: a fit resumed from a training
/// checkpoint puts the file back as it was at the checkpoint (whatever was written after it, before the crash, goes)
/// and goes on from there, so the file ends as if training had never stopped.</para>
/// Values are written as fastai's <c>str()</c> writes them: the epoch as an integer, losses and metrics with full
/// (round-trip) precision, <c>None</c> for a missing value, the time as <c>mm:ss</c>. Nothing is written during
/// prediction runs (<see cref="Learner.GetPreds"/>, <see cref="Learner.Validate"/>, or while a
/// <see cref="GatherPredsCallback"/> is attached).
/// </remarks>
public sealed partial class CsvLogger : Callback, IStatefulCallback
{
    private readonly LoggerHook _logger;
    private readonly Action _onFitEnded;
    private readonly StringBuilder _written = new();
    private StreamWriter? _file;
    private Learner? _subscribedTo;
    private long _fitStart;

    /// <summary>Creates the logger.</summary>
    /// <param name="fname">The file; a relative path is under <see cref="Learner.Path"/>.</param>
    /// <param name="append">Append to the file instead of replacing it (a new header line is written for each fit, as in fastai).</param>
    public CsvLogger(string fname = "history.csv", bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fname);
        FileName = fname;
        Append = append;
        _logger = new LoggerHook(WriteLine, chainTo: static _ => true);
        _onFitEnded = Close;
    }

    /// <inheritdoc/>
    public override int Order => 60;

    /// <summary>The file name given to the constructor.</summary>
    public string FileName { get; }

    /// <summary>Whether fits append to the file.</summary>
    public bool Append { get; }

    /// <summary>The file written (resolved against <see cref="Learner.Path"/> when the callback is attached).</summary>
    public string FullPath => System.IO.Path.GetFullPath(System.IO.Path.Combine(Learn?.Path ?? ".", FileName));

    private static bool Predicting(Learner learn) => learn.IsInferenceRun || learn.Cb<GatherPredsCallback>() is not null;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        if (Predicting(learn) || !learn.IsMainProcess) return;
        Close();
        var path = FullPath;
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        // Not FileMode.Append: a resumed fit cuts the file back to where the checkpoint's fit began (LoadState).
        var stream = new FileStream(path, Append ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.Write, FileShare.Read);
        stream.Seek(0, SeekOrigin.End);
        _file = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
        _fitStart = stream.Position;
        _written.Clear();
        _subscribedTo = learn;
        learn.FitEnded += _onFitEnded;
        Write(string.Join(",", learn.Recorder?.MetricNames ?? []));
        _logger.Install(learn);
    }

    /// <summary>Writes one line, flushed to disk, and keeps it in the fit's state.</summary>
    private void Write(string line)
    {
        _file!.WriteLine(line);
        _written.Append(line).Append('\n');
        Flush();
    }

    private void WriteLine(EpochLog log)
    {
        if (_file is null) return;
        var cells = new List<string>(log.Values.Count + 2) { log.Epoch.ToString(CultureInfo.InvariantCulture) };
        cells.AddRange(log.Values.Select(v => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "None"));
        if (log.Time is { } t) cells.Add(EpochLog.FormatTime(t));
        Write(string.Join(",", cells));
    }

    /// <summary>Saves where this fit began in the file and what it has written since.</summary>
    /// <param name="state">Where to write.</param>
    public void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("fit_start", _fitStart);
        state.Set("written", _written.ToString());
    }

    /// <summary>
    /// Takes the state of a checkpoint; during a fit, the file is cut back to where the checkpoint's fit began and what it
    /// had written is written again (the rows after the checkpoint go).
    /// </summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    /// <exception cref="InvalidDataException">The file is shorter than where the checkpoint's fit began (it was replaced since).</exception>
    public void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var start = state.Get<long>("fit_start");
        var written = state.Get<string?>("written") ?? "";
        if (start < 0) throw new InvalidDataException($"CsvLogger's state starts at byte {start}.");
        var path = FullPath;
        var length = _file?.BaseStream.Length ?? (File.Exists(path) ? new FileInfo(path).Length : 0);
        if (start > 0 && length < start)
            throw new InvalidDataException(
                $"CsvLogger: {path} has {length} bytes, but the checkpoint's fit began writing at byte {start} of it: the file was replaced or cut since the checkpoint. " +
                "Put it back, or resume without appending to it.");
        if (_file is { } file)
        {
            file.Flush();
            var stream = (FileStream)file.BaseStream;
            stream.SetLength(start);
            stream.Position = start;
            file.Write(written);
            Flush();
        }
        _fitStart = start;
        _written.Clear().Append(written);
    }

    private void Flush()
    {
        _file!.Flush();
        ((FileStream)_file.BaseStream).Flush(flushToDisk: true);
    }

    [On(Event.AfterFit)]
    private void AfterFit()
    {
        if (Predicting(Attached)) return;
        Close();
    }

    /// <summary>Closes the file and gives the learner its logger back; safe to call twice.</summary>
    private void Close()
    {
        _logger.Remove();
        if (_subscribedTo is { } learn)
        {
            learn.FitEnded -= _onFitEnded;
            _subscribedTo = null;
        }
        _file?.Dispose();
        _file = null;
    }

    /// <summary>
    /// fastai's <c>read_log</c>: the rows of the file, each a map from column name to the text written. Header
    /// lines written by later <see cref="Append"/> fits start a new set of columns.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing was written yet.</exception>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Read()
    {
        var path = FullPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"CsvLogger: {path} does not exist yet; it is written when a fit begins.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var rows = new List<IReadOnlyDictionary<string, string>>();
        string[]? header = null;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            // A header starts with the `epoch` column; each appended fit writes its own.
            if (header is null || cells[0] == "epoch")
            {
                header = cells;
                continue;
            }
            var row = new Dictionary<string, string>(header.Length);
            for (var i = 0; i < header.Length && i < cells.Length; i++) row[header[i]] = cells[i];
            rows.Add(row);
        }
        return rows;
    }
}
