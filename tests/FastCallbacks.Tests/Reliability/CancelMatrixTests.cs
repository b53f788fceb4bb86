namespace FastCallbacks.Tests.Reliability;

/// <summary>
/// Every event × every cancel exception (24 × 7 = 168 cases): a handler of the event throws the exception the
/// first time the event is dispatched. The trace must be the one <see cref="LoopOracle"/> derives from fastai's
/// loop; where no stage catches the exception, it escapes (Fit or the constructor) unwrapped. Afterwards the same
/// learner fits again exactly as a fresh one would.
/// </summary>
public partial class CancelMatrixTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        from e in Events.All
        from c in Tiny.Cancels
        select new TestCaseData(e, c.Signal).SetName($"Cancel_matrix_{Events.Name(e)}_throws_{c.Type.Name}");

    [TestCaseSource(nameof(Cases))]
    public void Cancel_matrix(Event at, Signal signal)
    {
        if (at == Event.AfterCreate) FromConstructor(signal);
        else FromFit(at, signal);
    }

    private static void FromFit(Event at, Signal signal)
    {
        var name = Events.Name(at);
        var trigger = Tiny.TriggerFor(name);
        LoopOracle.Raise[] raises = trigger is null ? [new(name, signal)] : [new(name, signal), trigger];
        var expected = LoopOracle.RunFit(Tiny.Shape, raises);

        var trace = new TraceCallback();
        using var learn = Tiny.Learner([trace]);
        var permanent = learn.Cbs.ToArray();
        trace.Trace.Clear();
        // The thrower (order 1) and the trigger (order 2) run after the tracer (order 0), so the trace shows the
        // events they throw from.
        var thrower = new RaiseOnce(at, Tiny.Make(signal), order: 1);
        var cbs = trigger is null ? new Callback[] { thrower } : [thrower, new RaiseOnce(Events.Parse(trigger.Event), Tiny.Make(trigger.Signal), order: 2)];

        if (expected.Escaped == Signal.None)
        {
            Assert.DoesNotThrow(() => learn.Fit(Tiny.Shape.Epochs, cbs: cbs));
        }
        else
        {
            var escapedType = Tiny.Cancels.Single(c => c.Signal == expected.Escaped).Type;
            var ex = Assert.Throws(escapedType, () => learn.Fit(Tiny.Shape.Epochs, cbs: cbs))!;
            Assert.That(ex, Is.SameAs(thrower.Thrown), "the cancel exception escapes unwrapped");
        }
        Assert.That(thrower.Fired, Is.True, "the case must reach its event");
        Assert.That(trace.Trace, Is.EqualTo(expected.Trace));
        Assert.That(learn.Cbs, Is.EqualTo(permanent), "the callbacks passed to Fit are removed");
        Assert.That(cbs.Select(c => c.Learn), Is.All.Null);
        Assert.That(Tiny.HasGradients(learn), Is.False, "an interrupted fit leaves no half-made gradients for the next one");

        FitsAgainLikeNew(learn, trace);
    }

    private static void FromConstructor(Signal signal)
    {
        var expected = LoopOracle.RunCreate(new LoopOracle.Raise("after_create", signal));
        Assert.That(expected.Escaped, Is.EqualTo(signal), "nothing catches around after_create");

        var trace = new TraceCallback();
        var thrower = new RaiseOnce(Event.AfterCreate, Tiny.Make(signal));
        var type = Tiny.Cancels.Single(c => c.Signal == signal).Type;
        var ex = Assert.Throws(type, () => Tiny.Learner([trace, thrower]))!;
        Assert.That(ex, Is.SameAs(thrower.Thrown), "the cancel exception escapes the constructor unwrapped");
        Assert.That(trace.Trace, Is.EqualTo(expected.Trace));
        Assert.That(trace.Learn, Is.Null, "a learner that was never made keeps no callbacks");
        Assert.That(thrower.Learn, Is.Null);

        // The same callback instances make a working learner (the thrower has fired and stays quiet).
        trace.Trace.Clear();
        using var learn = Tiny.Learner([trace, thrower]);
        Assert.That(trace.Trace, Is.EqualTo(new[] { "after_create" }));
        trace.Trace.Clear();
        FitsAgainLikeNew(learn, trace);
    }

    /// <summary>
    /// The logger is the user's again, and the learner fits with fastai's normal trace and trains (gradients on,
    /// weights move, losses finite), drawing a live display again, which Spectre allows only once the last one
    /// was closed.
    /// </summary>
    internal static void FitsAgainLikeNew(Learner learn, TraceCallback trace)
    {
        Tiny.AssertLoggerGivenBack(learn);
        var rows = (List<EpochLog>)learn.Logger!.Target!;
        rows.Clear();
        trace.Trace.Clear();
        var before = Tiny.Weights(learn);
        learn.Fit(Tiny.Shape.Epochs);
        Assert.That(trace.Trace, Is.EqualTo(LoopOracle.RunFit(Tiny.Shape).Trace), "the next fit runs normally");
        Assert.That(is_grad_enabled(), Is.True, "no_grad of an interrupted validation is undone");
        Assert.That(Tiny.Weights(learn), Is.Not.EqualTo(before), "the next fit trains");
        Assert.That(learn.Recorder!.Values, Has.Count.EqualTo(Tiny.Shape.Epochs));
        Assert.That(learn.Recorder.Values.SelectMany(v => v), Is.All.Not.Null.And.All.Matches<double?>(v => double.IsFinite(v!.Value)));
        Assert.That(learn.Cb<ProgressCallback>()!.IsLive, Is.True, "the previous fit's live display was closed");
        Assert.That(rows, Has.Count.EqualTo(Tiny.Shape.Epochs), "the user's logger gets the rows");
        Tiny.AssertLoggerGivenBack(learn);
    }
}
