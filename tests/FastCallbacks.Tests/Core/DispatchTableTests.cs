namespace FastCallbacks.Tests.Core;

/// <summary>The dispatch tables are built when the callbacks change, not on every fit.</summary>
public class DispatchTableTests
{
    [Test]
    public void A_fit_without_callbacks_of_its_own_keeps_the_order_and_tables()
    {
        using var learn = TestData.RegressionLearner();
        learn.Fit(1);
        var order = learn.OrderedCbs();
        learn.Fit(1);
        Assert.That(learn.OrderedCbs(), Is.SameAs(order), "a Fit with no cbs adds and removes nothing, so nothing is re-sorted");
    }

    [Test]
    public void A_fit_with_callbacks_of_its_own_rebuilds_the_order_and_restores_it()
    {
        using var learn = TestData.RegressionLearner();
        var before = learn.OrderedCbs().ToArray();
        var during = Array.Empty<Callback>();
        var probe = Callback.Create((Event.BeforeFit, l => during = l.OrderedCbs().ToArray()));
        learn.Fit(1, cbs: [probe]);
        Assert.That(during, Does.Contain(probe));
        Assert.That(learn.OrderedCbs(), Is.EqualTo(before));
    }

    [Test]
    public void Removing_a_callback_that_is_not_attached_changes_nothing()
    {
        using var learn = TestData.RegressionLearner();
        var order = learn.OrderedCbs();
        learn.RemoveCb(new TrainEvalCallback());
        Assert.That(learn.OrderedCbs(), Is.SameAs(order));
    }
}
