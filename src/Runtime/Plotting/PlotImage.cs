namespace FastCallbacks;

/// <summary>
/// A plot rendered in memory as a PNG image: what <see cref="Recorder.PlotLoss(int, bool, bool, bool, int, int)"/>,
/// <see cref="Recorder.PlotSched(IEnumerable{string}?, int?, int?)"/> and <see cref="LrFindResult.Plot(int, int, int)"/>
/// return when given no file. A notebook with the FastCallbacks.Interactive extension shows it inline, as fastai's
/// plots show under their cell; elsewhere <see cref="Save"/> writes it to a file.
/// </summary>
public sealed class PlotImage
{
    private readonly byte[] _png;

    internal PlotImage(string title, byte[] png, int width, int height)
    {
        Title = title;
        _png = png;
        Width = width;
        Height = height;
    }

    /// <summary>What the plot shows, for example <c>learning curve</c>.</summary>
    public string Title { get; }

    /// <summary>The width in pixels.</summary>
    public int Width { get; }

    /// <summary>The height in pixels.</summary>
    public int Height { get; }

    /// <summary>The PNG file's bytes.</summary>
    public ReadOnlyMemory<byte> Png => _png;

    /// <summary>Writes the PNG to <paramref name="path"/>, creating its folder.</summary>
    /// <param name="path">The file to write.</param>
    /// <returns>The full path of the file written.</returns>
    public string Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        File.WriteAllBytes(full, _png);
        return full;
    }

    /// <summary>The image as a <c>data:image/png;base64,…</c> URI, for an HTML <c>img</c> element.</summary>
    public string ToDataUri() => "data:image/png;base64," + Convert.ToBase64String(_png);

    /// <inheritdoc/>
    public override string ToString() => $"{Title} ({Width}x{Height} PNG)";
}
