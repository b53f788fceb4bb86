using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastCallbacks;

/// <summary>
/// Where <see cref="ProgressCallback"/> draws one fit: fastai's per-epoch table (<c>epoch train_loss valid_loss … time</c>)
/// and the progress of the epochs and of each phase's batches. The callback draws on the console unless
/// <see cref="ProgressCallback.CreateDisplay"/> gives it another display, such as the notebook extension's HTML table.
/// </summary>
/// <remarks>The callback makes one display per fit and disposes of it when the fit ends, however it ends. Calls come
/// from the training thread in the fit's order; a display that draws from another thread synchronizes itself.</remarks>
public abstract class ProgressDisplay : IDisposable
{
    /// <summary>Whether the display updates in place (a live console display, a notebook table) rather than adding lines.</summary>
    public virtual bool IsLive => false;

    /// <summary>The table's column names (fastai's <c>recorder.metric_names</c>), before the first row when the fit has a
    /// table. A row can also come without it (a fit whose recorder was added late); its names are in the row.</summary>
    /// <param name="names">The column names, <c>epoch</c> first and <c>time</c> last when timed.</param>
    public virtual void Header(IReadOnlyList<string> names) { }

    /// <summary>One epoch's row of the table, when the epoch ends.</summary>
    /// <param name="log">The row: its names, the epoch, the values and the time.</param>
    public virtual void Row(EpochLog log) { }

    /// <summary>The fit begins and has an epoch bar (fastai's <c>mbar</c>).</summary>
    /// <param name="nEpoch">The epochs of the fit.</param>
    public virtual void StartEpochs(int nEpoch) { }

    /// <summary>The epoch bar's position: epochs done (the current epoch when it starts, one more when it ends).</summary>
    /// <param name="epoch">Epochs done.</param>
    public virtual void Epoch(int epoch) { }

    /// <summary>A training or validation phase begins.</summary>
    /// <param name="name"><c>train</c> or <c>valid</c>.</param>
    /// <param name="total">Its batches.</param>
    public virtual void StartPhase(string name, int total) { }

    /// <summary>A batch of the phase is done.</summary>
    /// <param name="done">Batches done in the phase.</param>
    /// <param name="smoothLoss">The smoothed training loss, once training has begun.</param>
    public virtual void Batch(int done, double? smoothLoss) { }

    /// <summary>The phase ends.</summary>
    public virtual void EndPhase() { }

    /// <summary>The fit ended: finish drawing and free what the display holds.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Finishes drawing and frees what the display holds.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>The console displays: fastprogress's text table, live or as plain lines.</summary>
internal abstract class ProgressView : ProgressDisplay
{
    private string[]? _columns;

    /// <summary>The table's header (fastai's <c>recorder.metric_names</c>).</summary>
    public override void Header(IReadOnlyList<string> names)
    {
        _columns = TableText.Columns(names);
        WriteLine(TableText.HeaderLine(_columns), header: true);
    }

    /// <summary>One row of the table; the header is taken from the row when none was written.</summary>
    public override void Row(EpochLog log)
    {
        if (_columns is null) Header(log.Names);
        WriteLine(TableText.RowLine(_columns!, log.Cells()), header: false);
    }

    protected abstract void WriteLine(string text, bool header);
}

/// <summary>Not interactive: the table as plain text lines, nothing else.</summary>
internal sealed class PlainProgressView(IAnsiConsole console) : ProgressView
{
    protected override void WriteLine(string text, bool header) => console.WriteLine(text);
}

/// <summary>
/// Interactive: a Spectre.Console live display of the epoch bar and the batch bar, refreshed by its own thread;
/// table lines are printed above it by that thread. The training thread only updates numbers under a lock.
/// </summary>
internal sealed class LiveProgressView : ProgressView
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(100);
    private const int BarWidth = 40;

    private readonly object _gate = new();
    private readonly IAnsiConsole _console;
    private readonly Queue<IRenderable> _lines = new();
    private readonly ManualResetEventSlim _started = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Bar _epochs = new("epoch");
    private readonly Bar _batches = new("");
    private bool _showEpochs;
    private bool _showBatches;
    private Thread? _thread;
    private Exception? _error;

