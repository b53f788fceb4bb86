using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace FastCallbacks.Analyzers;

/// <summary>
/// The FastCallbacks types of one compilation, found by metadata name. Immutable, so one instance is shared by
/// every concurrent callback of a compilation.
/// </summary>
internal sealed class KnownTypes
{
    private readonly Dictionary<INamedTypeSymbol, CancelKind> _cancelKinds;
    private readonly Dictionary<object, LoopEvent> _eventsByValue;

    private KnownTypes(
        INamedTypeSymbol callback,
        INamedTypeSymbol callbackOfT,
        INamedTypeSymbol learner,
        INamedTypeSymbol onAttribute,
        INamedTypeSymbol @event,
        Dictionary<INamedTypeSymbol, CancelKind> cancelKinds,
        Dictionary<object, LoopEvent> eventsByValue)
    {
        Callback = callback;
        CallbackOfT = callbackOfT;
        Learner = learner;
        OnAttribute = onAttribute;
        Event = @event;
        _cancelKinds = cancelKinds;
        _eventsByValue = eventsByValue;
    }

    /// <summary><c>FastCallbacks.Callback</c>.</summary>
    public INamedTypeSymbol Callback { get; }

    /// <summary><c>FastCallbacks.Callback&lt;TLearner&gt;</c> (the unconstructed definition).</summary>
    public INamedTypeSymbol CallbackOfT { get; }

    /// <summary><c>FastCallbacks.Learner</c>.</summary>
    public INamedTypeSymbol Learner { get; }

    /// <summary><c>FastCallbacks.OnAttribute</c>.</summary>
    public INamedTypeSymbol OnAttribute { get; }

    /// <summary><c>FastCallbacks.Event</c>.</summary>
    public INamedTypeSymbol Event { get; }

    /// <summary>The known types, or null when the compilation does not see the FastCallbacks runtime.</summary>
    public static KnownTypes? TryCreate(Compilation compilation)
    {
        var callback = compilation.GetTypeByMetadataName("FastCallbacks.Callback");
        var callbackOfT = compilation.GetTypeByMetadataName("FastCallbacks.Callback`1");
        var learner = compilation.GetTypeByMetadataName("FastCallbacks.Learner");
        var on = compilation.GetTypeByMetadataName("FastCallbacks.OnAttribute");
        var ev = compilation.GetTypeByMetadataName("FastCallbacks.Event");
        if (callback is null || callbackOfT is null || learner is null || on is null || ev is null)
            return null;

        var cancels = new Dictionary<INamedTypeSymbol, CancelKind>(SymbolEqualityComparer.Default);
        foreach (CancelKind kind in System.Enum.GetValues(typeof(CancelKind)))
        {
            var type = compilation.GetTypeByMetadataName("FastCallbacks." + LoopCatchTable.ExceptionName(kind));
            if (type is not null) cancels[type] = kind;
        }

        var events = new Dictionary<object, LoopEvent>();
        foreach (var member in ev.GetMembers())
        {
            if (member is IFieldSymbol { HasConstantValue: true, ConstantValue: { } value } field
                && LoopEvents.TryFromCSharpName(field.Name, out var loopEvent))
            {
                events[value] = loopEvent;
            }
        }

        return new KnownTypes(callback, callbackOfT, learner, on, ev, cancels, events);
    }

