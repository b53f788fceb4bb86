using System.Globalization;

namespace FastCallbacks;

/// <summary>
/// One row of the per-epoch table that <see cref="Recorder"/> sends to <see cref="Learner.Logger"/>:
/// fastai's <c>[epoch, train_loss, valid_loss, *metrics, time]</c>.
/// </summary>
/// <param name="Names">Column names, fastai's <c>recorder.metric_names</c> (epoch first, time last when timed).</param>
/// <param name="Epoch">The learner's epoch the row is for, 0-based (fastai's first column).</param>
/// <param name="Values">The values between epoch and time; null where fastai logs None.</param>
/// <param name="Time">Elapsed time of the epoch, or null when <see cref="Recorder.AddTime"/> is off.</param>
public sealed record EpochLog(IReadOnlyList<string> Names, int Epoch, IReadOnlyList<double?> Values, TimeSpan? Time)
{
    /// <summary>The row's cells as text: the epoch, values with 6 decimals (as fastai's progress table), the time as mm:ss.</summary>
    public IReadOnlyList<string> Cells()
    {
        var cells = new List<string>(Values.Count + 2) { Epoch.ToString(CultureInfo.InvariantCulture) };
        cells.AddRange(Values.Select(v => v is { } d ? d.ToString("F6", CultureInfo.InvariantCulture) : "None"));
        if (Time is { } t) cells.Add(FormatTime(t));
        return cells;
    }

    /// <summary>fastai's <c>format_time</c>: <c>mm:ss</c>, or <c>h:mm:ss</c> from one hour.</summary>
    /// <param name="t">A duration; its fraction of a second is dropped.</param>
    public static string FormatTime(TimeSpan t)
    {
        var s = (long)t.TotalSeconds;
        var (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
        return h > 0 ? $"{h}:{m:00}:{sec:00}" : $"{m:00}:{sec:00}";
    }

    /// <summary>fastai's printed row: <c>[0, 0.512345, 0.498765, '00:01']</c>.</summary>
    public override string ToString() =>
        "[" + string.Join(", ", Cells().Select((c, i) => Time is not null && i == Cells().Count - 1 ? $"'{c}'" : c)) + "]";
}
