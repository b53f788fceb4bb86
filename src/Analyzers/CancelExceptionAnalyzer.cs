using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace FastCallbacks.Analyzers;

/// <summary>
/// FCB0005: a cancel exception thrown directly in an <c>[On]</c> handler of an event around which the training
/// loop does not catch it (see <see cref="LoopCatchTable"/>).
/// </summary>
/// <remarks>
/// To stay free of false positives, a throw is not reported when it is inside a lambda or local function (it
/// may run elsewhere), inside a <c>try</c> that may catch it, or under a branch that tests the handler's
/// <c>Event</c> parameter (the branch may exclude the events where the exception would escape).
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CancelExceptionAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.UncaughtCancelException);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownTypes.TryCreate(start.Compilation);
            if (known is null) return;
            start.RegisterOperationAction(c => AnalyzeThrow(c, known), OperationKind.Throw);
        });
    }

    private static void AnalyzeThrow(OperationAnalysisContext context, KnownTypes known)
    {
        var @throw = (IThrowOperation)context.Operation;
        if (@throw.Exception is null) return; // `throw;` rethrows what was caught
        var thrown = @throw.Exception;
        while (thrown is IConversionOperation { IsImplicit: true } conversion) thrown = conversion.Operand;
        if (!known.TryGetCancelKind(thrown.Type, out var kind)) return;

        if (context.ContainingSymbol is not IMethodSymbol handler || !known.IsCallback(handler.ContainingType)) return;
        var ons = known.OnAttributes(handler);
        if (ons.IsEmpty) return;

        var eventParameter = handler.Parameters.Length == 1 && known.IsEventParameter(handler.Parameters[0])
            ? handler.Parameters[0]
            : null;
        if (!IsThrownFromHandlerBody(@throw, thrown.Type!, eventParameter, context.Compilation)) return;

        var escaping = new SortedSet<LoopEvent>();
        foreach (var on in ons)
        {
            if (known.TryGetEvent(on, out var e, out _) && !LoopCatchTable.IsCaught(kind, e)) escaping.Add(e);
        }
        if (escaping.Count == 0) return;

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.UncaughtCancelException,
            thrown.Syntax.GetLocation(),
            LoopCatchTable.ExceptionName(kind),
            string.Join(", ", escaping.Select(e => e.ToString())),
            handler.ContainingType.Name,
            LoopCatchTable.Describe(kind)));
    }

    /// <summary>
    /// Walks from the throw up to the handler's body. False when the throw sits in a lambda or local function,
    /// in a try block whose catch may catch it, or under a condition that reads the Event parameter.
    /// </summary>
    private static bool IsThrownFromHandlerBody(
        IThrowOperation @throw, ITypeSymbol thrownType, IParameterSymbol? eventParameter, Compilation compilation)
    {
        IOperation child = @throw;
        for (var parent = @throw.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            switch (parent)
            {
                case IAnonymousFunctionOperation or ILocalFunctionOperation:
                    return false;
                case ITryOperation @try when @try.Body == child && @try.Catches.Any(c => MayCatch(c, thrownType, compilation)):
                    return false;
                case IConditionalOperation conditional when child != conditional.Condition
                    && ReadsParameter(conditional.Condition, eventParameter):
                    return false;
                case ISwitchOperation @switch when ReadsParameter(@switch.Value, eventParameter):
                    return false;
                case ISwitchExpressionOperation switchExpression when child != switchExpression.Value
                    && ReadsParameter(switchExpression.Value, eventParameter):
                    return false;
                case IWhileLoopOperation loop when ReadsParameter(loop.Condition, eventParameter):
                    return false;
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.ConditionalOr } logical
                    when child == logical.RightOperand && ReadsParameter(logical.LeftOperand, eventParameter):
                    return false;
            }
        }
        return true;
    }

    private static bool MayCatch(ICatchClauseOperation clause, ITypeSymbol thrownType, Compilation compilation)
    {
        var caught = clause.ExceptionType;
        if (caught is null || caught.SpecialType == SpecialType.System_Object) return true;
        var conversion = compilation.ClassifyCommonConversion(thrownType, caught);
        return conversion.IsIdentity || (conversion.IsImplicit && conversion.IsReference);
    }

    private static bool ReadsParameter(IOperation? operation, IParameterSymbol? parameter)
    {
        if (operation is null || parameter is null) return false;
        return operation.DescendantsAndSelf().OfType<IParameterReferenceOperation>()
            .Any(p => SymbolEqualityComparer.Default.Equals(p.Parameter, parameter));
    }
}
