using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace FastCallbacks;

/// <summary>
/// The dispatch of a callback class whose <c>[On]</c> handlers were compiled without the FastCallbacks generator: a
/// notebook or script cell (Roslyn scripting runs no generators), F#, VB, or a C# class that is not partial. It is
/// built once per class, the first time an instance is added, as what the generator would have written: one compiled
/// <c>switch</c> that calls the handlers directly, ancestors' handlers first, each class's in declaration order. After
/// that a dispatch costs one delegate call more than generated code, with no reflection and no allocation.
/// </summary>
/// <remarks>
/// <para>A class "has no generated dispatch" when it declares <c>[On]</c> methods but no <c>Dispatch</c> override of its
/// own: the generator always writes one for such a class, so this is read from the class itself, without any marker
/// in the generated code. Classes of this assembly are compiled with the generator and are not inspected.</para>
/// <para>The classes of a callback's hierarchy that have their own compiled <c>Dispatch</c> (generated or written by
/// hand, such as a library callback a notebook class derives from) keep it: the handlers of the classes above the
/// compiled dispatch run first (<see cref="Above"/>), then the compiled <c>Dispatch</c>, then the handlers of the classes
/// below it (<see cref="Below"/>), which is the order generated code would give them.</para>
/// </remarks>
internal sealed class RuntimeDispatch
{
    /// <summary>What the reading of a callback class needs kept in trimmed apps (see <see cref="Callback"/>).</summary>
    public const DynamicallyAccessedMemberTypes ReadMembers =
        DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods;

    private const BindingFlags Declared =
        BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly ConcurrentDictionary<Type, Plan> Plans = new();
    // Per class of a hierarchy: whether it has [On] handlers and no Dispatch of its own (shared by its subclasses). The
    // values are objects: a dictionary of reference types shares the runtime's precompiled code (start-up time).
    private static readonly ConcurrentDictionary<Type, object> WithoutDispatch = new();
    private static readonly object Yes = new(), No = new();
    private static readonly Plan Generated = new(null, null);

    private RuntimeDispatch(HandlerGroup above, HandlerGroup below, bool hasCompiledDispatch, IReadOnlyList<Type> classes)
    {
        Above = above;
        Below = below;
        HasCompiledDispatch = hasCompiledDispatch;
        Classes = classes;
    }

    /// <summary>The handlers of the classes above the compiled <c>Dispatch</c> (all of them when there is none).</summary>
    public HandlerGroup Above { get; }

    /// <summary>The handlers of the classes below the compiled <c>Dispatch</c>.</summary>
    public HandlerGroup Below { get; }

    /// <summary>Whether a class of the hierarchy has its own compiled <c>Dispatch</c>, whose <c>GetHandledEvents</c> then counts too.</summary>
    public bool HasCompiledDispatch { get; }

    /// <summary>The events of the handlers this dispatch calls.</summary>
    public EventSet Events => Above.Events | Below.Events;

    /// <summary>The classes whose handlers have no generated dispatch, root first.</summary>
    public IReadOnlyList<Type> Classes { get; }

    /// <summary>
    /// The run-time dispatch of <paramref name="type"/>, built on the first call for the type; null when the type's
    /// handlers have generated (or hand-written) dispatch.
    /// </summary>
    /// <exception cref="ArgumentException">A handler cannot be called (wrong shape), or the hierarchy puts handlers
    /// without generated dispatch where no dispatch can reach them; the message names the method or class and the fix.</exception>
    public static RuntimeDispatch? For([DynamicallyAccessedMembers(ReadMembers)] Type type)
    {
        if (!Plans.TryGetValue(type, out var plan))
        {
            // Compiled C# (every class with handlers has its own Dispatch) takes the small path: what Build needs is
            // compiled only for a hierarchy that needs it.
            plan = NeedsRuntimeDispatch(type) ? Build(type) : Generated;
            plan = Plans.GetOrAdd(type, plan);
        }
        return plan.Error is { } error ? throw new ArgumentException(error) : plan.Dispatch;
    }

