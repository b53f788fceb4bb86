namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// A CancellationToken cancelled from another thread mid-epoch ends the fit at the next batch boundary, with
/// after_cancel_fit and after_fit, and the last checkpoint written (SaveModelCallback, every epoch) is complete.
/// </summary>
public partial class CancellationTests
{
    /// <summary>Copies the weights at the end of every epoch (after SaveModelCallback, order 61).</summary>
    public sealed partial class EpochWeights : Callback
    {
        public readonly List<float[][]> AtEpochEnd = [];
        public override int Order => 100;
        [On(Event.AfterEpoch)] private void Copy() => AtEpochEnd.Add(Tiny.Weights(Attached));
    }

    /// <summary>In epoch <c>epoch</c>, after training batch <c>iter</c>: tells the other thread, and waits until it has cancelled.</summary>
    public sealed partial class Rendezvous(int epoch, int iter) : Callback
    {
        public readonly ManualResetEventSlim Reached = new();
        public readonly ManualResetEventSlim Cancelled = new();
        public override int Order => 100;

        [On(Event.AfterBatch)]
        private void Meet()
        {
            if (!Training || Epoch != epoch || Iter != iter) return;
            Reached.Set();
            if (!Cancelled.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("the cancelling thread did not cancel");
        }
    }

    [Test]
    public void Token_cancelled_from_another_thread_ends_the_fit_at_the_next_batch_boundary_with_a_valid_checkpoint()
    {
        const int trainBatches = 40, stopAt = 17;
        var dir = Tiny.TempDir();
        try
        {
            var trace = new TraceCallback();
            var weights = new EpochWeights();
            var meet = new Rendezvous(epoch: 1, iter: stopAt);
            using var learn = new Learner(Tiny.Dls(trainBatches, 2, bs: 4), TestData.LinearModel(), TestData.Mse, lr: 0.05,
                cbs: [trace, weights], path: dir) { Logger = null, MessageWriter = null };
            trace.Trace.Clear();
            using var cts = new CancellationTokenSource();
            var canceller = Task.Run(() =>
            {
                meet.Reached.Wait();
                cts.Cancel();
                meet.Cancelled.Set();
            });

            learn.Fit(3, cbs: [new SaveModelCallback(everyEpoch: 1), meet], cancellationToken: cts.Token);
            canceller.Wait();

            // Epoch 0 complete, then epoch 1 up to the end of the batch during which the token was cancelled.
            var epoch0 = LoopOracle.RunFit(new(1, trainBatches, 2)).Trace.Skip(1).SkipLast(1);
            string[] trainBatch = ["before_batch", "after_pred", "after_loss", "before_backward", "after_backward", "before_step", "after_step", "after_batch"];
            string[] expected = ["before_fit", .. epoch0, "before_epoch", "before_train",
                .. Enumerable.Repeat(trainBatch, stopAt + 1).SelectMany(b => b), "after_cancel_fit", "after_fit"];
            Assert.That(trace.Trace, Is.EqualTo(expected));
            Assert.That(learn.TrainIter, Is.EqualTo(trainBatches + stopAt + 1));

            // The last checkpoint is the one of epoch 0, complete: it loads and holds the weights of that epoch's end.
            var files = Directory.GetFiles(System.IO.Path.Combine(dir, "models"));
            Assert.That(files.Select(System.IO.Path.GetFileName), Is.EqualTo(new[] { "model_0.pt" }), "one checkpoint, no temporary files");
            using var fresh = new Learner(Tiny.Dls(1, 1, bs: 4), TestData.LinearModel(seed: 9), TestData.Mse, path: dir) { Logger = null, MessageWriter = null };
            fresh.Load("model_0", withOpt: false);
            Assert.That(Tiny.Weights(fresh), Is.EqualTo(weights.AtEpochEnd[0]));
            Assert.That(weights.AtEpochEnd, Has.Count.EqualTo(1));

            // The token belonged to that fit only: the next one runs to the end.
            trace.Trace.Clear();
            learn.Fit(1);
            Assert.That(trace.Trace[^1], Is.EqualTo("after_fit"));
            Assert.That(trace.Trace, Does.Not.Contain("after_cancel_fit"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Token_cancelled_while_the_fit_runs_freely_stops_between_whole_batches()
    {
        var trace = new TraceCallback();
        using var learn = new Learner(Tiny.Dls(200, 50, bs: 2), TestData.LinearModel(), TestData.Mse, cbs: [trace]) { Logger = null };
        trace.Trace.Clear();
        using var cts = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        var fit = Task.Factory.StartNew(() => learn.Fit(1000, cbs: [Callback.Create((Event.AfterBatch, _ => started.Set()))], cancellationToken: cts.Token),
            TaskCreationOptions.LongRunning);
        Assert.That(started.Wait(TimeSpan.FromSeconds(30)), Is.True);
        cts.Cancel();
        Assert.That(fit.Wait(TimeSpan.FromSeconds(30)), Is.True, "the fit stops soon after the token is cancelled");
        Assert.That(fit.Exception, Is.Null);

        Assert.That(trace.Trace.TakeLast(3), Is.EqualTo(new[] { "after_batch", "after_cancel_fit", "after_fit" }));
        var begun = trace.Trace.Count(e => e == "before_batch");
        Assert.That(trace.Trace.Count(e => e == "after_batch"), Is.EqualTo(begun), "every batch that started finished");
        Assert.That(learn.Epoch, Is.LessThan(999));
    }
}
