using System.Diagnostics;

namespace FastCallbacks;

/// <summary>
/// Measures how long the learner waits for its data: for every batch, the time from the end of the previous batch
/// (or the start of the phase) to the batch's <c>before_batch</c>. That is the data loader's <c>MoveNext</c> (making
/// the batch, or with workers waiting for it) plus freeing the previous batch; near zero when the workers keep up.
/// </summary>
/// <remarks>
/// Ordered last (<see cref="int.MaxValue"/>), so the interval starts after every other callback's <c>after_batch</c>;
/// it ends after the <c>before_batch</c> handlers of the callbacks ordered before it (the default callbacks have none).
/// Each run (fit, <see cref="Learner.GetPreds"/>, <see cref="Learner.Validate"/>) starts new lists.
/// </remarks>
public sealed partial class DataWaitCallback : Callback
{
    private readonly List<TimeSpan> _train = [];
    private readonly List<TimeSpan> _valid = [];
    private long _since;

    /// <inheritdoc/>
    public override int Order => int.MaxValue;

    /// <summary>The wait before each training batch of the last run, in order (all epochs).</summary>
    public IReadOnlyList<TimeSpan> TrainWaits => _train;

    /// <summary>The wait before each validation batch of the last run, in order (all epochs).</summary>
    public IReadOnlyList<TimeSpan> ValidWaits => _valid;

    /// <summary>The mean wait per training batch of the last run (zero before any).</summary>
    public TimeSpan MeanTrainWait => Mean(_train);

    /// <summary>The mean wait per validation batch of the last run (zero before any).</summary>
    public TimeSpan MeanValidWait => Mean(_valid);

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        _train.Clear();
        _valid.Clear();
    }

    [On(Event.BeforeTrain), On(Event.BeforeValidate), On(Event.AfterBatch)]
    private void Mark() => _since = Stopwatch.GetTimestamp();

    [On(Event.BeforeBatch)]
    private void Record() => (Training ? _train : _valid).Add(Stopwatch.GetElapsedTime(_since));

    private static TimeSpan Mean(List<TimeSpan> waits) =>
        waits.Count == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(waits.Sum(w => w.Ticks) / waits.Count);
}
