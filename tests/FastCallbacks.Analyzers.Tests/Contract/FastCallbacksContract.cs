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
}
