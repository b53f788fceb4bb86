using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using FastCallbacks.Generators.Emitting;
using FastCallbacks.Generators.Helpers;
using FastCallbacks.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FastCallbacks.Generators.Parsing;

/// <summary>
/// The bind step: reads symbols and returns the small equatable models of <see cref="Models"/>. Anything the
/// generator cannot extend without compile errors (a class or containing type that is not partial, a class not
/// deriving from <c>Callback</c>, a handler of the wrong shape) yields null; the analyzers report those.
/// </summary>
internal static class CallbackParser
{
    /// <summary>
    /// Marks an ancestor whose dispatch is opaque: it already overrides <c>Dispatch</c> (by hand, or compiled
    /// in another assembly whose reference assembly may hide private handlers). Derived classes then always
    /// defer to <c>base</c>, which is correct whatever it handles.
    /// </summary>
    public const uint OpaqueInheritedEvents = uint.MaxValue;

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// The bind step: the model of each class among <paramref name="candidates"/> (declarations chosen from syntax by
    /// <see cref="Declarations.CandidateFilter"/>), or null for a candidate with nothing to generate. A class declared
    /// in several candidate parts is read once, from the first of them.
    /// </summary>
    public static ImmutableArray<CallbackClassModel?> ParseCandidates(
        Compilation compilation, IReadOnlyList<Declarations.ClassEntry> candidates, CancellationToken cancellationToken)
    {
        var models = ImmutableArray.CreateBuilder<CallbackClassModel?>(candidates.Count);
        var seen = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        SemanticModel? semanticModel = null;
        foreach (var candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tree = candidate.Node.SyntaxTree;
            if (semanticModel?.SyntaxTree != tree) semanticModel = compilation.GetSemanticModel(tree);
            if (semanticModel.GetDeclaredSymbol(candidate.Node, cancellationToken) is not { } type || !seen.Add(type)) continue;
            models.Add(ParseCallbackClass(type, cancellationToken));
        }
        return models.ToImmutable();
    }

    /// <summary>
    /// Everything the generated part of one class needs (the class, its usable <c>[On]</c> methods in declaration
    /// order, its forwarded properties), or null when there is nothing to generate.
    /// </summary>
    public static CallbackClassModel? ParseCallbackClass(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        // The cheap test first: a candidate may well not be a callback.
        if (!KnownSymbols.DerivesFromCallback(type)) return null;

        var model = ParseCallbackType(type, cancellationToken);
        if (model is null) return null;
        var result = new CallbackClassModel(model, Handlers(type), PersistenceOf(type, cancellationToken));
        return CallbackSourceWriter.HasOutput(result) ? result : null;
    }

    /// <summary>
    /// The class's usable <c>[On]</c> methods, ordered by file path then position so handlers of one event run in
    /// declaration order; <see cref="HandlerModel.Order"/> is the rank in that order, which unrelated line moves keep.
    /// </summary>
    private static EquatableArray<HandlerModel> Handlers(INamedTypeSymbol type)
    {
        var handlers = new List<(IMethodSymbol Method, (string Path, int Position) Key)>();
        foreach (var member in type.GetMembers())
        {
            // A partial method is listed once, as its definition, which carries the attributes of both parts.
            if (member is not IMethodSymbol { PartialDefinitionPart: null } method) continue;
            if (!method.GetAttributes().Any(a => KnownSymbols.IsOnAttribute(a.AttributeClass))) continue;
            if (!IsUsableHandler(method) || !SyntaxFacts.IsValidIdentifier(method.Name)) continue;
            handlers.Add((method, SourceKey(method)));
        }
        handlers.Sort((a, b) => CompareSourceKeys(a.Key, b.Key));

        var models = new HandlerModel[handlers.Count];
        for (var i = 0; i < models.Length; i++)
        {
            var method = handlers[i].Method;
            models[i] = new HandlerModel(
                Identifier(method.Name),
                TakesEvent: method.Parameters.Length == 1,
                Order: i,
                Events: EventsToDispatch(method));
        }
        return models.ToEquatableArray();
    }

