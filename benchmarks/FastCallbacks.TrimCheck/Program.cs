using FastCallbacks;
using static TorchSharp.torch;

// A tiny FastCallbacks app for the trim check: a learner with a user callback whose dispatch is generated.
// Published trimmed (it is not run: it has no libtorch backend).
using var x = randn(64, 3);
using var y = randn(64, 1);
using var dls = DataLoaders.FromTensors(x, y, batchSize: 16);
using var learn = new Learner(dls, nn.Linear(3, 1), static (p, t) => nn.functional.mse_loss(p, t), cbs: [new CountBatches()]);
learn.Fit(1);
Console.WriteLine(learn.Cb<CountBatches>()!.Batches);

public sealed partial class CountBatches : Callback
{
    public int Batches { get; private set; }

    [On(Event.AfterBatch)]
    private void AfterBatch() => Batches++;
}
