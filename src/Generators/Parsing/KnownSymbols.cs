using Microsoft.CodeAnalysis;

namespace FastCallbacks.Generators.Parsing;

/// <summary>
/// Recognizes the runtime's types by name rather than by symbol identity, so the checks hold whichever assembly
/// (the runtime itself, a reference, a test stub) defines them.
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

    private static bool IsFastCallbacksType(INamedTypeSymbol? type, string metadataName) =>
        type is { ContainingType: null }
        && type.MetadataName == metadataName
        && type.ContainingNamespace is { Name: Namespace, ContainingNamespace.IsGlobalNamespace: true };
}
