namespace FastCallbacks.Tests.Core;

public partial class FailingHandlerTests
{
    public sealed partial class TstCallback : Callback
    {
        [On(Event.BeforeBatch)]
        private void Boom() => throw new InvalidOperationException("boom");
    }

    [Test]
    public void Handler_exception_is_wrapped_with_fastai_message_and_original_inside()
    {
        using var learn = TestData.RegressionLearner();
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [new TstCallback()]))!;
        Assert.That(ex.Message, Is.EqualTo("Exception occurred in `TstCallback` when calling event `before_batch`: boom"));
        Assert.That(ex.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(ex.CallbackType, Is.EqualTo(typeof(TstCallback)));
        Assert.That(ex.Event, Is.EqualTo(Event.BeforeBatch));
    }

    [Test]
    public void Exception_with_empty_message_is_wrapped_too()
    {
        var cb = Callback.Create((Event.BeforeFit, _ => throw new ArgumentException("")));
        using var learn = TestData.RegressionLearner([cb]);
        var ex = Assert.Throws<CallbackException>(() => learn.Fit(1))!;
        Assert.That(ex.Message, Is.EqualTo("Exception occurred in `DelegateCallback` when calling event `before_fit`: "));
    }

    [Test]
    public void After_a_failing_handler_temporary_callbacks_are_removed_and_the_learner_still_trains()
    {
        using var learn = TestData.RegressionLearner();
        var failing = new TstCallback();
        var countBefore = learn.Cbs.Count;
        Assert.Throws<CallbackException>(() => learn.Fit(1, cbs: [failing]));
        Assert.That(learn.Cbs, Has.Count.EqualTo(countBefore));
        Assert.That(failing.Learn, Is.Null);

        learn.Fit(3);
        var losses = learn.Recorder!.Values.Select(v => v[1]!.Value).ToArray();
        Assert.That(losses[^1], Is.LessThan(losses[0]));
    }

    [Test]
    public void Callback_Invoke_wraps_like_fastai_call()
    {
        var cb = new TstCallback();
        var ex = Assert.Throws<CallbackException>(() => cb.Invoke(Event.BeforeBatch))!;
        Assert.That(ex.Message, Does.Contain("`before_batch`"));
        Assert.DoesNotThrow(() => cb.Invoke(Event.AfterBatch), "an unhandled event is a no-op");
    }

    [Test]
    public void Cancel_exceptions_pass_through_Invoke_unwrapped()
    {
        var cb = Callback.Create((Event.BeforeFit, _ => throw new CancelFitException()));
        using var learn = TestData.RegressionLearner([cb]);
        Assert.Throws<CancelFitException>(() => cb.Invoke(Event.BeforeFit));
    }

    [Test]
    public void Second_fit_while_fitting_is_refused()
    {
        Learner? inner = null;
        Exception? error = null;
        var reenter = Callback.Create((Event.BeforeEpoch, l =>
        {
            try { l.Fit(1); } catch (Exception e) { error = e; }
            inner = l;
        }));
        using var learn = TestData.RegressionLearner([reenter]);
        learn.Fit(1);
        Assert.That(error, Is.TypeOf<InvalidOperationException>());
        Assert.That(error!.Message, Does.Contain("already fitting"));
    }
}
