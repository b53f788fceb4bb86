using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// Base class of every callback. Derive from it in a <c>partial</c> class and mark handlers with
/// <see cref="OnAttribute"/>; the FastCallbacks source generator emits <see cref="Dispatch"/> and
/// <see cref="GetHandledEvents"/> for you, so a <see cref="Learner"/> calls your handlers directly and only for
/// the events you handle.
/// </summary>
/// <remarks>
/// <para>As in fastai, a callback reads the learner's state through forwarding properties (<see cref="Model"/>,
/// <see cref="Xb"/>, <see cref="Loss"/>, …) and writes it through <see cref="Learn"/>
/// (<c>Learn.Xb = …</c>). Handlers run on the thread that called <see cref="Learner.Fit"/>.</para>
/// <para>A class whose <c>[On]</c> handlers were compiled without the generator (a notebook or script cell, F#, VB)
/// gets its dispatch built at run time instead, once per class, when it is first added; see <c>docs/notebooks.md</c>.</para>
/// </remarks>
// The run-time dispatch reads a callback class's [On] methods: keep them in trimmed apps (compiled C# has generated
// dispatch and needs none of it, but the check that says so reads the same methods).
[DynamicallyAccessedMembers(RuntimeDispatch.ReadMembers)]
public abstract partial class Callback
{
    private static readonly ConcurrentDictionary<Type, string> NameCache = new();
    private bool _runTrain = true;
    private bool _runValid = true;
    private EventSet? _handled;
    private bool _dispatchWrapsExceptions;
    // Set for a class whose handlers have no generated dispatch (see RuntimeDispatch), with the events of the
    // compiled Dispatch beneath it (generated or hand-written ancestors), if any.
    private RuntimeDispatch? _runtimeDispatch;
    private EventSet _compiledDispatchEvents;

    /// <summary>Initializes the callback.</summary>
    protected Callback()
    {
        // A constant of the class (generated code returns true): read once, so dispatch tests a field. A class on the
        // run-time dispatch sets it back to false (ResolveDispatch).
        _dispatchWrapsExceptions = DispatchWrapsExceptions;
    }

    /// <summary>The learner this callback is attached to, or null while it is not attached.</summary>
    public Learner? Learn { get; internal set; }

    /// <summary>Position in the dispatch order: lower runs first; ties keep the order callbacks were added in.</summary>
    public virtual int Order => 0;

    /// <summary>
    /// Types (a class, a base class or an interface) of callbacks this one must run before, whatever their
    /// <see cref="Order"/>. A cycle among such declarations is reported when the callbacks are added.
    /// </summary>
    public virtual IReadOnlyList<Type> RunBefore => Type.EmptyTypes;

    /// <summary>Types of callbacks this one must run after, whatever their <see cref="Order"/>.</summary>
    public virtual IReadOnlyList<Type> RunAfter => Type.EmptyTypes;

    /// <summary>
    /// When false, no handler of this callback runs, for any event. It is set back to true on every callback
    /// each time <see cref="Event.AfterFit"/> is dispatched, as fastai does.
    /// </summary>
    public bool Run { get; set; } = true;

    /// <summary>Whether the inner-loop handlers (see <see cref="Events.InnerLoop"/>) run while training.</summary>
    public bool RunTrain
    {
        get => _runTrain;
        set { _runTrain = value; Learn?.RebuildDispatchTables(); }
    }

    /// <summary>Whether the inner-loop handlers (see <see cref="Events.InnerLoop"/>) run while validating.</summary>
    public bool RunValid
    {
        get => _runValid;
        set { _runValid = value; Learn?.RebuildDispatchTables(); }
    }

    /// <summary>
    /// fastai's name: the class name in snake_case with one trailing <c>Callback</c> removed
    /// (<c>TstCallback</c> → <c>tst</c>, <c>ComplicatedNameCallback</c> → <c>complicated_name</c>).
    /// </summary>
    public virtual string Name => NameCache.GetOrAdd(GetType(), static t => SnakeName(TypeNames.Simple(t), "Callback"));

    /// <summary>The events this callback's class handles, including inherited handlers.</summary>
    /// <exception cref="ArgumentException">The class's handlers have no generated dispatch and one cannot be built
    /// at run time (a handler of the wrong shape, say); the message names the method and the fix.</exception>
    public EventSet HandledEvents => _handled ??= ResolveDispatch();

