using ScottPlot;

namespace FastCallbacks;

public sealed partial class Recorder
{
    /// <summary>
    /// fastai's <c>plot_loss</c> as a PNG file: the smoothed training loss against the step (skipping the first
    /// <paramref name="skipStart"/> steps) and the validation loss at the end of each epoch; title
    /// <c>learning curve</c>, axes <c>steps</c> and <c>loss</c>.
    /// </summary>
    /// <param name="path">The PNG file to write (its folder is created).</param>
    /// <param name="skipStart">Training steps to leave out at the start.</param>
    /// <param name="withValid">Also draw the validation loss of each epoch.</param>
    /// <param name="log">Logarithmic axes (fastai's <c>loglog</c>).</param>
    /// <param name="showEpochs">Dotted grey vertical lines at the end of each epoch.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written (on a distributed job's other ranks, written by rank 0 only: see <see cref="Learner.IsMainProcess"/>).</returns>
    /// <exception cref="InvalidOperationException">There are no training losses after <paramref name="skipStart"/>,
    /// or <paramref name="withValid"/> is set and the recorder logs no validation loss.</exception>
    public string PlotLoss(string path, int skipStart = 5, bool withValid = true, bool log = false, bool showEpochs = false,
        int width = PlotStyle.DefaultWidth, int height = PlotStyle.DefaultHeight) =>
        // Only the main process of a distributed job writes files.
        Learn is { IsMainProcess: false }
            ? System.IO.Path.GetFullPath(path)
            : PlotStyle.SavePng(LossPlot(skipStart, withValid, log, showEpochs), path, width, height);

    /// <summary>
    /// fastai's <c>plot_loss</c> as an image in memory, which a notebook shows inline (with the FastCallbacks.Interactive
    /// extension): the same plot as <see cref="PlotLoss(string, int, bool, bool, bool, int, int)"/> writes to a file.
    /// </summary>
    /// <param name="skipStart">Training steps to leave out at the start.</param>
    /// <param name="withValid">Also draw the validation loss of each epoch.</param>
    /// <param name="log">Logarithmic axes (fastai's <c>loglog</c>).</param>
    /// <param name="showEpochs">Dotted grey vertical lines at the end of each epoch.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The PNG image.</returns>
    /// <exception cref="InvalidOperationException">There are no training losses after <paramref name="skipStart"/>,
    /// or <paramref name="withValid"/> is set and the recorder logs no validation loss.</exception>
    public PlotImage PlotLoss(int skipStart = 5, bool withValid = true, bool log = false, bool showEpochs = false,
        int width = PlotStyle.DefaultWidth, int height = PlotStyle.DefaultHeight) =>
        PlotStyle.Image(LossPlot(skipStart, withValid, log, showEpochs), "learning curve", width, height);

    private Plot LossPlot(int skipStart, bool withValid, bool log, bool showEpochs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipStart);
        if (_losses.Count <= skipStart)
            throw new InvalidOperationException(
                $"PlotLoss: the recorder has {_losses.Count} training losses, none after skipStart = {skipStart}. Fit first, or pass a smaller skipStart.");
        var validColumn = -1;
        if (withValid)
        {
            validColumn = Array.IndexOf(_metricNames, "valid_loss") - 1;
            if (validColumn < 0)
                throw new InvalidOperationException("PlotLoss: the recorder logs no valid_loss (validMetrics: false, or no validation data); pass withValid: false.");
        }

