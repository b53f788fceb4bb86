using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;

namespace FastCallbacks.Interactive.Tests;

/// <summary>
/// samples/Notebook runs top to bottom, headless, through the same kernel as <see cref="KernelTests"/>, from the
/// notebook's folder as Polyglot Notebooks runs it. Its package references get this run's version and local feed.
/// </summary>
[Category("Notebook")]
public class SampleNotebookTests
{
    [Test, CancelAfter(600_000)]
    public async Task The_sample_notebook_runs_top_to_bottom(CancellationToken ct)
    {
        var feed = await LocalFeed.GetAsync(ct);
        var folder = Path.Combine(LocalFeed.RepoRoot, "samples", "Notebook");
        var path = Directory.GetFiles(folder, "*.ipynb").Single();
        var document = Notebook.Parse(await File.ReadAllTextAsync(path, ct), new KernelInfoCollection { new("csharp", "C#") });
        var cells = document.Elements.Where(e => e.KernelName == "csharp").Select(e => e.Contents).ToArray();
        Assert.That(cells, Has.Length.GreaterThan(5));
        Assert.That(cells[0], Does.Contain("#r \"nuget: FastCallbacks.Interactive, *-*\""), "the first cell references the packages");

        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = folder;
        try
        {
            using var kernel = new NotebookKernel();
            var results = new List<Cell>();
            foreach (var code in cells)
            {
                var run = code.Replace("#r \"nuget: FastCallbacks.Interactive, *-*\"",
                    $"#i \"nuget: {feed.Feed}\"\n#r \"nuget: FastCallbacks.Interactive, {feed.Version}\"", StringComparison.Ordinal);
                results.Add(await kernel.RunAsync(run, ct));
            }

            var all = results.SelectMany(c => c.Events).OfType<Microsoft.DotNet.Interactive.Events.DisplayEvent>()
                .SelectMany(e => e.FormattedValues).Where(v => v.MimeType == "text/html").Select(v => v.Value).ToArray();
            // LrFind, PlotLoss and PlotSched show inline.
            var images = all.Where(h => h.Contains("<img src=\"data:image/png;base64,", StringComparison.Ordinal)).ToArray();
            Assert.That(images.Select(h => Regex.Match(h, "alt=\"([^\"]+)\"").Groups[1].Value).Distinct(),
                Is.EquivalentTo(new[] { "learning rate finder", "learning curve", "schedule" }));
            foreach (var image in images) Assert.That(KernelTests.Width(KernelTests.InlinePng(image)), Is.GreaterThanOrEqualTo(640));
            Assert.That(all.Any(h => h.Contains("SuggestedLRs(valley=", StringComparison.Ordinal)), Is.True, "LrFind's suggestion");
            // The fit's table, with at least one row, and the cell's summary.
            var table = results.Single(c => c.Code.Contains("FitOneCycle", StringComparison.Ordinal));
            Assert.That(table.Displays().Any(d => KernelTests.HtmlOf(d).Contains("<td>0</td>", StringComparison.Ordinal)), Is.True, table.Describe());
            Assert.That(table.ReturnedText, Does.Match("^(reached 98.5% accuracy after epoch \\d+|10 epochs), \\d+ training batches"));
            var learner = results.Single(c => c.Code.Contains("new Learner(", StringComparison.Ordinal));
            Assert.That(learner.StandardOutput, Does.Contain("`StopAtAccuracy` runs on run-time dispatch"), "said under the cell that adds it");
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }
}
