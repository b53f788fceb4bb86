using System.Diagnostics;

namespace FastCallbacks;

/// <summary>
/// Ends a fit (<see cref="CancelFitException"/>, so AfterCancelFit and AfterFit run) once a time budget is spent or
/// a number of training batches is done, checked after every batch. Says why through <see cref="Learner.Log"/>.
/// </summary>
public sealed partial class StopAfter : Callback
{
    private readonly Stopwatch _clock = new();
    private int _batches;

    /// <summary>Creates the callback; give at least one limit.</summary>
    /// <param name="time">Stop after the first batch that ends this long after the fit began.</param>
    /// <param name="batches">Stop after this many training batches of the fit.</param>
    /// <exception cref="ArgumentException">Neither limit is given, or one is not positive.</exception>
    public StopAfter(TimeSpan? time = null, int? batches = null)
    {
        if (time is null && batches is null)
            throw new ArgumentException("StopAfter needs a limit: pass time, batches, or both.", nameof(time));
        if (time is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(time), t, "StopAfter: the time limit must be positive.");
        if (batches is { } b && b < 1) throw new ArgumentOutOfRangeException(nameof(batches), b, "StopAfter: the batch limit must be at least 1.");
        Time = time;
        Batches = batches;
    }

    /// <summary>The time budget of a fit, or null.</summary>
    public TimeSpan? Time { get; }

    /// <summary>The training batches of a fit, or null.</summary>
    public int? Batches { get; }

    /// <summary>Whether the last fit was stopped by this callback.</summary>
    public bool Stopped { get; private set; }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        _batches = 0;
        Stopped = false;
        _clock.Restart();
    }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        if (learn.Training) _batches++;
        if (Batches is { } limit && _batches >= limit)
            Stop(learn, $"StopAfter: {limit} training batches done (epoch {learn.Epoch}); stopping the fit.");
        if (Time is { } budget && _clock.Elapsed >= budget)
            Stop(learn, $"StopAfter: time limit {budget} reached (epoch {learn.Epoch}, {_batches} training batches); stopping the fit.");
    }

    private void Stop(Learner learn, string message)
    {
        Stopped = true;
        learn.Log(message);
        throw new CancelFitException();
    }
}
