using Spectre.Console;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>ProgressCallback</c> (a default callback, order 60): an epoch bar, a bar for the batches of each
/// training and validation phase, and the per-epoch table (<c>epoch train_loss valid_loss … time</c>, floats
/// with 6 decimals), drawn with Spectre.Console.
/// </summary>
/// <remarks>
/// <para>On an interactive terminal the bars are a live display and each epoch's row is printed above them, as
/// are lines that callbacks write with <c>Console.WriteLine</c> meanwhile (standard output is routed through the
/// display while it runs, so such lines do not tear the bars). When
/// the output is not interactive (redirected to a file, CI, a console without ANSI support) no bars are drawn and
/// the table is printed as plain text: the header once, then one line per epoch, with no escape codes.</para>
/// <para>As in fastai it replaces <see cref="Learner.Logger"/> while a fit runs and puts it back when the fit
/// ends, also when the fit fails. The rows go to the table instead of the default console logger
/// (<see cref="Defaults.ConsoleLogger"/>); a logger you set yourself still receives them (fastai drops it). With
/// <see cref="Learner.NoLogging"/> (a null logger) no table is printed; with <see cref="Learner.NoMbar"/>
/// (<see cref="Learner.CreateMbar"/> false) there is no epoch bar and no table, only the batch bars. Remove it
/// for one block with <see cref="Learner.NoBar"/>.</para>
/// <para>Its state (<see cref="IStatefulCallback"/>) is the table's rows so far: a fit resumed from a training
/// checkpoint prints them again under the header, so the table shows every epoch of the fit.</para>
/// </remarks>
public sealed partial class ProgressCallback : Callback, IStatefulCallback
{
    private readonly List<EpochLog> _rows = [];
    private int _shown;
    private readonly IAnsiConsole? _console;
    private readonly LoggerHook _logger;
    private readonly Action _onFitEnded;
    private ProgressDisplay? _view;
    private Learner? _subscribedTo;
    private bool _mbar;

    /// <summary>Creates the callback.</summary>
    /// <param name="console">Where to draw (default: <see cref="AnsiConsole.Console"/>, read when each fit begins).
    /// Pass a Spectre.Console <c>TestConsole</c> in tests.</param>
    public ProgressCallback(IAnsiConsole? console = null)
    {
        _console = console;
        _logger = new LoggerHook(WriteStats, chainTo: static previous => previous != Defaults.ConsoleLogger);
        _onFitEnded = Close;
    }

    /// <inheritdoc/>
    public override int Order => 60;

    /// <summary>The console this callback draws on.</summary>
    public IAnsiConsole Console => _console ?? AnsiConsole.Console;

    /// <summary>
    /// Makes the display each fit draws on, for callbacks not given a console; when it is null or returns null, the fit
    /// draws on the console. The notebook extension (FastCallbacks.Interactive) sets it to an HTML table that a notebook
    /// updates in place, and returns null where the notebook cannot update a display, so the rows come as plain text.
    /// </summary>
    public static Func<ProgressDisplay?>? CreateDisplay { get; set; }

    /// <summary>
    /// Whether lines written to <see cref="System.Console.Out"/> during a live display are printed above the bars
    /// (default: only when drawing on <see cref="AnsiConsole.Console"/>, which writes to the real standard output).
    /// </summary>
    internal bool? CaptureConsoleOut { get; set; }

    /// <summary>
    /// Whether the current (or last) fit was drawn as a live display (true) or printed as plain text (false).
    /// </summary>
    public bool IsLive { get; private set; }

