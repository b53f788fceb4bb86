using FastCallbacks;
using TorchSharp;
using static TorchSharp.torch;

// Two interleaved spirals: a small problem a straight line cannot solve.
var (x, y) = Spirals(n: 1000, seed: 0);
using var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.2, seed: 42);

manual_seed(0);
var model = nn.Sequential(
    ("fc1", nn.Linear(2, 64)), ("act1", nn.ReLU()),
    ("fc2", nn.Linear(64, 64)), ("act2", nn.ReLU()),
    ("fc3", nn.Linear(64, 2)));

using var learn = new Learner(dls, model, nn.CrossEntropyLoss(), lr: 3e-3, cbs: [new AccuracyPrinter(), new BatchCounter()]);
learn.Fit(8);

Console.WriteLine($"Batches trained: {learn.Cb<BatchCounter>()!.Count}");

static (Tensor X, Tensor Y) Spirals(int n, int seed)
{
    var g = new Generator((ulong)seed);
    var t = rand([n], generator: g) * 3 * Math.PI + 0.5;
    var label = randint(0, 2, [n], generator: g);
    var sign = label.to_type(ScalarType.Float32) * 2 - 1;
    var xs = stack([t * cos(t) * sign, t * sin(t) * sign], 1) / 10 + randn([n, 2], generator: g) * 0.02;
    return (xs, label);
}

/// <summary>Counts training batches (a callback with one handler).</summary>
public sealed partial class BatchCounter : Callback
{
    public int Count { get; private set; }

    [On(Event.AfterBatch)]
    private void Counted()
    {
        if (Training) Count++;
    }
}

/// <summary>Prints validation accuracy after each epoch (accumulated per batch, as fastai's metrics are).</summary>
public sealed partial class AccuracyPrinter : Callback
{
    private long _correct, _total;

    public override int Order => 60; // after the Recorder (50) has logged the epoch

    [On(Event.BeforeValidate)]
    private void Reset() => (_correct, _total) = (0, 0);

    [On(Event.AfterBatch)]
    private void Accumulate()
    {
        if (Training) return;
        _correct += Pred!.argmax(1).eq(Y!).sum().item<long>();
        _total += Y!.shape[0];
    }

    [On(Event.AfterEpoch)]
    private void Print() => Console.WriteLine($"    epoch {Epoch}: valid accuracy {(double)_correct / _total:P1}");
}
