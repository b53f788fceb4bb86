namespace FastCallbacks.Tests.Samples;

/// <summary>
/// Runs samples/CustomCallbacks, built with the tests (a build-only project reference), in its own process: it checks
/// what each of its callbacks did and exits with 1 when something is off.
/// </summary>
[Category("Samples")]
public class CustomCallbacksSampleTests
{
    [Test, CancelAfter(180_000)]
    public async Task The_CustomCallbacks_sample_runs_and_passes_its_checks(CancellationToken ct)
    {
        var run = await BuiltApp.RunAsync(BuiltApp.Sample("CustomCallbacks"), [], ct);
        var output = run.Output;

        Assert.That(run.ExitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("CustomCallbacks: all checks passed"), output);
        Assert.That(output, Does.Not.Contain("FAIL"), output);
        TestContext.Out.WriteLine(string.Join('\n', output.Split('\n').Where(l => l.StartsWith("ok", StringComparison.Ordinal))));
    }
}
