
namespace FastCallbacks.Tests;

/// <summary>
/// Apps the test project builds through build-only project references (the samples, the native probe), found in
/// their own output folders and run in their own processes.
/// </summary>
internal static class BuiltApp
{
    /// <summary>
    /// The output folder of the project at <paramref name="projectFolder"/> (relative to the repository), built in the
    /// same configuration and target framework as these tests.
    /// </summary>
    public static string OutputFolder(string projectFolder)
    {
        // The tests run from <repo>/tests/FastCallbacks.Tests/bin/<Configuration>/<tfm>/.
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, projectFolder, "bin", bin.Parent.Name, bin.Name);
    }

    /// <summary>The assembly <paramref name="name"/>.dll of the project at <paramref name="projectFolder"/>; fails the test when it is not built.</summary>
    public static string Assembly(string projectFolder, string name)
    {
        var dll = Path.Combine(OutputFolder(projectFolder), name + ".dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built; the test project builds it through a project reference.");
        return dll;
    }

    /// <summary>The sample <c>samples/<paramref name="folder"/></c>'s assembly <paramref name="name"/>.dll.</summary>
    public static string Sample(string name, string? folder = null) => Assembly(Path.Combine("samples", folder ?? name), name);

    /// <summary>
    /// Runs <paramref name="dll"/> with <c>dotnet exec</c> from its own folder and returns its exit code and output;
    /// the process tree is killed when <paramref name="ct"/> is cancelled.
    /// </summary>
    public static Task<ChildRun> RunAsync(string dll, IEnumerable<string> args, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null) =>
        ChildProcess.DotnetAsync(["exec", dll, .. args], Path.GetDirectoryName(dll)!, ct, environment);
}
