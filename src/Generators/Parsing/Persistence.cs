using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

// Shared by the generator (which writes SaveState/LoadState for [Persist] members) and the analyzers (FCB0009, which
// says why a member is not saved): one set of rules, so a member is either saved or reported, never silently dropped.
namespace FastCallbacks.Generators.Parsing;

/// <summary>How a loaded value gets into its member.</summary>
internal enum PersistAssignment
{
    /// <summary><c>this.m = value;</c></summary>
    Assign,
    /// <summary>A <c>readonly</c> <c>List&lt;T&gt;</c>: <c>Clear()</c>, then <c>AddRange(value)</c>.</summary>
    FillList,
    /// <summary>A <c>readonly</c> <c>Dictionary&lt;string, T&gt;</c>: <c>Clear()</c>, then every pair added.</summary>
    FillDictionary,
}

/// <summary>One member that is saved: its name as written in C#, its key in the state, the codec expression and how it is assigned.</summary>
internal readonly struct PersistedMember
{
    public PersistedMember(string identifier, string key, string codec, PersistAssignment assignment)
    {
        Identifier = identifier;
        Key = key;
        Codec = codec;
        Assignment = assignment;
    }

    public string Identifier { get; }
    public string Key { get; }
    public string Codec { get; }
    public PersistAssignment Assignment { get; }
}

/// <summary>What a class's [Persist] members come to: the members saved, the problems of the others, and whether a base persists too.</summary>
internal sealed class PersistencePlan
{
    public PersistencePlan(List<PersistedMember> members, List<(ISymbol Member, string Problem)> problems, bool hasPersistingBase)
    {
        Members = members;
        Problems = problems;
        HasPersistingBase = hasPersistingBase;
    }

    /// <summary>The members whose SaveState/LoadState code is generated, in declaration order (empty when the class as a whole cannot persist).</summary>
    public List<PersistedMember> Members { get; }

    /// <summary>Each [Persist] member that is not saved, with the reason (FCB0009's message).</summary>
    public List<(ISymbol Member, string Problem)> Problems { get; }

    /// <summary>An ancestor implements IStatefulCallback (or gets it generated): the generated methods override and call base.</summary>
    public bool HasPersistingBase { get; }
}

/// <summary>The rules of <c>[Persist]</c>: which members can be saved, with which codec, and why not.</summary>
internal static class Persistence
{
    private const string Codecs = "global::FastCallbacks.StateCodecs.";

    /// <summary>The supported types, for messages.</summary>
    public const string SupportedTypes =
        "bool, the number types, char, string, enums, TimeSpan, DateTime, DateTimeOffset, Guid, Tensor, StateDict, their nullable forms, " +
        "and arrays, List<T>, IReadOnlyList<T>, Dictionary<string, T> and IReadOnlyDictionary<string, T> of these";

    /// <summary>The fields and properties the type itself declares with [Persist], in declaration order, with the attribute.</summary>
    public static List<(ISymbol Member, AttributeData Attribute)> MarkedMembers(INamedTypeSymbol type)
    {
        var marked = new List<(ISymbol, AttributeData)>();
        foreach (var member in type.GetMembers())
        {
            if (member is not (IFieldSymbol { IsImplicitlyDeclared: false } or IPropertySymbol)) continue;
            var attribute = member.GetAttributes().FirstOrDefault(a => KnownSymbols.IsPersistAttribute(a.AttributeClass));
            if (attribute is not null) marked.Add((member, attribute));
        }
        return marked;
    }

