using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace FastCallbacks.Analyzers;

/// <summary>
/// FCB0001: a callback writes a field or property it declares itself (or a callback base class of its declares)
/// whose name is a settable public member of its learner type. The write lands on the callback, not the learner.
/// </summary>
/// <remarks>
/// Writes in constructors are not reported: the callback is not attached to a learner yet, so they initialise
/// the callback's own state. A write through <c>Learn.</c>, or to another object's member, is not reported.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LearnerStateWriteAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.WriteShadowsLearnerState);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownTypes.TryCreate(start.Compilation);
            if (known is null) return;
            start.RegisterOperationAction(
                c => AnalyzeReference(c, known),
                OperationKind.FieldReference,
                OperationKind.PropertyReference);
        });
    }

    private static void AnalyzeReference(OperationAnalysisContext context, KnownTypes known)
    {
        var reference = (IMemberReferenceOperation)context.Operation;
        if (reference.Instance is not IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ContainingTypeInstance })
            return;
        var member = reference.Member;
        if (member.IsStatic || member.ContainingType is not { } declaringType) return;
        if (known.IsRuntimeBase(declaringType) || !known.IsCallback(declaringType)) return;
        if (context.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor })
            return;
        if (context.ContainingSymbol.ContainingType is not { } callbackClass || !known.IsCallback(callbackClass)) return;
        var write = GetWriteKind(reference);
        if (write == WriteKind.None) return;

        var learnerType = known.LearnerTypeOf(callbackClass);
        if (KnownTypes.FindSettablePublicMember(learnerType, member.Name) is not { } learnerMember) return;

        // `ref Learn.X` / `out Learn.X` only compiles when X is a field.
        var fixable = write == WriteKind.Assignment || learnerMember is IFieldSymbol;
        var properties = fixable
            ? ImmutableDictionary<string, string?>.Empty.Add(FixableProperty, "true")
            : ImmutableDictionary<string, string?>.Empty;
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.WriteShadowsLearnerState,
            reference.Syntax.GetLocation(),
            properties,
            callbackClass.Name,
            member.Name));
    }

    /// <summary>Diagnostic property present when the write can be rewritten to <c>Learn.X</c> as it is.</summary>
    public const string FixableProperty = "Fixable";

    internal enum WriteKind
    {
        None,
        Assignment,
        RefOrOut,
    }

    /// <summary>How <paramref name="reference"/> is written: assigned, compound-assigned, incremented or
    /// deconstructed into (<see cref="WriteKind.Assignment"/>), or passed by <c>ref</c>/<c>out</c>.</summary>
    internal static WriteKind GetWriteKind(IOperation reference)
    {
        var parent = reference.Parent;
        switch (parent)
        {
            case IAssignmentOperation assignment:
                return assignment.Target == reference ? WriteKind.Assignment : WriteKind.None;
            case IIncrementOrDecrementOperation:
                return WriteKind.Assignment;
            case IArgumentOperation argument:
                return argument.Parameter?.RefKind is RefKind.Ref or RefKind.Out ? WriteKind.RefOrOut : WriteKind.None;
            case ITupleOperation:
                IOperation top = parent;
                while (top.Parent is ITupleOperation outer) top = outer;
                return top.Parent is IDeconstructionAssignmentOperation deconstruction && deconstruction.Target == top
                    ? WriteKind.Assignment
                    : WriteKind.None;
            default:
                return WriteKind.None;
        }
    }
}
