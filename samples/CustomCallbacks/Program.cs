// CustomCallbacks: how to write callbacks, one kind per class below.
//
//   1. InputNoise       a typed callback, Callback<NoisyLearner>: reads the learner's own state as forwarded
//                       properties (generated) and writes the learner's state through Learn.
//   2. SkipSmallBatches cancels batches: throws CancelBatchException; the loop catches it, dispatches
//                       AfterCancelBatch and goes on with AfterBatch.
//   3. WeightPenalty    changes the loss: in AfterLoss, between the loss and backward, Learn.LossGrad = ...
//   4. PenaltyShare     ordering with RunAfter: runs after WeightPenalty, whatever order they were added in.
//      EpochReport      ordering with Order: after the Recorder (50), so the epoch's row is there to read.
//
// Every callback is a `partial` class with `[On(Event.X)]` methods: the source generator writes its dispatch.
// The program checks what each callback did and exits with 1 if anything is off (the tests run it).
//
//   dotnet run --project samples/CustomCallbacks
using FastCallbacks;
using TorchSharp;
using static TorchSharp.torch;

set_num_threads(1);
manual_seed(0);
var (x, y) = Spirals(n: 1000, seed: 0);
// 800 training rows: 12 batches of 64 and a last one of 32 per epoch (kept: dropLast: false; a shuffled training set drops
// it by default, as fastai's). 200 validation rows in batches of 64.
using var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.2, seed: 42, dropLast: false);
var model = nn.Sequential(
    ("fc1", nn.Linear(2, 64)), ("act1", nn.ReLU()),
    ("fc2", nn.Linear(64, 64)), ("act2", nn.ReLU()),
    ("fc3", nn.Linear(64, 2)));

var share = new PenaltyShare();
var report = new EpochReport();
var skip = new SkipSmallBatches(minSize: 48);
var noise = new InputNoise();
var penalty = new WeightPenalty(wd: 1e-4);
// Added in this order on purpose: PenaltyShare comes first but runs after WeightPenalty (RunAfter).
using var learn = new NoisyLearner(dls, model, new CrossEntropyLossFlat(), lr: 1e-2, metrics: [Metrics.Accuracy()],
    cbs: [share, report, skip, noise, penalty]) { NoiseStd = 0.02 };

// fastai's show_training_loop: for each event, the callbacks that handle it, in the order they run.
Console.WriteLine(learn.ShowTrainingLoop());

const int epochs = 12;
learn.Fit(epochs);

// ---- What each callback did ----
Console.WriteLine();
var failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
    if (!ok) failures++;
}
var afterLoss = learn.OrderedCbs(Event.AfterLoss).Select(cb => cb.GetType().Name).ToList();
Check(afterLoss.IndexOf(nameof(WeightPenalty)) < afterLoss.IndexOf(nameof(PenaltyShare)),
    $"AfterLoss runs {string.Join(" -> ", afterLoss)}: WeightPenalty before PenaltyShare (RunAfter)");
var afterEpoch = learn.OrderedCbs(Event.AfterEpoch).Select(cb => cb.GetType().Name).ToList();
Check(afterEpoch.IndexOf(nameof(Recorder)) < afterEpoch.IndexOf(nameof(EpochReport)),
    $"AfterEpoch runs {string.Join(" -> ", afterEpoch)}: Recorder before EpochReport (Order 50 < 70)");
Check(skip.Skipped == epochs, $"SkipSmallBatches cancelled {skip.Skipped} batches: the 32-row training batch of each of the {epochs} epochs");
Check(learn.NoisyBatches == epochs * 12, $"InputNoise added noise to {learn.NoisyBatches} batches (12 per epoch; cancelled batches get none, it runs after SkipSmallBatches)");
Check(penalty.Batches == epochs * 12 && share.MeanShare > 0,
    $"WeightPenalty changed the loss of {penalty.Batches} training batches; the penalty was {share.MeanShare:P2} of the loss backward saw on average");
Check(report.Lines == epochs, $"EpochReport read {report.Lines} rows from the Recorder");
var accuracy = learn.Recorder!.Values[^1][^1] ?? 0;
Check(accuracy >= 0.9, $"the model learned the spirals: validation accuracy {accuracy:P1}");
Console.WriteLine(failures == 0 ? "CustomCallbacks: all checks passed" : $"CustomCallbacks: {failures} checks failed");
return failures == 0 ? 0 : 1;

// Two interleaved spirals: a small problem a straight line cannot solve.
static (Tensor X, Tensor Y) Spirals(int n, int seed)
{
    var g = new Generator((ulong)seed);
    var t = rand([n], generator: g) * 3 * Math.PI + 0.5;
    var label = randint(0, 2, [n], generator: g);
    var sign = label.to_type(ScalarType.Float32) * 2 - 1;
    var xs = stack([t * cos(t) * sign, t * sin(t) * sign], 1) / 10 + randn([n, 2], generator: g) * 0.02;
    return (xs, label);
}

