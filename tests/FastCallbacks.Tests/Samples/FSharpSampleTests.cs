namespace FastCallbacks.Tests.Samples;

/// <summary>
/// Runs samples/FSharp (the digits with a callback class written in F#), built with the tests, in its own process: it
/// checks its own results and exits with 1 when something is off.
/// </summary>
[Category("Samples")]
public class FSharpSampleTests
{
    [Test, CancelAfter(180_000)]
    public async Task The_FSharp_sample_trains_with_its_FSharp_callback(CancellationToken ct)
    {
        var run = await BuiltApp.RunAsync(BuiltApp.Sample("FSharpDigits", folder: "FSharp"), [], ct);
        var (output, errors) = (run.Stdout, run.Stderr);

        Assert.That(run.ExitCode, Is.EqualTo(0), output + errors);
        Assert.That(output, Does.Contain("FSharp sample: all checks passed"), output);
        Assert.That(output, Does.Match(@"epoch 0: accuracy 0\.\d{4} after \d+ training batches"), "the F# handlers ran");
        var said = output.Split('\n').Where(l => l.Contains("runs on run-time dispatch", StringComparison.Ordinal)).ToArray();
        Assert.That(said, Has.Length.EqualTo(1), "the learner said why, once");
        Assert.That(said[0], Does.StartWith("`EpochReport` runs on run-time dispatch"));
        Assert.That(said[0], Does.Contain("compiled by F# (assembly `FSharpDigits`)"));
        Assert.That(errors, Is.Empty);
    }
}
