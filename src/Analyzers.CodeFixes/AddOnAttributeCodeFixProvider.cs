using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;

namespace FastCallbacks.Analyzers;

/// <summary>FCB0004 fix: marks the event-named method with <c>[On(Event.X)]</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddOnAttributeCodeFixProvider)), Shared]
public sealed class AddOnAttributeCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = "FCB0004-AddOn";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.EventNamedMethodWithoutOn.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(
        async (context, document, diagnostics) =>
            await FixAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(HandlerAnalyzer.EventNameProperty, out var eventName) || eventName is null)
                continue;
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Add [On(Event.{eventName})]",
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

        var edits = diagnostics
            .Select(d => (
                Method: root.FindNode(d.Location.SourceSpan, getInnermostNodeForTie: true)
                    .AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault(),
                Event: d.Properties.TryGetValue(HandlerAnalyzer.EventNameProperty, out var e) ? e : null))
            .Where(x => x.Method is not null && x.Event is not null)
            .GroupBy(x => x.Method!)
            .ToDictionary(g => g.Key, g => g.First().Event!);
        if (edits.Count == 0) return document;

        var endOfLine = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        if (!endOfLine.IsKind(SyntaxKind.EndOfLineTrivia)) endOfLine = SyntaxFactory.LineFeed;
        var newRoot = root.ReplaceNodes(edits.Keys, (original, rewritten) => AddOn(rewritten, edits[original], endOfLine));
        // Adds `using FastCallbacks;` if the file lacks it; the code action's clean-up then simplifies the names.
        return await ImportAdder.AddImportsAsync(
            document.WithSyntaxRoot(newRoot), Simplifier.AddImportsAnnotation, cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Adds <c>[global::FastCallbacks.On(global::FastCallbacks.Event.X)]</c>, annotated so the code action's
    /// clean-up simplifies it to <c>[On(Event.X)]</c> and adds <c>using FastCallbacks;</c> when needed.
    /// </summary>
    private static MethodDeclarationSyntax AddOn(MethodDeclarationSyntax method, string eventName, SyntaxTrivia endOfLine)
    {
        var attribute = SyntaxFactory.Attribute(
            SyntaxFactory.ParseName("global::FastCallbacks.On"),
            SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(
                SyntaxFactory.AttributeArgument(SyntaxFactory.ParseExpression("global::FastCallbacks.Event." + eventName)))));

        // The method's leading trivia (blank lines, doc comment, indentation) moves in front of the new attribute;
        // what followed it gets the indentation alone.
        var leading = method.GetLeadingTrivia();
        var indentation = leading.Count > 0 && leading[leading.Count - 1].IsKind(SyntaxKind.WhitespaceTrivia)
            ? SyntaxFactory.TriviaList(leading[leading.Count - 1])
            : SyntaxFactory.TriviaList();
        var list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(attribute))
            .WithLeadingTrivia(leading)
            .WithTrailingTrivia(endOfLine)
            .WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation);

        var indented = method.WithLeadingTrivia(indentation);
        return indented.WithAttributeLists(indented.AttributeLists.Insert(0, list));
    }
}
