using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FastCallbacks.Build;

namespace FastCallbacks;

/// <summary>
/// The run-time native fix: makes TorchSharp's native library load before TorchSharp first needs it, where no build
/// ran the build-time fix (a notebook, a script, <c>dotnet fsi</c>, an app built with
/// <c>FastCallbacksPatchLibTorchSharp=false</c>), and says what the system's loader said when it cannot.
/// </summary>
/// <remarks>
/// <para>TorchSharp 0.107's <c>libLibTorchSharp.so</c> requires libstdc++'s <c>GLIBCXX_3.4.32</c>, which Debian 12 and
/// Ubuntu 22.04 lack. On such a Linux host <see cref="EnsureLoaded"/> writes a private copy of the library with that
/// one requirement marked weak (the same edit the build makes) to a per-user cache folder,
/// <c>$FASTCALLBACKS_NATIVE_CACHE</c>, else <c>$XDG_CACHE_HOME/fastcallbacks</c>, else <c>~/.cache/fastcallbacks</c>; never
/// into the NuGet packages folder. The copy is named after the original's SHA-256, so it is reused by later runs and
/// a new TorchSharp gets its own; it is written to a temporary file and renamed into place, so processes that race
/// to write it each load a whole file. Its dependencies (libtorch) are loaded first from where TorchSharp's packages
/// put them, then the copy itself; TorchSharp then finds the library already loaded, under its own name.</para>
/// <para>The learner calls this when it is created, and the notebook extension when it loads. Code that calls
/// TorchSharp before any FastCallbacks type (a notebook's first <c>torch.randn</c>) calls it first. Elsewhere than
/// Linux it does nothing.</para>
/// </remarks>
public static class TorchNative
{
    /// <summary>The libstdc++ version that TorchSharp 0.107's native library requires.</summary>
    internal const string GlibcxxVersion = "GLIBCXX_3.4.32";

    private const string Shim = "libLibTorchSharp.so";
    private static readonly object Gate = new();
    private static volatile bool _loaded;

    private static Lazy<string?> _libraryPath = new(() => null);

    /// <summary>
    /// The <c>libLibTorchSharp.so</c> this process has loaded, once <see cref="EnsureLoaded"/> succeeded on Linux (the
    /// private patched copy, or the original when it needed no patch); otherwise null.
    /// </summary>
    public static string? LibraryPath => _libraryPath.Value;

    /// <summary>Whether <see cref="LibraryPath"/> is the private copy this class patched (and not the original).</summary>
    public static bool UsesPatchedCopy => LibraryPath?.StartsWith(CacheRoot() + Path.DirectorySeparatorChar, StringComparison.Ordinal) ?? false;

