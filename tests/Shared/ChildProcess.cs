using System.Diagnostics;

namespace FastCallbacks.Testing;

/// <summary>The exit code and output of a process run by <see cref="ChildProcess.DotnetAsync"/>.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="Stdout">Everything it wrote to standard output.</param>
/// <param name="Stderr">Everything it wrote to standard error.</param>
internal sealed record ChildRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Both streams, for assertion messages.</summary>
    public string Output => Stdout + Stderr;
}

/// <summary>
/// Runs the <c>dotnet</c> CLI (a build, a pack, an app by <c>dotnet exec</c>) in a child process, as the tests of several
/// projects do (one file, compiled into each test project that needs it).
/// </summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <c>dotnet</c> with <paramref name="args"/> and returns its exit code and output. It leaves no MSBuild nodes or
    /// build servers behind, and its process tree is killed when <paramref name="ct"/> is cancelled.
    /// </summary>
    /// <param name="args">The arguments after <c>dotnet</c>, each passed as it is (no shell quoting).</param>
    /// <param name="workingDirectory">The folder it runs in; null for this process's current folder.</param>
    /// <param name="ct">Cancels the wait and kills the process tree.</param>
    /// <param name="environment">Variables set for the child on top of this process's (and of the ones set here).</param>
    public static async Task<ChildRun> DotnetAsync(IEnumerable<string> args, string? workingDirectory, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;

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
        return new ChildRun(process.ExitCode, await stdout, await stderr);
    }
}
