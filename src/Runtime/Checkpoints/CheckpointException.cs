namespace FastCallbacks;

/// <summary>
/// A training checkpoint cannot be resumed from: the file is not one, is truncated or damaged, was written by a newer
/// FastCallbacks, or does not fit the learner and fit that would resume from it (another model, optimizer, callbacks,
/// data or recipe). The message names the file and what does not match. Thrown before anything changed: the learner,
/// its model, optimizer and callbacks are as they were.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="message">What is wrong with it, naming it, and what to do.</param>
    /// <param name="innerException">The error underneath, if any.</param>
    public CheckpointException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }
}
