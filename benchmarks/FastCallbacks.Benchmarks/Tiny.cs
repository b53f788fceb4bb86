using static TorchSharp.torch;

namespace FastCallbacks.Benchmarks;

/// <summary>The smallest learner inputs, for benchmarks that only dispatch events.</summary>
internal static class Tiny
{
    public static (DataLoaders Dls, nn.Module<Tensor, Tensor> Model) Problem()
    {
        using var x = zeros(4, 1);
        using var y = zeros(4, 1);
        return (DataLoaders.FromTensors(x, y, batchSize: 4, validPct: 0, shuffle: false), nn.Linear(1, 1));
    }

    public static Tensor Mse(Tensor pred, Tensor targ) => nn.functional.mse_loss(pred, targ);
}
