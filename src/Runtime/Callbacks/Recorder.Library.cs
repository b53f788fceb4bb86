namespace FastCallbacks;

public sealed partial class Recorder
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<double>> NoHps = new Dictionary<string, IReadOnlyList<double>>();

    /// <summary>
    /// The scheduled hyper-parameters of the last fit, one value per training batch, by fastai name (<c>lr</c>,
    /// <c>mom</c>, …): fastai's <c>recorder.hps</c>, stored by <see cref="ParamScheduler"/> when the fit ends.
    /// Empty when the last fit had no scheduler (fastai would keep an older fit's).
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Hps { get; internal set; } = NoHps;

    [On(Event.BeforeFit)]
    private void ClearHps()
    {
        // GetPreds/Validate keep the last fit's history, this included.
        if (!Attached.IsInferenceRun) Hps = NoHps;
    }
}
