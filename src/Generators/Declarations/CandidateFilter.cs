using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading;
using FastCallbacks.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace FastCallbacks.Generators.Declarations;

/// <summary>
/// Decides from syntax which class declarations can need a generated part, so that only those are bound. A class gets
/// output only for handlers of its own or for forwarders, so a candidate is a partial class declaration that either
/// <list type="bullet">
/// <item>has a method with an attribute that may be <c>[On]</c>: named <c>On</c> or <c>OnAttribute</c> (however
/// qualified), or an alias of one of those; or</item>
/// <item>has a field or property with an attribute that may be <c>[Persist]</c>: named <c>Persist</c> or
/// <c>PersistAttribute</c>, or an alias of one (the generator writes its SaveState/LoadState); or</item>
/// <item>names in its base list a type that may be a <c>Callback&lt;TLearner&gt;</c>: a generic <c>Callback&lt;...&gt;</c>,
/// an alias of one, or a class whose own base list names such a type, transitively (a typed callback's subclass
/// with no handlers of its own still gets forwarders), including typed callbacks compiled in referenced assemblies.</item>
/// </list>
/// Names are compared without binding, so the filter lets through a superset (another attribute named <c>On</c>, an
/// unrelated class named like a typed callback); binding rejects those. It must never leave out a class the
/// generator would write a part for: the tests compare it with binding every partial class.
/// </summary>
internal static class CandidateFilter
{
    private const string OnName = "On";
    private const string OnAttributeName = "OnAttribute";
    private const string PersistName = "Persist";
    private const string PersistAttributeName = "PersistAttribute";
    private const string CallbackName = "Callback";
    private const string TypedCallbackMetadataName = "FastCallbacks.Callback`1";

    /// <summary>The candidate declarations, in compilation order then document order.</summary>
    public static List<ClassEntry> Candidates(IReadOnlyList<TreeIndex> trees, Compilation compilation, CancellationToken cancellationToken)
    {
        var aliases = new List<UsingAlias>();
        foreach (var tree in trees) aliases.AddRange(tree.Aliases);

        var onNames = new HashSet<string>(StringComparer.Ordinal) { OnName, OnAttributeName };
        Close(onNames, aliases, static _ => false);
        var persistNames = new HashSet<string>(StringComparer.Ordinal) { PersistName, PersistAttributeName };
        Close(persistNames, aliases, static _ => false);

        // Names that may denote a typed callback: seeded from metadata and from aliases of Callback<...>, then every
        // class (partial or not) whose base list names one, and every alias of one, until nothing is added.
        var typedNames = new HashSet<string>(MetadataTypedCallbackNames(compilation, cancellationToken), StringComparer.Ordinal);
        bool IsTypedBase((string Name, bool IsGeneric) type) =>
            (type.IsGeneric && type.Name == CallbackName) || typedNames.Contains(type.Name);
        var classes = new List<ClassEntry>();
        foreach (var tree in trees) classes.AddRange(tree.Classes);
        for (var added = true; added;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            added = Close(typedNames, aliases, static alias => alias.TargetIsGeneric && alias.Target == CallbackName);
            foreach (var entry in classes)
            {
                if (!typedNames.Contains(entry.Name) && Any(entry.BaseNames, IsTypedBase) && typedNames.Add(entry.Name)) added = true;
            }
        }

        var candidates = new List<ClassEntry>();
        foreach (var entry in classes)
        {
            if (!entry.IsPartial) continue;
            if (Any(entry.MethodAttributeNames, name => onNames.Contains(name) || onNames.Contains(name + "Attribute"))
                || Any(entry.MemberAttributeNames, name => persistNames.Contains(name) || persistNames.Contains(name + "Attribute"))
                || Any(entry.BaseNames, IsTypedBase))
            {
                candidates.Add(entry);
            }
        }
        return candidates;
    }

