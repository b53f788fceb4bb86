using Spectre.Console.Testing;

namespace FastCallbacks.Tests.Reliability;

/// <summary>Throws <c>make()</c> the first time it sees <c>target</c>; handles all 24 events, after_create included.</summary>
public partial class RaiseOnce(Event target, Func<Exception> make, int order = 1) : Callback
{
    public bool Fired { get; private set; }
    public Exception? Thrown { get; private set; }
    public Event Target => target;

    public override int Order => order;

    [On(Event.AfterCreate), On(Event.BeforeFit), On(Event.BeforeEpoch), On(Event.BeforeTrain), On(Event.BeforeBatch)]
    [On(Event.AfterPred), On(Event.AfterLoss), On(Event.BeforeBackward), On(Event.AfterCancelBackward), On(Event.AfterBackward)]
    [On(Event.BeforeStep), On(Event.AfterCancelStep), On(Event.AfterStep), On(Event.AfterCancelBatch), On(Event.AfterBatch)]
    [On(Event.AfterCancelTrain), On(Event.AfterTrain), On(Event.BeforeValidate), On(Event.AfterCancelValidate), On(Event.AfterValidate)]
    [On(Event.AfterCancelEpoch), On(Event.AfterEpoch), On(Event.AfterCancelFit), On(Event.AfterFit)]
    private void Maybe(Event e)
    {
        if (e != target || Fired) return;
        Fired = true;
        Thrown = make();
        throw Thrown;
    }
}

/// <summary>The tiny problems of the reliability suite and the mapping between the oracle and the runtime.</summary>
public static class Tiny
{
    /// <summary>2 epochs of 2 training batches (of 4) and 1 validation batch (of 4).</summary>
    public static readonly LoopOracle.Shape Shape = new(Epochs: 2, TrainBatches: 2, ValidBatches: 1);

    public static DataLoaders Dls(int seed = 0) => TestData.RegressionDls(n: 12, batchSize: 4, validPct: 1 / 3.0, seed: seed);

    /// <summary>Unshuffled loaders of <paramref name="trainBatches"/> and <paramref name="validBatches"/> batches of <paramref name="bs"/> regression samples.</summary>
    public static DataLoaders Dls(int trainBatches, int validBatches, int bs, int seed = 0)
    {
        var (x, y) = TestData.Regression(bs * (trainBatches + validBatches), seed: seed);
        var n = bs * trainBatches;
        var train = new TensorDataLoader([x.narrow(0, 0, n)], [y.narrow(0, 0, n)], bs);
        var valid = validBatches == 0 ? null : new TensorDataLoader([x.narrow(0, n, bs * validBatches)], [y.narrow(0, n, bs * validBatches)], bs);
        return new DataLoaders(train, valid);
    }

    /// <summary>A fresh folder under the test's work directory, for files a test writes.</summary>
    public static string TempDir()
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastcallbacks-reliability", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// A learner on 12 samples: 2 training batches of 4, 1 validation batch of 4. Its progress display draws live on
    /// an interactive test console and its logger is the user's list, so the tests see both being given back.
    /// </summary>
    public static Learner Learner(IEnumerable<Callback>? cbs = null, double lr = 0.05, DataLoaders? dls = null)
    {
        var learn = new Learner(dls ?? Dls(), TestData.LinearModel(), TestData.Mse, lr: lr, cbs: [.. DefaultCbs(), .. cbs ?? []], defaultCbs: false);
        learn.Logger = new List<EpochLog>().Add;
        return learn;
    }

    /// <summary>The default callbacks, with the progress display on an interactive console (live bars).</summary>
    public static Callback[] DefaultCbs() =>
        [new TrainEvalCallback(), new Recorder(), new ProgressCallback(new TestConsole().Interactive().SupportsAnsi(true).EmitAnsiSequences())];

    /// <summary>The user's logger (a list's Add) is the learner's logger, not the progress display's hook.</summary>
    public static void AssertLoggerGivenBack(Learner learn) =>
        Assert.That(learn.Logger?.Target, Is.InstanceOf<List<EpochLog>>(), "the user's logger is given back");

    public static readonly (Signal Signal, Type Type, Func<Exception> Make)[] Cancels =
    [
        (Signal.Batch, typeof(CancelBatchException), () => new CancelBatchException()),
        (Signal.Backward, typeof(CancelBackwardException), () => new CancelBackwardException()),
        (Signal.Step, typeof(CancelStepException), () => new CancelStepException()),
        (Signal.Train, typeof(CancelTrainException), () => new CancelTrainException()),
        (Signal.Valid, typeof(CancelValidException), () => new CancelValidException()),
        (Signal.Epoch, typeof(CancelEpochException), () => new CancelEpochException()),
        (Signal.Fit, typeof(CancelFitException), () => new CancelFitException()),
    ];

    public static Func<Exception> Make(Signal s) => Cancels.Single(c => c.Signal == s).Make;

    /// <summary>
    /// An after_cancel_X event is dispatched only when X's stage catches its exception, so a case on it needs a
    /// trigger: a callback raising that exception at a point X catches (in the oracle's terms, not the runtime's).
    /// </summary>
    public static LoopOracle.Raise? TriggerFor(string eventName) =>
        LoopOracle.Stages.SingleOrDefault(s => s.AfterCancel == eventName) is { } stage
            ? new LoopOracle.Raise(stage == LoopOracle.Fit ? "after_step" : stage.Before, stage.Catches)
            : null;

    /// <summary>Whether any parameter holds a non-zero gradient (one the next step would use).</summary>
    public static bool HasGradients(Learner learn) =>
        learn.Model.parameters().Any(p => p.grad is { } g && g.abs().sum().item<float>() != 0);

    /// <summary>The parameters as plain arrays, to compare before and after.</summary>
    public static float[][] Weights(Learner learn) =>
        learn.Model.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToArray();
}
