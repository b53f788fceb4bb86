namespace FastCallbacks.Tests.Library;

/// <summary>LrFind runs an exponential LR sweep, puts the model back exactly, and suggests rates the way fastai does.</summary>
public class LrFindTests
{
    private static Learner Learner()
    {
        var learn = new Learner(TestData.RegressionDls(n: 128), TestData.LinearModel(), TestData.Mse, lr: 0.01);
        learn.RemoveCbs<ProgressCallback>();
        return learn;
    }

    private static Tensor[] Weights(Learner learn) => [.. learn.Model.parameters().Select(p => p.detach().clone())];

    [Test]
    public void Restores_weights_and_optimizer_state_exactly()
    {
        using var learn = Learner();
        learn.Fit(1); // the optimizer now has state (Adam's step counts and averages)
        var before = Weights(learn);
        var opt = learn.Opt!;
        Assert.That(opt.Name, Is.EqualTo("Adam"));
        var stateBefore = opt.State.Select(s => (s.Step, s["grad_avg"]!.clone(), s["sqr_avg"]!.clone())).ToArray();
        var lrBefore = Hyperparameters.GetLr(opt);

        var result = learn.LrFind(numIt: 50);

        Assert.That(result.Lrs, Has.Count.GreaterThan(10), "the sweep ran");
        var after = learn.Model.parameters().ToArray();
        for (var i = 0; i < before.Length; i++)
            Assert.That(after[i].eq(before[i]).all().item<bool>(), Is.True, $"parameter {i} is bit-for-bit the same");
        Assert.That(learn.Opt, Is.SameAs(opt));
        var stateAfter = opt.State;
        Assert.That(stateBefore.Select(s => s.Step), Is.All.EqualTo(6), "six Adam steps (one epoch of 96 rows in batches of 16) before the sweep");
        for (var i = 0; i < stateAfter.Count; i++)
        {
            Assert.That(stateAfter[i].Step, Is.EqualTo(stateBefore[i].Step), "Adam step count");
            Assert.That(stateAfter[i]["grad_avg"]!.eq(stateBefore[i].Item2).all().item<bool>(), Is.True, "Adam first moment");
            Assert.That(stateAfter[i]["sqr_avg"]!.eq(stateBefore[i].Item3).all().item<bool>(), Is.True, "Adam second moment");
        }
        Assert.That(Hyperparameters.GetLr(opt), Is.EqualTo(lrBefore), "the learning rate is put back");
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger), "logging is back on");
    }

    [Test]
    public void Sweeps_exponentially_and_suggests_rates_in_range()
    {
        using var learn = Learner();
        var result = learn.LrFind(startLr: 1e-6, endLr: 1, numIt: 60, stopDiv: false,
            suggestions: [SuggestionMethod.Valley, SuggestionMethod.Slide, SuggestionMethod.Minimum, SuggestionMethod.Steep]);

        var sched = Schedules.SchedExp(1e-6, 1);
        Assert.That(result.Lrs, Has.Count.EqualTo(60), "stopDiv off: exactly numIt batches");
        Assert.That(result.Lrs, Is.EqualTo(Enumerable.Range(0, 60).Select(i => sched(i / 60.0))).Within(1e-9).Percent);
        Assert.That(result.Suggestions.Select(s => s.Name), Is.EqualTo(new[] { "valley", "slide", "minimum", "steep" }));
        foreach (var s in result.Suggestions)
            Assert.That(s.Lr, Is.InRange(1e-7, 1.0), s.Name);
        Assert.That(result["valley"], Is.EqualTo(result.Lr));
        Assert.That(result.ToString(), Does.StartWith("SuggestedLRs(valley="));
        // One suggestion prints as fastai's SuggestedLRs entry, not as a record's members.
        var valley = result.Suggestions[0];
        Assert.That(valley.ToString(), Is.EqualTo("valley=" + valley.Lr.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That($"{valley}", Does.Not.Contain("PointLoss"));
        Assert.That(result.ToString(), Is.EqualTo("SuggestedLRs(" + string.Join(", ", result.Suggestions.Select(s => s.ToString())) + ")"));
        Assert.That(() => result["nope"], Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("`valley`"));
    }

    [Test]
    public void Stops_when_the_loss_diverges_and_skips_validation()
    {
        using var learn = Learner();
        var validBatches = 0;
        learn.AddCb(Callback.Create((Event.AfterBatch, l => { if (!l.Training) validBatches++; })));
        var result = learn.LrFind(startLr: 1e-4, endLr: 1e4, numIt: 100);
        Assert.That(result.Lrs.Count, Is.LessThan(100), "diverged before numIt");
        Assert.That(result.Losses[^1], Is.GreaterThan(4 * result.Losses.Min()));
        Assert.That(validBatches, Is.Zero);
    }

    [Test]
    public void Weights_are_restored_when_the_sweep_fails()
    {
        using var learn = Learner();
        var before = Weights(learn);
        var boom = new ThrowOnEvent(Event.AfterBatch, () => new InvalidOperationException("boom"), order: 70);
        learn.AddCb(boom);
        var batches = 0;
        learn.AddCb(Callback.Create((Event.AfterStep, _ => batches++)));
        Assert.Throws<CallbackException>(() => learn.LrFind(numIt: 20));
        Assert.That(batches, Is.EqualTo(1), "one step changed the weights before the failure");
        var after = learn.Model.parameters().ToArray();
        for (var i = 0; i < before.Length; i++)
            Assert.That(after[i].eq(before[i]).all().item<bool>(), Is.True, $"parameter {i}");
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger));
    }

    [Test]
    public void Too_few_points_is_a_clear_error()
    {
        using var learn = Learner();
        Assert.That(() => learn.LrFind(numIt: 6),
            Throws.InvalidOperationException.With.Message.Contains("too few").And.Message.Contains("Raise numIt"));
    }

    [Test]
    public void Suggestion_methods_match_fastai_on_a_known_curve()
    {
        // A valley between indexes 2 and 8 of a synthetic curve; lrs 10^(i/10 - 3).
        double[] losses = [3.0, 3.1, 2.9, 2.5, 2.0, 1.6, 1.2, 1.0, 0.9, 1.5, 4.0, 9.0];
        var lrs = Enumerable.Range(0, losses.Length).Select(i => Math.Pow(10, i / 10.0 - 3)).ToArray();

        // valley: the longest decreasing subsequence (3.0, 2.9, ..., 0.9; length 8) ends at index 8, so
        // max_start = 8 - 8 = 0, sections = 8/3, idx = 0 + int(2.67) + int(1.33) = 3.
        var valley = SuggestionMethod.Valley.Suggest(lrs, losses, 100);
        Assert.That(valley.Lr, Is.EqualTo(lrs[3]));
        Assert.That(valley.PointLoss, Is.EqualTo(2.5));

        // minimum: a tenth of the rate at the lowest loss (index 8).
        var min = SuggestionMethod.Minimum.Suggest(lrs, losses, 100);
        Assert.That(min.Lr, Is.EqualTo(lrs[8] / 10).Within(1e-15));
        Assert.That((min.PointLr, min.PointLoss), Is.EqualTo((lrs[8], 0.9)));

        // steep: the most negative (loss[i+1]-loss[i]) / (log lr[i+1] - log lr[i]) is from index 3 to 4 (-0.5), so lrs[3].
        var steep = SuggestionMethod.Steep.Suggest(lrs, losses, 100);
        Assert.That(steep.Lr, Is.EqualTo(lrs[3]));

        // slide with lr_diff 3: numpy.gradient, then walk left from the end while the gradients 3 apart differ by > thresh.
        var slide = SuggestionMethod.SlideWith(lrDiff: 3, thresh: 0.2).Suggest(lrs, losses, 100);
        var grad = new double[losses.Length];
        grad[0] = losses[1] - losses[0];
        grad[^1] = losses[^1] - losses[^2];
        for (var i = 1; i < losses.Length - 1; i++) grad[i] = (losses[i + 1] - losses[i - 1]) / 2;
        int r = losses.Length - 1, l = r - 3;
        var expected = lrs[l];
        while (l >= 0 && Math.Abs(grad[r] - grad[l]) > 0.2) { expected = lrs[l]; r--; l--; }
        Assert.That(slide.Lr, Is.EqualTo(expected));
    }
}