    /// <summary>Whether this callback's class runs on the dispatch built at run time (its handlers were compiled
    /// without the FastCallbacks generator), and why; null for generated or hand-written dispatch.</summary>
    internal RuntimeDispatch? RuntimeDispatch
    {
        get
        {
            _ = HandledEvents;
            return _runtimeDispatch;
        }
    }

    /// <summary>
    /// The events to dispatch: the generated (or hand-written) <see cref="GetHandledEvents"/>, or, for a class whose
    /// handlers were compiled without the generator, those of the dispatch built for its class at run time.
    /// </summary>
    private EventSet ResolveDispatch()
    {
        if (FastCallbacks.RuntimeDispatch.For(GetType()) is not { } runtime) return GetHandledEvents();
        // The compiled Dispatch of generated or hand-written ancestors still runs, between the handlers of the
        // classes above it and those below it; the learner names the handlers' failures (DispatchWrapping).
        _compiledDispatchEvents = runtime.HasCompiledDispatch ? GetHandledEvents() : EventSet.None;
        _dispatchWrapsExceptions = false;
        _runtimeDispatch = runtime;
        return runtime.Events | _compiledDispatchEvents;
    }

    /// <summary>
    /// fastai's <c>__call__</c>: runs this callback's handler for <paramref name="event"/> if it has one and the
    /// run flags allow it (<see cref="Run"/>; for inner-loop events <see cref="RunTrain"/> or
    /// <see cref="RunValid"/> according to <see cref="Learner.Training"/>). Exceptions other than
    /// <see cref="CancelException"/>s are wrapped in a <see cref="CallbackException"/>.
    /// Dispatching <see cref="Event.AfterFit"/> sets <see cref="Run"/> back to true.
    /// </summary>
    /// <param name="event">The event to run the handler of; an event this callback does not handle does nothing.</param>
    public void Invoke(Event @event)
    {
        // fastai reads `training` through the learner; with none attached the train clause defaults to
        // true and the valid clause to false, so an unattached callback runs if either flag is set.
        var inner = Events.IsInnerLoop(@event);
        var pass = !inner
            || (RunTrain && (Learn?.Training ?? true))
            || (RunValid && !(Learn?.Training ?? false));
        if (Run && pass && HandledEvents.Contains(@event)) DispatchUnchecked(@event);
        if (@event == Event.AfterFit) Run = true;
    }

    /// <summary>
    /// Calls this class's handlers of <paramref name="event"/>. Generated from the <see cref="OnAttribute"/>
    /// methods; override by hand only for callbacks whose handlers are known at run time.
    /// </summary>
    /// <param name="event">The event being dispatched: one of <see cref="GetHandledEvents"/>, whose flags
    /// (<see cref="Run"/>, <see cref="RunTrain"/>, <see cref="RunValid"/>) the caller has already checked.</param>
    protected virtual void Dispatch(Event @event) { }

    /// <summary>The events <see cref="Dispatch"/> handles. Generated alongside it.</summary>
    protected virtual EventSet GetHandledEvents() => EventSet.None;

    /// <summary>
    /// Whether <see cref="Dispatch"/> wraps its handlers' exceptions in <see cref="CallbackException"/> itself, as
    /// the generated one does (it returns true); when false, the learner wraps them around the call. The generator
    /// returns false again for a class with handlers whose <see cref="Dispatch"/> is written by hand; a class
    /// without handlers that overrides <see cref="Dispatch"/> beneath a generated one should do the same.
    /// </summary>
    protected virtual bool DispatchWrapsExceptions => false;

    /// <summary>
    /// The exception filter of a generated <see cref="Dispatch"/>: true when <paramref name="exception"/>, thrown
    /// while this callback handled <paramref name="event"/>, is to be wrapped in a <see cref="CallbackException"/>
    /// (not a cancel exception, and not already wrapped for this callback and event by a base class's handler).
    /// </summary>
    /// <remarks>A cancel exception is not wrapped; the filter notes this callback and event on it, for its message
    /// should nothing in the loop catch it (<see cref="CancelException.Message"/>).</remarks>
    /// <param name="exception">The exception on its way out of the handler.</param>
    /// <param name="event">The event being dispatched.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected bool ShouldWrapHandlerException(Exception exception, Event @event)
    {
        if (exception is CancelException cancel)
        {
            cancel.NoteThrower(this, @event);
            return false;
        }
        return !(exception is CallbackException wrapped && ReferenceEquals(wrapped.Thrower, this) && wrapped.Event == @event);
    }

