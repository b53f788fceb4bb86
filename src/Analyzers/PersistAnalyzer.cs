using System.Collections.Immutable;
using System.Linq;
using FastCallbacks.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastCallbacks.Analyzers;

/// <summary>
/// FCB0009: a <c>[Persist]</c> field or property that the generator leaves out of the callback's state (a type a state
/// cannot hold, a member it cannot assign, a class it cannot extend). The rules are the generator's own
/// (<see cref="Persistence"/>), so every marked member is either saved or reported here.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PersistAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.UnpersistableMember);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (start.Compilation.GetTypeByMetadataName("FastCallbacks.PersistAttribute") is null) return;
            start.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct or TypeKind.Interface)) return;
        if (Persistence.MarkedMembers(type).Count == 0) return;
        var plan = Persistence.Plan(type, context.CancellationToken);
        foreach (var (member, problem) in plan.Problems)
        {
            var location = NameLocation(member, context) ?? member.Locations.FirstOrDefault();
            if (location is null || !location.IsInSource) continue;
            // The class problems "'X' is not partial" and "its containing type 'X' is not partial" have a code fix.
            var properties = problem.EndsWith(" is not partial", System.StringComparison.Ordinal)
                ? ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.NotPartialProperty, "")
                : null;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnpersistableMember, location, properties, member.Name, problem));
        }
    }

    /// <summary>The member's identifier in source (a field's variable, a property's name).</summary>
    private static Location? NameLocation(ISymbol member, SymbolAnalysisContext context)
    {
        foreach (var reference in member.DeclaringSyntaxReferences)
        {
            switch (reference.GetSyntax(context.CancellationToken))
            {
                case VariableDeclaratorSyntax variable: return variable.Identifier.GetLocation();
                case PropertyDeclarationSyntax property: return property.Identifier.GetLocation();
            }
        }
        return null;
    }
}
