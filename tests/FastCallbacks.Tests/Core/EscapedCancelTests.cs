namespace FastCallbacks.Tests.Core;

/// <summary>
/// A cancel exception thrown where nothing catches it ends Fit as itself (fastai's semantics), with a message that
/// names the callback, the event and the phase, says nothing catches it there, and where it would be caught (the
/// FCB0005 table).
/// </summary>
public class EscapedCancelTests
{
    private static CancelException Escape(Event at, Func<Exception> make, Action<Learner>? run = null)
    {
        using var learn = TestData.RegressionLearner([new ThrowOnEvent(at, make)]);
        var escaped = Assert.Throws(Is.InstanceOf<CancelException>(), () => (run ?? (l => l.Fit(1)))(learn)) as CancelException;
        return escaped!;
    }

    [Test]
    public void Cancel_batch_from_after_batch_keeps_its_type_and_names_the_thrower_the_event_and_the_catching_stages()
    {
        var ex = Escape(Event.AfterBatch, () => new CancelBatchException());

        Assert.That(ex, Is.TypeOf<CancelBatchException>());
        Assert.That(ex.Message, Is.EqualTo(
            "CancelBatchException thrown from the AfterBatch handler of `ThrowOnEvent` while training was not caught: " +
            "nothing in the training loop catches it at AfterBatch, so it ended Fit. " +
            "It is caught only when thrown from handlers of BeforeBatch through AfterStep (analyzer FCB0005). " +
            "At AfterBatch while training the loop catches CancelTrainException, CancelEpochException, CancelFitException."));
        Assert.That(ex.ToString(), Does.StartWith("FastCallbacks.CancelBatchException: CancelBatchException thrown from the AfterBatch handler"));
        Assert.That(ex.StackTrace, Does.Contain(nameof(ThrowOnEvent)), "the stack still starts at the handler");
    }

    [Test]
    public void Cancel_train_in_a_validation_batch_says_it_was_validating()
    {
        var thrower = Callback.Create((Event.BeforeBatch, l => { if (!l.Training) throw new CancelTrainException(); }));
        using var learn = TestData.RegressionLearner([thrower]);

        var ex = Assert.Throws<CancelTrainException>(() => learn.Fit(1))!;

        Assert.That(ex.Message, Does.StartWith(
            "CancelTrainException thrown from the BeforeBatch handler of `DelegateCallback` while validating was not caught"));
        Assert.That(ex.Message, Does.EndWith(
            "At BeforeBatch while validating the loop catches CancelBatchException, CancelValidException, CancelEpochException, CancelFitException."));
    }

    [Test]
    public void Cancel_fit_from_after_fit_says_nothing_catches_there()
    {
        var ex = Escape(Event.AfterFit, () => new CancelFitException());

        Assert.That(ex.Message, Does.Contain("thrown from the AfterFit handler of `ThrowOnEvent` was not caught"));
        Assert.That(ex.Message, Does.Contain("It is caught only when thrown from handlers of BeforeFit through AfterEpoch"));
        Assert.That(ex.Message, Does.EndWith("At AfterFit the loop catches no cancel exception."));
    }

    [Test]
    public void A_prediction_run_names_itself()
    {
        var ex = Escape(Event.AfterBatch, () => new CancelBatchException(), l => l.GetPreds().Dispose());

        Assert.That(ex.Message, Does.Contain("AfterBatch handler of `ThrowOnEvent` while validating was not caught"));
        Assert.That(ex.Message, Does.Contain("so it ended the prediction run (GetPreds, Validate or Predict)"));
    }

    [Test]
    public void A_caught_cancel_keeps_fastais_message()
    {
        CancelBatchException? seen = null;
        var thrower = Callback.Create((Event.BeforeBatch, _ => throw (seen = new CancelBatchException())));
        using var learn = TestData.RegressionLearner([thrower]);

        learn.Fit(1);

        Assert.That(seen!.Message, Is.EqualTo("Skip the rest of this batch and go to `after_batch`"));
    }

    [Test]
    public void One_instance_thrown_again_is_described_where_it_escaped_last()
    {
        var reused = new CancelBatchException();
        using var learn = TestData.RegressionLearner([new ThrowOnEvent(Event.AfterBatch, () => reused, once: false)]);
        Assert.Throws<CancelBatchException>(() => learn.Fit(1));
        learn.RemoveCbs<ThrowOnEvent>();
        learn.AddCb(new ThrowOnEvent(Event.AfterEpoch, () => reused, once: false));

        var ex = Assert.Throws<CancelBatchException>(() => learn.Fit(1))!;

        Assert.That(ex, Is.SameAs(reused));
        Assert.That(ex.Message, Does.StartWith("CancelBatchException thrown from the AfterEpoch handler of `ThrowOnEvent` was not caught"));
    }

    [Test]
    public void A_cancel_exception_of_the_users_own_is_caught_nowhere_and_says_so()
    {
        var ex = Escape(Event.BeforeBatch, () => new SkipThisException());

        Assert.That(ex, Is.TypeOf<SkipThisException>());
        Assert.That(ex.Message, Is.EqualTo(
            "SkipThisException thrown from the BeforeBatch handler of `ThrowOnEvent` was not caught, so it ended Fit: the training loop " +
            "catches only its own seven cancel exceptions (CancelBatchException, CancelFitException, …), each around its own stage (docs/event-order.md)."));
    }

    private sealed class SkipThisException() : CancelException("skip this");

    [Test]
    public void A_cancel_thrown_outside_any_handler_says_so()
    {
        // The loss function throws it while training, where only the validation stage would catch it.
        using var learn = new Learner(TestData.RegressionDls(16, 4, 0.25), TestData.LinearModel(),
            (Func<Tensor, Tensor, Tensor>)((_, _) => throw new CancelValidException()));

        var ex = Assert.Throws<CancelValidException>(() => learn.Fit(1))!;

        Assert.That(ex.Message, Does.StartWith(
            "CancelValidException was not caught: it was thrown where no stage of the training loop catches it, so it ended Fit."));
    }
}
