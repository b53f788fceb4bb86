using System.Runtime.CompilerServices;

namespace FastCallbacks.Generators.Tests.Infrastructure;

/// <summary>
/// Compares text to a checked-in <c>Snapshots/&lt;Name&gt;.verified.cs</c>. On a mismatch (or a missing file) it
/// writes <c>&lt;Name&gt;.received.cs</c> beside it and fails with the first differing lines; with
/// <c>FASTCALLBACKS_ACCEPT_SNAPSHOTS=1</c> it writes the verified file instead and passes.
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "FASTCALLBACKS_ACCEPT_SNAPSHOTS";

    public static void Match(string actual, [CallerMemberName] string name = "")
    {
        var directory = Path.Combine(ProjectDirectory(), "Snapshots");
        var verifiedPath = Path.Combine(directory, name + ".verified.cs");
        var receivedPath = Path.Combine(directory, name + ".received.cs");
        actual = Normalize(actual);
        var expected = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;

        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        var message = expected is null
            ? $"No snapshot {verifiedPath}."
            : $"Snapshot {name} differs from {verifiedPath}:\n{FirstDifference(expected, actual)}";
        Assert.Fail($"{message}\nWrote {receivedPath}. Review it and rename it, or run with {AcceptVariable}=1 to accept.\n\n{actual}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    private static string FirstDifference(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "<end of file>";
            var a = i < actualLines.Length ? actualLines[i] : "<end of file>";
            if (e != a) return $"  line {i + 1}\n  - {e}\n  + {a}";
        }
        return "  (no line differs)";
    }

    /// <summary>The test project's source folder, found by walking up from the test binaries.</summary>
    private static string ProjectDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FastCallbacks.Generators.Tests.csproj"))) return directory.FullName;
        }
        throw new InvalidOperationException("Cannot find the test project folder above " + AppContext.BaseDirectory);
    }
}
