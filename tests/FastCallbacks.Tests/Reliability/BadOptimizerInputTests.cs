using TorchSharp.Modules;

namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// Bad input to the optimizer side (issue 11): a splitter that leaves out parameters or names one twice, a range of
/// rates with one group, freezing more groups than exist, an unknown hyper-parameter name. Each is a clear error
/// naming the problem, before anything runs, with nothing changed: no events, no optimizer made, the weights as they were.
/// </summary>
public partial class BadInputTests
{
    private static Func<nn.Module, IEnumerable<IEnumerable<Parameter>>> Groups(Func<Linear, IEnumerable<IEnumerable<Parameter>>> split) =>
        m => split((Linear)m);

    [Test]
    public void A_splitter_that_leaves_out_a_parameter_is_refused()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            learn.Splitter = Groups(m => [[m.weight!]]);
            var ex = Assert.Throws<ArgumentException>(() => learn.Fit(1, cbs: [new Other()]))!;
            Assert.That(ex.Message, Does.Contain("leaves out 1").And.Contain("bias").And.Contain("never be trained"));
            AssertUntouchedAfter(learn, before, trace);
        }
    }

    [Test]
    public void A_splitter_that_names_a_parameter_twice_is_refused()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            learn.Splitter = Groups(m => [[m.weight!, m.bias!], [m.bias!]]);
            var ex = Assert.Throws<ArgumentException>(() => learn.FitOneCycle(1))!;
            Assert.That(ex.Message, Does.Contain("splitter").And.Contain("groups 0 and 1").And.Contain("exactly one group"));
            Assert.That(learn.Opt, Is.Null);

            using var foreign = nn.Linear(3, 1);
            learn.Splitter = Groups(m => [[m.weight!, m.bias!], [foreign.weight!]]);
            Assert.That(() => learn.CreateOpt(), Throws.ArgumentException.With.Message.Contains("not one of the model's"));
            AssertUntouchedAfter(learn, before, trace);
        }
    }

    [TestCase("Fit")]
    [TestCase("FitOneCycle")]
    [TestCase("FitFlatCos")]
    [TestCase("FitSgdr")]
    public void A_range_of_rates_with_one_parameter_group_is_refused(string recipe)
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            var range = PerGroup.Slice(1e-4, 1e-2);
            TestDelegate call = recipe switch
            {
                "Fit" => () => learn.Fit(1, lr: range),
                "FitOneCycle" => () => learn.FitOneCycle(1, range),
                "FitFlatCos" => () => learn.FitFlatCos(1, range),
                _ => () => learn.FitSgdr(1, 1, range),
            };
            var ex = Assert.Throws<ArgumentException>(call)!;
            Assert.That(ex.Message, Does.Contain("Slice(0.0001, 0.01)").And.Contain("one group").And.Contain("splitter"));
            AssertUntouchedAfter(learn, before, trace);
        }
    }

    [Test]
    public void Rates_that_do_not_fit_the_groups_of_an_existing_optimizer_change_nothing()
    {
        var (learn, trace, _) = Fresh();
        using (learn)
        {
            learn.Fit(1);
            trace.Trace.Clear();
            var before = State.Of(learn);
            var lr = learn.Opt!.GetHyper("lr");
            var ex = Assert.Throws<ArgumentException>(() => learn.Fit(1, lr: new[] { 1e-3, 1e-2, 1e-1 }))!;
            Assert.That(ex.Message, Does.Contain("3 values").And.Contain("1 parameter group"));
            Assert.That(learn.Opt.GetHyper("lr"), Is.EqualTo(lr));
            AssertUntouched(learn, before, trace);
        }
    }

    [Test]
    public void Freezing_more_groups_than_exist_is_refused()
    {
        var (learn, trace, before) = Fresh();
        using (learn)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => learn.FreezeTo(2))!;
            Assert.That(ex.Message, Does.Contain("FreezeTo(2)").And.Contain("has 1").And.Contain("splitter"));
            Assert.That(() => learn.FreezeTo(-2), Throws.InstanceOf<ArgumentOutOfRangeException>());
            var freeze = Assert.Throws<InvalidOperationException>(() => learn.Freeze())!;
            Assert.That(freeze.Message, Does.Contain("one group").And.Contain("splitter"));
            AssertUntouchedAfter(learn, before, trace);
        }
    }

    [Test]
    public void An_unknown_hyper_parameter_name_is_refused()
    {
        var (learn, trace, _) = Fresh();
        using (learn)
        {
            var ex = Assert.Throws<ArgumentException>(() => learn.Fit(1, cbs: [new ParamScheduler(new() { ["momentum"] = Schedules.SchedLin(0.9, 0.8) })]))!;
            Assert.That(ex.Message, Does.Contain("`momentum`").And.Contain("`mom`"));
            Assert.That(learn.Opt, Is.Null);
            Assert.That(trace.Trace, Is.Empty);

            learn.CreateOpt();
            var set = Assert.Throws<ArgumentException>(() => learn.Opt!.SetHyper("beta1", 0.8))!;
            Assert.That(set.Message, Does.Contain("Adam has no hyper-parameter `beta1`").And.Contain("`mom` is the momentum or beta1"));
            Assert.That(learn.Opt!.GetHyper("mom"), Is.EqualTo(0.9));
        }
    }

    /// <summary><see cref="AssertUntouched"/>, and the learner has still made no optimizer.</summary>
    private static void AssertUntouchedAfter(Learner learn, State before, TraceCallback trace)
    {
        Assert.That(learn.Opt, Is.Null, "no optimizer is made for a call that cannot run");
        learn.Splitter = Splitters.TrainableParams; // so that the learner can show it fits again like new
        AssertUntouched(learn, before, trace);
    }
}
