using System.Text;
using System.Threading;
using FastCallbacks.Generators.Emitting;
using FastCallbacks.Generators.Models;
using FastCallbacks.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace FastCallbacks.Generators.Baseline;

/// <summary>
/// The generator as it was before the syntactic candidate filter (issue 17): <c>CreateSyntaxProvider</c> on every
/// partial class with a base list, each bound on every run and read from its first part with a base list by the same
/// <see cref="CallbackParser"/>. Every callback class names its base in one of its parts, so this finds them all
/// without any filter. Not a <c>[Generator]</c>: the tests check that <see cref="CallbackGenerator"/> writes exactly
/// what this writes (the filter loses nothing), and the benchmarks measure it as the earlier design.
/// </summary>
internal sealed class BindEveryClassGenerator : IIncrementalGenerator
{
    private int _classesBound;

    /// <summary>How many class declarations the transform has bound so far (it runs for each one on every run).</summary>
    public int ClassesBound => Volatile.Read(ref _classesBound);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null } declaration
                    && declaration.Modifiers.Any(SyntaxKind.PartialKeyword),
                (ctx, ct) => Parse(ctx, ct))
            .Where(static model => model is not null);

        context.RegisterSourceOutput(models, static (output, model) =>
            output.AddSource(model!.Type.HintName, SourceText.From(CallbackSourceWriter.Write(model), Encoding.UTF8)));
    }

    private CallbackClassModel? Parse(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _classesBound);
        if (context.SemanticModel.GetDeclaredSymbol(context.Node, cancellationToken) is not INamedTypeSymbol type) return null;
        return IsFirstPartWithBaseList(type, context.Node, cancellationToken) ? CallbackParser.ParseCallbackClass(type, cancellationToken) : null;
    }

    private static bool IsFirstPartWithBaseList(INamedTypeSymbol type, SyntaxNode node, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax { BaseList: not null })
            {
                return reference.SyntaxTree == node.SyntaxTree && reference.Span == node.Span;
            }
        }
        return false;
    }
}
