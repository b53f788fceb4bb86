namespace FastCallbacks.Tests;

/// <summary>A base class with handlers, logging "parent.&lt;event&gt;" (twin of the F# tests' FsParent).</summary>
public partial class LoggingParent(List<string> log) : Callback
{
    protected List<string> Log { get; } = log;

    [On(Event.BeforeFit)] private void Start() => Log.Add("parent.before_fit");
    [On(Event.AfterFit)] private void Stop() => Log.Add("parent.after_fit");

    /// <summary>Registered here; an override in a derived class runs in its place, once.</summary>
    [On(Event.AfterTrain)] protected virtual void Phase() => Log.Add("parent.after_train");
}

/// <summary>A derived class: its own events, one it shares with the parent, an override, and the Event parameter.</summary>
public partial class LoggingChild(List<string> log) : LoggingParent(log)
{
    [On(Event.BeforeEpoch), On(Event.AfterEpoch)] private void EpochEdge(Event e) => Log.Add("child." + Events.Name(e));
    [On(Event.AfterFit)] private void Stop() => Log.Add("child.after_fit");
    protected override void Phase() => Log.Add("child.after_train");
}

/// <summary>Throws from before_fit (twin of the F# tests' FsFailing).</summary>
public partial class FailingCallback : Callback
{
    [On(Event.BeforeFit)] private void Fail() => throw new InvalidOperationException("boom");
}