    /// <summary>The SaveState/LoadState of the class's own [Persist] members, or null when there is none to save (FCB0009 says why).</summary>
    private static PersistenceModel? PersistenceOf(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var plan = Persistence.Plan(type, cancellationToken);
        if (plan.Members.Count == 0) return null;
        return new PersistenceModel(
            plan.Members.Select(m => new PersistedMemberModel(m.Identifier, m.Key, m.Codec, m.Assignment)).ToEquatableArray(),
            plan.HasPersistingBase,
            type.IsSealed);
    }

    /// <summary>The class-level model, or null when the generator must leave the class alone.</summary>
    private static CallbackTypeModel? ParseCallbackType(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (!IsExtensibleClass(type, cancellationToken) || !HasWritableNames(type)) return null;
        if (!TryReadInheritedEvents(type, out var inheritedEvents)) return null;

        return new CallbackTypeModel(
            HintName(type),
            NamespaceOf(type),
            Declarations(type),
            inheritedEvents,
            DeclaresDispatch: type.GetMembers("Dispatch").OfType<IMethodSymbol>().Any(IsDispatchSignature),
            DeclaresGetHandledEvents: type.GetMembers("GetHandledEvents").OfType<IMethodSymbol>().Any(m => m.Parameters.Length == 0),
            DeclaresDispatchWrapsExceptions: type.GetMembers("DispatchWrapsExceptions").OfType<IPropertySymbol>().Any(),
            ForwardedPropertyModels(type, cancellationToken));
    }

    /// <summary>An instance method <c>void M()</c> or <c>void M(Event)</c> the generated dispatch can call.</summary>
    public static bool IsUsableHandler(IMethodSymbol method) =>
        method is { MethodKind: MethodKind.Ordinary, IsStatic: false, ReturnsVoid: true, IsGenericMethod: false }
        && method.Parameters.Length switch
        {
            0 => true,
            1 => method.Parameters[0] is { RefKind: RefKind.None, IsParams: false } parameter && KnownSymbols.IsEvent(parameter.Type),
            _ => false,
        };

    /// <summary>The events named by the method's <c>[On]</c> attributes, in attribute order, without repeats.</summary>
    public static List<EventModel> ReadEvents(IMethodSymbol method)
    {
        var events = new List<EventModel>();
        foreach (var attribute in method.GetAttributes())
        {
            if (!KnownSymbols.IsOnAttribute(attribute.AttributeClass) || attribute.ConstructorArguments.Length != 1) continue;
            var argument = attribute.ConstructorArguments[0];
            // An out-of-range value such as (Event)99 has no bit to set; the analyzers report it.
            if (argument is not { Kind: TypedConstantKind.Enum, Value: int value, Type: { } enumType } || value is < 0 or > 31) continue;
            var name = EnumMemberName(enumType, value);
            if (name is null) continue;
            var model = new EventModel(value, name);
            if (!events.Contains(model)) events.Add(model);
        }
        return events;
    }

    private static string? EnumMemberName(ITypeSymbol enumType, int value)
    {
        foreach (var member in enumType.GetMembers())
        {
            if (member is IFieldSymbol { HasConstantValue: true, ConstantValue: int constant } field && constant == value) return field.Name;
        }
        return null;
    }

    /// <summary>
    /// The method's events minus those an overridden base method registers: the base's dispatch already makes
    /// that virtual call, which lands on this override, so calling it again would run it twice.
    /// </summary>
    private static EquatableArray<EventModel> EventsToDispatch(IMethodSymbol method)
    {
        var registeredByBase = new HashSet<int>();
        for (var overridden = method.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
        {
            foreach (var e in ReadEvents(overridden)) registeredByBase.Add(e.Value);
        }
        return ReadEvents(method).Where(e => !registeredByBase.Contains(e.Value)).ToEquatableArray();
    }

    private static (string Path, int Position) SourceKey(IMethodSymbol method)
    {
        var reference = method.DeclaringSyntaxReferences.FirstOrDefault();
        return reference is null ? (string.Empty, 0) : (reference.SyntaxTree.FilePath, reference.Span.Start);
    }

    private static int CompareSourceKeys((string Path, int Position) a, (string Path, int Position) b)
    {
        var byPath = string.CompareOrdinal(a.Path, b.Path);
        return byPath != 0 ? byPath : a.Position.CompareTo(b.Position);
    }

    /// <summary>
    /// A non-record class, partial in every declaration, inside types that are all partial: adding a generated
    /// part to anything else would only add compile errors (CS0260) to the analyzers' diagnostics.
    /// </summary>
    private static bool IsExtensibleClass(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (type is not { TypeKind: TypeKind.Class, IsRecord: false, IsStatic: false, IsImplicitlyDeclared: false }) return false;
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (!KnownSymbols.IsPartialEverywhere(current, cancellationToken)) return false;
        }
        return true;
    }

