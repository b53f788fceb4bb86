namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// An ordinary exception from a handler, at every event, attached through Fit's cbs or through AddedCbs: Fit
/// ends with a <see cref="CallbackException"/> naming the callback and the event with the original inside, the
/// trace stops where fastai's does (nothing catches an error), the temporary callbacks are gone, and the same
/// learner trains again.
/// </summary>
public partial class FailingHandlerMatrixTests
{
    public enum Attach { FitCbs, AddedCbs }

    public static IEnumerable<TestCaseData> Cases() =>
        from e in Events.All
        from how in e == Event.AfterCreate ? [Attach.FitCbs] : new[] { Attach.FitCbs, Attach.AddedCbs }
        select new TestCaseData(e, how).SetName(e == Event.AfterCreate
            ? "Failing_handler_after_create_fails_the_constructor"
            : $"Failing_handler_{Events.Name(e)}_via_{how}");

    [TestCaseSource(nameof(Cases))]
    public void Failing_handler(Event at, Attach how)
    {
        var name = Events.Name(at);
        var failing = new RaiseOnce(at, () => new InvalidOperationException($"boom in {name}"));
        if (at == Event.AfterCreate)
        {
            var created = new TraceCallback();
            var cex = Assert.Throws<CallbackException>(() => Tiny.Learner([created, failing]))!;
            AssertNamesTheCulprit(cex, failing, at);
            Assert.That(created.Trace, Is.EqualTo(LoopOracle.RunCreate(new LoopOracle.Raise("after_create", Signal.Error)).Trace));
            Assert.That(new[] { created.Learn, failing.Learn }, Is.All.Null);
            using var again = Tiny.Learner([created, failing]);
            CancelMatrixTests.FitsAgainLikeNew(again, created);
            return;
        }

        var trigger = Tiny.TriggerFor(name);
        LoopOracle.Raise[] raises = trigger is null ? [new(name, Signal.Error)] : [new(name, Signal.Error), trigger];
        var expected = LoopOracle.RunFit(Tiny.Shape, raises);
        Assert.That(expected.Escaped, Is.EqualTo(Signal.Error));

        var trace = new TraceCallback();
        using var learn = Tiny.Learner([trace]);
        var permanent = learn.Cbs.ToArray();
        trace.Trace.Clear();
        var cbs = trigger is null ? new Callback[] { failing } : [failing, new RaiseOnce(Events.Parse(trigger.Event), Tiny.Make(trigger.Signal), order: 2)];

        CallbackException ex;
        if (how == Attach.FitCbs)
        {
            ex = Assert.Throws<CallbackException>(() => learn.Fit(Tiny.Shape.Epochs, cbs: cbs))!;
        }
        else
        {
            using (learn.AddedCbs(cbs))
                ex = Assert.Throws<CallbackException>(() => learn.Fit(Tiny.Shape.Epochs))!;
        }

        AssertNamesTheCulprit(ex, failing, at);
        Assert.That(trace.Trace, Is.EqualTo(expected.Trace));
        Assert.That(learn.Cbs, Is.EqualTo(permanent), "the temporary callbacks are removed");
        Assert.That(cbs.Select(c => c.Learn), Is.All.Null);
        Assert.That(Tiny.HasGradients(learn), Is.False);
        CancelMatrixTests.FitsAgainLikeNew(learn, trace);
    }

    private static void AssertNamesTheCulprit(CallbackException ex, RaiseOnce failing, Event at)
    {
        Assert.That(ex.CallbackType, Is.EqualTo(typeof(RaiseOnce)));
        Assert.That(ex.Event, Is.EqualTo(at));
        Assert.That(ex.InnerException, Is.SameAs(failing.Thrown), "the original exception is inside");
        Assert.That(ex.Message, Is.EqualTo($"Exception occurred in `RaiseOnce` when calling event `{Events.Name(at)}`: boom in {Events.Name(at)}"));
    }
}
