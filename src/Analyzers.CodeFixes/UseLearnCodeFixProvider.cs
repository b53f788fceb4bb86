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

/// <summary>FCB0001 fix: writes <c>Learn.X</c> instead of the callback's own <c>X</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseLearnCodeFixProvider)), Shared]
public sealed class UseLearnCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = "FCB0001-UseLearn";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.WriteShadowsLearnerState.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(
        async (context, document, diagnostics) =>
            await FixAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!IsFixable(diagnostic) || FindTarget(root, diagnostic) is not { } target) continue;
            var name = MemberName(target);
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Write 'Learn.{name}'",
                    ct => FixAsync(context.Document, ImmutableArray.Create(diagnostic), ct),
                    EquivalenceKey),
                diagnostic);
        }
    }

    private static async Task<Document> FixAsync(Document document, ImmutableArray<Diagnostic> diagnostics, CancellationToken ct)
    {
        var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(ct).ConfigureAwait(false);
        if (root is null || model is null) return document;

        var targets = diagnostics.Where(IsFixable).Select(d => FindTarget(root, d)).OfType<ExpressionSyntax>().Distinct().ToList();
        if (targets.Count == 0) return document;
        var newRoot = root.ReplaceNodes(targets, (original, _) => Rewrite(original, model, ct));
        return document.WithSyntaxRoot(newRoot);
    }

    private static bool IsFixable(Diagnostic diagnostic) =>
        diagnostic.Properties.ContainsKey(LearnerStateWriteAnalyzer.FixableProperty);

    private static ExpressionSyntax? FindTarget(SyntaxNode? root, Diagnostic diagnostic)
    {
        var node = root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        return node switch
        {
            IdentifierNameSyntax identifier when identifier.Parent is not MemberAccessExpressionSyntax { Name: var n } || n != identifier => identifier,
            IdentifierNameSyntax { Parent: MemberAccessExpressionSyntax access } => access,
            MemberAccessExpressionSyntax access => access,
            _ => null,
        };
    }

    private static string MemberName(ExpressionSyntax target) => target switch
    {
        MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
        IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
        _ => "",
    };

    private static ExpressionSyntax Rewrite(ExpressionSyntax original, SemanticModel model, CancellationToken ct)
    {
        var name = MemberName(original);
        ExpressionSyntax learn = SyntaxFactory.IdentifierName("Learn");
        if (NeedsNullForgiving(original, model, ct))
            learn = SyntaxFactory.PostfixUnaryExpression(SyntaxKind.SuppressNullableWarningExpression, learn);

        var access = SyntaxFactory.MemberAccessExpression(
            SyntaxKind.SimpleMemberAccessExpression, learn, SyntaxFactory.IdentifierName(name));
        return access.WithTriviaFrom(original);
    }

    /// <summary>
    /// <c>Learn</c> is declared nullable (it is null while the callback is detached). Where nullable warnings are
    /// on, <c>Learn.X = …</c> would warn (CS8602), so the fix writes <c>Learn!.X</c> there: handlers run only
    /// while the callback is attached.
    /// </summary>
    private static bool NeedsNullForgiving(SyntaxNode at, SemanticModel model, CancellationToken ct)
    {
        if ((model.GetNullableContext(at.SpanStart) & NullableContext.WarningsEnabled) == 0) return false;
        var learn = model.LookupSymbols(at.SpanStart, name: "Learn").OfType<IPropertySymbol>().FirstOrDefault();
        ct.ThrowIfCancellationRequested();
        return learn is { Type.NullableAnnotation: NullableAnnotation.Annotated };
    }
}
