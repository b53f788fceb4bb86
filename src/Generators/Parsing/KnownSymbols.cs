using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FastCallbacks.Generators.Parsing;

/// <summary>
/// Recognizes the runtime's types by name rather than by symbol identity, so the checks hold whichever assembly
/// (the runtime itself, a reference, a test stub) defines them. Shared by the generator and the analyzers (linked into
/// FastCallbacks.Analyzers, for the [Persist] rules).
/// </summary>
internal static class KnownSymbols
{
    public const string Namespace = "FastCallbacks";

    public static bool IsOnAttribute(INamedTypeSymbol? type) => IsFastCallbacksType(type, "OnAttribute");

    public static bool IsEvent(ITypeSymbol? type) => type is INamedTypeSymbol named && IsFastCallbacksType(named, "Event");

    /// <summary>The non-generic <c>FastCallbacks.Callback</c>.</summary>
    public static bool IsCallback(INamedTypeSymbol? type) => IsFastCallbacksType(type, "Callback");

    /// <summary>Any construction of <c>FastCallbacks.Callback&lt;TLearner&gt;</c>.</summary>
    public static bool IsTypedCallback(INamedTypeSymbol? type) => IsFastCallbacksType(type, "Callback`1");

    public static bool IsLearner(INamedTypeSymbol? type) => IsFastCallbacksType(type, "Learner");

    public static bool IsPersistAttribute(INamedTypeSymbol? type) => IsFastCallbacksType(type, "PersistAttribute");

    public static bool IsStatefulCallback(INamedTypeSymbol? type) => IsFastCallbacksType(type, "IStatefulCallback");

    /// <summary>Whether <c>FastCallbacks.Callback</c> is among the type's base classes.</summary>
    public static bool DerivesFromCallback(INamedTypeSymbol type)
    {
        for (var ancestor = type.BaseType; ancestor is not null; ancestor = ancestor.BaseType)
        {
            if (IsCallback(ancestor)) return true;
        }
        return false;
    }

    /// <summary>Whether every declaration of the type in source says <c>partial</c> (false for a type from metadata).</summary>
    public static bool IsPartialEverywhere(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (type.DeclaringSyntaxReferences.Length == 0) return false;
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration
                || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsFastCallbacksType(INamedTypeSymbol? type, string metadataName) =>
        type is { ContainingType: null }
        && type.MetadataName == metadataName
        && type.ContainingNamespace is { Name: Namespace, ContainingNamespace.IsGlobalNamespace: true };
}
