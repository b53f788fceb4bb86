using System.Diagnostics;

namespace FastCallbacks.Tests.Samples;

/// <summary>samples/Quickstart's command line: <c>--help</c> is not an error; a bad option is, with the usage.</summary>
[Category("Samples")]
public class QuickstartSampleTests
{
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
        var dll = SampleAssembly("Quickstart");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
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
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The sample's assembly, built in the same configuration and framework as these tests.</summary>
    private static string SampleAssembly(string name)
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "samples", name, "bin", bin.Parent.Name, bin.Name, name + ".dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built; the test project builds it through a project reference.");
        return dll;
    }
}