    /// <summary>Adds every alias whose target is in <paramref name="names"/> (or is a seed) until nothing changes; true when any was added.</summary>
    private static bool Close(HashSet<string> names, List<UsingAlias> aliases, Func<UsingAlias, bool> isSeed)
    {
        var any = false;
        for (var added = true; added;)
        {
            added = false;
            foreach (var alias in aliases)
            {
                if ((isSeed(alias) || names.Contains(alias.Target)) && names.Add(alias.Name)) added = any = true;
            }
        }
        return any;
    }

    private static bool Any<T>(ImmutableArray<T> items, Func<T, bool> predicate)
    {
        foreach (var item in items)
        {
            if (predicate(item)) return true;
        }
        return false;
    }

    // -------------------------------------------------------------------------------------------------------------
    // Typed callbacks in referenced assemblies: a partial class deriving from one, with no handlers of its own, still
    // gets the forwarders its compiled ancestor lacks. Read once per assembly symbol (metadata symbols are shared by
    // the compilations that reference the same files), only in assemblies that define Callback<TLearner> or reference one that does.

    private static readonly ConditionalWeakTable<IAssemblySymbol, AssemblyFacts> Assemblies = new();

    private sealed class AssemblyFacts(bool definesTypedCallback, ImmutableArray<string> referencedNames)
    {
        public bool DefinesTypedCallback { get; } = definesTypedCallback;
        public ImmutableArray<string> ReferencedNames { get; } = referencedNames;
        public ImmutableArray<string>? TypedCallbackNames { get; set; }
    }

    private static IEnumerable<string> MetadataTypedCallbackNames(Compilation compilation, CancellationToken cancellationToken)
    {
        var referenced = compilation.SourceModule.ReferencedAssemblySymbols;
        var facts = new AssemblyFacts[referenced.Length];
        var definingNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < referenced.Length; i++)
        {
            facts[i] = Assemblies.GetValue(referenced[i], ReadFacts);
            if (facts[i].DefinesTypedCallback) definingNames.Add(referenced[i].Identity.Name);
        }
        if (definingNames.Count == 0) yield break;

        for (var i = 0; i < referenced.Length; i++)
        {
            var fact = facts[i];
            if (!fact.DefinesTypedCallback && !Any(fact.ReferencedNames, definingNames.Contains)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var names = fact.TypedCallbackNames ??= ReadTypedCallbackNames(referenced[i]);
            foreach (var name in names) yield return name;
        }
    }

    private static AssemblyFacts ReadFacts(IAssemblySymbol assembly)
    {
        var referencedNames = ImmutableArray.CreateBuilder<string>();
        foreach (var module in assembly.Modules)
        {
            foreach (var identity in module.ReferencedAssemblies) referencedNames.Add(identity.Name);
        }
        return new AssemblyFacts(assembly.GetTypeByMetadataName(TypedCallbackMetadataName) is not null, referencedNames.ToImmutable());
    }

    private static ImmutableArray<string> ReadTypedCallbackNames(IAssemblySymbol assembly)
    {
        var names = ImmutableArray.CreateBuilder<string>();
        var namespaces = new Stack<INamespaceSymbol>();
        var types = new Stack<INamedTypeSymbol>();
        namespaces.Push(assembly.GlobalNamespace);
        while (namespaces.Count > 0)
        {
            var ns = namespaces.Pop();
            foreach (var child in ns.GetNamespaceMembers()) namespaces.Push(child);
            foreach (var type in ns.GetTypeMembers()) types.Push(type);
        }
        // Type members only: reading every member of every type would load far more metadata than the bases.
        while (types.Count > 0)
        {
            var type = types.Pop();
            foreach (var nested in type.GetTypeMembers()) types.Push(nested);
            if (type.TypeKind == TypeKind.Class && !KnownSymbols.IsTypedCallback(type) && DerivesFromTypedCallback(type)) names.Add(type.Name);
        }
        return names.ToImmutable();
    }

    private static bool DerivesFromTypedCallback(INamedTypeSymbol type)
    {
        for (var ancestor = type.BaseType; ancestor is not null; ancestor = ancestor.BaseType)
        {
            if (KnownSymbols.IsTypedCallback(ancestor)) return true;
        }
        return false;
    }
}
