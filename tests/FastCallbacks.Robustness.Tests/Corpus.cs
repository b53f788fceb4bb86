using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace FastCallbacks.Robustness.Tests;

/// <summary>One source file of the repository's callbacks, with its tokens' spans (the units mutations work on).</summary>
public sealed class CorpusFile(string relativePath, string text)
{
    public string RelativePath { get; } = relativePath;
    public string Text { get; } = text;
    public IReadOnlyList<(TextSpan Span, SyntaxKind Kind)> Tokens { get; } =
        CSharpSyntaxTree.ParseText(text, RoslynHost.ParseOptions).GetRoot().DescendantTokens()
            .Where(t => !t.IsKind(SyntaxKind.EndOfFileToken))
            .Select(t => (t.Span, t.Kind())).ToArray();
}

/// <summary>
/// The repository's own callback sources: every .cs file under src/Runtime/Callbacks, and the callbacks of the
/// runtime tests: each test file that declares an [On] handler, reduced to its types with a base list (the
/// callbacks, in their fixture classes, namespaces and usings) so the mutations land on callback code rather than
/// on test bodies.
/// </summary>
public static class Corpus
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static IReadOnlyList<CorpusFile> Files { get; } = Load();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Callbacks.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Callbacks.sln above {AppContext.BaseDirectory}: the robustness tests read the repository's callback sources.");
    }

    private static IReadOnlyList<CorpusFile> Load()
    {
        var runtime = Directory.EnumerateFiles(Path.Combine(RepoRoot, "src", "Runtime", "Callbacks"), "*.cs", SearchOption.AllDirectories);
        var tests = new[] { "FastCallbacks.Tests", "FastCallbacks.TestCallbacks" }
            .SelectMany(project => Directory.EnumerateFiles(Path.Combine(RepoRoot, "tests", project), "*.cs", SearchOption.AllDirectories))
            .Where(p => !IsBuildOutput(p) && File.ReadAllText(p).Contains("[On(", StringComparison.Ordinal));
        return runtime.Select(p => (Path: p, Text: File.ReadAllText(p)))
            .Concat(tests.Select(p => (Path: p, Text: CallbacksOnly(File.ReadAllText(p)))))
            .Select(f => new CorpusFile(Path.GetRelativePath(RepoRoot, f.Path).Replace('\\', '/'), f.Text))
            .OrderBy(f => f.RelativePath, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The file with the members of types without a base list removed (their nested types stay).</summary>
    public static string CallbacksOnly(string text)
    {
        var root = CSharpSyntaxTree.ParseText(text, RoslynHost.ParseOptions).GetRoot();
        return new KeepCallbacks().Visit(root)!.ToFullString();
    }

    private sealed class KeepCallbacks : CSharpSyntaxRewriter
    {
        public override SyntaxNode? VisitClassDeclaration(ClassDeclarationSyntax node) =>
            node.BaseList is not null ? node : base.VisitClassDeclaration(node.WithMembers(
                SyntaxFactory.List(node.Members.Where(m => m is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax)))); 
    }

    private static bool IsBuildOutput(string path)
    {
        var parts = path.Replace('\\', '/').Split('/');
        return parts.Contains("obj") || parts.Contains("bin");
    }
}