    /// <summary>
    /// Whether every name the generated part must write (the namespaces, the containing types, the class and their
    /// type parameters) is an identifier. While a file is typed a name can be missing (<c>partial class : Callback</c>,
    /// <c>namespace A.</c>, <c>class C&lt; &gt;</c>); a part for such a class would not parse, adding errors of its own.
    /// </summary>
    private static bool HasWritableNames(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (!SyntaxFacts.IsValidIdentifier(current.Name)) return false;
            if (current.TypeParameters.Any(p => !SyntaxFacts.IsValidIdentifier(p.Name))) return false;
        }
        for (var ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
        {
            if (!SyntaxFacts.IsValidIdentifier(ns.Name)) return false;
        }
        return true;
    }

    /// <summary>
    /// Walks the ancestors up to <c>Callback</c>, collecting the events their <c>[On]</c> methods handle. False
    /// when <c>Callback</c> is not an ancestor (or the chain has an unresolved type).
    /// </summary>
    private static bool TryReadInheritedEvents(INamedTypeSymbol type, out uint inheritedEvents)
    {
        uint mask = 0;
        for (var ancestor = type.BaseType; ancestor is not null; ancestor = ancestor.BaseType)
        {
            if (KnownSymbols.IsCallback(ancestor))
            {
                inheritedEvents = mask;
                return true;
            }
            foreach (var member in ancestor.GetMembers())
            {
                if (member is not IMethodSymbol method) continue;
                if (method.IsOverride && (IsDispatchSignature(method) || method is { Name: "GetHandledEvents", Parameters.Length: 0 }))
                {
                    mask = OpaqueInheritedEvents;
                }
                else if (IsUsableHandler(method))
                {
                    foreach (var e in ReadEvents(method)) mask |= 1u << e.Value;
                }
            }
        }
        inheritedEvents = 0;
        return false;
    }

    private static bool IsDispatchSignature(IMethodSymbol method) =>
        method is { Name: "Dispatch", Parameters.Length: 1 } && KnownSymbols.IsEvent(method.Parameters[0].Type);

    private static EquatableArray<ForwardedPropertyModel> ForwardedPropertyModels(INamedTypeSymbol callback, CancellationToken cancellationToken) =>
        ForwardedProperties(callback, cancellationToken)
            .Select(p => new ForwardedPropertyModel(Identifier(p.Name), p.Type.ToDisplayString(TypeFormat)))
            .ToEquatableArray();

    /// <summary>
    /// The learner properties a <c>Callback&lt;TLearner&gt;</c> gets forwarders for: public readable instance
    /// properties of TLearner and its bases below <c>Learner</c> (the base <c>Callback</c> forwards Learner's own),
    /// most derived first, minus any name the callback or an ancestor declares or an ancestor's generated part forwards.
    /// </summary>
    private static List<IPropertySymbol> ForwardedProperties(INamedTypeSymbol callback, CancellationToken cancellationToken)
    {
        var forwarded = new List<IPropertySymbol>();
        var learner = FindLearnerClass(callback);
        if (learner is null) return forwarded;

        // Any name of the callback's own would clash; an ancestor's name would be hidden (CS0108) unless private.
        var taken = new HashSet<string>(callback.MemberNames, StringComparer.Ordinal) { callback.Name };
        foreach (var typeParameter in callback.TypeParameters) taken.Add(typeParameter.Name);
        for (var type = callback.BaseType; type is not null; type = type.BaseType)
        {
            foreach (var member in type.GetMembers())
            {
                if (member.DeclaredAccessibility != Accessibility.Private) taken.Add(member.Name);
            }
        }
        // An ancestor in this compilation gets its own generated forwarders, which the compilation we see does
        // not contain yet; repeating them here would hide them (CS0108).
        for (var ancestor = callback.BaseType; ancestor is not null && !KnownSymbols.IsTypedCallback(ancestor); ancestor = ancestor.BaseType)
        {
            var definition = ancestor.OriginalDefinition;
            if (definition.DeclaringSyntaxReferences.Length > 0 && IsExtensibleClass(definition, cancellationToken))
            {
                foreach (var property in ForwardedProperties(definition, cancellationToken)) taken.Add(property.Name);
            }
        }

        for (var type = learner; type is not null && !KnownSymbols.IsLearner(type); type = type.BaseType)
        {
            foreach (var member in type.GetMembers())
            {
                if (member is IPropertySymbol property && IsForwardable(property) && taken.Add(property.Name))
                {
                    forwarded.Add(property);
                }
            }
        }
        return forwarded;
    }

