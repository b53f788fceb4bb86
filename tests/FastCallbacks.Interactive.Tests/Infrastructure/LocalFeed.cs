namespace FastCallbacks.Interactive.Tests;

/// <summary>
/// FastCallbacks and FastCallbacks.Interactive packed once per test run into a local feed, under one version no other
/// pack has (so no copy in the NuGet cache can stand in for this build, as in tests/consumer/run.sh). Everything it
/// makes is removed afterwards (<see cref="Cleanup"/>): the work folder and this version's folders in the NuGet cache.
/// </summary>
internal static class LocalFeed
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Packed? _packed;

    /// <summary>The feed folder, the packages' version, and the folder holding both.</summary>
    public sealed record Packed(string Feed, string Version, string Work);

    /// <summary>The repository's root (where Callbacks.sln is).</summary>
    public static string RepoRoot => RepoPaths.Root;

    /// <summary>Packs the two packages the first time it is called.</summary>
    public static async Task<Packed> GetAsync(CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            return _packed ??= await PackAsync(cancellationToken);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<Packed> PackAsync(CancellationToken cancellationToken)
    {
        var version = $"0.1.0-nb.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var work = Directory.CreateTempSubdirectory("fcb-notebook-").FullName;
        var feed = Path.Combine(work, "feed");
        try
        {
            foreach (var project in new[] { "src/Runtime/FastCallbacks.csproj", "src/Interactive/FastCallbacks.Interactive.csproj" })
            {
                await Dotnet(cancellationToken, "pack", Path.Combine(RepoRoot, project), "-c", "Release", "-o", feed,
                    // One version for both packs (MinVer's own local versions differ per pack, and the extension's
                    // package depends on FastCallbacks' exact version).
                    "--artifacts-path", Path.Combine(work, "artifacts"), $"-p:MinVerVersionOverride={version}",
                    "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false");
            }
            foreach (var id in new[] { "FastCallbacks", "FastCallbacks.Interactive" })
                Assert.That(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), Is.True, $"{id}.{version}.nupkg");
        }
        catch
        {
            Directory.Delete(work, recursive: true);
            throw;
        }
        TestContext.Progress.WriteLine($"packed FastCallbacks and FastCallbacks.Interactive {version} into {feed}");
        return new Packed(feed, version, work);
    }

    /// <summary>Removes the work folder and the packages this run restored into the NuGet cache.</summary>
    public static void Cleanup()
    {
        if (_packed is not { } packed) return;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "fastcallbacks", "fastcallbacks.interactive" })
        {
            var restored = Path.Combine(packages, id, packed.Version);
            if (Directory.Exists(restored)) Directory.Delete(restored, recursive: true);
            var parent = Path.Combine(packages, id);
            if (Directory.Exists(parent) && !Directory.EnumerateFileSystemEntries(parent).Any()) Directory.Delete(parent);
        }
        if (Directory.Exists(packed.Work)) Directory.Delete(packed.Work, recursive: true);
        // The kernel's package manager (F#'s DependencyManager) keeps each restore's result, named by a hash of its
        // #r lines, under ~/.packagemanagement; those naming this run's version are of no use to anyone.
        var results = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".packagemanagement", "nuget", "Cache");
        if (Directory.Exists(results))
        {
            foreach (var file in Directory.GetFiles(results))
            {
                if (File.ReadAllText(file).Contains(packed.Version, StringComparison.Ordinal)) File.Delete(file);
            }
        }
        _packed = null;
    }

    private static async Task Dotnet(CancellationToken cancellationToken, params string[] args)
    {
        var run = await ChildProcess.DotnetAsync(args, workingDirectory: null, cancellationToken);
        if (run.ExitCode != 0)
            Assert.Fail($"dotnet {string.Join(' ', args)} failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
    }
}
