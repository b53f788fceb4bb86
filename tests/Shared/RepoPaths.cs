namespace FastCallbacks.Testing;

/// <summary>Paths in the repository the tests run from (one file, compiled into each test project that needs it).</summary>
internal static class RepoPaths
{
    /// <summary>The repository root: the nearest folder above the test binaries holding Directory.Build.props and src/.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
