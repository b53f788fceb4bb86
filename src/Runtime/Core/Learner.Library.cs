namespace FastCallbacks;

// Hooks the standard callback library needs from the learner: cleanup when a fit ends however it ends, and
// fastai's no_bar().
public partial class Learner
{
    /// <summary>
    /// Raised when <see cref="Fit"/> (or a top-level <see cref="GetPreds"/>/<see cref="Validate"/>) returns or
    /// throws, after AfterFit when it ran. Library callbacks that own
    /// something outside the learner (a console display, a saved model, a replaced <see cref="Logger"/>) subscribe
    /// in BeforeFit and unsubscribe once they cleaned up in AfterFit, so a fit that fails without AfterFit (fastai
    /// dispatches none on an uncaught exception) still leaves the console, the logger and the weights as they were.
    /// </summary>
    /// <remarks>Handlers must not throw: an exception from one is ignored so that it cannot replace the fit's own.</remarks>
    internal event Action? FitEnded;

    /// <summary>Runs and keeps the <see cref="FitEnded"/> handlers (each removes itself when it is done).</summary>
    private void RaiseFitEnded()
    {
        if (FitEnded is not { } handlers) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action>())
        {
            try
            {
                handler();
            }
            catch (Exception)
            {
                // A cleanup hook failing must not hide why the fit ended.
            }
        }
    }

    /// <summary>
    /// Removes the <see cref="ProgressCallback"/>s until the returned scope is disposed; they are then added back
    /// (fastai's <c>no_bar</c>).
    /// </summary>
    public IDisposable NoBar() => RemovedCbs(_cbs.OfType<ProgressCallback>().ToList());
}