    /// <summary>
    /// Whether <paramref name="console"/> gets the live display: it must be interactive and support ANSI, and
    /// when it is the default console, standard output must not be redirected.
    /// </summary>
    /// <param name="console">The console the display would draw on (the callback's own, <see cref="AnsiConsole.Console"/> by default).</param>
    public static bool CanDrawLive(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var caps = console.Profile.Capabilities;
        if (!caps.Interactive || !caps.Ansi) return false;
        return !ReferenceEquals(console, AnsiConsole.Console) || !System.Console.IsOutputRedirected;
    }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        Close();
        _rows.Clear();
        // Other ranks of a distributed job draw nothing: one display, rank 0's.
        Run = learn.IsMainProcess;
        if (!Run) return;
        var console = Console;
        _mbar = learn.CreateMbar;
        var capture = CaptureConsoleOut ?? ReferenceEquals(console, AnsiConsole.Console);
        var view = (_console is null ? CreateDisplay?.Invoke() : null)
            ?? (CanDrawLive(console) ? LiveProgressView.TryStart(console, capture) : null)
            ?? (ProgressDisplay)new PlainProgressView(console);
        _view = view;
        IsLive = view.IsLive;
        _subscribedTo = learn;
        learn.FitEnded += _onFitEnded;
        if (learn.Logger is not null)
        {
            _logger.Install(learn);
            if (_mbar && learn.Recorder is { } recorder) view.Header(recorder.MetricNames);
        }
        if (_mbar) view.StartEpochs(learn.NEpoch);
    }

    [On(Event.BeforeEpoch)]
    private void BeforeEpoch()
    {
        if (_mbar) _view?.Epoch(Attached.Epoch);
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        if (_mbar) _view?.Epoch(Attached.Epoch + 1);
    }

    [On(Event.BeforeTrain)]
    private void BeforeTrain() => _view?.StartPhase("train", Attached.Dl?.Count ?? 0);

    [On(Event.BeforeValidate)]
    private void BeforeValidate() => _view?.StartPhase("valid", Attached.Dl?.Count ?? 0);

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        _view?.Batch(learn.Iter + 1, learn.TrainIter > 0 || learn.Training ? learn.SmoothLoss : null);
    }

    [On(Event.AfterTrain), On(Event.AfterValidate)]
    private void EndPhase() => _view?.EndPhase();

    [On(Event.AfterFit)]
    private void AfterFit() => Close();

    /// <summary>fastai's <c>_write_stats</c>: a row of the table, only while there is an epoch bar.</summary>
    private void WriteStats(EpochLog log)
    {
        _rows.Add(log);
        ShowRows();
    }

    /// <summary>Prints the rows the current display has not shown yet.</summary>
    private void ShowRows()
    {
        if (!_mbar || _view is not { } view) return;
        for (; _shown < _rows.Count; _shown++) view.Row(_rows[_shown]);
    }

    /// <summary>Saves the table's rows.</summary>
    /// <param name="state">Where to write.</param>
    public void SaveState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("names", _rows.Count == 0 ? [] : _rows[^1].Names.ToArray());
        state.Set("epochs", _rows.Select(r => r.Epoch).ToArray());
        state.Set("values", _rows.Select(r => r.Values).ToList(), StateCodecs.List(StateCodecs.ReadOnlyList(StateCodecs.Nullable(StateCodecs.Double))));
        state.Set("times", _rows.Select(r => r.Time).ToArray());
    }

    /// <summary>Takes the rows of a checkpoint; during a fit, prints the ones not shown yet.</summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    public void LoadState(StateDict state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var names = state.Get<string?[]?>("names") ?? [];
        var epochs = state.Get<int[]?>("epochs") ?? [];
        var values = state.Get("values", StateCodecs.List(StateCodecs.ReadOnlyList(StateCodecs.Nullable(StateCodecs.Double)))) ?? [];
        var times = state.Get<TimeSpan?[]?>("times") ?? [];
        if (values.Count != epochs.Length || times.Length != epochs.Length)
            throw new InvalidDataException($"The progress table's state has {epochs.Length} epochs, {values.Count} rows of values and {times.Length} times.");
        var columns = names.Select(n => n ?? "").ToArray();
        var rows = epochs.Select((e, i) => new EpochLog(columns, e, values[i] ?? [], times[i])).ToList();
        // Loaded again mid-epoch, the same rows: the ones this display showed stay shown.
        _shown = Math.Min(_shown, rows.Count);
        _rows.Clear();
        _rows.AddRange(rows);
        ShowRows();
    }

    /// <summary>Closes the display and gives the learner its logger back; safe to call twice.</summary>
    private void Close()
    {
        if (_subscribedTo is { } learn)
        {
            learn.FitEnded -= _onFitEnded;
            _subscribedTo = null;
        }
        _logger.Remove();
        var view = _view;
        _view = null;
        _shown = 0;
        view?.Dispose();
    }
}
