using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Events;

namespace FastCallbacks.Interactive.Tests;

/// <summary>
/// FastCallbacks in the real notebook kernel: cells restore the packages from a local feed, define a partial callback
/// with [On] handlers (no source generator runs in a cell), and fit on the digits with the notebook extension loaded.
/// No build ran FastCallbacks' build-time native fix: the kernel loads TorchSharp from the NuGet cache.
/// </summary>
[Category("Notebook")]
public partial class KernelTests
{
    private const string Glibcxx = "GLIBCXX_3.4.32";

    [Test, CancelAfter(600_000)]
    public async Task A_notebook_fits_with_cell_callbacks_a_live_table_and_inline_plots(CancellationToken ct)
    {
        var feed = await LocalFeed.GetAsync(ct);
        using var kernel = new NotebookKernel();

        var references = await kernel.RunAsync($"""
            #i "nuget: {feed.Feed}"
            #r "nuget: FastCallbacks.Interactive, {feed.Version}"
            #r "nuget: TorchSharp-cpu, 0.107.0"
            """, ct);
        Assert.That(references.Events.OfType<KernelExtensionLoaded>().Select(e => e.KernelExtension.GetType().FullName),
            Does.Contain("FastCallbacks.Interactive.NotebookExtension"), references.Describe());

        // The build-time fix is absent: the NuGet cache holds TorchSharp's unpatched library, which this system's
        // loader refuses when its libstdc++ lacks the version; the extension loaded a patched private copy.
        var packaged = await kernel.RunAsync("""
            System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location)!, "..", "..", "runtimes", "linux-x64", "native", "libLibTorchSharp.so")
            """, ct);
        var library = Path.GetFullPath(packaged.ReturnedText);
        Assert.That(library, Does.Contain(Path.Combine(".nuget", "packages", "torchsharp")).Or.Contain(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? "\0"), "TorchSharp comes from the NuGet cache");
        Assert.That(NativeElf.RequiresStrongly(library, Glibcxx), Is.True, "the NuGet cache's copy is never patched");
        var loaded = (await kernel.RunAsync("FastCallbacks.TorchNative.LibraryPath", ct)).ReturnedText;
        if (NativeElf.SystemLibStdCxxLacks(Glibcxx))
            Assert.That(loaded, Does.StartWith(NotebookRun.NativeCache), "the patched private copy, in the per-user cache");
        else
            Assert.That(loaded, Is.EqualTo(library));

        await kernel.RunAsync(Cells.Usings, ct);
        await kernel.RunAsync(Cells.LoadDigits, ct);
        await kernel.RunAsync(Cells.HandlerCounts, ct);
        var fit = await kernel.RunAsync($$"""
            manual_seed(0);
            var (x, y) = LoadDigits(@"{{Path.Combine(LocalFeed.RepoRoot, "samples", "Quickstart", "data", "digits.csv.gz")}}");
            var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.2, seed: 42);
            var model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10));
            var counts = new HandlerCounts();
            var learn = new Learner(dls, model, nn.CrossEntropyLoss(), metrics: [Metrics.Accuracy()], cbs: [counts]);
            learn.FitOneCycle(3, lrMax: 1e-2);
            """, ct);

        // The handlers defined in the cell ran, as often as generated ones would.
        var handled = (await kernel.RunAsync("""
            $"{counts.Batches} {counts.TrainBatches} {3 * (dls.Train.Count + dls.Valid!.Count)} {3 * dls.Train.Count} {string.Join(",", counts.Seen)}"
            """, ct)).ReturnedText.Split(' ');
        Assert.That(handled[0], Is.EqualTo(handled[2]), "after_batch: every batch of 3 epochs");
        Assert.That(handled[1], Is.EqualTo(handled[3]), "training batches");
        Assert.That(int.Parse(handled[1]), Is.GreaterThan(60));
        Assert.That(handled[4], Is.EqualTo("after_epoch,after_epoch,after_epoch,after_fit"), "one method, two events, the Event parameter");

        // The learner said once, on its message line (the cell's output), why the cell's callback runs on run-time dispatch.
        var messages = fit.StandardOutput.Split('\n').Where(l => l.Contains("run-time dispatch", StringComparison.Ordinal)).ToArray();
        Assert.That(messages, Has.Length.EqualTo(1), fit.Describe());
        Assert.That(messages[0], Does.StartWith("`HandlerCounts` runs on run-time dispatch"));
        Assert.That(messages[0], Does.Contain("compiled by a notebook or script cell"));

        // The table: displayed once, then updated in place (the same display id), ending with a row per epoch.
        var tables = fit.Displays().Where(d => HtmlOf(d).Contains("fastcallbacks-progress")).ToArray();
        Assert.That(tables.OfType<DisplayedValueProduced>().Count(), Is.EqualTo(1), fit.Describe());
        Assert.That(tables.Skip(1), Is.All.InstanceOf<DisplayedValueUpdated>());
        Assert.That(tables.Length, Is.GreaterThanOrEqualTo(1 + 3), "at least one update per epoch");
        var ids = tables.Select(d => d is DisplayedValueProduced p ? p.ValueId : ((DisplayedValueUpdated)d).ValueId).Distinct().ToArray();
        Assert.That(ids, Has.Length.EqualTo(1), "updated in place");
        var html = HtmlOf(tables[^1]);
        Assert.That(html, Does.Contain("<thead><tr style=\"text-align: left;\"><th>epoch</th><th>train_loss</th><th>valid_loss</th><th>accuracy</th><th>time</th></tr></thead>"));
        var rows = Regex.Matches(html, "<tr><td>(\\d+)</td><td>([0-9.]+)</td><td>([0-9.]+)</td><td>([0-9.]+)</td><td>\\d\\d:\\d\\d</td></tr>");
        Assert.That(rows.Select(r => r.Groups[1].Value), Is.EqualTo(new[] { "0", "1", "2" }), html);
        Assert.That(double.Parse(rows[^1].Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0.85), "it learned the digits");
        Assert.That(fit.StandardOutput, Does.Not.Contain("train_loss"), "no plain text table as well");

        // The plot, inline: an <img> holding a 640x480 PNG.
        var plot = (await kernel.RunAsync("learn.Recorder!.PlotLoss()", ct)).Returned("text/html");
        var png = InlinePng(plot);
        Assert.That((Width(png), Height(png)), Is.EqualTo((640, 480)));
        Assert.That(plot, Does.Contain("alt=\"learning curve\""));
    }

