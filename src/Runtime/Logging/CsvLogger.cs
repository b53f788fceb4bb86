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
/// Values are written as fastai's <c>str()</c> writes them: the epoch as an integer, losses and metrics with full
/// (round-trip) precision, <c>None</c> for a missing value, the time as <c>mm:ss</c>. Nothing is written during
/// prediction runs (<see cref="Learner.GetPreds"/>, <see cref="Learner.Validate"/>, or while a
/// <see cref="GatherPredsCallback"/> is attached).
/// </remarks>
public sealed partial class CsvLogger : Callback
{
    private readonly LoggerHook _logger;
    private readonly Action _onFitEnded;
    private StreamWriter? _file;
    private Learner? _subscribedTo;

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
        var stream = new FileStream(path, Append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        _file = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
        _subscribedTo = learn;
        learn.FitEnded += _onFitEnded;
        _file.WriteLine(string.Join(",", learn.Recorder?.MetricNames ?? []));
        Flush();
        _logger.Install(learn);
    }

    private void WriteLine(EpochLog log)
    {
        if (_file is null) return;
        var cells = new List<string>(log.Values.Count + 2) { log.Epoch.ToString(CultureInfo.InvariantCulture) };
        cells.AddRange(log.Values.Select(v => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "None"));
        if (log.Time is { } t) cells.Add(EpochLog.FormatTime(t));
        _file.WriteLine(string.Join(",", cells));
        Flush();
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
