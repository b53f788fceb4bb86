namespace FastCallbacks.Docs.Tests;

/// <summary>
/// Every fenced C# block of README.md, CONTRIBUTING.md, docs/**/*.md and the package README compiles as written (with
/// the generator and the analyzers, as in a console app using the package), and every block that is a program runs.
/// One test per block, named after its file and line; CONTRIBUTING.md ("Code blocks in the docs") has the markers.
/// </summary>
public class DocsTests
{
    public static IEnumerable<TestCaseData> Blocks() =>
        DocBlocks.InRepository(RepoPaths.Root).Select(b =>
        {
            var data = new TestCaseData(b).SetName(b.ToString());
            return b.Marker.Skip is { } reason ? data.Ignore($"doctest: skip={reason}") : data;
        });

    [TestCaseSource(nameof(Blocks))]
    public void Block_compiles_as_written_and_runs(DocBlock block)
    {
        var check = DocCompiler.Check(block, RepoPaths.Root);
        if (check.Ran) TestContext.Out.WriteLine(check.Output);
        Assert.That(check.Failures, Is.Empty, () => string.Join("\n", check.Failures)
            + (check.Output.Length > 0 ? "\n---- its output (last 40 lines) ----\n" + string.Join("\n", check.Output.Split('\n').TakeLast(40)) : "")
            + "\n(The markers for fragments and expected diagnostics: CONTRIBUTING.md, \"Code blocks in the docs\".)");
    }

    [Test]
    public void The_docs_have_csharp_blocks_and_programs_among_them()
    {
        var blocks = DocBlocks.InRepository(RepoPaths.Root).ToList();
        Assert.That(blocks, Has.Count.GreaterThan(20), "the Markdown sources were not found or not parsed");
        Assert.That(blocks.Where(b => b.File == "docs/getting-started.md" && b.Code.Contains("new Learner(")), Is.Not.Empty);
    }
}
