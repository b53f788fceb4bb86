using System.Diagnostics;

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
        var dll = SampleAssembly("CustomCallbacks");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

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
        Assert.That(output, Does.Contain("CustomCallbacks: all checks passed"), output);
        Assert.That(output, Does.Not.Contain("FAIL"), output);
        TestContext.Out.WriteLine(string.Join('\n', output.Split('\n').Where(l => l.StartsWith("ok", StringComparison.Ordinal))));
    }

    /// <summary>The sample's assembly (in samples/<paramref name="folder"/>), built in the same configuration and framework as these tests.</summary>
    internal static string SampleAssembly(string name, string? folder = null)
    {
        // The tests run from <repo>/tests/FastCallbacks.Tests/bin/<Configuration>/<tfm>/.
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = bin.Name;
        var configuration = bin.Parent!.Name;
        var root = bin.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "samples", folder ?? name, "bin", configuration, tfm, name + ".dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built; the test project builds it through a project reference.");
        return dll;
    }
}
