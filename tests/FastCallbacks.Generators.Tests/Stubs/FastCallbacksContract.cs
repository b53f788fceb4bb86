// A stand-in for the FastCallbacks runtime's public contract, compiled into every test compilation in place of
// the real runtime (which needs TorchSharp). Keep its shape identical to src/Runtime/Core/*.cs: the same Event
// values in the same order, the same Callback and Callback<TLearner> member names (the generator skips learner
// properties whose names Callback declares), the same virtual signatures. ContractStubTests checks this.
// Tensor-typed members are `object` here; bodies are minimal.
#nullable enable
using System;
using System.Collections;
using System.Collections.Generic;

namespace FastCallbacks
{
    public enum Event
    {
        AfterCreate, BeforeFit, BeforeEpoch, BeforeTrain, BeforeBatch, AfterPred, AfterLoss, BeforeBackward,
        AfterCancelBackward, AfterBackward, BeforeStep, AfterCancelStep, AfterStep, AfterCancelBatch, AfterBatch,
        AfterCancelTrain, AfterTrain, BeforeValidate, AfterCancelValidate, AfterValidate, AfterCancelEpoch,
        AfterEpoch, AfterCancelFit, AfterFit,
    }

    public static class Events
    {
        public const int Count = 24;
    }

    public readonly struct EventSet : IEquatable<EventSet>, IEnumerable<Event>
    {
        public uint Mask { get; }

        public EventSet(uint mask)
        {
            if ((mask >> Events.Count) != 0) throw new ArgumentOutOfRangeException(nameof(mask));
            Mask = mask;
        }

        public static EventSet None => default;
        public bool Contains(Event e) => (Mask & (1u << (int)e)) != 0;
        public static EventSet operator |(EventSet a, EventSet b) => new(a.Mask | b.Mask);
        public static EventSet operator &(EventSet a, EventSet b) => new(a.Mask & b.Mask);
        public static bool operator ==(EventSet a, EventSet b) => a.Mask == b.Mask;
        public static bool operator !=(EventSet a, EventSet b) => a.Mask != b.Mask;
        public bool Equals(EventSet other) => Mask == other.Mask;
        public override bool Equals(object? obj) => obj is EventSet other && Equals(other);
        public override int GetHashCode() => (int)Mask;

        public IEnumerator<Event> GetEnumerator()
        {
            for (var i = 0; i < Events.Count; i++)
                if ((Mask & (1u << i)) != 0) yield return (Event)i;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
    public sealed class OnAttribute : Attribute
    {
        public OnAttribute(Event @event) => Event = @event;
        public Event Event { get; }
    }

    public class Learner
    {
        public object Model { get; set; } = new();
        public object Dls { get; set; } = new();
        public object LossFunc { get; set; } = new();
        public object? Opt { get; set; }
        public object OptFunc { get; set; } = new();
        public IReadOnlyList<Callback> Cbs { get; set; } = Array.Empty<Callback>();
        public object? Dl { get; set; }
        public object[] Xb { get; set; } = Array.Empty<object>();
        public object[] Yb { get; set; } = Array.Empty<object>();
        public object? X { get; set; }
        public object? Y { get; set; }
        public object? Pred { get; set; }
        public object? LossGrad { get; set; }
        public object? Loss { get; set; }
        public int NEpoch { get; set; }
        public int NIter { get; set; }
        public int Epoch { get; set; }
        public int Iter { get; set; }
        public int TrainIter { get; set; }
        public double PctTrain { get; set; }
        public bool Training { get; set; }
        public double SmoothLoss { get; set; }
    }

    public abstract partial class Callback
    {
        private EventSet? _handled;

        public Learner? Learn { get; internal set; }
        public virtual int Order => 0;
        public virtual IReadOnlyList<Type> RunBefore => Type.EmptyTypes;
        public virtual IReadOnlyList<Type> RunAfter => Type.EmptyTypes;
        public bool Run { get; set; } = true;
        public bool RunTrain { get; set; } = true;
        public bool RunValid { get; set; } = true;
        public virtual string Name => GetType().Name;
        public EventSet HandledEvents => _handled ??= GetHandledEvents();

        // The runtime's dispatch for classes compiled without the generator: never used by generated code.
        internal object? RuntimeDispatch => null;

        private readonly bool _dispatchWrapsExceptions;

        protected Callback() => _dispatchWrapsExceptions = DispatchWrapsExceptions;

        public void Invoke(Event @event)
        {
            if (Run && HandledEvents.Contains(@event)) DispatchUnchecked(@event);
        }

        protected virtual void Dispatch(Event @event) { }
        protected virtual EventSet GetHandledEvents() => EventSet.None;
        protected virtual bool DispatchWrapsExceptions => false;

        protected bool ShouldWrapHandlerException(Exception exception, Event @event) =>
            exception is not CancelException
            && !(exception is CallbackException wrapped && ReferenceEquals(wrapped.Thrower, this) && wrapped.Event == @event);

        internal void DispatchUnchecked(Event @event)
        {
            if (_dispatchWrapsExceptions) Dispatch(@event);
            else DispatchWrapping(@event);
        }

        private void DispatchWrapping(Event @event)
        {
            try
            {
                Dispatch(@event);
            }
            catch (Exception ex) when (ShouldWrapHandlerException(ex, @event))
            {
                throw new CallbackException(this, @event, ex);
            }
        }

        public static Callback Create(params (Event Event, Action<Learner> Handler)[] handlers) => throw new NotSupportedException();

        public override string ToString() => GetType().Name;

        protected Learner Attached => Learn ?? throw new InvalidOperationException("Not attached.");

        public object Model => Attached.Model;
        public object Dls => Attached.Dls;
        public object LossFunc => Attached.LossFunc;
        public object? Opt => Attached.Opt;
        public object OptFunc => Attached.OptFunc;
        public IReadOnlyList<Callback> Cbs => Attached.Cbs;
        public object? Dl => Attached.Dl;
        public object[] Xb => Attached.Xb;
        public object[] Yb => Attached.Yb;
        public object? X => Attached.X;
        public object? Y => Attached.Y;
        public object? Pred => Attached.Pred;
        public object? LossGrad => Attached.LossGrad;
        public object? Loss => Attached.Loss;
        public int NEpoch => Attached.NEpoch;
        public int NIter => Attached.NIter;
        public int Epoch => Attached.Epoch;
        public int Iter => Attached.Iter;
        public int TrainIter => Attached.TrainIter;
        public double PctTrain => Attached.PctTrain;
        public bool Training => Attached.Training;
        public double SmoothLoss => Attached.SmoothLoss;

        internal static string SnakeName(string className, string suffix) => className;
        internal static string CamelToSnake(string s) => s;
    }

    public abstract class Callback<TLearner> : Callback where TLearner : Learner
    {
        public new TLearner? Learn => base.Learn as TLearner;

        protected new TLearner Attached => base.Learn switch
        {
            TLearner typed => typed,
            null => (TLearner)base.Attached,
            var other => throw new InvalidOperationException($"Needs a {typeof(TLearner).Name}, attached to a {other.GetType().Name}."),
        };
    }

    public abstract class CancelException : Exception
    {
        protected CancelException(string message) : base(message) { }
    }

    public sealed class CancelBatchException() : CancelException("Skip the rest of this batch");

    public sealed class CallbackException : Exception
    {
        public CallbackException(Callback callback, Event @event, Exception inner)
            : base(FormatMessage(callback.GetType(), @event, inner), inner)
        {
            CallbackType = callback.GetType();
            Event = @event;
            Thrower = callback;
        }

        public Type CallbackType { get; }
        public Event Event { get; }
        internal Callback Thrower { get; }

        private static string FormatMessage(Type type, Event e, Exception inner) =>
            $"Exception occurred in `{type.Name}` when calling event `{e}`: {inner.Message}";
    }
}