    /// <summary>
    /// Makes TorchSharp's native library loadable and loads it, patching a private copy first on Linux hosts whose
    /// libstdc++ lacks <c>GLIBCXX_3.4.32</c>. Returns at once when it is already loaded (TorchSharp ran, or an earlier
    /// call did); does nothing elsewhere than Linux. Safe to call from several threads and processes.
    /// </summary>
    /// <exception cref="DllNotFoundException">The library or one of its dependencies cannot be loaded; the message is
    /// the system loader's own (for example <c>libtorch_cpu.so: cannot open shared object file</c>) with what to do,
    /// where TorchSharp would report only that a libtorch package is missing.</exception>
    public static void EnsureLoaded()
    {
        if (_loaded || !OperatingSystem.IsLinux()) return;
        lock (Gate)
        {
            if (_loaded) return;
            // Loadable as TorchSharp loads it (TorchSharp ran first, or the build-time fix or this libstdc++ makes it
            // loadable): nothing to do, at the cost of one lookup (a learner calls this). A failed attempt loads nothing.
            if (NativeLibrary.TryLoad("LibTorchSharp", typeof(TorchSharp.torch).Assembly, null, out _))
                _libraryPath = new Lazy<string?>(() => MappedPath(Shim));
            else
                Load();
            _loaded = true;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Load()
    {
        var searched = new List<string>();
        var source = FindShim(searched) ?? throw new DllNotFoundException(
            $"TorchSharp's native library {Shim} is in none of the places it is looked for ({string.Join(", ", searched)}). " +
            "Reference TorchSharp and a libtorch backend such as TorchSharp-cpu (in a notebook: #r \"nuget: TorchSharp-cpu\").");
        var bytes = File.ReadAllBytes(source);
        var patch = !ElfVersionPatcher.SystemLibStdCxxHas(GlibcxxVersion)
            && ElfVersionPatcher.Requirements(bytes).Any(r => r.Name == GlibcxxVersion)
            && !ElfVersionPatcher.IsWeak(bytes, GlibcxxVersion);
        var library = patch ? PrivateCopy(bytes) : source;

        // The copy is not beside libtorch, so its loader would not find libtorch through $ORIGIN: load the libraries it
        // needs first, from where TorchSharp's packages put them; they then satisfy its needs by name.
        var directories = DependencyDirectories(source);
        var missing = new List<string>();
        var failed = new List<string>();
        foreach (var needed in ElfVersionPatcher.Needed(bytes))
        {
            var found = directories.Select(d => Path.Combine(d, needed)).FirstOrDefault(File.Exists);
            if (found is null)
            {
                if (needed.StartsWith("libtorch", StringComparison.Ordinal) || needed.StartsWith("libc10", StringComparison.Ordinal)) missing.Add(needed);
                continue;
            }
            try
            {
                NativeLibrary.Load(found);
            }
            catch (DllNotFoundException ex)
            {
                // Reported with the shim's own failure, which it causes.
                failed.Add($"loading {found} failed first: {LoaderText(ex.Message)}");
            }
        }
        try
        {
            NativeLibrary.Load(library);
        }
        catch (DllNotFoundException ex)
        {
            throw new DllNotFoundException(LoadFailure(library, ex.Message, failed, missing, directories), ex);
        }
        _libraryPath = new Lazy<string?>(() => library);
    }

    /// <summary>The message for a shim that did not load: the loader's words, for it and for the dependencies that failed first, then what to do.</summary>
    private static string LoadFailure(string library, string loaderMessage, List<string> failed, List<string> missing, List<string> directories)
    {
        var text = $"TorchSharp's native library {library} could not be loaded. The system's loader said: {LoaderText(loaderMessage)}";
        if (failed.Count > 0) text += $" ({string.Join("; ", failed)})";
        var hint = missing.Count > 0
            ? $"{string.Join(", ", missing)} (part of libtorch) {(missing.Count == 1 ? "is" : "are")} in none of {string.Join(", ", directories)}: reference a libtorch backend such as " +
              "TorchSharp-cpu (in a notebook: #r \"nuget: TorchSharp-cpu\", before the first torch call)."
            : "docs/notebooks.md#troubleshooting lists the usual causes.";
        return $"{text}. {hint}";
    }

    /// <summary>.NET's message wraps the loader's (dlerror) text in advice about strace; keep the loader's part.</summary>
    private static string LoaderText(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var loader = lines.Where(l => l.Contains(".so", StringComparison.Ordinal) && !l.StartsWith("Unable to load", StringComparison.Ordinal)).ToArray();
        return (loader.Length > 0 ? string.Join(" ", loader) : message.Trim()).TrimEnd('.');
    }

    /// <summary>
    /// The shim TorchSharp would load: the app's native folders first (as the runtime probes them), then beside
    /// TorchSharp.dll, then in its NuGet package (notebooks, scripts and <c>dotnet fsi</c> load TorchSharp from there).
    /// </summary>
    private static string? FindShim(List<string> searched)
    {
        var torchSharp = TorchSharpDirectory();
        var candidates = NativeSearchDirectories()
            .Append(AppContext.BaseDirectory)
            .Append(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        if (torchSharp is not null)
        {
            candidates = candidates.Append(torchSharp)
                .Append(Path.Combine(torchSharp, "runtimes", "linux-x64", "native"))
                .Append(Path.GetFullPath(Path.Combine(torchSharp, "..", "..", "runtimes", "linux-x64", "native")));
        }
        foreach (var directory in candidates.Distinct())
        {
            searched.Add(directory);
            var path = Path.Combine(directory, Shim);
            if (File.Exists(path)) return Path.GetFullPath(path);
        }
        return null;
    }

    /// <summary>
    /// Where the shim's dependencies are: its own folder (an app's output holds libtorch beside it), the app's native
    /// folders, and, for the shim of a NuGet package, the libtorch packages of the version this TorchSharp was built for.
    /// </summary>
    private static List<string> DependencyDirectories(string shim)
    {
        var directories = new List<string> { Path.GetDirectoryName(shim)!.TrimEnd(Path.DirectorySeparatorChar) };
        directories.AddRange(NativeSearchDirectories());
        // <packages>/torchsharp/<version>/runtimes/linux-x64/native/libLibTorchSharp.so
        var native = new DirectoryInfo(Path.GetDirectoryName(shim)!);
        if (native.Parent?.Parent?.Parent?.Parent is { Name: "torchsharp" } package && package.Parent is { } packages)
        {
            var version = LibTorchVersion();
            foreach (var backend in packages.EnumerateDirectories("libtorch-*").Where(d => d.Name.Contains("linux-x64", StringComparison.Ordinal)))
            {
                var versions = backend.EnumerateDirectories()
                    .OrderByDescending(d => d.Name == version)
                    .ThenByDescending(d => Version.TryParse(d.Name.Split('-')[0], out var v) ? v : new Version())
                    .Select(d => Path.Combine(d.FullName, "runtimes", "linux-x64", "native"));
                directories.AddRange(versions.Where(Directory.Exists).Take(1));
            }
        }
        return [.. directories.Distinct()];
    }

    /// <summary>The libtorch package version this TorchSharp was built against (its constant, read without running it), as NuGet names folders.</summary>
    private static string? LibTorchVersion()
    {
        // GetRawConstantValue reads the literal from metadata: torch's static constructor does not run.
        var raw = typeof(TorchSharp.torch).GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() as string;
        if (raw is null || !Version.TryParse(raw, out var v)) return null;
        return v.Revision > 0 ? v.ToString(4) : v.ToString(3);
    }

    private static string? TorchSharpDirectory()
    {
        var location = typeof(TorchSharp.torch).Assembly.Location;
        return location.Length == 0 ? null : Path.GetDirectoryName(location);
    }

    /// <summary>The folders the runtime probes for an app's native libraries (from its deps.json).</summary>
    private static IEnumerable<string> NativeSearchDirectories() =>
        (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.GetFullPath(d).TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>The full path of a loaded library whose file is named <paramref name="fileName"/>, from /proc/self/maps.</summary>
    private static string? MappedPath(string fileName)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/');
                if (slash >= 0 && line.EndsWith("/" + fileName, StringComparison.Ordinal)) return line[slash..];
            }
        }
        catch (IOException)
        {
            // No procfs: find out by loading.
        }
        return null;
    }

    /// <summary>The per-user cache folder for native copies (never the NuGet packages folder).</summary>
    internal static string CacheRoot()
    {
        var configured = Environment.GetEnvironmentVariable("FASTCALLBACKS_NATIVE_CACHE");
        if (!string.IsNullOrEmpty(configured)) return Path.GetFullPath(configured);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.GetFullPath(Path.Combine(root, "fastcallbacks", "native"));
    }

    /// <summary>
    /// The patched copy of the shim whose bytes are <paramref name="original"/>, in the cache: reused when a whole, identical one is there; otherwise
    /// written to a temporary file beside it and renamed over it (atomic, so a racing process loads one whole file or the other).
    /// </summary>
    private static string PrivateCopy(byte[] original)
    {
        var patched = (byte[])original.Clone();
        ElfVersionPatcher.Weaken(patched, GlibcxxVersion);
        var key = Convert.ToHexString(SHA256.HashData(original))[..16].ToLowerInvariant();
        var directory = Path.Combine(CacheRoot(), key);
        var nugetRoot = NuGetPackagesRoot();
        if (directory.StartsWith(nugetRoot, StringComparison.Ordinal))
            throw new InvalidOperationException(
                $"FastCallbacks will not write its patched copy of {Shim} into the NuGet packages folder ({nugetRoot}); " +
                "set FASTCALLBACKS_NATIVE_CACHE to another folder.");
        var target = Path.Combine(directory, Shim);
        if (File.Exists(target) && SameBytes(target, patched)) return target;

        Directory.CreateDirectory(directory);
        var temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temporary, patched);
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        return target;
    }

    private static bool SameBytes(string path, byte[] expected)
    {
        try
        {
            return new FileInfo(path).Length == expected.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(expected);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string NuGetPackagesRoot()
    {
        var configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        var root = !string.IsNullOrEmpty(configured)
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
    }
}
