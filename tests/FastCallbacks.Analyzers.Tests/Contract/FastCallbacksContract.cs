// A stub of the FastCallbacks runtime contract (src/Runtime/Core/*.cs), shaped like the real types: the same
// namespaces, names, members, accessibility and nullability, with TorchSharp types replaced by stubs. The tests
// compile it into an assembly named FastCallbacks, so test code sees it as users see the runtime package.
// Keep it in step with src/Runtime/Core when the contract changes.
#nullable enable
using System;
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

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
    public sealed class OnAttribute : Attribute
    {
        public OnAttribute(Event @event) => Event = @event;
        public Event Event { get; }
    }

    public sealed class Tensor { }

    public partial class Learner
    {
        public double Lr { get; set; }
        public double? Wd { get; set; }
        public string Path { get; set; } = "";
        public Tensor[] Xb { get; set; } = Array.Empty<Tensor>();
        public Tensor[] Yb { get; set; } = Array.Empty<Tensor>();
        public Tensor? X => Xb.Length == 1 ? Xb[0] : null;
        public Tensor? Y => Yb.Length == 1 ? Yb[0] : null;
        public Tensor? Pred { get; set; }
        public Tensor? LossGrad { get; set; }
        public Tensor? Loss { get; set; }
        public int NEpoch { get; set; }
        public int NIter { get; set; }
        public int Epoch { get; set; }
        public int Iter { get; set; }
        public int TrainIter { get; set; }
        public double PctTrain { get; set; }
        public bool Training { get; set; }
        public double SmoothLoss { get; set; }
        public IReadOnlyList<Callback> Cbs => Array.Empty<Callback>();
        public void Fit(int nEpoch) { }
    }

    public abstract partial class Callback
    {
        public Learner? Learn { get; internal set; }
        public virtual int Order => 0;
        public bool Run { get; set; } = true;
        public bool RunTrain { get; set; } = true;
        public bool RunValid { get; set; } = true;
        public virtual string Name => GetType().Name;
        protected virtual void Dispatch(Event @event) { }
        protected Learner Attached => Learn ?? throw new InvalidOperationException("not attached");
        public Tensor[] Xb => Attached.Xb;
        public Tensor[] Yb => Attached.Yb;
        public Tensor? X => Attached.X;
        public Tensor? Y => Attached.Y;
        public Tensor? Pred => Attached.Pred;
        public Tensor? LossGrad => Attached.LossGrad;
        public Tensor? Loss => Attached.Loss;
        public int NEpoch => Attached.NEpoch;
        public int NIter => Attached.NIter;
        public int Epoch => Attached.Epoch;
        public int Iter => Attached.Iter;
        public int TrainIter => Attached.TrainIter;
        public double PctTrain => Attached.PctTrain;
        public bool Training => Attached.Training;
        public double SmoothLoss => Attached.SmoothLoss;
        public IReadOnlyList<Callback> Cbs => Attached.Cbs;
    }

    public abstract class Callback<TLearner> : Callback where TLearner : Learner
    {
        public new TLearner? Learn => base.Learn as TLearner;
        protected new TLearner Attached => base.Learn as TLearner ?? throw new InvalidOperationException("not attached");
    }

    public abstract class CancelException : Exception
    {
        protected CancelException(string message) : base(message) { }
    }

    public sealed class CancelStepException() : CancelException("Skip stepping the optimizer");
    public sealed class CancelBatchException() : CancelException("Skip the rest of this batch and go to `after_batch`");
    public sealed class CancelBackwardException() : CancelException("Skip the backward pass and go to `after_backward`");
    public sealed class CancelTrainException() : CancelException("Skip the rest of the training part of the epoch and go to `after_train`");
    public sealed class CancelValidException() : CancelException("Skip the rest of the validation part of the epoch and go to `after_validate`");
    public sealed class CancelEpochException() : CancelException("Skip the rest of this epoch and go to `after_epoch`");
    public sealed class CancelFitException() : CancelException("Interrupts training and go to `after_fit`");

    // Callback state (src/Runtime/State): what the generator's SaveState/LoadState for [Persist] members call.
    public interface IStatefulCallback
    {
        void SaveState(StateDict state);
        void LoadState(StateDict state);
    }

    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
    public sealed class PersistAttribute : Attribute
    {
        public PersistAttribute() { }
        public PersistAttribute(string key) => Key = key;
        public string? Key { get; }
    }

    public abstract class StateCodec<T>
    {
        public abstract string Name { get; }
    }

    public sealed class StateDict
    {
        public void Set<T>(string key, T value, StateCodec<T> codec) { }
        public T Get<T>(string key, StateCodec<T> codec) => default!;
    }

    public static class StateCodecs
    {
        private sealed class Stub<T>(string name) : StateCodec<T>
        {
            public override string Name => name;
        }

        public static StateCodec<bool> Boolean { get; } = new Stub<bool>("bool");
        public static StateCodec<byte> Byte { get; } = new Stub<byte>("uint8");
        public static StateCodec<sbyte> SByte { get; } = new Stub<sbyte>("int8");
        public static StateCodec<short> Int16 { get; } = new Stub<short>("int16");
        public static StateCodec<ushort> UInt16 { get; } = new Stub<ushort>("uint16");
        public static StateCodec<int> Int32 { get; } = new Stub<int>("int32");
        public static StateCodec<uint> UInt32 { get; } = new Stub<uint>("uint32");
        public static StateCodec<long> Int64 { get; } = new Stub<long>("int64");
        public static StateCodec<ulong> UInt64 { get; } = new Stub<ulong>("uint64");
        public static StateCodec<float> Single { get; } = new Stub<float>("float32");
        public static StateCodec<double> Double { get; } = new Stub<double>("float64");
        public static StateCodec<decimal> Decimal { get; } = new Stub<decimal>("decimal");
        public static StateCodec<char> Char { get; } = new Stub<char>("char");
        public static StateCodec<string> String { get; } = new Stub<string>("string");
        public static StateCodec<TimeSpan> TimeSpan { get; } = new Stub<TimeSpan>("timespan");
        public static StateCodec<DateTime> DateTime { get; } = new Stub<DateTime>("datetime");
        public static StateCodec<DateTimeOffset> DateTimeOffset { get; } = new Stub<DateTimeOffset>("datetimeoffset");
        public static StateCodec<Guid> Guid { get; } = new Stub<Guid>("guid");
        public static StateCodec<StateDict> State { get; } = new Stub<StateDict>("state");
        public static StateCodec<T?> Nullable<T>(StateCodec<T> value) where T : struct => new Stub<T?>(value.Name + "?");
        public static StateCodec<T> Enum<T>() where T : struct, System.Enum => new Stub<T>("enum");
        public static StateCodec<T[]> Array<T>(StateCodec<T> item) => new Stub<T[]>("array");
        public static StateCodec<List<T>> List<T>(StateCodec<T> item) => new Stub<List<T>>("list");
        public static StateCodec<IReadOnlyList<T>> ReadOnlyList<T>(StateCodec<T> item) => new Stub<IReadOnlyList<T>>("list");
        public static StateCodec<Dictionary<string, T>> Dictionary<T>(StateCodec<T> value) => new Stub<Dictionary<string, T>>("dict");
        public static StateCodec<IReadOnlyDictionary<string, T>> ReadOnlyDictionary<T>(StateCodec<T> value) => new Stub<IReadOnlyDictionary<string, T>>("dict");
    }
}
