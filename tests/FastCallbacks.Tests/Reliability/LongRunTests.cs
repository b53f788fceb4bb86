using System.Diagnostics;
using TorchSharp.Modules;

namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// 10,000 batches with the default callbacks plus <see cref="GatherPredsCallback"/> (which copies every batch's
/// predictions and targets out of the batch's dispose scope): after every epoch the live native tensors, the
/// tensors made outside batch scopes, and the managed heap are where they were after the previous one.
/// </summary>
public partial class LongRunTests
{
    private const int Epochs = 5, TrainBatches = 1600, ValidBatches = 400, Bs = 2;

    /// <summary>Measures at the end of every epoch, after every other callback (order 1000).</summary>
    public sealed partial class EpochProbe : Callback
    {
        public readonly List<(long Live, long CreatedOutside, long Managed, double Seconds)> Rows = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public override int Order => 1000;

        [On(Event.AfterEpoch)]
        private void Measure()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Rows.Add((Tensor.TotalCount, DisposeScopeManager.Statistics.CreatedOutsideScopeCount, GC.GetTotalMemory(forceFullCollection: true), _clock.Elapsed.TotalSeconds));
        }
    }

    [Test]
    public void Ten_thousand_batches_keep_native_and_managed_memory_flat()
    {
        var (x, y) = TestData.Regression(Bs * (TrainBatches + ValidBatches), seed: 3);
        using (x) using (y)
        {
            var nTrain = Bs * TrainBatches;
            using var xt = x.narrow(0, 0, nTrain); using var yt = y.narrow(0, 0, nTrain);
            using var xv = x.narrow(0, nTrain, Bs * ValidBatches); using var yv = y.narrow(0, nTrain, Bs * ValidBatches);
            var dls = new DataLoaders(new TensorDataLoader([xt], [yt], Bs, shuffle: true, seed: 1), new TensorDataLoader([xv], [yv], Bs));
            var rows = new List<EpochLog>();
            using var gather = new GatherPredsCallback();
            var probe = new EpochProbe();
            using var learn = new Learner(dls, TestData.LinearModel(), TestData.Mse, lr: 0.01, cbs: [gather, probe]) { Logger = rows.Add };

            learn.Fit(Epochs);

            var r = probe.Rows;
            TestContext.Out.WriteLine($"{Epochs * (TrainBatches + ValidBatches)} batches ({Epochs} epochs of {TrainBatches} train + {ValidBatches} valid, batch size {Bs}), default callbacks + GatherPredsCallback");
            TestContext.Out.WriteLine("epoch | live tensors | created outside scopes (delta) | managed bytes (delta) | seconds");
            for (var i = 0; i < r.Count; i++)
            {
                TestContext.Out.WriteLine($"{i,5} | {r[i].Live,12} | {r[i].CreatedOutside,10} ({(i == 0 ? 0 : r[i].CreatedOutside - r[i - 1].CreatedOutside),+4}) | {r[i].Managed,12} ({(i == 0 ? 0 : r[i].Managed - r[i - 1].Managed),+8}) | {r[i].Seconds,6:F2}");
            }

            Assert.That(rows, Has.Count.EqualTo(Epochs), "every epoch ran");
            Assert.That(gather.Preds!.shape, Is.EqualTo(new long[] { Bs * ValidBatches, 1 }), "the last validation's predictions are gathered");
            Assert.That(r.Select(m => m.Live), Is.All.EqualTo(r[0].Live), "live native tensors are the same after every epoch");
            var outsidePerEpoch = r.Zip(r.Skip(1), (a, b) => b.CreatedOutside - a.CreatedOutside).ToArray();
            Assert.That(outsidePerEpoch, Is.All.EqualTo(outsidePerEpoch[0]), "tensors made outside batch scopes: the same number every epoch");
            Assert.That(outsidePerEpoch[0], Is.LessThan(TrainBatches / 10), "and not one per batch");
            // A leak grows the heap every epoch, by at least 24 bytes (the smallest object) for each of the 2,000
            // batches. The recorder legitimately keeps two doubles per training batch, in lists whose capacity doubles
            // in epochs 1 and 2 only; anything else (a one-off buffer of the runtime) does not recur. So the smallest
            // growth of an epoch after the first must be far below 48 KB, and the average stays small.
            var growth = r.Zip(r.Skip(1), (a, b) => b.Managed - a.Managed).ToArray();
            var bytesPerBatch = (r[^1].Managed - r[0].Managed) / (double)((r.Count - 1) * (TrainBatches + ValidBatches));
            TestContext.Out.WriteLine($"managed heap growth per epoch after the first: smallest {growth.Min()} bytes; on average {bytesPerBatch:F1} bytes a batch");
            Assert.That(growth.Min(), Is.LessThan(8 * 1024));
            Assert.That(bytesPerBatch, Is.LessThan(64));
        }
    }
}
