using ScottPlot;

namespace FastCallbacks;

public sealed partial class LrFindResult
{
    /// <summary>
    /// fastai's <c>plot_lr_find</c> as a PNG file: the smoothed loss against the learning rate on a log axis,
    /// leaving out the last <paramref name="skipEnd"/> points, with a marker and a legend entry per suggestion; title
    /// <c>learning rate finder</c>.
    /// </summary>
    /// <param name="path">The PNG file to write (its folder is created).</param>
    /// <param name="skipEnd">Points to leave out at the end (where the loss usually explodes).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="InvalidOperationException">Fewer than two points remain to draw.</exception>
    public string Plot(string path, int skipEnd = 5, int width = PlotStyle.DefaultWidth, int height = PlotStyle.DefaultHeight) =>
        PlotStyle.SavePng(LrPlot(skipEnd), path, width, height);

    /// <summary>
    /// fastai's <c>plot_lr_find</c> as an image in memory, which a notebook shows inline (with the FastCallbacks.Interactive
    /// extension, which also shows it for an <see cref="LrFindResult"/> itself): the same plot as
    /// <see cref="Plot(string, int, int, int)"/> writes to a file.
    /// </summary>
    /// <param name="skipEnd">Points to leave out at the end (where the loss usually explodes).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The PNG image.</returns>
    /// <exception cref="InvalidOperationException">Fewer than two points remain to draw.</exception>
    public PlotImage Plot(int skipEnd = 5, int width = PlotStyle.DefaultWidth, int height = PlotStyle.DefaultHeight) =>
        PlotStyle.Image(LrPlot(skipEnd), "learning rate finder", width, height);

    private ScottPlot.Plot LrPlot(int skipEnd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipEnd);
        var n = Math.Min(Lrs.Count, Losses.Count) - skipEnd;
        if (n < 2)
            throw new InvalidOperationException($"LrFindResult.Plot: {Lrs.Count} points minus skipEnd = {skipEnd} leaves too few to draw; pass a smaller skipEnd.");
        var points = Enumerable.Range(0, n).Where(i => double.IsFinite(Losses[i]) && Lrs[i] > 0).ToArray();
        var plot = PlotStyle.NewPlot();
        var curve = plot.Add.ScatterLine(points.Select(i => Math.Log10(Lrs[i])).ToArray(), points.Select(i => Losses[i]).ToArray(), PlotStyle.Cycle[0]);
        curve.LineWidth = 1.5f;
        for (var i = 0; i < Suggestions.Count; i++)
        {
            var s = Suggestions[i];
            if (!(s.PointLr > 0) || !double.IsFinite(s.PointLoss)) continue;
            var marker = plot.Add.Marker(Math.Log10(s.PointLr), s.PointLoss, MarkerShape.FilledCircle, 10, PlotStyle.Cycle[(i + 1) % PlotStyle.Cycle.Length]);
            marker.LegendText = s.Name;
        }
        if (Suggestions.Count > 0) plot.ShowLegend(Alignment.UpperLeft);
        plot.Title("learning rate finder");
        plot.XLabel("Learning Rate");
        plot.YLabel("Loss");
        PlotStyle.LogTicks(plot.Axes.Bottom);
        PlotStyle.PlainTicks(plot.Axes.Left);
        return plot;
    }
}
