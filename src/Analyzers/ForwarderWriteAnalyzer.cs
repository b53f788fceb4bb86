using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastCallbacks.Analyzers;

/// <summary>
/// FCB0008: a callback assigns one of its read-only properties (<c>Xb = …</c>, <c>Loss = …</c>, a generated
/// <c>Callback&lt;TLearner&gt;</c> forwarder) whose name is a settable member of its learner. The compiler reports
/// CS0200 ("it is read only"), which does not say that the write goes through <c>Learn</c>; this diagnostic is reported
/// beside it, with the same code fix as FCB0001 (which is also offered on CS0200 itself).
/// </summary>
/// <remarks>
/// A diagnostic suppressor cannot suppress a compiler error, so CS0200 stays; FCB0008 explains it. Writes in
/// constructors are not reported (the callback is not attached to a learner yet), nor writes to another object's
/// property.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ForwarderWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.WriteToReadOnlyForwarder);

    private static readonly SyntaxKind[] Writes =
    {
        SyntaxKind.SimpleAssignmentExpression, SyntaxKind.AddAssignmentExpression, SyntaxKind.SubtractAssignmentExpression,
        SyntaxKind.MultiplyAssignmentExpression, SyntaxKind.DivideAssignmentExpression, SyntaxKind.ModuloAssignmentExpression,
        SyntaxKind.AndAssignmentExpression, SyntaxKind.OrAssignmentExpression, SyntaxKind.ExclusiveOrAssignmentExpression,
        SyntaxKind.LeftShiftAssignmentExpression, SyntaxKind.RightShiftAssignmentExpression, SyntaxKind.CoalesceAssignmentExpression,
        SyntaxKind.PreIncrementExpression, SyntaxKind.PreDecrementExpression, SyntaxKind.PostIncrementExpression,
        SyntaxKind.PostDecrementExpression,
    };

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownTypes.TryCreate(start.Compilation);
            if (known is null) return;
            start.RegisterSyntaxNodeAction(c => Analyze(c, known), Writes);
        });
    }

    private static void Analyze(SyntaxNodeAnalysisContext context, KnownTypes known)
    {
        foreach (var target in WriteTargets(context.Node))
        {
            if (!TryGetForwarderWrite(context.SemanticModel, target, known, context.CancellationToken, out var property)) continue;
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.WriteToReadOnlyForwarder, target.GetLocation(), property.Name, SnakeCase(property.Name)));
        }
    }

    /// <summary>The expressions <paramref name="write"/> assigns: its left side, each element of a deconstruction, or the operand of <c>++</c>/<c>--</c>.</summary>
    internal static IEnumerable<ExpressionSyntax> WriteTargets(SyntaxNode write)
    {
        switch (write)
        {
            case AssignmentExpressionSyntax { Left: TupleExpressionSyntax tuple } assignment
                when assignment.IsKind(SyntaxKind.SimpleAssignmentExpression):
                foreach (var element in TupleElements(tuple)) yield return element;
                break;
            case AssignmentExpressionSyntax assignment:
                yield return assignment.Left;
                break;
            case PrefixUnaryExpressionSyntax prefix:
                yield return prefix.Operand;
                break;
            case PostfixUnaryExpressionSyntax postfix:
                yield return postfix.Operand;
                break;
        }
    }

    private static IEnumerable<ExpressionSyntax> TupleElements(TupleExpressionSyntax tuple)
    {
        foreach (var argument in tuple.Arguments)
        {
            if (argument.Expression is TupleExpressionSyntax nested)
            {
                foreach (var element in TupleElements(nested)) yield return element;
            }
            else
            {
                yield return argument.Expression;
            }
        }
    }

    /// <summary>
    /// True when <paramref name="target"/> (<c>Xb</c>, <c>this.Xb</c>, <c>base.Xb</c>) names a read-only, non-static
    /// property of the callback class the code is in (or of a base class of it: <c>Callback</c>'s forwarders), outside
    /// a constructor, and the callback's learner type has a public settable member of that name.
    /// </summary>
    internal static bool TryGetForwarderWrite(SemanticModel model, ExpressionSyntax target, KnownTypes known, CancellationToken ct,
        out IPropertySymbol property)
    {
        property = null!;
        var named = target switch
        {
            IdentifierNameSyntax => true,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax or BaseExpressionSyntax } => true,
            _ => false,
        };
        if (!named) return false;

        var info = model.GetSymbolInfo(target, ct);
        var symbol = info.Symbol ?? (info.CandidateSymbols.Length == 1 ? info.CandidateSymbols[0] : null);
        if (symbol is not IPropertySymbol { IsStatic: false, IsIndexer: false, SetMethod: null } found) return false;
        if (!known.IsRuntimeBase(found.ContainingType) && !known.IsCallback(found.ContainingType)) return false;

        // The member the write is in: past lambdas and local functions, which run when the member runs.
        var member = model.GetEnclosingSymbol(target.SpanStart, ct);
        while (member is IMethodSymbol { MethodKind: MethodKind.LambdaMethod or MethodKind.LocalFunction })
            member = member.ContainingSymbol;
        if (member is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor }) return false;
        if (member?.ContainingType is not { } callbackClass || !known.IsCallback(callbackClass)) return false;

        if (KnownTypes.FindSettablePublicMember(known.LearnerTypeOf(callbackClass), found.Name) is null) return false;
        property = found;
        return true;
    }

    /// <summary>fastai's spelling of a member: <c>LossGrad</c> is <c>loss_grad</c>, <c>Xb</c> is <c>xb</c>.</summary>
    internal static string SnakeCase(string name)
    {
        var chars = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1])) chars.Append('_');
            else if (i > 0 && char.IsUpper(name[i]) && i + 1 < name.Length && char.IsLower(name[i + 1])) chars.Append('_');
            chars.Append(char.ToLowerInvariant(name[i]));
        }
        return chars.ToString();
    }
}
