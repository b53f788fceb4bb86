using System.Globalization;
using System.Text.RegularExpressions;

namespace FastCallbacks.Tests.Samples;

/// <summary>
/// Runs samples/Quickstart, built with the tests, in its own process: with the learner's defaults (fastai's Adam,
/// fastai's data defaults) and CrossEntropyLossFlat its best model keeps at least 99% validation accuracy; its
/// command line takes <c>--help</c> as no error and a bad option as one, with the usage.
/// </summary>
[Category("Samples")]
public partial class QuickstartSampleTests
{
    [Test, CancelAfter(300_000)]
    public async Task The_Quickstart_reaches_99_percent_validation_accuracy(CancellationToken ct)
    {
        var outDir = Path.Combine(Path.GetTempPath(), "fastcallbacks-quickstart-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (exitCode, stdout, stderr) = await RunAsync(ct, "--out", outDir);
            var output = stdout + stderr;
            Assert.That(exitCode, Is.EqualTo(0), output);
            var match = AccuracyLine().Match(output);
            Assert.That(match.Success, Is.True, output);
            var accuracy = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            TestContext.Out.WriteLine(match.Value);
            Assert.That(accuracy, Is.GreaterThanOrEqualTo(99.0), output);
            Assert.That(File.Exists(Path.Combine(outDir, "models", "digits.pt")), Is.True, "the best model was saved");
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task Help_prints_the_usage_and_exits_0(CancellationToken ct)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var (exitCode, stdout, stderr) = await RunAsync(ct, flag);

            Assert.That(exitCode, Is.EqualTo(0), stdout + stderr);
            Assert.That(stdout, Does.StartWith("usage: dotnet run --project samples/Quickstart"));
            Assert.That(stdout, Does.Contain("--epochs N").And.Contain("--lr X").And.Contain("--out DIR"));
            Assert.That(stderr, Is.Empty);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task A_bad_option_exits_2_with_the_problem_and_the_usage(CancellationToken ct)
    {
        var (exitCode, stdout, stderr) = await RunAsync(ct, "--epochs", "zero");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("--epochs zero: not an option or not a valid value"));
        Assert.That(stderr, Does.Contain("usage: dotnet run --project samples/Quickstart"));
        Assert.That(stdout, Is.Empty, "nothing trains");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(CancellationToken ct, params string[] args)
    {
        // "99.16 %", whatever the machine's culture.
        var run = await BuiltApp.RunAsync(BuiltApp.Sample("Quickstart"), args, ct,
            new Dictionary<string, string> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" });
        return (run.ExitCode, run.Stdout, run.Stderr);
    }

    [GeneratedRegex(@"validation accuracy: ([0-9.]+) %")]
    private static partial Regex AccuracyLine();
}
