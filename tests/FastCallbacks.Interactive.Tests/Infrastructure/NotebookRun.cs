namespace FastCallbacks.Interactive.Tests;

/// <summary>
/// Once per test run: a private cache folder for the run-time native fix (so it is tested from empty and nothing is
/// left in the user's cache), and the cleanup of the local feed and of what the kernel restored.
/// </summary>
[SetUpFixture]
public sealed class NotebookRun
{
    /// <summary>The cache folder TorchNative writes its patched copy to in this run.</summary>
    public static string NativeCache { get; private set; } = "";

    private string? _previousCache;

    [OneTimeSetUp]
    public void SetUp()
    {
        NativeCache = Directory.CreateTempSubdirectory("fcb-notebook-native-").FullName;
        _previousCache = Environment.GetEnvironmentVariable("FASTCALLBACKS_NATIVE_CACHE");
        Environment.SetEnvironmentVariable("FASTCALLBACKS_NATIVE_CACHE", NativeCache);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        Environment.SetEnvironmentVariable("FASTCALLBACKS_NATIVE_CACHE", _previousCache);
        LocalFeed.Cleanup();
        if (Directory.Exists(NativeCache)) Directory.Delete(NativeCache, recursive: true);
    }
}