    /// <summary>The learner class of the <c>Callback&lt;TLearner&gt;</c> the type derives from, or null.</summary>
    private static INamedTypeSymbol? FindLearnerClass(INamedTypeSymbol type)
    {
        for (var ancestor = type.BaseType; ancestor is not null; ancestor = ancestor.BaseType)
        {
            if (!KnownSymbols.IsTypedCallback(ancestor)) continue;
            var learner = ancestor.TypeArguments[0];
            // `Foo<TL> : Callback<TL> where TL : MyLearner` forwards MyLearner's properties.
            while (learner is ITypeParameterSymbol typeParameter)
            {
                learner = typeParameter.ConstraintTypes.FirstOrDefault(c => c.TypeKind is TypeKind.Class or TypeKind.TypeParameter);
            }
            return learner as INamedTypeSymbol;
        }
        return null;
    }

    private static bool IsForwardable(IPropertySymbol property) =>
        property is { DeclaredAccessibility: Accessibility.Public, IsStatic: false, IsIndexer: false, GetMethod.DeclaredAccessibility: Accessibility.Public }
        && SyntaxFacts.IsValidIdentifier(property.Name)
        && property.Type is not (IPointerTypeSymbol or IFunctionPointerTypeSymbol)
        && property.Type.TypeKind != TypeKind.Error
        // Forwarding an obsolete property would warn in generated code; such a property stays reachable via Learn.
        && !property.GetAttributes().Any(a => a.AttributeClass is { Name: "ObsoleteAttribute", ContainingNamespace.Name: "System" });

    private static EquatableArray<TypeDeclarationModel> Declarations(INamedTypeSymbol type)
    {
        var declarations = new List<TypeDeclarationModel>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            declarations.Add(new TypeDeclarationModel(Keyword(current), NameWithTypeParameters(current)));
        }
        declarations.Reverse();
        return declarations.ToEquatableArray();
    }

    private static string Keyword(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct, IsRefLikeType: true } => "ref struct",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static string NameWithTypeParameters(INamedTypeSymbol type) =>
        type.TypeParameters.Length == 0
            ? Identifier(type.Name)
            // No variance to repeat: a class cannot be nested in a variant interface (CS8427).
            : $"{Identifier(type.Name)}<{string.Join(", ", type.TypeParameters.Select(p => Identifier(p.Name)))}>";

    private static string NamespaceOf(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (var ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
        {
            parts.Add(Identifier(ns.Name));
        }
        parts.Reverse();
        return string.Join(".", parts);
    }

    /// <summary>
    /// The file name: the metadata name (<c>My.Ns.Outer+Inner`1</c>), unique within an assembly, keeping only
    /// characters safe in file names.
    /// </summary>
    private static string HintName(INamedTypeSymbol type)
    {
        var names = new List<string>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            names.Add(current.MetadataName);
        }
        names.Reverse();
        var metadataName = string.Join("+", names);
        var ns = type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString() + ".";

        var hint = new StringBuilder();
        foreach (var c in ns + metadataName)
        {
            hint.Append(char.IsLetterOrDigit(c) || c is '.' or '_' or '+' or '`' ? c : '_');
        }
        return hint.Append(".g.cs").ToString();
    }

    /// <summary>The name as it must be written in C#: <c>@event</c> for a keyword.</summary>
    public static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
