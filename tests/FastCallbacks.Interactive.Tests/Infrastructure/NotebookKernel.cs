using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.App;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace FastCallbacks.Interactive.Tests;

/// <summary>
/// The C# kernel of a Polyglot Notebook, in this process, set up as the dotnet-interactive tool sets it up
/// (KernelBuilder): `#r "nuget: …"` restores and references packages, and the tool's own extension loader runs a
/// package's interactive-extensions/dotnet extension after the cell that restored it.
/// </summary>
internal sealed class NotebookKernel : IDisposable
{
    private readonly CompositeKernel _kernel;

    public NotebookKernel()
    {
        var csharp = new CSharpKernel().UseKernelHelpers();
        // What the tool's CSharpKernel.UseNugetDirective() does: reference the restored packages' assemblies.
        Microsoft.DotNet.Interactive.PackageManagement.KernelExtensions.UseNugetDirective(csharp, (kernel, resolved) =>
        {
            kernel.AddAssemblyReferences(resolved.SelectMany(r => r.AssemblyPaths));
            return Task.CompletedTask;
        });
        _kernel = new CompositeKernel { csharp };
        _kernel.DefaultKernelName = csharp.Name;
        _kernel.UseNuGetExtensions();
    }

    /// <summary>Runs one cell; fails the test, with the cell's errors and output, when the cell fails.</summary>
    public async Task<Cell> RunAsync(string code, CancellationToken cancellationToken)
    {
        var result = await _kernel.SendAsync(new SubmitCode(code), cancellationToken);
        var cell = new Cell(code, result.Events);
        if (cell.Failed) Assert.Fail($"The cell failed:\n{code}\n---- its events ----\n{cell.Describe()}");
        return cell;
    }

    public void Dispose() => _kernel.Dispose();
}

/// <summary>What one cell produced.</summary>
internal sealed record Cell(string Code, IReadOnlyList<KernelEvent> Events)
{
    public bool Failed => Events.Any(e => e is CommandFailed or ErrorProduced);

    /// <summary>The cell's value (its last expression), as text.</summary>
    public string ReturnedText => Returned("text/plain");

    /// <summary>The cell's value in <paramref name="mimeType"/>.</summary>
    public string Returned(string mimeType) =>
        Events.OfType<ReturnValueProduced>().SelectMany(e => e.FormattedValues).FirstOrDefault(v => v.MimeType == mimeType)?.Value
        ?? throw new AssertionException($"The cell returned no {mimeType} value:\n{Code}\n{Describe()}");

    /// <summary>Everything the cell displayed (DisplayedValueProduced and DisplayedValueUpdated), in order.</summary>
    public IEnumerable<DisplayEvent> Displays() => Events.OfType<DisplayEvent>().Where(e => e is DisplayedValueProduced or DisplayedValueUpdated);

    /// <summary>What the cell wrote to standard output.</summary>
    public string StandardOutput => string.Concat(Events.OfType<StandardOutputValueProduced>().SelectMany(e => e.FormattedValues).Select(v => v.Value));

    public string Describe() => string.Join('\n', Events.Select(e => e switch
    {
        CommandFailed f => $"CommandFailed: {f.Message}\n{f.Exception}",
        ErrorProduced x => $"ErrorProduced: {x.Message}",
        DisplayEvent d => $"{d.GetType().Name}: {Shorten(string.Join(" | ", d.FormattedValues.Select(v => $"{v.MimeType}: {v.Value}")))}",
        _ => e.GetType().Name,
    }));

    private static string Shorten(string s) => s.Length > 600 ? s[..600] + "…" : s;
}
