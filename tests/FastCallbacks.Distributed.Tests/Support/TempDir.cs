namespace FastCallbacks.Distributed.Tests;

/// <summary>A fresh folder under the system's temporary folder, deleted when disposed.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "fcb-dist")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
