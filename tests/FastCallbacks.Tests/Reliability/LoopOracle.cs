namespace FastCallbacks.Tests.Reliability;

/// <summary>What propagates out of a dispatch: nothing, one of fastai's seven cancel exceptions, or an ordinary error.</summary>
public enum Signal { None, Batch, Backward, Step, Train, Valid, Epoch, Fit, Error }

/// <summary>
/// An independent model of fastai's loop (fastai/learner.py, <c>_with_events</c> and its callers), written from
/// the loop's structure and not from the runtime: it produces the event trace a callback recording every event
/// would see, and what escapes <c>fit</c>. Every stage is a row of <see cref="Stages"/>: dispatch Before, run the
/// body, catch only its own signal (then dispatch AfterCancel), dispatch After. A signal raised in AfterCancel or
/// After is not caught by its own stage.
/// </summary>
public static class LoopOracle
{
    /// <summary>One stage of the loop: the events around it and the one cancel signal it catches.</summary>
    public sealed record Stage(string Name, string Before, Signal Catches, string AfterCancel, string After);

    public static readonly Stage Fit = new("fit", "before_fit", Signal.Fit, "after_cancel_fit", "after_fit");
    public static readonly Stage Epoch = new("epoch", "before_epoch", Signal.Epoch, "after_cancel_epoch", "after_epoch");
    public static readonly Stage Train = new("train", "before_train", Signal.Train, "after_cancel_train", "after_train");
    public static readonly Stage Validate = new("validate", "before_validate", Signal.Valid, "after_cancel_validate", "after_validate");
    public static readonly Stage Batch = new("batch", "before_batch", Signal.Batch, "after_cancel_batch", "after_batch");
    public static readonly Stage Backward = new("backward", "before_backward", Signal.Backward, "after_cancel_backward", "after_backward");
    public static readonly Stage Step = new("step", "before_step", Signal.Step, "after_cancel_step", "after_step");

    /// <summary>The table: which stage catches what.</summary>
    public static readonly IReadOnlyList<Stage> Stages = [Fit, Epoch, Train, Validate, Batch, Backward, Step];

    /// <summary>The size of a fit: epochs, training batches and validation batches per epoch.</summary>
    public sealed record Shape(int Epochs, int TrainBatches, int ValidBatches);

    /// <summary>A callback that raises <paramref name="Signal"/> the <paramref name="Occurrence"/>-th time <paramref name="Event"/> is dispatched.</summary>
    public sealed record Raise(string Event, Signal Signal, int Occurrence = 1);

    /// <summary>The expected trace and what escapes (<see cref="Signal.None"/> when the fit ends normally).</summary>
    public sealed record Outcome(IReadOnlyList<string> Trace, Signal Escaped);

    /// <summary>The outcome of <c>fit</c>; <paramref name="raises"/> are in dispatch order (first match wins).</summary>
    public static Outcome RunFit(Shape shape, params Raise[] raises)
    {
        var sim = new Simulation(raises);
        var escaped = sim.WithEvents(Fit, () => sim.DoFit(shape));
        return new Outcome(sim.Trace, escaped);
    }

    /// <summary>The outcome of the constructor: it dispatches after_create outside any stage.</summary>
    public static Outcome RunCreate(params Raise[] raises)
    {
        var sim = new Simulation(raises);
        return new Outcome(sim.Trace, sim.Dispatch("after_create"));
    }

    private sealed class Simulation(Raise[] raises)
    {
        private readonly bool[] _fired = new bool[raises.Length];
        private readonly Dictionary<string, int> _seen = [];
        public List<string> Trace { get; } = [];

        public Signal Dispatch(string e)
        {
            Trace.Add(e);
            var seen = _seen[e] = _seen.GetValueOrDefault(e) + 1;
            for (var i = 0; i < raises.Length; i++)
            {
                if (_fired[i] || raises[i].Event != e || raises[i].Occurrence != seen) continue;
                _fired[i] = true;
                return raises[i].Signal;
            }
            return Signal.None;
        }

        public Signal WithEvents(Stage stage, Func<Signal> body)
        {
            var s = Dispatch(stage.Before);
            if (s == Signal.None) s = body();
            if (s != Signal.None)
            {
                if (s != stage.Catches) return s;
                s = Dispatch(stage.AfterCancel);
                if (s != Signal.None) return s;
            }
            return Dispatch(stage.After);
        }

        public Signal DoFit(Shape shape)
        {
            for (var epoch = 0; epoch < shape.Epochs; epoch++)
            {
                var s = WithEvents(Epoch, () => DoEpoch(shape));
                if (s != Signal.None) return s;
            }
            return Signal.None;
        }

        private Signal DoEpoch(Shape shape)
        {
            var s = WithEvents(Train, () => Batches(shape.TrainBatches, training: true));
            return s != Signal.None ? s : WithEvents(Validate, () => Batches(shape.ValidBatches, training: false));
        }

        private Signal Batches(int n, bool training)
        {
            for (var i = 0; i < n; i++)
            {
                var s = WithEvents(Batch, () => OneBatch(training));
                if (s != Signal.None) return s;
            }
            return Signal.None;
        }

        private Signal OneBatch(bool training)
        {
            var s = Dispatch("after_pred");
            if (s == Signal.None) s = Dispatch("after_loss");
            if (s != Signal.None || !training) return s;
            s = WithEvents(Backward, () => Signal.None);
            return s != Signal.None ? s : WithEvents(Step, () => Signal.None);
        }
    }
}