        var plot = PlotStyle.NewPlot();
        var (steps, losses) = Points(Enumerable.Range(skipStart, _losses.Count - skipStart).Select(i => ((double)i, _losses[i])), log);
        var train = plot.Add.ScatterLine(steps, losses, PlotStyle.Cycle[0]);
        train.LegendText = "train";
        train.LineWidth = 1.5f;
        if (showEpochs)
        {
            foreach (var it in _iters.Where(i => !log || i > 0))
                plot.Add.VerticalLine(log ? Math.Log10(it) : it, 1, Colors.Gray, LinePattern.Dotted);
        }
        if (withValid)
        {
            var first = _iters.Count(i => i < skipStart);
            var (xs, ys) = Points(_iters.Zip(_values).Skip(first)
                .Where(p => validColumn < p.Second.Count && p.Second[validColumn] is not null)
                .Select(p => ((double)p.First, p.Second[validColumn]!.Value)), log);
            var valid = plot.Add.ScatterLine(xs, ys, PlotStyle.Cycle[1]);
            valid.LegendText = "valid";
            valid.LineWidth = 1.5f;
            plot.ShowLegend(Alignment.UpperRight);
        }
        plot.Title("learning curve");
        plot.XLabel("steps");
        plot.YLabel("loss");
        if (log)
        {
            PlotStyle.LogTicks(plot.Axes.Bottom);
            PlotStyle.LogTicks(plot.Axes.Left);
        }
        else
        {
            PlotStyle.PlainTicks(plot.Axes.Bottom);
            PlotStyle.PlainTicks(plot.Axes.Left);
        }
        return plot;
    }

    /// <summary>
    /// fastai's <c>plot_sched</c> as a PNG file: each scheduled hyper-parameter of the last fit (<see cref="Hps"/>:
    /// <c>lr</c>, <c>mom</c>, …) against the training step, one panel per hyper-parameter (titled <c>lr schedule</c>, …),
    /// two per row.
    /// </summary>
    /// <param name="path">The PNG file to write (its folder is created).</param>
    /// <param name="keys">The hyper-parameters to draw (default: all in <see cref="Hps"/>).</param>
    /// <param name="width">Image width in pixels (default: 640 per column).</param>
    /// <param name="height">Image height in pixels (default: 480 per row).</param>
    /// <returns>The full path of the file written (on a distributed job's other ranks, written by rank 0 only: see <see cref="Learner.IsMainProcess"/>).</returns>
    /// <exception cref="InvalidOperationException">The last fit had no <see cref="ParamScheduler"/>.</exception>
    /// <exception cref="KeyNotFoundException">A key was not scheduled.</exception>
    public string PlotSched(string path, IEnumerable<string>? keys = null, int? width = null, int? height = null)
    {
        // Only the main process of a distributed job writes files.
        if (Learn is { IsMainProcess: false }) return System.IO.Path.GetFullPath(path);
        var (multiplot, w, h) = SchedPlot(keys, width, height);
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        multiplot.SavePng(full, w, h);
        return full;
    }

    /// <summary>
    /// fastai's <c>plot_sched</c> as an image in memory, which a notebook shows inline (with the FastCallbacks.Interactive
    /// extension): the same panels as <see cref="PlotSched(string, IEnumerable{string}?, int?, int?)"/> writes to a file.
    /// </summary>
    /// <param name="keys">The hyper-parameters to draw (default: all in <see cref="Hps"/>).</param>
    /// <param name="width">Image width in pixels (default: 640 per column).</param>
    /// <param name="height">Image height in pixels (default: 480 per row).</param>
    /// <returns>The PNG image.</returns>
    /// <exception cref="InvalidOperationException">The last fit had no <see cref="ParamScheduler"/>.</exception>
    /// <exception cref="KeyNotFoundException">A key was not scheduled.</exception>
    public PlotImage PlotSched(IEnumerable<string>? keys = null, int? width = null, int? height = null)
    {
        var (multiplot, w, h) = SchedPlot(keys, width, height);
        return new PlotImage("schedule", multiplot.Render(w, h).GetImageBytes(ImageFormat.Png), w, h);
    }

    private (Multiplot Plot, int Width, int Height) SchedPlot(IEnumerable<string>? keys, int? width, int? height)
    {
        if (Hps.Count == 0)
            throw new InvalidOperationException(
                "PlotSched: the last fit scheduled no hyper-parameters. Train with FitOneCycle/FitFlatCos, or pass a ParamScheduler to Fit.");
        var names = (keys ?? Hps.Keys).ToArray();
        foreach (var k in names)
            if (!Hps.ContainsKey(k))
                throw new KeyNotFoundException($"PlotSched: `{k}` was not scheduled in the last fit; scheduled: {string.Join(", ", Hps.Keys)}.");
        if (names.Length == 0) throw new ArgumentException("PlotSched: pass at least one key.", nameof(keys));

        var rows = (names.Length + 1) / 2;
        var cols = Math.Min(2, names.Length);
        var plots = new List<Plot>();
        for (var i = 0; i < names.Length; i++)
        {
            var plot = PlotStyle.NewPlot();
            var ys = Hps[names[i]].ToArray();
            var xs = Enumerable.Range(0, ys.Length).Select(x => (double)x).ToArray();
            var line = plot.Add.ScatterLine(xs, ys, PlotStyle.Cycle[0]);
            line.LineWidth = 1.5f;
            plot.Title($"{names[i]} schedule");
            plot.XLabel("steps");
            plot.YLabel(names[i]);
            PlotStyle.PlainTicks(plot.Axes.Bottom);
            PlotStyle.PlainTicks(plot.Axes.Left);
            plots.Add(plot);
        }
        // A new Multiplot already holds one empty plot; start it from the first panel instead.
        var multiplot = new Multiplot(plots[0]);
        foreach (var plot in plots.Skip(1)) multiplot.Subplots.Add(plot);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, cols);
        return (multiplot, width ?? PlotStyle.DefaultWidth * cols, height ?? PlotStyle.DefaultHeight * rows);
    }

    /// <summary>The points to draw: non-finite values dropped, and on log axes (as matplotlib does) non-positive ones, the rest as log10.</summary>
    private static (double[] Xs, double[] Ys) Points(IEnumerable<(double X, double Y)> points, bool log)
    {
        var kept = points.Where(p => double.IsFinite(p.Y) && (!log || (p.X > 0 && p.Y > 0)))
            .Select(p => log ? (Math.Log10(p.X), Math.Log10(p.Y)) : p).ToArray();
        return ([.. kept.Select(p => p.Item1)], [.. kept.Select(p => p.Item2)]);
    }
}
