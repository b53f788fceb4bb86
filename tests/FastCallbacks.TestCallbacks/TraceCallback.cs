namespace FastCallbacks.Tests;

/// <summary>Records every event it sees, by fastai name, in a shared trace.</summary>
public partial class TraceCallback(List<string>? trace = null, string? prefix = null) : Callback
{
    public List<string> Trace { get; } = trace ?? [];

    [On(Event.AfterCreate), On(Event.BeforeFit), On(Event.BeforeEpoch), On(Event.BeforeTrain), On(Event.BeforeBatch)]
    [On(Event.AfterPred), On(Event.AfterLoss), On(Event.BeforeBackward), On(Event.AfterCancelBackward), On(Event.AfterBackward)]
    [On(Event.BeforeStep), On(Event.AfterCancelStep), On(Event.AfterStep), On(Event.AfterCancelBatch), On(Event.AfterBatch)]
    [On(Event.AfterCancelTrain), On(Event.AfterTrain), On(Event.BeforeValidate), On(Event.AfterCancelValidate), On(Event.AfterValidate)]
    [On(Event.AfterCancelEpoch), On(Event.AfterEpoch), On(Event.AfterCancelFit), On(Event.AfterFit)]
    private void Record(Event e) => Trace.Add(prefix + Events.Name(e));
}

/// <summary>Throws a given exception the first time (or every time) it sees one event.</summary>
public partial class ThrowOnEvent(Event target, Func<Exception> make, bool once = true, int order = 0) : Callback
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