    /// <summary>True when <paramref name="type"/> derives, directly or not, from <c>Callback</c> (and is not it).</summary>
    public bool IsCallback(ITypeSymbol? type)
    {
        for (var t = type?.BaseType; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, Callback)) return true;
        }
        return false;
    }

    /// <summary>True for <c>Callback</c> itself and any <c>Callback&lt;T&gt;</c>: the runtime's own base classes.</summary>
    public bool IsRuntimeBase(ITypeSymbol type) =>
        SymbolEqualityComparer.Default.Equals(type, Callback)
        || SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, CallbackOfT);

    /// <summary>
    /// The learner type a callback class works with: <c>TLearner</c> for a class deriving from
    /// <c>Callback&lt;TLearner&gt;</c> (its constraint's class when it is itself a type parameter), else <c>Learner</c>.
    /// </summary>
    public ITypeSymbol LearnerTypeOf(INamedTypeSymbol callbackClass)
    {
        for (var t = callbackClass.BaseType; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, CallbackOfT) && t.TypeArguments.Length == 1)
            {
                var arg = t.TypeArguments[0];
                if (arg is ITypeParameterSymbol parameter)
                {
                    foreach (var constraint in parameter.ConstraintTypes)
                    {
                        if (constraint.TypeKind == TypeKind.Class) return constraint;
                    }
                    return Learner;
                }
                return arg;
            }
        }
        return Learner;
    }

    /// <summary>Which cancel exception <paramref name="type"/> is, if it is one.</summary>
    public bool TryGetCancelKind(ITypeSymbol? type, out CancelKind kind)
    {
        for (var t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
        {
            if (_cancelKinds.TryGetValue(t, out kind)) return true;
        }
        kind = default;
        return false;
    }

    /// <summary>True when <paramref name="attribute"/> is an <c>[On]</c>.</summary>
    public bool IsOn(AttributeData attribute) =>
        SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, OnAttribute);

    /// <summary>The <c>[On]</c> attributes of <paramref name="symbol"/>, in source order.</summary>
    public ImmutableArray<AttributeData> OnAttributes(ISymbol symbol)
    {
        var builder = ImmutableArray.CreateBuilder<AttributeData>();
        foreach (var attribute in symbol.GetAttributes())
        {
            if (IsOn(attribute)) builder.Add(attribute);
        }
        return builder.ToImmutable();
    }

    /// <summary>
    /// The event an <c>[On]</c> names. False when the argument is missing or in error (the compiler reports
    /// that) and also when it is a value that is no <c>Event</c> member (<paramref name="undefined"/> is then true).
    /// </summary>
    public bool TryGetEvent(AttributeData on, out LoopEvent e, out bool undefined)
    {
        e = default;
        undefined = false;
        if (on.ConstructorArguments.Length != 1) return false;
        var arg = on.ConstructorArguments[0];
        if (arg.Kind == TypedConstantKind.Error || arg.Value is null) return false;
        if (_eventsByValue.TryGetValue(arg.Value, out e)) return true;
        undefined = true;
        return false;
    }

    /// <summary>
    /// True when <paramref name="method"/> has the shape the generator calls: an ordinary, non-generic, non-static
    /// method returning void with no parameter or one by-value <c>Event</c> parameter.
    /// </summary>
    public bool HasHandlerSignature(IMethodSymbol method) =>
        method.MethodKind == MethodKind.Ordinary
        && !method.IsStatic
        && !method.IsGenericMethod
        && method.ReturnsVoid
        && (method.Parameters.Length == 0 || (method.Parameters.Length == 1 && IsEventParameter(method.Parameters[0])));

    /// <summary>True for a by-value, non-params parameter of type <c>Event</c>.</summary>
    public bool IsEventParameter(IParameterSymbol parameter) =>
        parameter.RefKind == RefKind.None
        && !parameter.IsParams
        && SymbolEqualityComparer.Default.Equals(parameter.Type, Event);

    /// <summary>
    /// The public, settable, non-static field or property named <paramref name="name"/> of
    /// <paramref name="learnerType"/> or a base type: what a callback's <c>Learn.Name = …</c> can assign.
    /// </summary>
    public static ISymbol? FindSettablePublicMember(ITypeSymbol learnerType, string name)
    {
        for (var type = learnerType; type is not null; type = type.BaseType)
        {
            foreach (var candidate in type.GetMembers(name))
            {
                if (candidate.IsStatic || candidate.DeclaredAccessibility != Accessibility.Public) continue;
                switch (candidate)
                {
                    case IPropertySymbol { IsIndexer: false } property
                        when property.SetMethod is { DeclaredAccessibility: Accessibility.Public, IsInitOnly: false }:
                        return property;
                    case IFieldSymbol { IsReadOnly: false, IsConst: false } field:
                        return field;
                }
            }
        }
        return null;
    }
}
