using System.Text.RegularExpressions;

namespace FastCallbacks.Docs.Tests;

/// <summary>
/// What the HTML comment directly above a fenced C# block says about it (CONTRIBUTING.md, "Code blocks in the docs"):
/// <c>&lt;!-- doctest: context=Name expect=FCB0002,CS0200 --&gt;</c>, or <c>&lt;!-- doctest: skip=reason --&gt;</c>.
/// </summary>
/// <param name="Context">The file under <c>Contexts/</c> the block is a fragment of, or null for a complete file.</param>
/// <param name="Expect">The diagnostic ids the block must produce (and no others); empty: none at all.</param>
/// <param name="Skip">Why the block is not compiled, or null.</param>
public sealed record DocMarker(string? Context, IReadOnlyList<string> Expect, string? Skip)
{
    /// <summary>No marker: a complete file that compiles cleanly (and runs, if it is a program).</summary>
    public static DocMarker None { get; } = new(null, [], null);

    /// <summary>The marker's text as written in the docs, for messages.</summary>
    public override string ToString() =>
        Skip is not null ? $"skip={Skip}"
        : string.Join(" ", new[] { Context is null ? null : $"context={Context}", Expect.Count == 0 ? null : $"expect={string.Join(",", Expect)}" }.OfType<string>());
}

/// <summary>One fenced C# block of a Markdown file.</summary>
/// <param name="File">The Markdown file, relative to the repository root, with forward slashes.</param>
/// <param name="FenceLine">The 1-based line of the opening fence.</param>
/// <param name="Code">The code between the fences (the fence's indentation removed).</param>
/// <param name="Marker">The doctest marker above the fence.</param>
/// <param name="Problem">Set when the Markdown around the block is wrong (a marker without a block, an unknown option, an unclosed fence).</param>
public sealed record DocBlock(string File, int FenceLine, string Code, DocMarker Marker, string? Problem = null)
{
    /// <summary>The 1-based line of the block's first line of code.</summary>
    public int FirstCodeLine => FenceLine + 1;

    /// <summary><c>docs/getting-started.md:29</c>: where the block's opening fence is.</summary>
    public override string ToString() => $"{File}:{FenceLine}";
}

/// <summary>Finds the fenced C# blocks of the docs and the markers above them.</summary>
public static partial class DocBlocks
{
    /// <summary>The Markdown the docs test reads: files, and folders searched for <c>*.md</c> recursively.</summary>
    public static readonly string[] Sources = ["README.md", "CONTRIBUTING.md", "docs", "src/Runtime/PackageReadme.md"];

    private static readonly HashSet<string> CSharpInfo = new(StringComparer.OrdinalIgnoreCase) { "csharp", "cs", "c#" };

    /// <summary>Every C# block (and every Markdown problem) of <see cref="Sources"/> under <paramref name="root"/>.</summary>
    public static IEnumerable<DocBlock> InRepository(string root)
    {
        foreach (var source in Sources)
        {
            var path = Path.Combine(root, source);
            IEnumerable<string> files = Directory.Exists(path)
                ? Directory.EnumerateFiles(path, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                : File.Exists(path) ? [path] : [];
            foreach (var file in files)
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                foreach (var block in Parse(relative, File.ReadAllText(file))) yield return block;
            }
        }
    }

    /// <summary>The C# blocks of one Markdown text (CommonMark fences of three or more backticks or tildes).</summary>
    public static IEnumerable<DocBlock> Parse(string file, string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        (int Line, string Text)? marker = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var markerMatch = MarkerLine().Match(lines[i]);
            if (markerMatch.Success)
            {
                if (marker is { } unused)
                    yield return new DocBlock(file, unused.Line, "", DocMarker.None, $"the doctest marker on line {unused.Line} is not directly above a ```csharp block");
                marker = (i + 1, markerMatch.Groups["options"].Value);
                continue;
            }

            var fence = FenceLine().Match(lines[i]);
            if (!fence.Success)
            {
                if (marker is { } stray && lines[i].Trim().Length > 0)
                {
                    yield return new DocBlock(file, stray.Line, "", DocMarker.None, $"the doctest marker on line {stray.Line} is not directly above a ```csharp block");
                    marker = null;
                }
                continue;
            }

            var indent = fence.Groups["indent"].Value.Length;
            var fenceText = fence.Groups["fence"].Value;
            var info = fence.Groups["info"].Value.Trim().Split(' ', 2)[0];
            var close = Array.FindIndex(lines, i + 1, l => IsClosingFence(l, fenceText));
            var isCSharp = CSharpInfo.Contains(info);
            var here = marker;
            marker = null;
            var fenceLine = i + 1;
            if (close < 0)
            {
                if (isCSharp) yield return new DocBlock(file, fenceLine, "", DocMarker.None, $"the ```{info} block on line {fenceLine} is never closed");
                yield break;
            }
            i = close;
            if (!isCSharp)
            {
                if (here is { } misplaced)
                    yield return new DocBlock(file, misplaced.Line, "", DocMarker.None, $"the doctest marker on line {misplaced.Line} is above a ```{info} block, not a ```csharp one");
                continue;
            }

            var code = string.Join("\n", lines[(fenceLine)..close].Select(l => Unindent(l, indent)));
            var (parsed, problem) = here is { } m ? ParseMarker(m.Text) : (DocMarker.None, null);
            yield return new DocBlock(file, fenceLine, code, parsed, problem is null ? null : $"the doctest marker on line {here!.Value.Line}: {problem}");
        }
        if (marker is { } last)
            yield return new DocBlock(file, last.Line, "", DocMarker.None, $"the doctest marker on line {last.Line} is not directly above a ```csharp block");
    }

    /// <summary>Reads <c>context=Name expect=ID,ID</c> or <c>skip=reason</c>.</summary>
    public static (DocMarker Marker, string? Problem) ParseMarker(string options)
    {
        options = options.Trim();
        if (options.StartsWith("skip=", StringComparison.Ordinal))
        {
            var reason = options["skip=".Length..].Trim();
            return reason.Length == 0 ? (DocMarker.None, "skip= needs a reason") : (new DocMarker(null, [], reason), null);
        }
        string? context = null;
        var expect = new List<string>();
        foreach (var option in options.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = option.Split('=', 2);
            switch (parts)
            {
                case ["context", { Length: > 0 } name]:
                    context = name;
                    break;
                case ["expect", { Length: > 0 } ids]:
                    expect.AddRange(ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                default:
                    return (DocMarker.None, $"unknown option '{option}' (the options are context=Name, expect=ID,ID and skip=reason)");
            }
        }
        return (new DocMarker(context, expect, null), null);
    }

    private static bool IsClosingFence(string line, string opening)
    {
        var trimmed = line.Trim();
        return trimmed.Length >= opening.Length && trimmed.All(c => c == opening[0]);
    }

    private static string Unindent(string line, int indent)
    {
        var n = 0;
        while (n < indent && n < line.Length && line[n] == ' ') n++;
        return line[n..];
    }

    [GeneratedRegex(@"^\s*<!--\s*doctest:(?<options>.*?)-->\s*$")]
    private static partial Regex MarkerLine();

    [GeneratedRegex(@"^(?<indent>\s*)(?<fence>`{3,}|~{3,})(?<info>[^`]*)$")]
    private static partial Regex FenceLine();
}
