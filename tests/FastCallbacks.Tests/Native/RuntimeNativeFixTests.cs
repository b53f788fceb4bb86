using System.Diagnostics;
using FastCallbacks.Build;

namespace FastCallbacks.Tests.Native;

/// <summary>
/// The run-time native fix (<see cref="TorchNative"/>), for code no build patched: tests/FastCallbacks.NativeProbe is an
/// app built without the build-time fix, so its output keeps TorchSharp's unpatched library, as a notebook finds it in
/// the NuGet cache. It runs in its own processes, each with its own empty cache folder.
/// </summary>
[Category("Native")]
public class RuntimeNativeFixTests
{
    private const string Version = TorchNative.GlibcxxVersion;
    private static readonly bool Needed = OperatingSystem.IsLinux() && !ElfVersionPatcher.SystemLibStdCxxHas(Version);
    private string _cache = null!;

    [SetUp]
    public void SetUp()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("The fix runs on Linux only.");
        _cache = Directory.CreateTempSubdirectory("fcb-native-cache-").FullName;
    }

    [TearDown]
    public void TearDown()
    {
        if (_cache is not null && Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    [Test]
    public void The_probe_keeps_TorchSharps_unpatched_library_so_it_tests_the_run_time_fix()
    {
        var copy = OutputLibrary(ProbeDirectory());
        Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(copy), Version), Is.False, "built with FastCallbacksPatchLibTorchSharp=false");
    }

    [Test]
    public async Task A_patched_private_copy_is_loaded_and_reused_by_the_next_run()
    {
        var probe = ProbeDirectory();
        var first = await Run(probe);
        Assert.That(first.ExitCode, Is.EqualTo(0), first.Output);
        Assert.That(first["sum"], Is.EqualTo("3"), "TorchSharp computes");
        if (!Needed)
        {
            Assert.That(first["patched"], Is.EqualTo("False"), "this libstdc++ has the version: nothing to patch");
            Assert.That(Directory.EnumerateFileSystemEntries(_cache), Is.Empty);
            return;
        }
        Assert.That(first["patched"], Is.EqualTo("True"), first.Output);
        var library = first["library"];
        Assert.That(library, Does.StartWith(_cache + Path.DirectorySeparatorChar), "the per-user cache folder");
        Assert.That(Directory.GetFiles(_cache, "*", SearchOption.AllDirectories), Is.EqualTo(new[] { library }), "one file, no temporary left");
        Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(library), Version), Is.True);
        Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(OutputLibrary(probe)), Version), Is.False, "the app's own copy is left alone");
        Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(PackagedLibrary()), Version), Is.False, "the NuGet cache is left alone");

        // A later run reuses the copy: it does not write it again (its time stamp, set here, stays).
        var marker = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(library, marker);
        var second = await Run(probe);
        Assert.That(second.ExitCode, Is.EqualTo(0), second.Output);
        Assert.That(second["library"], Is.EqualTo(library));
        Assert.That(File.GetLastWriteTimeUtc(library), Is.EqualTo(marker), "reused, not rewritten");
    }

    [Test]
    public async Task A_damaged_copy_in_the_cache_is_replaced()
    {
        if (!Needed) Assert.Ignore("This libstdc++ has the version: nothing is copied.");
        var probe = ProbeDirectory();
        var library = (await Run(probe))["library"];
        File.WriteAllBytes(library, File.ReadAllBytes(library)[..1000]); // a truncated file, as a crash mid-write would leave without the rename
        var again = await Run(probe);
        Assert.That(again.ExitCode, Is.EqualTo(0), again.Output);
        Assert.That(new FileInfo(library).Length, Is.EqualTo(new FileInfo(OutputLibrary(probe)).Length));
    }

    [Test]
    public async Task Processes_racing_on_an_empty_cache_all_load_one_whole_copy()
    {
        var probe = ProbeDirectory();
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Run(probe)));
        foreach (var run in runs) Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(runs.Select(r => r["library"]).Distinct().Count(), Is.EqualTo(1));
        if (Needed)
        {
            Assert.That(Directory.GetFiles(_cache, "*", SearchOption.AllDirectories), Has.Length.EqualTo(1), "no temporary file left behind");
            Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(runs[0]["library"]), Version), Is.True);
        }
    }

    [Test]
    public async Task A_library_that_cannot_load_is_reported_in_the_loaders_own_words()
    {
        // The probe's output without libtorch_cpu.so: hard links, so nothing is copied (the .NET host follows symbolic
        // links back to the original folder).
        var probe = ProbeDirectory();
        var broken = Path.Combine(Path.GetDirectoryName(probe)!, $"broken-{Guid.NewGuid():N}");
        try
        {
            var link = Process.Start("cp", ["-al", probe, broken])!;
            await link.WaitForExitAsync();
            Assert.That(link.ExitCode, Is.EqualTo(0), "cp -al");
            foreach (var file in Directory.GetFiles(broken, "libtorch_cpu.so", SearchOption.AllDirectories)) File.Delete(file);

            var run = await Run(broken);
            Assert.That(run.ExitCode, Is.EqualTo(3), run.Output);
            var error = run["error"];
            Assert.That(error, Does.StartWith("TorchSharp's native library "));
            Assert.That(error, Does.Contain("The system's loader said: "));
            Assert.That(error, Does.Contain("libtorch_cpu.so: cannot open shared object file: No such file or directory"), "the loader's own text");
            Assert.That(error, Does.Contain("reference a libtorch backend such as TorchSharp-cpu"));
            Assert.That(error, Does.Not.Contain("doesn't contain a reference"), "not TorchSharp's message");
        }
        finally
        {
            if (Directory.Exists(broken)) Directory.Delete(broken, recursive: true);
        }
    }

    [Test]
    public void In_a_built_app_the_library_is_found_loaded_already()
    {
        _ = ones(1).sum().item<float>(); // TorchSharp ran (with this project's build-time fix)
        TorchNative.EnsureLoaded();
        Assert.That(TorchNative.LibraryPath, Does.StartWith(AppContext.BaseDirectory));
        Assert.That(TorchNative.UsesPatchedCopy, Is.False);
    }

    private sealed record ProbeRun(int ExitCode, string Output)
    {
        public string this[string key] =>
            Output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(key + ": ", StringComparison.Ordinal))?[(key.Length + 2)..]
            ?? throw new AssertionException($"no '{key}:' line in the probe's output:\n{Output}");
    }

    private async Task<ProbeRun> Run(string directory)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var run = await BuiltApp.RunAsync(Path.Combine(directory, "FastCallbacks.NativeProbe.dll"), [], timeout.Token,
            new Dictionary<string, string> { ["FASTCALLBACKS_NATIVE_CACHE"] = _cache });
        return new ProbeRun(run.ExitCode, run.Output);
    }

    /// <summary>The probe's output folder, built with these tests in the same configuration.</summary>
    private static string ProbeDirectory() =>
        Path.GetDirectoryName(BuiltApp.Assembly(Path.Combine("tests", "FastCallbacks.NativeProbe"), "FastCallbacks.NativeProbe"))!;

    private static string OutputLibrary(string directory) =>
        Directory.GetFiles(directory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();

    private static string PackagedLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }
}