    /// <summary>
    /// The plan for <paramref name="type"/>'s own [Persist] members. When the class as a whole cannot persist (not a
    /// callback, not partial, a record, it writes SaveState/LoadState itself, a base that cannot be overridden), every
    /// member gets that problem and none is saved.
    /// </summary>
    public static PersistencePlan Plan(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var marked = MarkedMembers(type);
        var members = new List<PersistedMember>();
        var problems = new List<(ISymbol, string)>();
        if (marked.Count == 0) return new PersistencePlan(members, problems, false);

        var classProblem = ClassProblem(type, cancellationToken, out var hasPersistingBase);
        var keys = new Dictionary<string, string>(System.StringComparer.Ordinal);
        foreach (var (member, attribute) in marked)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string? codec = null;
            var assignment = PersistAssignment.Assign;
            var problem = classProblem ?? MemberProblem(member, out codec, out assignment);
            var key = KeyOf(member, attribute);
            if (problem is null && key.Length == 0) problem = "its [Persist] key is empty";
            if (problem is null && keys.TryGetValue(key, out var other)) problem = $"its key '{key}' is already the key of '{other}'; give one of them another with [Persist(\"...\")]";
            if (problem is not null)
            {
                problems.Add((member, problem));
                continue;
            }
            keys[key] = member.Name;
            members.Add(new PersistedMember(Identifier(member.Name), key, codec!, assignment));
        }
        return new PersistencePlan(members, problems, hasPersistingBase);
    }

    private static string KeyOf(ISymbol member, AttributeData attribute) =>
        attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string key ? key : member.Name;

    /// <summary>Why none of the class's members can be saved, or null. Also says whether an ancestor persists.</summary>
    private static string? ClassProblem(INamedTypeSymbol type, CancellationToken cancellationToken, out bool hasPersistingBase)
    {
        hasPersistingBase = false;
        if (!KnownSymbols.DerivesFromCallback(type)) return $"'{type.Name}' is not a callback (it does not derive from FastCallbacks.Callback)";
        if (type.IsRecord) return $"'{type.Name}' is a record";
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (!KnownSymbols.IsPartialEverywhere(current, cancellationToken))
                return ReferenceEquals(current, type) ? $"'{type.Name}' is not partial" : $"its containing type '{current.Name}' is not partial";
        }
        if (DeclaresStateMethods(type)) return $"'{type.Name}' writes its own SaveState or LoadState; save the member there";
        var persistingBase = PersistingAncestor(type, cancellationToken);
        if (persistingBase is null) return null;
        hasPersistingBase = true;
        return OverridableProblem(persistingBase.Value.Ancestor, persistingBase.Value.Generated);
    }

    /// <summary>The nearest ancestor below Callback that implements IStatefulCallback, or gets it generated.</summary>
    private static (INamedTypeSymbol Ancestor, bool Generated)? PersistingAncestor(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        for (var ancestor = type.BaseType; ancestor is not null && !KnownSymbols.IsCallback(ancestor); ancestor = ancestor.BaseType)
        {
            if (ancestor.Interfaces.Any(KnownSymbols.IsStatefulCallback) || DeclaresStateMethods(ancestor)) return (ancestor, false);
            if (GetsGeneratedPersistence(ancestor.OriginalDefinition, cancellationToken)) return (ancestor, true);
        }
        return null;
    }

    /// <summary>Whether the generator writes SaveState/LoadState for this class (it is in source and has a member it can save).</summary>
    private static bool GetsGeneratedPersistence(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (type.DeclaringSyntaxReferences.Length == 0) return false;
        var plan = Plan(type, cancellationToken);
        return plan.Members.Count > 0;
    }

    /// <summary>Why a derived class cannot override the ancestor's SaveState/LoadState, or null.</summary>
    private static string? OverridableProblem(INamedTypeSymbol ancestor, bool generated)
    {
        if (generated) return null;
        foreach (var name in new[] { "SaveState", "LoadState" })
        {
            IMethodSymbol? method = null;
            for (INamedTypeSymbol? t = ancestor; t is not null && method is null; t = t.BaseType)
                method = t.GetMembers(name).OfType<IMethodSymbol>().FirstOrDefault(IsStateMethod);
            if (method is null || method.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal))
                return $"its base '{ancestor.Name}' implements IStatefulCallback without a public virtual {name}(StateDict) to override";
            if (!(method.IsVirtual || method.IsAbstract || method.IsOverride) || method.IsSealed)
                return $"its base '{ancestor.Name}' implements IStatefulCallback with a {name} that cannot be overridden; make it virtual";
        }
        return null;
    }

    /// <summary>
    /// Whether the class itself declares SaveState(StateDict) or LoadState(StateDict), by hand: the analyzers see the
    /// generated part too, whose methods (in an <c>&lt;auto-generated/&gt;</c> file) do not count.
    /// </summary>
    public static bool DeclaresStateMethods(INamedTypeSymbol type) =>
        type.GetMembers("SaveState").Concat(type.GetMembers("LoadState")).OfType<IMethodSymbol>()
            .Any(m => IsStateMethod(m) && !m.DeclaringSyntaxReferences.All(r => IsAutoGenerated(r.SyntaxTree)));

    private static bool IsAutoGenerated(SyntaxTree tree)
    {
        if (tree.FilePath.EndsWith(".g.cs", System.StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var trivia in tree.GetRoot().GetLeadingTrivia())
        {
            if (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) && trivia.ToString().Contains("<auto-generated")) return true;
        }
        return false;
    }

    /// <summary>The name as it must be written in C#: <c>@event</c> for a keyword.</summary>
    private static string Identifier(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static bool IsStateMethod(IMethodSymbol method) =>
        method is { MethodKind: MethodKind.Ordinary, IsStatic: false, Parameters.Length: 1 }
        && method.Parameters[0].Type is INamedTypeSymbol { Name: "StateDict", ContainingNamespace: { Name: KnownSymbols.Namespace, ContainingNamespace.IsGlobalNamespace: true } };

    /// <summary>Why this member cannot be saved, or null with its codec and assignment.</summary>
    private static string? MemberProblem(ISymbol member, out string? codec, out PersistAssignment assignment)
    {
        codec = null;
        assignment = PersistAssignment.Assign;
        ITypeSymbol type;
        bool assignable;
        switch (member)
        {
            case IFieldSymbol field:
                if (field.IsConst) return "it is a constant";
                if (field.IsStatic) return "it is static (a checkpoint keeps each callback's own state)";
                if (field.RefKind != RefKind.None || field.IsFixedSizeBuffer) return "it is a ref field or a fixed buffer";
                type = field.Type;
                assignable = !field.IsReadOnly;
                break;
            case IPropertySymbol property:
                if (property.IsStatic) return "it is static (a checkpoint keeps each callback's own state)";
                if (property.IsIndexer) return "it is an indexer";
                if (property.ReturnsByRef || property.ReturnsByRefReadonly) return "it returns by reference";
                if (property.GetMethod is null) return "it has no getter";
                if (property.ExplicitInterfaceImplementations.Length > 0) return "it is an explicit interface implementation";
                if (property.SetMethod is { IsInitOnly: true }) return "its setter is init-only, so it cannot be set when a state is loaded";
                type = property.Type;
                assignable = property.SetMethod is not null;
                break;
            default:
                return "only fields and properties can be persisted";
        }
        if (type.TypeKind == TypeKind.Error) return "its type could not be resolved";
        codec = CodecOf(type, out var typeProblem);
        if (codec is null) return typeProblem;
        if (assignable) return null;
        if (IsGeneric(type, "System.Collections.Generic.List`1"))
        {
            assignment = PersistAssignment.FillList;
            return null;
        }
        if (IsGeneric(type, "System.Collections.Generic.Dictionary`2"))
        {
            assignment = PersistAssignment.FillDictionary;
            return null;
        }
        codec = null;
        return member is IFieldSymbol
            ? "it is readonly (a readonly field can be persisted only when it is a List<T> or Dictionary<string, T>, which is filled in place)"
            : "it has no setter (a get-only property can be persisted only when it is a List<T> or Dictionary<string, T>, which is filled in place)";
    }

    /// <summary>The C# expression of the codec of <paramref name="type"/>, or null with the reason.</summary>
    public static string? CodecOf(ITypeSymbol type, out string? problem)
    {
        problem = null;
        var codec = Codec(type, depth: 0);
        if (codec is null)
            problem = $"its type '{type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}' is not one [Persist] can save ({SupportedTypes}); " +
                "implement IStatefulCallback by hand to save it";
        return codec;
    }

    private static string? Codec(ITypeSymbol type, int depth)
    {
        if (depth > 8) return null;
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean: return Codecs + "Boolean";
            case SpecialType.System_Byte: return Codecs + "Byte";
            case SpecialType.System_SByte: return Codecs + "SByte";
            case SpecialType.System_Int16: return Codecs + "Int16";
            case SpecialType.System_UInt16: return Codecs + "UInt16";
            case SpecialType.System_Int32: return Codecs + "Int32";
            case SpecialType.System_UInt32: return Codecs + "UInt32";
            case SpecialType.System_Int64: return Codecs + "Int64";
            case SpecialType.System_UInt64: return Codecs + "UInt64";
            case SpecialType.System_Single: return Codecs + "Single";
            case SpecialType.System_Double: return Codecs + "Double";
            case SpecialType.System_Decimal: return Codecs + "Decimal";
            case SpecialType.System_Char: return Codecs + "Char";
            case SpecialType.System_String: return Codecs + "String";
            case SpecialType.System_DateTime: return Codecs + "DateTime";
        }
        if (type is IArrayTypeSymbol array)
            return array.Rank == 1 && Codec(array.ElementType, depth + 1) is { } item ? $"{Codecs}Array({item})" : null;
        if (type is not INamedTypeSymbol named || named.TypeKind == TypeKind.Error) return null;
        if (named.TypeKind == TypeKind.Enum) return $"{Codecs}Enum<{named.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}>()";
        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
            return Codec(named.TypeArguments[0], depth + 1) is { } value ? $"{Codecs}Nullable({value})" : null;
        switch (FullName(named))
        {
            case "System.TimeSpan": return Codecs + "TimeSpan";
            case "System.DateTimeOffset": return Codecs + "DateTimeOffset";
            case "System.Guid": return Codecs + "Guid";
            case "TorchSharp.torch+Tensor": return Codecs + "Tensor";
            case "FastCallbacks.StateDict": return Codecs + "State";
        }
        if (IsGeneric(named, "System.Collections.Generic.List`1"))
            return Codec(named.TypeArguments[0], depth + 1) is { } item ? $"{Codecs}List({item})" : null;
        if (IsGeneric(named, "System.Collections.Generic.IReadOnlyList`1"))
            return Codec(named.TypeArguments[0], depth + 1) is { } item ? $"{Codecs}ReadOnlyList({item})" : null;
        if (IsGeneric(named, "System.Collections.Generic.Dictionary`2") && named.TypeArguments[0].SpecialType == SpecialType.System_String)
            return Codec(named.TypeArguments[1], depth + 1) is { } value ? $"{Codecs}Dictionary({value})" : null;
        if (IsGeneric(named, "System.Collections.Generic.IReadOnlyDictionary`2") && named.TypeArguments[0].SpecialType == SpecialType.System_String)
            return Codec(named.TypeArguments[1], depth + 1) is { } value ? $"{Codecs}ReadOnlyDictionary({value})" : null;
        return null;
    }

    private static bool IsGeneric(ITypeSymbol type, string metadataName) =>
        type is INamedTypeSymbol { IsGenericType: true } named && FullName(named.OriginalDefinition) == metadataName;

    /// <summary>The metadata name with its namespace: <c>System.Collections.Generic.List`1</c>, <c>TorchSharp.torch+Tensor</c>.</summary>
    private static string FullName(INamedTypeSymbol type)
    {
        var name = type.MetadataName;
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType) name = outer.MetadataName + "+" + name;
        var ns = type.ContainingNamespace;
        return ns is null || ns.IsGlobalNamespace ? name : ns.ToDisplayString() + "." + name;
    }
}
