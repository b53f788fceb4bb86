using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FastCallbacks.Analyzers;

/// <summary>
/// FCB0002 fix, and FCB0009's when a [Persist] member is not saved because its class (or one around it) is not partial:
/// adds <c>partial</c> to the callback class and to each containing type that lacks it.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFixProvider)), Shared]
public sealed class MakePartialCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = "FCB0002-MakePartial";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.HandlerClassNotPartial.Id, DiagnosticDescriptors.UnpersistableMember.Id);

    /// <summary>Whether the fix applies: every FCB0002, and the FCB0009s that say a type is not partial.</summary>
    private static bool Fixable(Diagnostic diagnostic) =>
        diagnostic.Id == DiagnosticDescriptors.HandlerClassNotPartial.Id
        || diagnostic.Properties.ContainsKey(DiagnosticDescriptors.NotPartialProperty);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(
        async (context, document, diagnostics) =>
            await FixAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!Fixable(diagnostic)) continue;
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Make partial",
                    ct => FixAsync(context.Document, ImmutableArray.Create(diagnostic), ct),
                    EquivalenceKey),
                diagnostic);
        }
        return Task.CompletedTask;
    }

    private static async Task<Document> FixAsync(Document document, ImmutableArray<Diagnostic> diagnostics, CancellationToken ct)
    {
        var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
        if (root is null) return document;

        var declarations = new HashSet<TypeDeclarationSyntax>();
        foreach (var diagnostic in diagnostics)
        {
            if (!Fixable(diagnostic)) continue;
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var declaration = node.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().FirstOrDefault();
            // The class and every type declaration around it (all in this document: a type that is not partial
            // has this one declaration).
            for (var d = declaration; d is not null; d = d.Parent as TypeDeclarationSyntax)
            {
                if (!d.Modifiers.Any(SyntaxKind.PartialKeyword)) declarations.Add(d);
            }
        }
        if (declarations.Count == 0) return document;
        var newRoot = root.ReplaceNodes(declarations, (_, rewritten) => AddPartial(rewritten));
        return document.WithSyntaxRoot(newRoot);
    }

    /// <summary>Adds <c>partial</c> as the last modifier, right before the <c>class</c>/<c>record</c> keyword, as C# requires.</summary>
    private static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax declaration)
    {
        if (declaration.Modifiers.Any(SyntaxKind.PartialKeyword)) return declaration;
        var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (declaration.Modifiers.Count == 0)
        {
            // The declaration's leading trivia (indentation, comments) sits on the keyword: move it to `partial`.
            var keyword = declaration.Keyword;
            partial = partial.WithLeadingTrivia(keyword.LeadingTrivia);
            return declaration
                .WithKeyword(keyword.WithLeadingTrivia())
                .WithModifiers(SyntaxFactory.TokenList(partial));
        }
        return declaration.WithModifiers(declaration.Modifiers.Add(partial));
    }
}
