using SkiaSharp;

namespace FastCallbacks.Tests.Library;

/// <summary>The PNG plots exist, have the requested size, draw their curves and their text.</summary>
public partial class PlotTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"fc-plot-{Guid.NewGuid():N}"));

    [TearDown]
    public void RemoveDir()
    {
        if (Environment.GetEnvironmentVariable("FASTCALLBACKS_KEEP_PLOTS") is null) Directory.Delete(_dir, recursive: true);
        else TestContext.Out.WriteLine($"plots kept in {_dir}");
    }

    private Learner Learner(int n = 128)
    {
        var learn = new Learner(TestData.RegressionDls(n: n), TestData.LinearModel(), TestData.Mse, lr: 0.05, path: _dir);
        learn.RemoveCbs<ProgressCallback>();
        return learn;
    }

    /// <summary>Pixels in a rectangle that differ from the image's corner (background) colour.</summary>
    private static int Ink(SKBitmap bmp, int x0, int y0, int x1, int y1, Func<SKColor, bool>? match = null)
    {
        var bg = bmp.GetPixel(0, 0);
        var n = 0;
        for (var y = y0; y < y1; y++)
            for (var x = x0; x < x1; x++)
            {
                var c = bmp.GetPixel(x, y);
                if (c != bg && (match is null || match(c))) n++;
            }
        return n;
    }

    /// <summary>
    /// True when the band holds text, as a title above the plot area does: ink, but no row of it inked end to end
    /// (the plot area's frame is such a row, so a plot without a title, whose frame rises into the band, fails).
    /// </summary>
    private static bool HasTitleText(SKBitmap bmp, int x0, int y0, int x1, int y1)
    {
        var rowFull = Enumerable.Range(y0, y1 - y0).Any(y => Ink(bmp, x0, y, x1, y + 1) > (x1 - x0) * 9 / 10);
        return Ink(bmp, x0, y0, x1, y1) > 100 && !rowFull;
    }

    /// <summary>matplotlib's first colour, #1f77b4, give or take antialiasing.</summary>
    private static bool Blue(SKColor c) => Math.Abs(c.Red - 0x1f) < 40 && Math.Abs(c.Green - 0x77) < 40 && Math.Abs(c.Blue - 0xb4) < 40;

    private static bool Orange(SKColor c) => c.Red > 200 && c.Green is > 90 and < 160 && c.Blue < 80;

    private static SKBitmap Decode(string path)
    {
        Assert.That(File.Exists(path), Is.True, path);
        Assert.That(File.ReadAllBytes(path).Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        return SKBitmap.Decode(path);
    }

    /// <summary>Each plot's in-memory image (what a notebook shows inline) is the PNG its file version writes, pixel for pixel.</summary>
    [Test]
    public void The_in_memory_plots_are_the_file_plots()
    {
        using var learn = Learner();
        var lrFind = learn.LrFind(numIt: 20);
        learn.FitOneCycle(2, lrMax: 0.05);
        var recorder = learn.Recorder!;
        (PlotImage Image, string File, string Title)[] plots =
        [
            (recorder.PlotLoss(skipStart: 1), recorder.PlotLoss(Path.Combine(_dir, "loss.png"), skipStart: 1), "learning curve"),
            (recorder.PlotSched(), recorder.PlotSched(Path.Combine(_dir, "sched.png")), "schedule"),
            (lrFind.Plot(skipEnd: 2), lrFind.Plot(Path.Combine(_dir, "lr.png"), skipEnd: 2), "learning rate finder"),
        ];
        foreach (var (image, file, title) in plots)
        {
            Assert.That(image.Title, Is.EqualTo(title));
            Assert.That(image.Png.Span[..8].ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
            using var fromMemory = SKBitmap.Decode(image.Png.ToArray());
            using var fromFile = Decode(file);
            Assert.That((fromMemory.Width, fromMemory.Height), Is.EqualTo((image.Width, image.Height)), title);
            Assert.That((fromMemory.Width, fromMemory.Height), Is.EqualTo((fromFile.Width, fromFile.Height)), title);
            Assert.That(fromMemory.Pixels, Is.EqualTo(fromFile.Pixels), title);
            Assert.That(image.ToDataUri(), Does.StartWith("data:image/png;base64,iVBORw0KGgo"));
            var saved = image.Save(Path.Combine(_dir, "again", title + ".png"));
            Assert.That(File.ReadAllBytes(saved), Is.EqualTo(image.Png.ToArray()));
        }
        Assert.That(plots[1].Image.Width, Is.EqualTo(1280), "two panels side by side (lr, mom)");
    }

    [Test]
    public void PlotLoss_draws_train_and_valid_curves_with_title_and_labels()
    {
        using var learn = Learner();
        learn.Fit(4);
        var path = learn.Recorder!.PlotLoss(Path.Combine(_dir, "loss.png"), showEpochs: true);
        using var bmp = Decode(path);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((640, 480)));
        var plotArea = (x0: 80, y0: 40, x1: 620, y1: 420);
        Assert.That(Ink(bmp, plotArea.x0, plotArea.y0, plotArea.x1, plotArea.y1, Blue), Is.GreaterThan(300), "the train curve");
        Assert.That(Ink(bmp, plotArea.x0, plotArea.y0, plotArea.x1, plotArea.y1, Orange), Is.GreaterThan(100), "the valid curve");
        Assert.That(HasTitleText(bmp, 200, 0, 440, 30), Is.True, "text in the title band (learning curve)");
        Assert.That(Ink(bmp, 0, 150, 30, 330), Is.GreaterThan(30), "the y label (loss)");
        Assert.That(Ink(bmp, 250, 450, 390, 480), Is.GreaterThan(30), "the x label (steps)");
    }

    [Test]
    public void PlotLoss_log_and_size_options_and_clear_errors()
    {
        using var learn = Learner();
        Assert.That(() => learn.Recorder!.PlotLoss(Path.Combine(_dir, "none.png")),
            Throws.InvalidOperationException.With.Message.Contains("Fit first"));
        learn.Fit(2);
        using var bmp = Decode(learn.Recorder!.PlotLoss(Path.Combine(_dir, "sub", "loglog.png"), skipStart: 0, log: true, width: 400, height: 300));
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((400, 300)));
        Assert.That(Ink(bmp, 50, 20, 390, 260, Blue), Is.GreaterThan(100));
    }

    [Test]
    public void LrFind_plot_has_the_curve_and_a_marker_per_suggestion()
    {
        using var learn = Learner();
        var result = learn.LrFind(numIt: 60, suggestions: [SuggestionMethod.Valley, SuggestionMethod.Minimum]);
        using var bmp = Decode(result.Plot(Path.Combine(_dir, "lr_find.png")));
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((640, 480)));
        Assert.That(Ink(bmp, 60, 10, 630, 430, Blue), Is.GreaterThan(300), "the loss curve");
        Assert.That(Ink(bmp, 60, 10, 630, 430, Orange), Is.GreaterThan(40), "the valley marker (second colour)");
        Assert.That(HasTitleText(bmp, 200, 0, 440, 32), Is.True, "the title (learning rate finder)");
    }

    [Test]
    public void ShowGraphCallback_rewrites_the_png_after_each_epoch()
    {
        using var learn = Learner();
        var graph = new ShowGraphCallback("graphs/training.png", width: 320, height: 240);
        var sizes = new List<long>();
        learn.Fit(3, cbs: [graph, new AfterGraph(() => sizes.Add(new FileInfo(graph.OutputPath!).Length))]);
        Assert.That(graph.OutputPath, Is.EqualTo(Path.Combine(_dir, "graphs", "training.png")));
        Assert.That(sizes, Has.Count.EqualTo(3).And.All.GreaterThan(0), "written after each epoch");
        using var bmp = Decode(graph.OutputPath!);
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((320, 240)));
        Assert.That(Ink(bmp, 40, 10, 310, 200, Blue), Is.GreaterThan(100));
        Assert.That(HasTitleText(bmp, 80, 0, 260, 28), Is.True, "the title (training: epoch 3 of 3)");
        Assert.That(graph.Order, Is.EqualTo(65));
        Assert.That(graph.RunValid, Is.False);
    }

    [Test]
    public void ShowGraphCallback_stands_down_during_LrFind()
    {
        using var learn = Learner();
        var graph = new ShowGraphCallback("g.png");
        learn.AddCb(graph);
        learn.LrFind(numIt: 30, suggestions: []);
        Assert.That(File.Exists(Path.Combine(_dir, "g.png")), Is.False);
        Assert.That(graph.Run, Is.True, "Run is set back after the fit");
    }

    [Test]
    public void PlotSched_draws_a_panel_per_hyperparameter()
    {
        using var learn = Learner();
        Assert.That(() => learn.Recorder!.PlotSched(Path.Combine(_dir, "s.png")), Throws.InvalidOperationException.With.Message.Contains("FitOneCycle"));
        learn.FitOneCycle(2, 0.05);
        using var bmp = Decode(learn.Recorder!.PlotSched(Path.Combine(_dir, "sched.png")));
        Assert.That((bmp.Width, bmp.Height), Is.EqualTo((1280, 480)), "lr and mom side by side");
        Assert.That(Ink(bmp, 60, 10, 630, 440, Blue), Is.GreaterThan(200), "the lr panel");
        Assert.That(Ink(bmp, 700, 10, 1270, 440, Blue), Is.GreaterThan(200), "the mom panel");
        Assert.That(HasTitleText(bmp, 250, 0, 450, 32), Is.True, "the lr panel's title (lr schedule)");
        Assert.That(HasTitleText(bmp, 880, 0, 1090, 32), Is.True, "the mom panel's title (mom schedule)");
    }

    /// <summary>Runs an action at AfterEpoch, after ShowGraphCallback (order 65).</summary>
    private sealed partial class AfterGraph(Action act) : Callback
    {
        public override int Order => 66;
        [On(Event.AfterEpoch)] private void AfterEpoch() => act();
    }
}
