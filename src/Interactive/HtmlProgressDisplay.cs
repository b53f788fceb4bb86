using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace FastCallbacks.Interactive;

/// <summary>
/// The progress display in a notebook, as fastai's: a bar for the epochs, one for the current phase's batches, and the
/// per-epoch table, shown once under the cell and updated in place (<see cref="DisplayedValue.Update"/>) as each epoch
/// ends, and at most twice a second while batches run.
/// </summary>
internal sealed class HtmlProgressDisplay : ProgressDisplay
{
    private static readonly TimeSpan BatchUpdates = TimeSpan.FromMilliseconds(500);
    private readonly ProgressTable _table = new();
    private readonly KernelInvocationContext _context;
    private readonly Stopwatch _sinceUpdate = Stopwatch.StartNew();
    private DisplayedValue? _shown;

    private HtmlProgressDisplay(KernelInvocationContext context) => _context = context;

    /// <summary>
    /// A display for the fit that starts now, or null (the console's plain text rows) when no notebook cell is running
    /// it: a fit on a thread of its own, or outside the kernel, has nowhere to update a display.
    /// </summary>
    public static ProgressDisplay? ForCurrentCell() =>
        KernelInvocationContext.Current is { IsComplete: false } context ? new HtmlProgressDisplay(context) : null;

    public override bool IsLive => true;

    public override void Header(IReadOnlyList<string> names)
    {
        _table.Names = [.. names];
        Show();
    }

    public override void Row(EpochLog log)
    {
        if (_table.Names.Length == 0) _table.Names = [.. log.Names];
        _table.Rows.Add([.. log.Cells()]);
        Show();
    }

    public override void StartEpochs(int nEpoch)
    {
        _table.Epochs = new ProgressTable.Bar(nEpoch);
        Show();
    }

    public override void Epoch(int epoch)
    {
        _table.Epochs?.Update(epoch);
        Show();
    }

    public override void StartPhase(string name, int total) => _table.Batches = new ProgressTable.Bar(total) { Label = name };

    public override void Batch(int done, double? smoothLoss)
    {
        if (_table.Batches is not { } bar) return;
        bar.Update(done);
        bar.Comment = smoothLoss?.ToString("F4", CultureInfo.InvariantCulture);
        if (_sinceUpdate.Elapsed >= BatchUpdates) Show();
    }

    public override void EndPhase() => _table.Batches = null;

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        _table.Batches = null;
        if (_shown is not null) Show();
    }

    private void Show()
    {
        _sinceUpdate.Restart();
        if (_shown is null) _shown = _context.Display(_table, HtmlFormatter.MimeType, PlainTextFormatter.MimeType);
        else _shown.Update(_table);
    }
}

/// <summary>What <see cref="HtmlProgressDisplay"/> shows; the extension registers its HTML and plain text formatters.</summary>
internal sealed class ProgressTable
{
    public string[] Names { get; set; } = [];
    public List<string[]> Rows { get; } = [];
    public Bar? Epochs { get; set; }
    public Bar? Batches { get; set; }

    /// <summary>fastprogress's notebook output: the bars, then a table like pandas' (class "dataframe").</summary>
    public string ToHtml()
    {
        var html = new StringBuilder("<div class=\"fastcallbacks-progress\">");
        if (Epochs is { } epochs) html.Append(epochs.ToHtml());
        if (Batches is { } batches) html.Append(batches.ToHtml());
        if (Names.Length > 0)
        {
            html.Append("<table border=\"1\" class=\"dataframe\"><thead><tr style=\"text-align: left;\">");
            foreach (var name in Names) html.Append("<th>").Append(WebUtility.HtmlEncode(name)).Append("</th>");
            html.Append("</tr></thead><tbody>");
            foreach (var row in Rows)
            {
                html.Append("<tr>");
                foreach (var cell in row) html.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
                html.Append("</tr>");
            }
            html.Append("</tbody></table>");
        }
        return html.Append("</div>").ToString();
    }

    /// <summary>The table as text, for a front end that shows no HTML.</summary>
    public string ToText()
    {
        var lines = new List<string>();
        if (Names.Length > 0) lines.Add(string.Join("  ", Names));
        lines.AddRange(Rows.Select(r => string.Join("  ", r)));
        return string.Join("\n", lines);
    }

    /// <summary>One of fastprogress's bars: <c>[value/total elapsed&lt;remaining comment]</c>.</summary>
    internal sealed class Bar(int total)
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();

        public int Total { get; } = total;
        public int Value { get; private set; }
        public string? Label { get; init; }
        public string? Comment { get; set; }

        public void Update(int value) => Value = Math.Clamp(value, 0, Math.Max(Total, 0));

        public string ToHtml()
        {
            var elapsed = _watch.Elapsed;
            var remaining = Value > 0 ? TimeSpan.FromTicks((long)(elapsed.Ticks / (double)Value * (Total - Value))) : TimeSpan.Zero;
            var percent = Total > 0 ? 100.0 * Value / Total : 100.0;
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{(Label is null ? "" : Label + " ")}{percent:F2}% [{Value}/{Total} {EpochLog.FormatTime(elapsed)}&lt;{EpochLog.FormatTime(remaining)}{(Comment is null ? "" : " " + Comment)}]");
            return $"<div><progress value=\"{Value}\" max=\"{Total}\" style=\"width:300px; height:20px; vertical-align: middle;\"></progress> {text}</div>";
        }
    }
}