    /// <summary>The learner's message for a callback of <paramref name="type"/>: that it runs on this dispatch, and why.</summary>
    public string Describe(Type type)
    {
        var classes = string.Join(", ", Classes.Select(c => $"`{TypeNames.Simple(c)}`"));
        var origins = string.Join("; ", Classes.Select(c => c.Assembly).Distinct().Select(Origin));
        return $"`{TypeNames.Simple(type)}` runs on run-time dispatch: the [On] handlers of {classes} have no generated dispatch " +
            $"({origins}), so FastCallbacks built one for the class when it was first added. It calls the same handlers in the " +
            "same order and reports their failures the same way, at a little more per call than generated dispatch (docs/notebooks.md).";
    }

    /// <summary>Why an assembly has no generated dispatch, as far as it can be told.</summary>
    private static string Origin(Assembly assembly)
    {
        var name = assembly.GetName().Name ?? "?";
        // Roslyn scripting (notebook cells, dotnet-script, CSharpScript) names its submissions ℛ*<id>#<n>-<m>.
        if (assembly.IsDynamic || name.StartsWith('ℛ')) return "compiled by a notebook or script cell, where source generators do not run";
        if (assembly.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "Microsoft.FSharp.Core.FSharpInterfaceDataVersionAttribute"))
            return $"compiled by F# (assembly `{name}`), which runs no C# source generators";
        return $"assembly `{name}` was compiled without the FastCallbacks source generator: F#, VB, or a C# class that is not partial";
    }

    // Every class between `type` and Callback derives from Callback, whose [DynamicallyAccessedMembers] keeps the methods of
    // every class deriving from it; BaseType does not carry that annotation for the analyzer.
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Callback's DynamicallyAccessedMembers keeps the methods of every class deriving from it.")]
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Callback's DynamicallyAccessedMembers keeps the methods of every class deriving from it.")]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Plan Build(Type type)
    {
        var levels = new List<Type>();
        for (var t = type; t is not null && t != typeof(Callback); t = t.BaseType) levels.Add(t);
        levels.Reverse();

        var classes = new List<Class>(levels.Count);
        foreach (var level in levels)
        {
            var handlers = level.GetMethods(Declared).Where(m => m.IsDefined(typeof(OnAttribute), inherit: false)).OrderBy(m => m.MetadataToken).ToArray();
            var compiled = DeclaresDispatch(level);
            classes.Add(new Class(level, handlers, compiled));
        }
        if (!classes.Any(c => c.WithoutDispatch)) return Generated;

        var firstCompiled = classes.FindIndex(c => c.HasDispatch);
        var lastCompiled = classes.FindLastIndex(c => c.HasDispatch);
        for (var i = firstCompiled + 1; i < lastCompiled; i++)
        {
            if (!classes[i].WithoutDispatch) continue;
            return new Plan(null,
                $"The [On] handlers of `{TypeNames.Simple(classes[i].Type)}` (a base class of `{TypeNames.Simple(type)}`) cannot be called: the class has no " +
                $"generated dispatch and sits between `{TypeNames.Simple(classes[firstCompiled].Type)}` and `{TypeNames.Simple(classes[lastCompiled].Type)}`, " +
                $"whose compiled Dispatch methods call each other directly. Compile `{TypeNames.Simple(classes[i].Type)}` with the FastCallbacks generator " +
                "(a partial class in a C# project), or give it a Dispatch override that calls base.Dispatch and then its handlers.");
        }

        var handlersByClass = new List<Handler>[classes.Count];
        for (var i = 0; i < classes.Count; i++)
        {
            handlersByClass[i] = [];
            if (!classes[i].WithoutDispatch) continue;
            foreach (var method in classes[i].Handlers)
            {
                if (Problem(method) is { } problem)
                {
                    return new Plan(null,
                        $"`{TypeNames.Simple(classes[i].Type)}.{method.Name}` cannot handle events: it {problem}. An [On] handler is an instance method that " +
                        "returns void and takes no parameters or one Event parameter (FCB0003).");
                }
                var registeredByBase = RegisteredByOverriddenMethods(method);
                var events = method.GetCustomAttributes<OnAttribute>(inherit: false).Select(a => a.Event).Distinct().Where(e => !registeredByBase.Contains(e)).ToArray();
                handlersByClass[i].Add(new Handler(method, method.GetParameters().Length == 1, events));
            }
        }

        // With no compiled Dispatch in the hierarchy every class is "above" it.
        var hasCompiled = firstCompiled >= 0;
        var above = HandlerGroup.Compile(handlersByClass[..(hasCompiled ? firstCompiled : classes.Count)].SelectMany(h => h));
        var below = HandlerGroup.Compile(hasCompiled ? handlersByClass[(lastCompiled + 1)..].SelectMany(h => h) : []);
        var without = classes.Where(c => c.WithoutDispatch).Select(c => c.Type).ToArray();
        return new Plan(new RuntimeDispatch(above, below, hasCompiled, without), null);
    }

    /// <summary>Whether a class of <paramref name="type"/>'s hierarchy has [On] handlers and no Dispatch of its own.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Callback's DynamicallyAccessedMembers keeps the methods of every class deriving from it.")]
    private static bool NeedsRuntimeDispatch(Type type)
    {
        for (var t = type; t is not null && t != typeof(Callback); t = t.BaseType)
        {
            if (HasHandlersWithoutDispatch(t)) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether <paramref name="level"/> declares [On] methods but no Dispatch: the generator always writes a Dispatch for
    /// a class with handlers. The classes of this assembly are compiled with it and not read at all.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Callback's DynamicallyAccessedMembers keeps the methods of every class deriving from it.")]
    private static bool HasHandlersWithoutDispatch(Type level)
    {
        if (level.Assembly == typeof(Callback).Assembly) return false;
        if (WithoutDispatch.TryGetValue(level, out var known)) return known == Yes;
        var result = false;
        if (!DeclaresDispatch(level))
        {
            foreach (var method in level.GetMethods(Declared))
            {
                if (!method.IsDefined(typeof(OnAttribute), inherit: false)) continue;
                result = true;
                break;
            }
        }
        WithoutDispatch[level] = result ? Yes : No;
        return result;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Callback's DynamicallyAccessedMembers keeps the methods of every class deriving from it.")]
    private static bool DeclaresDispatch(Type level)
    {
        // By name (no binder: the cheapest lookup, paid once per class at start-up), then the one signature that counts.
        foreach (var member in level.GetMember("Dispatch", MemberTypes.Method, Declared & ~BindingFlags.Static))
        {
            if (member is MethodInfo { IsVirtual: true } method && method.GetParameters() is [{ ParameterType: var type }] && type == typeof(Event)) return true;
        }
        return false;
    }

    /// <summary>Why the generated dispatch could not call <paramref name="method"/> either, or null (FCB0003's rules).</summary>
    private static string? Problem(MethodInfo method)
    {
        if (method.IsStatic) return "is static";
        if (method.IsGenericMethodDefinition) return "is generic";
        if (method.ReturnType != typeof(void)) return $"returns {TypeNames.Simple(method.ReturnType)}";
        var parameters = method.GetParameters();
        if (parameters.Length > 1 || (parameters.Length == 1 && parameters[0].ParameterType != typeof(Event)))
            return $"takes ({string.Join(", ", parameters.Select(p => TypeNames.Simple(p.ParameterType)))})";
        foreach (var on in method.GetCustomAttributes<OnAttribute>(inherit: false))
        {
            if ((uint)on.Event >= FastCallbacks.Events.Count) return $"is marked [On({(int)on.Event})], which is not an event";
        }
        return null;
    }

    /// <summary>
    /// The events an overridden declaration of <paramref name="method"/> registers: the ancestor's dispatch already makes
    /// that virtual call, which lands on the override, so it must not be called again (the generator's rule).
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Callback's DynamicallyAccessedMembers keeps the methods of every class deriving from it.")]
    private static HashSet<Event> RegisteredByOverriddenMethods(MethodInfo method)
    {
        var registered = new HashSet<Event>();
        if (!method.IsVirtual || (method.Attributes & MethodAttributes.NewSlot) != 0) return registered;
        var parameters = method.GetParameters().Select(p => p.ParameterType).ToArray();
        for (var t = method.DeclaringType?.BaseType; t is not null && t != typeof(Callback); t = t.BaseType)
        {
            if (t.GetMethod(method.Name, Declared & ~BindingFlags.Static, binder: null, parameters, modifiers: null) is not { IsVirtual: true } overridden) continue;
            foreach (var on in overridden.GetCustomAttributes<OnAttribute>(inherit: false)) registered.Add(on.Event);
            if ((overridden.Attributes & MethodAttributes.NewSlot) != 0) break;
        }
        return registered;
    }

    /// <summary>One class of a callback's hierarchy: its [On] methods in declaration order, and whether it declares Dispatch.</summary>
    private sealed record Class(Type Type, MethodInfo[] Handlers, bool HasDispatch)
    {
        public bool WithoutDispatch => Handlers.Length > 0 && !HasDispatch;
    }

    /// <summary>A handler to call: the method, whether it takes the event, the events it is called for.</summary>
    internal sealed record Handler(MethodInfo Method, bool TakesEvent, Event[] Events);

    /// <summary>What was found for a type: a dispatch to build for it, none (generated), or why none can be built.</summary>
    private sealed record Plan(RuntimeDispatch? Dispatch, string? Error);

    /// <summary>Handlers of some classes of a hierarchy, compiled into one method: a switch on the event.</summary>
    internal sealed class HandlerGroup
    {
        private static readonly HandlerGroup Empty = new(EventSet.None, static (_, _) => { });

        private HandlerGroup(EventSet events, Action<Callback, Event> invoke)
        {
            Events = events;
            Invoke = invoke;
        }

        /// <summary>The events some handler of the group handles.</summary>
        public EventSet Events { get; }

        /// <summary>Calls the group's handlers of an event: ancestors' first, each class's in declaration order.</summary>
        public Action<Callback, Event> Invoke { get; }

        /// <summary>
        /// Writes what the generator writes, as an expression tree compiled once: <c>switch (event) { case E: ((C)cb).H(); … }</c>.
        /// A virtual handler is called virtually, as <c>this.H()</c> is in generated code.
        /// </summary>
        public static HandlerGroup Compile(IEnumerable<Handler> handlers)
        {
            var list = handlers.ToList();
            var callback = Expression.Parameter(typeof(Callback), "callback");
            var @event = Expression.Parameter(typeof(Event), "event");
            var cases = new List<SwitchCase>();
            uint mask = 0;
            for (var e = 0; e < FastCallbacks.Events.Count; e++)
            {
                var calls = new List<Expression>();
                foreach (var handler in list)
                {
                    if (!handler.Events.Contains((Event)e)) continue;
                    var target = Expression.Convert(callback, handler.Method.DeclaringType!);
                    calls.Add(handler.TakesEvent ? Expression.Call(target, handler.Method, @event) : Expression.Call(target, handler.Method));
                }
                if (calls.Count == 0) continue;
                mask |= 1u << e;
                cases.Add(Expression.SwitchCase(Expression.Block(typeof(void), calls), Expression.Constant(e)));
            }
            if (mask == 0) return Empty;
            var body = Expression.Switch(typeof(void), Expression.Convert(@event, typeof(int)), null, null, cases);
            return new HandlerGroup(new EventSet(mask), Expression.Lambda<Action<Callback, Event>>(body, callback, @event).Compile());
        }
    }
}
