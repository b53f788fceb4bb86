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
/// Writes <c>Learn.X</c> instead of the callback's <c>X</c>: the fix of FCB0001 (the callback's own member shadows the
/// learner's) and of FCB0008 (a read-only forwarding property, <c>Xb = …</c>). It is offered on the compiler's CS0200
/// too, where that error is such a write, so the light bulb on either squiggle has it; one action fixes both.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseLearnCodeFixProvider)), Shared]
public sealed class UseLearnCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = "FCB0001-UseLearn";

    /// <summary>The compiler's "Property or indexer 'X' cannot be assigned to -- it is read only".</summary>
    internal const string ReadOnlyPropertyError = "CS0200";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.WriteShadowsLearnerState.Id,
        DiagnosticDescriptors.WriteToReadOnlyForwarder.Id,
        ReadOnlyPropertyError);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(
        async (context, document, diagnostics) =>
            await FixAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        var known = KnownTypes.TryCreate(model.Compilation);
        // FCB0008 and CS0200 sit on the same write: one action for both, not two identical ones.
        var byTarget = context.Diagnostics
            .Select(d => (Diagnostic: d, Target: FixableTarget(root, model, known, d, context.CancellationToken)))
            .Where(x => x.Target is not null)
            .GroupBy(x => x.Target!);
        foreach (var group in byTarget)
        {
            var diagnostics = group.Select(x => x.Diagnostic).ToImmutableArray();
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Write 'Learn.{MemberName(group.Key)}'",
                    ct => FixAsync(context.Document, diagnostics, ct),
                    EquivalenceKey),
                diagnostics);
        }
    }

    private static async Task<Document> FixAsync(Document document, ImmutableArray<Diagnostic> diagnostics, CancellationToken ct)
    {
        var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(ct).ConfigureAwait(false);
        if (root is null || model is null) return document;

        var known = KnownTypes.TryCreate(model.Compilation);
        var targets = diagnostics.Select(d => FixableTarget(root, model, known, d, ct)).OfType<ExpressionSyntax>().Distinct().ToList();
        if (targets.Count == 0) return document;
        var newRoot = root.ReplaceNodes(targets, (original, _) => Rewrite(original, model, ct));
        return document.WithSyntaxRoot(newRoot);
    }

    /// <summary>
    /// The write target the fix rewrites for <paramref name="diagnostic"/>, or null: an FCB0001 the analyzer marked
    /// fixable, any FCB0008, and a CS0200 only where it is such a forwarding-property write (checked here: the
    /// compiler reports CS0200 for every read-only property).
    /// </summary>
    private static ExpressionSyntax? FixableTarget(SyntaxNode root, SemanticModel model, KnownTypes? known, Diagnostic diagnostic, CancellationToken ct)
    {
        if (FindTarget(root, diagnostic) is not { } target) return null;
        switch (diagnostic.Id)
        {
            case var id when id == DiagnosticDescriptors.WriteShadowsLearnerState.Id:
                return diagnostic.Properties.ContainsKey(LearnerStateWriteAnalyzer.FixableProperty) ? target : null;
            case var id when id == DiagnosticDescriptors.WriteToReadOnlyForwarder.Id:
                return target;
            case ReadOnlyPropertyError:
                return known is not null && IsWritten(target) && ForwarderWriteAnalyzer.TryGetForwarderWrite(model, target, known, ct, out _)
                    ? target
                    : null;
            default:
                return null;
        }
    }

    /// <summary>True when <paramref name="target"/> is what an assignment, deconstruction or ++/-- writes.</summary>
    private static bool IsWritten(ExpressionSyntax target)
    {
        for (SyntaxNode? node = target.Parent; node is not null; node = node.Parent)
        {
            if (node is ArgumentSyntax or TupleExpressionSyntax) continue;
            return ForwarderWriteAnalyzer.WriteTargets(node).Contains(target);
        }
        return false;
    }

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