/// <summary>
/// A learner with state of its own. Derive from <see cref="Learner"/>, add properties; callbacks typed on it
/// (<see cref="Callback{TLearner}"/>) read them as if they were their own.
/// </summary>
public class NoisyLearner(DataLoaders dls, nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor, Tensor> lossModule,
    double lr, IEnumerable<Metric> metrics, IEnumerable<Callback> cbs)
    : Learner(dls, model, lossModule, lr: lr, metrics: metrics, cbs: cbs)
{
    /// <summary>Standard deviation of the noise <see cref="InputNoise"/> adds to training inputs.</summary>
    public double NoiseStd { get; set; }

    /// <summary>Batches that got noise.</summary>
    public int NoisyBatches { get; set; }
}

/// <summary>
/// 1. A typed callback. The generator gives a <c>Callback&lt;NoisyLearner&gt;</c> read-only properties that forward
/// to the learner's own (<c>NoiseStd</c>, <c>NoisyBatches</c>), next to the ones every callback has (<c>X</c>,
/// <c>Training</c>, <c>Epoch</c>, …). Reads go through them; writes go through <c>Learn</c>, typed as
/// <c>NoisyLearner</c> here. (Writing <c>NoisyBatches++</c> would not compile: the forwarder is read-only.)
/// </summary>
public sealed partial class InputNoise : Callback<NoisyLearner>
{
    /// <summary>Training only: the handlers of inner-loop events do not run while validating.</summary>
    public InputNoise() => RunValid = false;

    [On(Event.BeforeBatch)]
    private void AddNoise()
    {
        if (NoiseStd == 0) return;                          // NoiseStd: forwarded from the learner
        Learn!.Xb = [X! + randn_like(X!) * NoiseStd];       // the learner's state: written through Learn
        Learn.NoisyBatches++;
    }
}

/// <summary>
/// 2. Cancelling. A handler throws one of the seven cancel exceptions; the loop catches it at that stage (here the
/// batch), dispatches the matching AfterCancel event, then the stage's After event, and goes on. Any other
/// exception stops the fit, wrapped in a <see cref="CallbackException"/> naming the callback and the event.
/// </summary>
public sealed partial class SkipSmallBatches : Callback
{
    /// <summary>Creates the callback; training only.</summary>
    public SkipSmallBatches(int minSize)
    {
        MinSize = minSize;
        RunValid = false;
    }

    /// <summary>Smaller training batches are skipped: no forward, no loss, no step.</summary>
    public int MinSize { get; }

    /// <summary>Batches skipped.</summary>
    public int Skipped { get; private set; }

    [On(Event.BeforeBatch)]
    private void Check()
    {
        if (X!.shape[0] < MinSize) throw new CancelBatchException();
    }

    [On(Event.AfterCancelBatch)]
    private void Count() => Skipped++;
}

/// <summary>
/// 3. Changing the loss. AfterLoss runs after the loss is computed and before backward: replace
/// <c>Learn.LossGrad</c>, the tensor backward runs on. <c>Loss</c>, the detached copy taken before AfterLoss that
/// the Recorder logs, keeps the plain loss. Tensors made in a handler belong to the batch and are freed with it.
/// </summary>
public sealed partial class WeightPenalty(double wd) : Callback
{
    /// <summary>Training batches whose loss was changed.</summary>
    public int Batches { get; private set; }

    [On(Event.AfterLoss)]
    private void AddPenalty()
    {
        if (!Training) return;   // the validation loss stays the plain loss
        var squares = Model.parameters().Select(p => p.pow(2).sum()).Aggregate((a, b) => a + b);
        Learn!.LossGrad = LossGrad! + squares * wd;
        Batches++;
    }
}

/// <summary>
/// 4a. Ordering with <see cref="Callback.RunAfter"/>: this reads the loss after <see cref="WeightPenalty"/> changed
/// it, so it must run after it for the same event, wherever either sits in the learner's list.
/// (<see cref="Callback.RunBefore"/> is the other direction; a cycle is an error when the callbacks are added.)
/// </summary>
public sealed partial class PenaltyShare : Callback
{
    private static readonly Type[] After = [typeof(WeightPenalty)];
    private double _sum;
    private int _count;

    /// <inheritdoc/>
    public override IReadOnlyList<Type> RunAfter => After;

    /// <summary>The mean share of the penalty in the loss backward ran on.</summary>
    public double MeanShare => _count == 0 ? 0 : _sum / _count;

    [On(Event.AfterLoss)]
    private void Measure()
    {
        if (!Training) return;
        var total = LossGrad!.item<float>();   // with the penalty
        var plain = Loss!.item<float>();       // without
        _sum += (total - plain) / total;
        _count++;
    }
}

/// <summary>
/// 4b. Ordering with <see cref="Callback.Order"/>: lower runs first, ties keep the order they were added in. The
/// Recorder (50) fills the epoch's row in AfterEpoch, so a callback that reads it there needs a higher Order.
/// </summary>
public sealed partial class EpochReport : Callback
{
    /// <inheritdoc/>
    public override int Order => 70;

    /// <summary>Rows read.</summary>
    public int Lines { get; private set; }

    [On(Event.AfterEpoch)]
    private void Report()
    {
        var recorder = Learn!.Recorder!;
        var row = recorder.Values[^1];   // train_loss, valid_loss, accuracy
        var cells = recorder.MetricNames.Skip(1).Zip(row, (name, value) => $"{name} {value:F4}");
        Console.WriteLine($"  EpochReport, epoch {Epoch}: {string.Join(", ", cells)}");
        Lines++;
    }
}
