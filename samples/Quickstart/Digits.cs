using System.Globalization;
using System.IO.Compression;
using static TorchSharp.torch;

/// <summary>The 8x8 digits: 64 pixel values (0..16) and the label per line of the gzipped CSV.</summary>
internal static class Digits
{
    public static (Tensor X, Tensor Y) Load(string path)
    {
        var pixels = new List<float>();
        var labels = new List<long>();
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var cells = line.Split(',');
            if (cells.Length != 65) throw new InvalidDataException($"{path}: expected 65 values per line, got {cells.Length}.");
            for (var i = 0; i < 64; i++) pixels.Add(float.Parse(cells[i], CultureInfo.InvariantCulture) / 16f);
            labels.Add(long.Parse(cells[64], CultureInfo.InvariantCulture));
        }
        return (tensor(pixels.ToArray()).reshape(labels.Count, 1, 8, 8), tensor(labels.ToArray()));
    }
}
