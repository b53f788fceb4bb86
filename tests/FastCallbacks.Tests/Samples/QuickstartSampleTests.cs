using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace FastCallbacks.Tests.Samples;

/// <summary>
/// Runs samples/Quickstart, built with the tests, in its own process: with the learner's defaults (fastai's Adam,
/// fastai's data defaults) and CrossEntropyLossFlat, its best model keeps at least 99% validation accuracy.
/// </summary>
[Category("Samples")]
public partial class QuickstartSampleTests
{
    [Test, CancelAfter(300_000)]
    public async Task The_Quickstart_reaches_99_percent_validation_accuracy(CancellationToken ct)
    {
        var dll = CustomCallbacksSampleTests.SampleAssembly("Quickstart");
        var outDir = Path.Combine(Path.GetTempPath(), "fastcallbacks-quickstart-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(dll)!,
            };
            foreach (var a in new[] { "exec", dll, "--out", outDir }) start.ArgumentList.Add(a);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1"; // "99.16 %", whatever the machine's culture
            using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var output = await stdout + await stderr;
            Assert.That(process.ExitCode, Is.EqualTo(0), output);
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

    [GeneratedRegex(@"validation accuracy: ([0-9.]+) %")]
    private static partial Regex AccuracyLine();
}
