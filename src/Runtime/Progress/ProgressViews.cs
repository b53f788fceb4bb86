using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastCallbacks;

/// <summary>What <see cref="ProgressCallback"/> draws on: a live display or plain lines.</summary>
internal abstract class ProgressView : IDisposable
{
    private string[]? _columns;

    /// <summary>The table's header (fastai's <c>recorder.metric_names</c>).</summary>
    public void Header(IReadOnlyList<string> names)
    {
        _columns = TableText.Columns(names);
        WriteLine(TableText.HeaderLine(_columns), header: true);
    }

    /// <summary>One row of the table; the header is taken from the row when none was written.</summary>
    public void Row(EpochLog log)
    {
        if (_columns is null) Header(log.Names);
        WriteLine(TableText.RowLine(_columns!, log.Cells()), header: false);
    }

    protected abstract void WriteLine(string text, bool header);

    public virtual void StartEpochs(int nEpoch) { }
    public virtual void Epoch(int epoch) { }
    public virtual void StartPhase(string name, int total) { }
    public virtual void Batch(int done, double? smoothLoss) { }
    public virtual void EndPhase() { }
    public virtual void Dispose() { }
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

    private LiveProgressView(IAnsiConsole console) => _console = console;

    /// <summary>Starts the live display, or returns null when the console refuses one (another live display is running).</summary>
    public static LiveProgressView? TryStart(IAnsiConsole console)
    {
        var view = new LiveProgressView(console);
        view._thread = new Thread(view.Run) { IsBackground = true, Name = "FastCallbacks progress" };
        view._thread.Start();
        view._started.Wait();
        if (view._error is null) return view;
        view._thread.Join();
        view.DisposeEvents();
        return null;
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
            if (_showEpochs) rows.Add(new Markup(_epochs.Markup(BarWidth)));
            if (_showBatches) rows.Add(new Markup(_batches.Markup(BarWidth)));
            return rows.Count == 0 ? Text.Empty : new Rows(rows);
        }
    }

    protected override void WriteLine(string text, bool header)
    {
        var markup = header ? $"[bold]{Markup.Escape(text)}[/]" : Markup.Escape(text);
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

    public override void Dispose()
    {
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