    private TextWriter? _originalOut;
    private LineForwarder? _forwarder;
    private TextWriter? _installedOut;

    private LiveProgressView(IAnsiConsole console) => _console = console;

    public override bool IsLive => true;

    /// <summary>Starts the live display, or returns null when the console refuses one (another live display is running).</summary>
    /// <param name="console">Where to draw.</param>
    /// <param name="captureConsoleOut">While the display runs, route lines written to <see cref="System.Console.Out"/>
    /// (a callback's <c>Console.WriteLine</c>) above the bars instead of into them.</param>
    public static LiveProgressView? TryStart(IAnsiConsole console, bool captureConsoleOut)
    {
        var view = new LiveProgressView(console);
        view._thread = new Thread(view.Run) { IsBackground = true, Name = "FastCallbacks progress" };
        view._thread.Start();
        view._started.Wait();
        if (view._error is not null)
        {
            view._thread.Join();
            view.DisposeEvents();
            return null;
        }
        if (captureConsoleOut)
        {
            view._originalOut = System.Console.Out;
            view._forwarder = new LineForwarder(view, view._originalOut);
            System.Console.SetOut(view._forwarder);
            view._installedOut = System.Console.Out; // SetOut wraps the writer in a synchronized one
        }
        return view;
    }

    /// <summary>Queues plain text to print above the bars.</summary>
    private void Enqueue(string line)
    {
        var padding = Math.Max(0, _console.Profile.Width - 1 - line.Length);
        lock (_gate) _lines.Enqueue(new Text(line + new string(' ', padding) + "\n"));
    }

    /// <summary>
    /// Pads a line of markup with spaces to the console's width: Spectre moves the cursor back over the live
    /// region without clearing it, so a shorter line would leave the end of a bar behind.
    /// </summary>
    private string Padded(string markup)
    {
        var visible = Markup.Remove(markup).Length;
        return markup + new string(' ', Math.Max(0, _console.Profile.Width - 1 - visible));
    }

