using System.Text;

namespace FastCallbacks.Interactive.Tests;

/// <summary>
/// Reads, independently of FastCallbacks (which this project does not reference), whether a library's version
/// requirement is strong, and whether this system's libstdc++ defines a version: readelf's view, in a few lines.
/// </summary>
internal static class NativeElf
{
    /// <summary>True when <paramref name="library"/> requires <paramref name="version"/> without VER_FLG_WEAK.</summary>
    public static bool RequiresStrongly(string library, string version)
    {
        var start = new System.Diagnostics.ProcessStartInfo("readelf", ["-V", "-W", library]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        // "0x0040:   Name: GLIBCXX_3.4.32  Flags: none  Version: 9"; a weak one says "Flags: WEAK".
        var line = output.Split('\n').FirstOrDefault(l => l.Contains("Name: " + version + " ", StringComparison.Ordinal) || l.Contains("Name: " + version + "\t", StringComparison.Ordinal));
        Assert.That(line, Is.Not.Null, $"readelf -V shows no requirement on {version} in {library}:\n{output}");
        return !line!.Contains("WEAK", StringComparison.Ordinal);
    }

    public static bool SystemLibStdCxxLacks(string version)
    {
        foreach (var path in new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" })
        {
            if (File.Exists(path)) return !Encoding.ASCII.GetString(File.ReadAllBytes(path)).Contains(version + "\0", StringComparison.Ordinal);
        }
        return true;
    }
}
