using TorchSharp.Modules;

namespace FastCallbacks.Tests.Library;

using static LibraryData;

/// <summary>TerminateOnNaN, GradientAccumulation, GradientClip, ShortEpoch and StopAfter.</summary>
public partial class TrainingControlTests
{
    [Test]
    public void TerminateOnNaN_stops_the_fit_at_the_first_NaN_loss()
    {
        var calls = 0;
        Tensor Loss(Tensor p, Tensor t)
        {
            var loss = TestData.Mse(p, t);
            return ++calls == 5 ? loss * double.NaN : loss; // the 2nd training batch of epoch 1
        }
        var trace = new TraceCallback();
        using var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), Loss, cbs: [new TerminateOnNaNCallback(), trace]) { Logger = null };
        learn.Fit(5);
        Assert.That(learn.Epoch, Is.EqualTo(1));
        Assert.That(learn.TrainIter, Is.EqualTo(4), "3 batches of epoch 0 and the NaN batch were counted");
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(1));
        Assert.That(trace.Trace.TakeLast(3), Is.EqualTo(new[] { "after_step", "after_cancel_fit", "after_fit" }),
            "TerminateOnNaN (order -9) cancels before later callbacks see the batch's after_batch");

        calls = 0;
        using var without = new Learner(TestData.RegressionDls(), TestData.LinearModel(), Loss) { Logger = null };
        without.Fit(2);
        Assert.That(without.Recorder!.Values, Has.Count.EqualTo(2), "without the callback the fit goes on");
    }

    [Test]
    public void GradientAccumulation_matches_one_big_batch()
    {
        var (x, y) = TestData.Regression(32, seed: 4);
        var (vx, vy) = TestData.Regression(8, seed: 5);
        Func<IEnumerable<Parameter>, double, optim.Optimizer> sgd = (ps, lr) => optim.SGD(ps, lr);

        // 4 batches of 8, accumulated to 32 samples: one step per epoch.
        using var small = new Learner(Loaders(x, y, 8, vx, vy), TestData.LinearModel(seed: 1), TestData.Mse, sgd, lr: 0.1,
            cbs: [new GradientAccumulation(nAcc: 32)]) { Logger = null };
        var steps = 0;
        small.Fit(3, cbs: [Callback.Create((Event.AfterStep, _ => steps++))]);

        // One batch of 32.
        using var big = new Learner(Loaders(x, y, 32, vx, vy), TestData.LinearModel(seed: 1), TestData.Mse, sgd, lr: 0.1) { Logger = null };
        big.Fit(3);

        Assert.That(steps, Is.EqualTo(3));
        var a = Weights(small.Model);
        var b = Weights(big.Model);
        TestContext.Out.WriteLine($"max |w_accumulated - w_big_batch| = {a.Zip(b).Max(t => (t.First - t.Second).abs().max().item<float>())}");
        for (var i = 0; i < a.Length; i++)
            Assert.That(a[i].allclose(b[i], rtol: 1e-5, atol: 1e-6), Is.True, $"parameter {i}: {string.Join(",", a[i].data<float>().ToArray())} vs {string.Join(",", b[i].data<float>().ToArray())}");
        Assert.That(small.Recorder!.Values.Select(r => r[1]!.Value), Is.EqualTo(big.Recorder!.Values.Select(r => r[1]!.Value)).Within(1e-5));
    }

    [Test]
    public void GradientClip_bounds_the_gradient_norm_before_the_step()
    {
        var norms = new List<double>();
        var clip = new GradientClip(maxNorm: 0.1);
        // Order 12: right after GradientClip (11), before the step.
        var probe = new GradNormProbe(norms);
        using var learn = TestData.RegressionLearner([clip, probe]);
        learn.Logger = null;
        learn.Fit(2);
        Assert.That(norms, Has.Count.EqualTo(6));
        Assert.That(norms, Is.All.LessThanOrEqualTo(0.1 + 1e-6));
        Assert.That(clip.LastNorm, Is.GreaterThan(0.1), "the raw norm was above the limit, so clipping did something");
        TestContext.Out.WriteLine($"norms after clipping: max {norms.Max()}; raw norm of the last batch {clip.LastNorm}");

        norms.Clear();
        using var unclipped = TestData.RegressionLearner([new GradNormProbe(norms)]);
        unclipped.Logger = null;
        unclipped.Fit(1);
        Assert.That(norms.Max(), Is.GreaterThan(0.1));
    }

    public sealed partial class GradNormProbe(List<double> norms) : Callback
    {
        public override int Order => 12;

        [On(Event.BeforeStep)]
        private void Measure()
        {
            using var scope = NewDisposeScope();
            var sq = Attached.Model.parameters().Sum(p => p.grad!.pow(2).sum().item<float>());
            norms.Add(Math.Sqrt(sq));
        }
    }

    [Test]
    public void ShortEpoch_runs_only_the_first_part_of_each_phase()
    {
        var trace = new TraceCallback();
        using var learn = TestData.RegressionLearner([new ShortEpochCallback(pct: 0.5), trace], validPct: 0.5, batchSize: 8);
        learn.Logger = null;
        trace.Trace.Clear();
        learn.Fit(1);
        // 4 train batches: iter/4 reaches 0.5 at iter 2, so batches 0-2 run (validation: 2 batches, cancelled after the second).
        Assert.That(trace.Trace.Count(e => e == "before_step"), Is.EqualTo(3));
        Assert.That(trace.Trace, Does.Contain("after_cancel_train"));
        Assert.That(learn.TrainIter, Is.EqualTo(3));
    }

    [Test]
    public void StopAfter_ends_the_fit_after_a_number_of_batches_or_a_time()
    {
        var messages = new List<string>();
        var stop = new StopAfter(batches: 5);
        using var learn = TestData.RegressionLearner([stop]);
        learn.Logger = null;
        learn.MessageWriter = messages.Add;
        learn.Fit(10);
        Assert.That(learn.TrainIter, Is.EqualTo(5));
        Assert.That(learn.Epoch, Is.EqualTo(1));
        Assert.That(stop.Stopped, Is.True);
        Assert.That(messages.Single(), Does.Contain("5 training batches"));

        var timed = new StopAfter(time: TimeSpan.FromMilliseconds(1));
        var slow = Callback.Create((Event.AfterBatch, _ => Thread.Sleep(2)));
        using var learn2 = TestData.RegressionLearner([slow, timed]);
        learn2.Logger = null;
        learn2.MessageWriter = null;
        learn2.Fit(10);
        Assert.That(learn2.TrainIter, Is.EqualTo(1), "the first batch already overran the budget");
        Assert.Throws<ArgumentException>(() => _ = new StopAfter());
    }
}