    private void Run()
    {
        try
        {
            _console.Live(Build()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Start(ctx =>
            {
                _started.Set();
                while (!_stop.Wait(RefreshInterval)) Refresh(ctx);
                Refresh(ctx);
            });
        }
        catch (Exception ex)
        {
            // Spectre refuses a second live display at a time; the callback then prints plain lines.
            _error = ex;
        }
        finally
        {
            _started.Set();
        }
    }

    private void Refresh(LiveDisplayContext ctx)
    {
        IRenderable[] pending;
        lock (_gate)
        {
            pending = [.. _lines];
            _lines.Clear();
        }
        foreach (var line in pending) _console.Write(line);
        ctx.UpdateTarget(Build());
    }

    private IRenderable Build()
    {
        lock (_gate)
        {
            var rows = new List<IRenderable>(2);
            if (_showEpochs) rows.Add(new Markup(Padded(_epochs.Markup(BarWidth))));
            if (_showBatches) rows.Add(new Markup(Padded(_batches.Markup(BarWidth))));
            return rows.Count == 0 ? Text.Empty : new Rows(rows);
        }
    }

    protected override void WriteLine(string text, bool header)
    {
        var escaped = Markup.Escape(text);
        var markup = Padded(header ? $"[bold]{escaped}[/]" : escaped);
        lock (_gate) _lines.Enqueue(new Markup(markup + "\n"));
    }

    public override void StartEpochs(int nEpoch)
    {
        lock (_gate)
        {
            _epochs.Start(nEpoch);
            _showEpochs = true;
        }
    }

    public override void Epoch(int epoch)
    {
        lock (_gate) _epochs.Update(epoch);
    }

    public override void StartPhase(string name, int total)
    {
        lock (_gate)
        {
            _batches.Label = name;
            _batches.Start(total);
            _showBatches = true;
        }
    }

    public override void Batch(int done, double? smoothLoss)
    {
        lock (_gate)
        {
            _batches.Update(done);
            _batches.Comment = smoothLoss is { } l ? l.ToString("F4", CultureInfo.InvariantCulture) : null;
        }
    }

    public override void EndPhase()
    {
        // fastai's child bars are not left on screen (leave=False).
        lock (_gate) _showBatches = false;
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        if (_forwarder is not null)
        {
            // Put standard output back unless someone replaced it meanwhile.
            if (ReferenceEquals(System.Console.Out, _installedOut)) System.Console.SetOut(_originalOut!);
            _forwarder.FlushPartialLine();
            _forwarder = null;
        }
        lock (_gate) _showBatches = false;
        _stop.Set();
        _thread?.Join();
        DisposeEvents();
    }

    private void DisposeEvents()
    {
        _started.Dispose();
        _stop.Dispose();
    }

    /// <summary>Stands in for <see cref="System.Console.Out"/> during the live display: whole lines go above the bars.</summary>
    private sealed class LineForwarder(LiveProgressView view, TextWriter original) : TextWriter(original.FormatProvider)
    {
        private readonly StringBuilder _line = new();

        public override Encoding Encoding => original.Encoding;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value == '\n')
                {
                    var text = _line.ToString().TrimEnd('\r');
                    _line.Clear();
                    view.Enqueue(text);
                }
                else
                {
                    _line.Append(value);
                }
            }
        }

        public override void Write(string? value)
        {
            if (value is null) return;
            foreach (var c in value) Write(c);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            for (var i = 0; i < count; i++) Write(buffer[index + i]);
        }

        public void FlushPartialLine()
        {
            lock (_line)
            {
                if (_line.Length == 0) return;
                view.Enqueue(_line.ToString());
                _line.Clear();
            }
        }
    }

    /// <summary>One progress bar: fastprogress's <c>[value/total elapsed&lt;remaining comment]</c>.</summary>
    private sealed class Bar(string label)
    {
        private readonly Stopwatch _watch = new();

        public string Label { get; set; } = label;
        public int Total { get; private set; }
        public int Value { get; private set; }
        public string? Comment { get; set; }

        public void Start(int total)
        {
            Total = total;
            Value = 0;
            Comment = null;
            _watch.Restart();
        }

        public void Update(int value) => Value = Math.Clamp(value, 0, Math.Max(Total, 0));

        public string Markup(int width)
        {
            var frac = Total > 0 ? (double)Value / Total : 1.0;
            var filled = (int)Math.Round(frac * width);
            var elapsed = _watch.Elapsed;
            var remaining = Value > 0 ? TimeSpan.FromTicks((long)(elapsed.Ticks / (double)Value * (Total - Value))) : TimeSpan.Zero;
            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"{Spectre.Console.Markup.Escape(Label),-5} {(int)Math.Round(frac * 100),3}% ");
            sb.Append("[green]").Append('━', filled).Append("[/]");
            sb.Append("[grey23]").Append('━', width - filled).Append("[/]");
            sb.Append(CultureInfo.InvariantCulture, $" {Value}/{Total} [[{EpochLog.FormatTime(elapsed)}<{EpochLog.FormatTime(remaining)}");
            if (Comment is not null) sb.Append(' ').Append(Comment);
            sb.Append("]]");
            return sb.ToString();
        }
    }
}

/// <summary>fastprogress's console table: names padded to 8 characters, joined by two spaces; each value padded to its column.</summary>
internal static class TableText
{
    public static string[] Columns(IReadOnlyList<string> names) =>
        [.. names.Select(n => n.Length < 8 ? n.PadRight(8) : n)];

    public static string HeaderLine(IReadOnlyList<string> columns) => string.Join("  ", columns).TrimEnd();

    public static string RowLine(IReadOnlyList<string> columns, IReadOnlyList<string> cells)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            var width = i < columns.Count ? columns[i].Length + 2 : cells[i].Length + 2;
            sb.Append(cells[i].PadRight(Math.Max(width, cells[i].Length + 1)));
        }
        return sb.ToString().TrimEnd();
    }
}
