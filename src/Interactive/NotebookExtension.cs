using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace FastCallbacks.Interactive;

/// <summary>
/// The FastCallbacks notebook extension. The kernel loads it from the package's <c>interactive-extensions/dotnet</c>
/// folder when a cell runs <c>#r "nuget: FastCallbacks.Interactive"</c>: from then on the training table is an HTML
/// table updated in place, the plots show inline, and TorchSharp's
/// native library is made loadable before the first torch call (see <see cref="TorchNative"/>).
/// </summary>
public sealed class NotebookExtension : IKernelExtension
{
    private static readonly ConditionalWeakTable<Kernel, object> Loaded = new();

    /// <summary>Called by the kernel when the package is loaded: installs the extension (see <see cref="Load"/>).</summary>
    /// <param name="kernel">The kernel that loaded the package (the notebook's root kernel).</param>
    /// <returns>A completed task.</returns>
    public Task OnLoadAsync(Kernel kernel)
    {
        Load(kernel);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Installs the extension in <paramref name="kernel"/>; a second call for the same kernel does nothing. A kernel that
    /// does not load extensions from packages can call it from a cell:
    /// <c>FastCallbacks.Interactive.NotebookExtension.Load(Microsoft.DotNet.Interactive.Kernel.Root)</c>.
    /// </summary>
    /// <param name="kernel">The notebook's kernel.</param>
    public static void Load(Kernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (!Loaded.TryAdd(kernel, new object())) return;
        // Before any torch call: a notebook has no build, so the build-time native fix never ran. A backend package
        // referenced by a later cell is picked up after that cell.
        TryLoadNative(report: false);
        kernel.KernelEvents.Subscribe(new PackageObserver());

        ProgressCallback.CreateDisplay = HtmlProgressDisplay.ForCurrentCell;
        Formatter.Register<PlotImage>((image, writer) => writer.Write(ImageHtml(image)), HtmlFormatter.MimeType);
        Formatter.Register<LrFindResult>((result, writer) => writer.Write(LrFindHtml(result)), HtmlFormatter.MimeType);
        Formatter.Register<ProgressTable>((table, writer) => writer.Write(table.ToHtml()), HtmlFormatter.MimeType);
        Formatter.Register<ProgressTable>((table, writer) => writer.Write(table.ToText()), PlainTextFormatter.MimeType);
    }

    /// <summary>Makes TorchSharp's native library loadable; a failure is shown under the cell, as the loader said it.</summary>
    private static void TryLoadNative(bool report)
    {
        try
        {
            TorchNative.EnsureLoaded();
        }
        catch (DllNotFoundException ex)
        {
            // When the extension loads there may be no libtorch backend yet (TorchSharp-cpu in a later cell): said only
            // if it still fails after a torch package was added.
            if (report) ShowMessage(ex.Message);
        }
    }

    private static void ShowMessage(string message)
    {
        var text = "FastCallbacks: " + message;
        if (KernelInvocationContext.Current is { } context) context.DisplayAs(text, PlainTextFormatter.MimeType);
        else Console.Error.WriteLine(text);
    }

    private static string ImageHtml(PlotImage image) =>
        $"<img src=\"{image.ToDataUri()}\" alt=\"{WebUtility.HtmlEncode(image.Title)}\" width=\"{image.Width}\" height=\"{image.Height}\" />";

    /// <summary>fastai's <c>lr_find</c> output: the suggestions, and the plot under them.</summary>
    private static string LrFindHtml(LrFindResult result)
    {
        var html = $"<div><code>{WebUtility.HtmlEncode(result.ToString())}</code>";
        try
        {
            html += "<br />" + ImageHtml(result.Plot());
        }
        catch (InvalidOperationException)
        {
            // Too few points to draw (a run stopped at once): the suggestions alone.
        }
        return html + "</div>";
    }

    /// <summary>After each cell that adds packages (a libtorch backend, say), tries the native library again.</summary>
    private sealed class PackageObserver : IObserver<KernelEvent>
    {
        public void OnNext(KernelEvent value)
        {
            if (value is PackageAdded added && IsTorchPackage(added.PackageReference.PackageName)) TryLoadNative(report: true);
        }

        public void OnError(Exception error) { }

        public void OnCompleted() { }

        private static bool IsTorchPackage(string name) =>
            name.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase) || name.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase);
    }
}