    /// <summary>The bytes of the one inline PNG in <paramref name="html"/>.</summary>
    internal static byte[] InlinePng(string html)
    {
        var match = Regex.Match(html, "<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
        Assert.That(match.Success, Is.True, $"no inline PNG in: {html[..Math.Min(300, html.Length)]}");
        var png = Convert.FromBase64String(match.Groups[1].Value);
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        return png;
    }

    internal static int Width(byte[] png) => BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)); // IHDR
    internal static int Height(byte[] png) => BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));

    internal static string HtmlOf(DisplayEvent display) =>
        display.FormattedValues.FirstOrDefault(v => v.MimeType == "text/html")?.Value ?? "";
}

/// <summary>The cells a user writes, as in samples/Notebook.</summary>
internal static class Cells
{
    public const string Usings = """
        using System.Globalization;
        using System.IO;
        using System.IO.Compression;
        using FastCallbacks;
        using static TorchSharp.torch;
        """;

    public const string LoadDigits = """
        // The 8x8 digits: 64 pixel values (0..16) and the label per line of a gzipped CSV.
        (Tensor X, Tensor Y) LoadDigits(string path)
        {
            var pixels = new List<float>();
            var labels = new List<long>();
            using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
            while (reader.ReadLine() is { Length: > 0 } line)
            {
                var cells = line.Split(',');
                for (var i = 0; i < 64; i++) pixels.Add(float.Parse(cells[i], CultureInfo.InvariantCulture) / 16f);
                labels.Add(long.Parse(cells[64], CultureInfo.InvariantCulture));
            }
            return (tensor(pixels.ToArray()).reshape(labels.Count, 1, 8, 8), tensor(labels.ToArray()));
        }
        """;

    public const string HandlerCounts = """
        public partial class HandlerCounts : Callback
        {
            public int Batches { get; private set; }
            public int TrainBatches { get; private set; }
            public List<string> Seen { get; } = new();

            [On(Event.AfterBatch)]
            void Batch()
            {
                Batches++;
                if (Training) TrainBatches++;
            }

            [On(Event.AfterEpoch), On(Event.AfterFit)]
            void Saw(Event e) => Seen.Add(Events.Name(e));
        }
        """;
}
