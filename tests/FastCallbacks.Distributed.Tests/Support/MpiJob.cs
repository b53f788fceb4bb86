using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FastCallbacks.Distributed.Tests;

/// <summary>
/// An installed MPI launcher and loopback-only jobs of the test worker with it: every job runs under coreutils'
/// <c>timeout</c> (which ends the launcher's whole process group) and is killed here too if it outlives that, so no
/// mpiexec or hydra process is left behind.
/// </summary>
public sealed partial class MpiJob
{
    /// <summary>Set (CI sets it) when MPI must be there: a missing launcher fails the tests instead of skipping them.</summary>
    public const string RequireVariable = "FASTCALLBACKS_REQUIRE_MPI";

    private MpiJob(string path, bool openMpi)
    {
        Path = path;
        IsOpenMpi = openMpi;
    }

    /// <summary>The launcher.</summary>
    public string Path { get; }

    /// <summary>Open MPI's launcher (else MPICH's Hydra).</summary>
    public bool IsOpenMpi { get; }

    public override string ToString() => $"{(IsOpenMpi ? "Open MPI" : "MPICH")} ({Path})";

    /// <summary>MPICH's launcher (mpiexec.mpich, mpiexec.hydra, or an mpiexec that is Hydra), or null.</summary>
    public static MpiJob? Mpich { get; } = Find(openMpi: false);

    /// <summary>Open MPI's launcher (mpiexec.openmpi, or an mpiexec that is Open MPI's), or null.</summary>
    public static MpiJob? OpenMpi { get; } = Find(openMpi: true);

    /// <summary>The launcher the tests use (MPICH first, as CI installs it); skips the test without one, or fails it in CI.</summary>
    public static MpiJob Require()
    {
        if ((Mpich ?? OpenMpi) is { } job) return job;
        const string message = "MPI is not installed, so the multi-process tests cannot run: apt-get install mpich (CI installs it in .ci/run).";
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1") Assert.Fail(message);
        Assert.Ignore(message);
        throw new UnreachableException();
    }

    /// <summary>Starts the test worker on <paramref name="ranks"/> ranks with <paramref name="args"/> and waits at most <paramref name="timeout"/>.</summary>
    public Task<JobResult> RunAsync(int ranks, IReadOnlyList<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? env = null) =>
        RunProgramAsync(ranks, System.IO.Path.Combine(AppContext.BaseDirectory, "FastCallbacks.Distributed.Worker.dll"), args, timeout, env);

    /// <summary>Starts <paramref name="program"/> (a .NET assembly) on <paramref name="ranks"/> ranks and waits at most <paramref name="timeout"/>.</summary>
    public async Task<JobResult> RunProgramAsync(int ranks, string program, IReadOnlyList<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? env = null)
    {
        var worker = program;
        Assert.That(File.Exists(worker), Is.True, $"{worker} is not built; the test project references it.");
        var start = new ProcessStartInfo("timeout")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        // coreutils' timeout signals the launcher's process group; -k kills it 5 s later if it is still there.
        foreach (var a in new[] { "-k", "5", ((int)timeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), Path }) start.ArgumentList.Add(a);
        var environment = new Dictionary<string, string>
        {
            // Ranks busy-poll; the tiering JIT's background thread competes with them for the cores (docs/distributed.md).
            ["DOTNET_TieredCompilation"] = "0",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            // Loopback only: MPICH's UCX over shared memory, Open MPI's shared-memory transport.
            ["UCX_TLS"] = "self,sm",
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) environment[k] = v;
        foreach (var (k, v) in environment) start.Environment[k] = v;
        if (IsOpenMpi)
        {
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--tag-output", "--mca", "btl", "self,vader", "--mca", "oob_tcp_if_include", "lo" })
                start.ArgumentList.Add(a);
            foreach (var k in environment.Keys)
            {
                start.ArgumentList.Add("-x");
                start.ArgumentList.Add(k);
            }
        }
        else
        {
            foreach (var a in new[] { "-iface", "lo", "-prepend-rank" }) start.ArgumentList.Add(a);
        }
        foreach (var a in new[] { "-n", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", "exec", worker }) start.ArgumentList.Add(a);
        foreach (var a in args) start.ArgumentList.Add(a);

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("timeout did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        var ended = DateTimeOffset.UtcNow;
        clock.Stop();
        return new JobResult(process.ExitCode, Normalize(await stdout), Normalize(await stderr), clock.Elapsed, ended, string.Join(' ', start.ArgumentList));
    }

    /// <summary>Output lines prefixed the same way for both launchers: <c>[rank] text</c>.</summary>
    private static string Normalize(string text) => OpenMpiTag().Replace(text.Replace("\r\n", "\n"), "[$1] ");

    [GeneratedRegex(@"^\[\d+,(\d+)\]<std(?:out|err)>:", RegexOptions.Multiline)]
    private static partial Regex OpenMpiTag();

    private static MpiJob? Find(bool openMpi)
    {
        if (Environment.GetEnvironmentVariable("FASTCALLBACKS_MPIEXEC") is { Length: > 0 } chosen)
            return IsOpenMpiLauncher(chosen) == openMpi ? new MpiJob(chosen, openMpi) : null;
        var names = openMpi ? new[] { "mpiexec.openmpi", "mpiexec" } : ["mpiexec.mpich", "mpiexec.hydra", "mpiexec"];
        foreach (var name in names)
        {
            if (Which(name) is not { } path) continue;
            if (IsOpenMpiLauncher(path) == openMpi) return new MpiJob(path, openMpi);
        }
        return null;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator)
            .Select(dir => System.IO.Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static bool? IsOpenMpiLauncher(string path)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            if (!p.WaitForExit(10_000)) p.Kill(entireProcessTree: true);
            return text.Contains("Open MPI", StringComparison.Ordinal) || text.Contains("OpenRTE", StringComparison.Ordinal) ? true
                : text.Contains("HYDRA", StringComparison.Ordinal) ? false : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>How a job ended: its exit code, its output (lines prefixed <c>[rank]</c>), and when.</summary>
public sealed record JobResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, DateTimeOffset Ended, string Command)
{
    public string Output => Stdout + Stderr;

    /// <summary>The output lines of rank <paramref name="rank"/>, without their prefix.</summary>
    public IEnumerable<string> Lines(int rank) => Output.Split('\n')
        .Where(l => l.StartsWith($"[{rank}] ", StringComparison.Ordinal))
        .Select(l => l[($"[{rank}] ".Length)..]);

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s: {Command}\n{Output}";
}
