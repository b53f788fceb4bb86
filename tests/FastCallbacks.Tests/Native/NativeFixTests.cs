using System.Diagnostics;
using FastCallbacks.Build;

namespace FastCallbacks.Tests.Native;

/// <summary>The build step that lets TorchSharp load on Linux systems whose libstdc++ lacks GLIBCXX_3.4.32.</summary>
public class NativeFixTests
{
    private const string Version = "GLIBCXX_3.4.32";

    private static string PackagedLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(path)) Assert.Ignore($"TorchSharp's native library is not in the package cache at {path}.");
        return path;
    }

    [Test]
    public void Weaken_sets_only_the_weak_flag_of_that_requirement_and_is_idempotent()
    {
        var original = File.ReadAllBytes(PackagedLibrary());
        Assert.That(ElfVersionPatcher.Requirements(original).Select(r => r.Name), Does.Contain(Version));
        Assert.That(ElfVersionPatcher.IsWeak(original, Version), Is.False, "the package's copy is never patched");

        var patched = (byte[])original.Clone();
        Assert.That(ElfVersionPatcher.Weaken(patched, Version), Is.EqualTo(PatchResult.Weakened));
        Assert.That(ElfVersionPatcher.IsWeak(patched, Version), Is.True);
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        Assert.That(changed, Has.Length.EqualTo(1), "one byte: the low byte of vna_flags");
        Assert.That(patched[changed[0]] ^ original[changed[0]], Is.EqualTo(2), "VER_FLG_WEAK");

        var again = (byte[])patched.Clone();
        Assert.That(ElfVersionPatcher.Weaken(again, Version), Is.EqualTo(PatchResult.AlreadyWeak));
        Assert.That(again, Is.EqualTo(patched));
        Assert.That(ElfVersionPatcher.Weaken(again, "GLIBCXX_9.9.99"), Is.EqualTo(PatchResult.NotRequired));
        foreach (var other in ElfVersionPatcher.Requirements(patched).Where(r => r.Name != Version))
            Assert.That(ElfVersionPatcher.IsWeak(patched, other.Name), Is.False, other.Name);
    }

    [Test]
    public void WeakenFile_replaces_the_file_keeps_its_timestamp_and_leaves_hard_links_alone()
    {
        var dir = Directory.CreateTempSubdirectory("fcb-native-");
        try
        {
            var original = Path.Combine(dir.FullName, "cache.so");
            File.Copy(PackagedLibrary(), original);
            var copy = Path.Combine(dir.FullName, "output.so");
            Process.Start("ln", [original, copy])!.WaitForExit();
            var stamp = File.GetLastWriteTimeUtc(copy);

            Assert.That(ElfVersionPatcher.WeakenFile(copy, Version), Is.EqualTo(PatchResult.Weakened));

            Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(copy), Version), Is.True);
            Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(original), Version), Is.False, "the hard-linked original is untouched");
            Assert.That(File.GetLastWriteTimeUtc(copy), Is.EqualTo(stamp));
            Assert.That(ElfVersionPatcher.WeakenFile(copy, Version), Is.EqualTo(PatchResult.AlreadyWeak));
            Assert.That(Directory.GetFiles(dir.FullName), Has.Length.EqualTo(2), "no temporary file left behind");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void Build_output_copy_is_patched_exactly_when_the_system_needs_it()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("The fix runs on Linux only.");
        var copies = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.That(copies, Is.Not.Empty);
        var needed = !ElfVersionPatcher.SystemLibStdCxxHas(Version);
        foreach (var copy in copies)
            Assert.That(ElfVersionPatcher.IsWeak(File.ReadAllBytes(copy), Version), Is.EqualTo(needed), copy);
        // And TorchSharp loads and computes here.
        Assert.That(ones(3).sum().item<float>(), Is.EqualTo(3f));
    }

    [Test]
    public void Needed_lists_the_libraries_the_shim_needs_in_order()
    {
        var needed = ElfVersionPatcher.Needed(File.ReadAllBytes(PackagedLibrary()));
        Assert.That(needed.Take(3), Is.EqualTo(new[] { "libtorch.so", "libc10.so", "libtorch_cpu.so" }));
        Assert.That(needed, Does.Contain("libstdc++.so.6"));
    }

    [Test]
    public void Not_an_elf_file_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.Requirements(new byte[100]));
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.Needed(new byte[100]));
    }
}