    /// <summary>
    /// The learner's path to <see cref="Dispatch"/>: no flag checks (the learner's tables did them). Handler failures
    /// come out as a <see cref="CallbackException"/> naming this callback and the event: generated dispatch wraps them
    /// where it knows the callback, so the learner's loop needs no try of its own (a try there keeps the loop's
    /// locals in memory, which costs more than the call at one callback per event).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void DispatchUnchecked(Event @event)
    {
        if (_dispatchWrapsExceptions) Dispatch(@event);
        else DispatchWrapping(@event);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DispatchWrapping(Event @event)
    {
        try
        {
            if (_runtimeDispatch is { } runtime) DispatchAtRunTime(runtime, @event);
            else Dispatch(@event);
        }
        catch (Exception ex) when (ShouldWrapHandlerException(ex, @event))
        {
            throw new CallbackException(this, @event, ex);
        }
    }

    /// <summary>
    /// What generated dispatch does, for a class compiled without the generator: the handlers of the classes above
    /// the compiled <see cref="Dispatch"/> (if any), that <see cref="Dispatch"/>, then the handlers of the classes
    /// below it; ancestors first, as generated code calls <c>base.Dispatch</c> before its own handlers.
    /// </summary>
    private void DispatchAtRunTime(RuntimeDispatch runtime, Event @event)
    {
        if (runtime.Above.Events.Contains(@event)) runtime.Above.Invoke(this, @event);
        if (_compiledDispatchEvents.Contains(@event)) Dispatch(@event);
        if (runtime.Below.Events.Contains(@event)) runtime.Below.Invoke(this, @event);
    }

    /// <summary>
    /// Builds a callback from delegates, like fastai's <c>Callback(before_fit=f)</c>. Each delegate receives
    /// the learner the callback is attached to.
    /// </summary>
    /// <param name="handlers">One handler per event, each called with the attached learner when that event is
    /// dispatched; an event not listed is not handled.</param>
    /// <exception cref="ArgumentException">An event is given twice, or a delegate is null.</exception>
    public static Callback Create(params (Event Event, Action<Learner> Handler)[] handlers) => new DelegateCallback(handlers);

    /// <inheritdoc/>
    public override string ToString() => TypeNames.Simple(GetType());

    /// <summary>The learner, or a clear error when the callback is not attached to one.</summary>
    protected Learner Attached => Learn ?? throw NotAttached();

    private InvalidOperationException NotAttached() => new(
        $"`{TypeNames.Simple(GetType())}` is not attached to a learner, so it has no learner state to read. " +
        "Add it with learner.AddCb(...) or pass it to Fit(cbs: ...) first.");

    // fastai reads the learner's attributes through the callback (GetAttr); these are the typed, read-only
    // equivalents. Write through Learn: `Learn.Xb = ...`.

    /// <summary>The learner's model.</summary>
    public nn.Module<Tensor, Tensor> Model => Attached.Model;
    /// <summary>The learner's data loaders.</summary>
    public DataLoaders Dls => Attached.Dls;
    /// <summary>The learner's loss function.</summary>
    public Func<Tensor, Tensor, Tensor> LossFunc => Attached.LossFunc;
    /// <summary>The learner's optimizer (null before the first fit creates it).</summary>
    public Optimizer? Opt => Attached.Opt;
    /// <summary>The learner's optimizer factory.</summary>
    public Func<ParameterGroups, double, optim.Optimizer> OptFunc => Attached.OptFunc;
    /// <summary>The learner's callbacks, in insertion order.</summary>
    public IReadOnlyList<Callback> Cbs => Attached.Cbs;
    /// <summary>The data loader being iterated.</summary>
    public DataLoader? Dl => Attached.Dl;
    /// <summary>The inputs of the current batch.</summary>
    public Tensor[] Xb => Attached.Xb;
    /// <summary>The targets of the current batch.</summary>
    public Tensor[] Yb => Attached.Yb;
    /// <summary>The single input of the current batch (null when there are several or none).</summary>
    public Tensor? X => Attached.X;
    /// <summary>The single target of the current batch (null when there are several or none).</summary>
    public Tensor? Y => Attached.Y;
    /// <summary>The model's output for the current batch.</summary>
    public Tensor? Pred => Attached.Pred;
    /// <summary>The loss of the current batch, attached to the graph (backward runs on it).</summary>
    public Tensor? LossGrad => Attached.LossGrad;
    /// <summary>A detached copy of <see cref="LossGrad"/>, taken before <see cref="Event.AfterLoss"/>.</summary>
    public Tensor? Loss => Attached.Loss;
    /// <summary>The number of epochs of the current fit.</summary>
    public int NEpoch => Attached.NEpoch;
    /// <summary>The number of batches of the current phase.</summary>
    public int NIter => Attached.NIter;
    /// <summary>The current epoch (0-based).</summary>
    public int Epoch => Attached.Epoch;
    /// <summary>The index of the current batch in its phase.</summary>
    public int Iter => Attached.Iter;
    /// <summary>Training batches done since the fit began.</summary>
    public int TrainIter => Attached.TrainIter;
    /// <summary>Fraction of the fit's training done.</summary>
    public double PctTrain => Attached.PctTrain;
    /// <summary>True in the training phase, false in validation.</summary>
    public bool Training => Attached.Training;
    /// <summary>The smoothed training loss (set by <see cref="FastCallbacks.Recorder"/>).</summary>
    public double SmoothLoss => Attached.SmoothLoss;

    /// <summary>fastai's <c>class2attr</c>: strip one trailing <paramref name="suffix"/>, then camel case to snake case.</summary>
    internal static string SnakeName(string className, string suffix)
    {
        var stem = className.EndsWith(suffix, StringComparison.Ordinal) ? className[..^suffix.Length] : className;
        return stem.Length == 0 ? suffix.ToLowerInvariant() : CamelToSnake(stem);
    }

    /// <summary>fastcore's <c>camel2snake</c>: split before an upper letter that follows a lower letter or digit,
    /// and before the last capital of a run of capitals followed by a lower letter.</summary>
    internal static string CamelToSnake(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (i > 0 && char.IsUpper(c))
            {
                var prev = s[i - 1];
                var lowerOrDigitBefore = char.IsLower(prev) || char.IsDigit(prev);
                var endOfCapitalRun = char.IsUpper(prev) && i + 1 < s.Length && char.IsLower(s[i + 1]);
                if ((lowerOrDigitBefore || endOfCapitalRun) && sb.Length > 0 && sb[^1] != '_') sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

/// <summary>
/// A callback whose learner is a <typeparamref name="TLearner"/>. The generator adds read-only forwarding
/// properties for <typeparamref name="TLearner"/>'s own public properties that the callback does not declare.
/// </summary>
/// <typeparam name="TLearner">The learner type this callback works with.</typeparam>
public abstract class Callback<TLearner> : Callback where TLearner : Learner
{
    /// <summary>The learner, typed; null while not attached (or attached to a learner of another type).</summary>
    public new TLearner? Learn => base.Learn as TLearner;

    /// <summary>The typed learner, or a clear error when the callback is not attached to one.</summary>
    protected new TLearner Attached => base.Learn switch
    {
        TLearner typed => typed,
        null => (TLearner)base.Attached,
        var other => throw new InvalidOperationException(
            $"`{TypeNames.Simple(GetType())}` needs a {TypeNames.Simple(typeof(TLearner))} but is attached to a {TypeNames.Simple(other.GetType())}."),
    };
}

/// <summary>The callback behind <see cref="Callback.Create"/>: handlers known only at run time.</summary>
internal sealed class DelegateCallback : Callback
{
    private readonly Action<Learner>?[] _handlers = new Action<Learner>?[Events.Count];
    private readonly EventSet _events;

    public DelegateCallback((Event Event, Action<Learner> Handler)[] handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        uint mask = 0;
        foreach (var (e, h) in handlers)
        {
            if (h is null) throw new ArgumentException($"The handler given for `{Events.Name(e)}` is null.", nameof(handlers));
            if (_handlers[(int)e] is not null) throw new ArgumentException($"`{Events.Name(e)}` is given twice; pass one delegate per event.", nameof(handlers));
            _handlers[(int)e] = h;
            mask |= 1u << (int)e;
        }
        _events = new EventSet(mask);
    }

    public override string Name => "callback";

    protected override EventSet GetHandledEvents() => _events;

    protected override void Dispatch(Event @event) => _handlers[(int)@event]?.Invoke(Attached);
}

/// <summary>Type names as a person writes them: <c>Foo&lt;Bar&gt;</c> is <c>Foo</c>.</summary>
internal static class TypeNames
{
    public static string Simple(Type t)
    {
        var name = t.Name;
        var tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }
}
