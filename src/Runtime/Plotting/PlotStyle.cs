using System.Reflection;
using ScottPlot;
using SkiaSharp;

namespace FastCallbacks;

/// <summary>
/// Shared ScottPlot setup for the library's PNG plots. Text is drawn with DejaVu Sans shipped inside this assembly
/// (see <c>Plotting/Fonts/DejaVuSans-LICENSE.txt</c>): ScottPlot draws no text at all, without an error, on a
/// machine with no TrueType font (slim containers, CI images), and the shipped font also makes the images the same
/// on every machine.
/// </summary>
internal static class PlotStyle
{
    /// <summary>The family name the shipped font is registered under (private, so no system font is shadowed).</summary>
    public const string FontName = "FastCallbacks DejaVu Sans";

    /// <summary>Default image size, matplotlib's 6.4 × 4.8 inches at 100 dpi.</summary>
    public const int DefaultWidth = 640, DefaultHeight = 480;

    private static readonly Lazy<SKTypeface> Typeface = new(LoadTypeface);
    private static int _registered;

    /// <summary>fastai's (matplotlib's) colour cycle.</summary>
    public static readonly Color[] Cycle =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#d62728"),
        Color.FromHex("#9467bd"), Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"),
    ];

    /// <summary>A new plot whose text uses the shipped font.</summary>
    public static Plot NewPlot()
    {
        EnsureFont();
        var plot = new Plot();
        plot.Font.Set(FontName);
        return plot;
    }

    /// <summary>Registers the shipped font with ScottPlot once per process.</summary>
    public static void EnsureFont()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        lock (Fonts.FontResolvers) Fonts.FontResolvers.Insert(0, new ShippedFontResolver());
    }

    /// <summary>Saves <paramref name="plot"/> as a PNG, creating the folder; returns the full path.</summary>
    public static string SavePng(Plot plot, string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 50);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 50);
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        plot.SavePng(full, width, height);
        return full;
    }

    /// <summary>Renders <paramref name="plot"/> as a PNG in memory.</summary>
    public static PlotImage Image(Plot plot, string title, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 50);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 50);
        return new PlotImage(title, plot.GetImageBytes(width, height, ImageFormat.Png), width, height);
    }

    /// <summary>
    /// Shows a log10 axis: data are plotted as log10 values, ticks are labelled as powers of ten with minor ticks
    /// in between (ScottPlot has no logarithmic axis of its own).
    /// </summary>
    public static void LogTicks(IAxis axis)
    {
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = v => "1e" + v.ToString("0", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Labels for linear axes, in the invariant culture.</summary>
    public static void PlainTicks(IAxis axis)
    {
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static SKTypeface LoadTypeface()
    {
        using var stream = typeof(PlotStyle).Assembly.GetManifestResourceStream("FastCallbacks.Fonts.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("The font shipped with FastCallbacks (DejaVuSans.ttf) is missing from the assembly.");
        var data = SKData.Create(stream);
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException("SkiaSharp could not read the font shipped with FastCallbacks (DejaVuSans.ttf).");
    }

    /// <summary>Answers ScottPlot's font requests for <see cref="FontName"/> with the shipped DejaVu Sans.</summary>
    private sealed class ShippedFontResolver : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) =>
            fontName == FontName ? Typeface.Value : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            fontName == FontName ? Typeface.Value : null;
    }
}
