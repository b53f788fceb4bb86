using ScottPlot;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>ShowGraphCallback</c> (order 65, training batches only): after every epoch, redraws the training
/// curve (smoothed training loss per step, validation loss per epoch) into a PNG file, with the x axis sized for
/// the whole fit, so the file can be watched while training runs. Its title says how far the fit is
/// (<c>training: epoch 2 of 5</c>).
/// </summary>
/// <remarks>Stands down during <see cref="Learner.LrFind"/> and prediction runs, as fastai's does.</remarks>
public sealed partial class ShowGraphCallback : Callback
{
    private readonly List<int> _nbBatches = [];

    /// <summary>Creates the callback.</summary>
    /// <param name="path">The PNG file; a relative path is under <see cref="Learner.Path"/>.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public ShowGraphCallback(string path = "training.png", int width = PlotStyle.DefaultWidth, int height = PlotStyle.DefaultHeight)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 50);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 50);
        FileName = path;
        Width = width;
        Height = height;
        RunValid = false;
    }

    /// <inheritdoc/>
    public override int Order => 65;

    /// <summary>The file name given to the constructor.</summary>
    public string FileName { get; }
    /// <summary>Image width in pixels.</summary>
    public int Width { get; }
    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>The file the graph is written to (after the fit began), or null.</summary>
    public string? OutputPath { get; private set; }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        var learn = Attached;
        Run = !learn.IsInferenceRun && learn.Cb<GatherPredsCallback>() is null && !learn.Cbs.Any(cb => cb is IDisablesTrackers);
        if (!Run) return;
        _nbBatches.Clear();
        OutputPath = System.IO.Path.GetFullPath(System.IO.Path.Combine(learn.Path, FileName));
    }

    [On(Event.AfterTrain)]
    private void AfterTrain() => _nbBatches.Add(Attached.TrainIter);

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        if (_nbBatches.Count == 0 || learn.Recorder is not { } rec || OutputPath is null) return;
        var losses = rec.Losses.ToArray();
        var plot = PlotStyle.NewPlot();
        var train = plot.Add.ScatterLine(Enumerable.Range(0, losses.Length).Select(i => (double)i).ToArray(), losses, PlotStyle.Cycle[0]);
        train.LegendText = "train";
        train.LineWidth = 1.5f;

        var validColumn = rec.MetricNames.ToList().IndexOf("valid_loss") - 1;
        var yMax = losses.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        if (validColumn >= 0)
        {
            var points = _nbBatches.Zip(rec.Values)
                .Where(p => validColumn < p.Second.Count && p.Second[validColumn] is not null)
                .Select(p => (X: (double)p.First, Y: p.Second[validColumn]!.Value)).ToArray();
            var valid = plot.Add.ScatterLine(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), PlotStyle.Cycle[1]);
            valid.LegendText = "valid";
            valid.LineWidth = 1.5f;
            yMax = Math.Max(yMax, points.Select(p => p.Y).Where(double.IsFinite).DefaultIfEmpty(0).Max());
        }
        // fastai's bounds: the whole fit's steps on x, 0 to the largest loss on y.
        var xMax = (learn.NEpoch - _nbBatches.Count) * _nbBatches[0] + losses.Length;
        plot.Axes.SetLimits(0, Math.Max(xMax, 1), 0, yMax > 0 ? yMax * 1.05 : 1);
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title($"training: epoch {_nbBatches.Count} of {learn.NEpoch}");
        plot.XLabel("steps");
        plot.YLabel("loss");
        PlotStyle.PlainTicks(plot.Axes.Bottom);
        PlotStyle.PlainTicks(plot.Axes.Left);
        PlotStyle.SavePng(plot, OutputPath, Width, Height);
    }
}
