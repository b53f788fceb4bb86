using FastCallbacks.Generators.Helpers;

// The pipeline's data: small records of strings, numbers and EquatableArrays only. Nothing here may hold an
// ISymbol, SyntaxNode, Location or Compilation: those change identity on every edit and would defeat caching.
namespace FastCallbacks.Generators.Models;

/// <summary>One value of <c>FastCallbacks.Event</c>: its number (the EventSet bit) and its C# name.</summary>
internal sealed record EventModel(int Value, string Name);

/// <summary>
/// A type declaration to re-open as <c>partial</c>: <see cref="Keyword"/> is <c>class</c>, <c>struct</c>,
/// <c>record</c>, <c>record struct</c>, <c>ref struct</c> or <c>interface</c>; <see cref="NameWithTypeParameters"/>
/// is, for example, <c>Outer&lt;T&gt;</c>.
/// </summary>
internal sealed record TypeDeclarationModel(string Keyword, string NameWithTypeParameters);

/// <summary>A read-only forwarding property to emit: <c>public TypeName Name =&gt; this.Attached.Name;</c>.</summary>
internal sealed record ForwardedPropertyModel(string Name, string TypeName);

/// <summary>
/// One <c>[On]</c> method. <see cref="Order"/> is its rank among the class's <c>[On]</c> methods by file path then
/// position, so handlers of one event run in declaration order. <see cref="Events"/> are the events this class must
/// call it for: those an overridden base method already registers are left out, since the base's dispatch calls
/// the override virtually.
/// </summary>
internal sealed record HandlerModel(string MethodName, bool TakesEvent, int Order, EquatableArray<EventModel> Events);

/// <summary>
/// A partial callback class the generator can extend, with what its ancestors already do.
/// </summary>
/// <param name="HintName">Unique, stable name of the generated file.</param>
/// <param name="Namespace">The namespace, keywords escaped; empty for the global namespace.</param>
/// <param name="Declarations">The containing types, outermost first, then the callback class itself.</param>
/// <param name="InheritedEvents">
/// Mask of events some ancestor below <c>Callback</c> may dispatch; all bits when an ancestor's events cannot be
/// known statically (a hand-written or compiled <c>Dispatch</c>).
/// </param>
/// <param name="DeclaresDispatch">The class writes its own <c>Dispatch</c>, so none is generated.</param>
/// <param name="DeclaresGetHandledEvents">The class writes its own <c>GetHandledEvents</c>, so none is generated.</param>
/// <param name="DeclaresDispatchWrapsExceptions">The class writes its own <c>DispatchWrapsExceptions</c>, so none is generated.</param>
/// <param name="ForwardedProperties">Properties of a <c>Callback&lt;TLearner&gt;</c>'s learner to forward.</param>
internal sealed record CallbackTypeModel(
    string HintName,
    string Namespace,
    EquatableArray<TypeDeclarationModel> Declarations,
    uint InheritedEvents,
    bool DeclaresDispatch,
    bool DeclaresGetHandledEvents,
    bool DeclaresDispatchWrapsExceptions,
    EquatableArray<ForwardedPropertyModel> ForwardedProperties);

/// <summary>
/// One <c>[Persist]</c> member: <see cref="Identifier"/> as written in C#, its <see cref="Key"/> in the state, the C#
/// expression of its codec, and how a loaded value is assigned (<see cref="Parsing.PersistAssignment"/>).
/// </summary>
internal sealed record PersistedMemberModel(string Identifier, string Key, string Codec, Parsing.PersistAssignment Assignment);

/// <summary>
/// The <c>SaveState</c>/<c>LoadState</c> to generate for a class's <c>[Persist]</c> members. <see cref="OverridesBase"/>:
/// an ancestor persists too, so the methods override it and call it; otherwise the class implements
/// <c>IStatefulCallback</c> itself (with virtual methods unless it is <see cref="IsSealed"/>).
/// </summary>
internal sealed record PersistenceModel(EquatableArray<PersistedMemberModel> Members, bool OverridesBase, bool IsSealed);

/// <summary>
/// Everything the emit step needs for one generated file, and the output of the parse step: the class, its handlers in
/// order, and its persisted members (null when it has none to save).
/// </summary>
internal sealed record CallbackClassModel(CallbackTypeModel Type, EquatableArray<HandlerModel> Handlers, PersistenceModel? Persistence = null);
