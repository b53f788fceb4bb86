// Callbacks without generated dispatch, as a notebook cell, F# or VB compiles them: these classes are not partial,
// so the generator leaves them alone (FCB0002, an error in a real project, is silenced here on purpose) and the
// learner builds their dispatch at run time. Each is the twin of a generated callback of Support/TraceCallback.cs.
#pragma warning disable FCB0002

namespace FastCallbacks.Tests;

/// <summary><see cref="TraceCallback"/> without generated dispatch.</summary>
public class RuntimeTraceCallback(List<string>? trace = null, string? prefix = null) : Callback
{
    public List<string> Trace { get; } = trace ?? [];

    [On(Event.AfterCreate), On(Event.BeforeFit), On(Event.BeforeEpoch), On(Event.BeforeTrain), On(Event.BeforeBatch)]
    [On(Event.AfterPred), On(Event.AfterLoss), On(Event.BeforeBackward), On(Event.AfterCancelBackward), On(Event.AfterBackward)]
    [On(Event.BeforeStep), On(Event.AfterCancelStep), On(Event.AfterStep), On(Event.AfterCancelBatch), On(Event.AfterBatch)]
    [On(Event.AfterCancelTrain), On(Event.AfterTrain), On(Event.BeforeValidate), On(Event.AfterCancelValidate), On(Event.AfterValidate)]
    [On(Event.AfterCancelEpoch), On(Event.AfterEpoch), On(Event.AfterCancelFit), On(Event.AfterFit)]
    private void Record(Event e) => Trace.Add(prefix + Events.Name(e));
}

/// <summary><see cref="ThrowOnEvent"/> without generated dispatch.</summary>
public class RuntimeThrowOnEvent(Event target, Func<Exception> make, bool once = true, int order = 0) : Callback
{
    private bool _thrown;

    public override int Order => order;

    [On(Event.BeforeFit), On(Event.BeforeEpoch), On(Event.BeforeTrain), On(Event.BeforeBatch)]
    [On(Event.AfterPred), On(Event.AfterLoss), On(Event.BeforeBackward), On(Event.AfterCancelBackward), On(Event.AfterBackward)]
    [On(Event.BeforeStep), On(Event.AfterCancelStep), On(Event.AfterStep), On(Event.AfterCancelBatch), On(Event.AfterBatch)]
    [On(Event.AfterCancelTrain), On(Event.AfterTrain), On(Event.BeforeValidate), On(Event.AfterCancelValidate), On(Event.AfterValidate)]
    [On(Event.AfterCancelEpoch), On(Event.AfterEpoch), On(Event.AfterCancelFit), On(Event.AfterFit)]
    private void Maybe(Event e)
    {
        if (e != target || (once && _thrown)) return;
        _thrown = true;
        throw make();
    }
}
