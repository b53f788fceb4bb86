namespace FastCallbacks;

// fastai's training recipes built on ParamScheduler (fastai/callback/schedule.py): one-cycle, flat-then-cosine,
// and the learning-rate finder.
public partial class Learner
{
    /// <summary>Default momentums of <see cref="FitOneCycle"/>: start, middle, end (fastai's <c>learn.moms</c>).</summary>
    public (double Start, double Middle, double End) Moms { get; set; } = (0.95, 0.85, 0.95);

    /// <summary>
    /// fastai's <c>fit_one_cycle</c>: the learning rate rises from <c>lrMax/div</c> to <paramref name="lrMax"/> over
    /// the first <paramref name="pctStart"/> of training and falls to <c>lrMax/divFinal</c>, both by cosine, while
    /// the momentum goes the opposite way through <paramref name="moms"/>.
    /// </summary>
    /// <param name="nEpoch">Epochs to train.</param>
    /// <param name="lrMax">The peak learning rate (default: <see cref="Lr"/>).</param>
    /// <param name="div">The start rate is <c>lrMax / div</c>.</param>
    /// <param name="divFinal">The final rate is <c>lrMax / divFinal</c>.</param>
    /// <param name="pctStart">Fraction of training spent warming up.</param>
    /// <param name="wd">Weight decay for this fit.</param>
    /// <param name="moms">Momentum at start, middle and end (default: <see cref="Moms"/>). Not scheduled when the
    /// optimizer has neither momentum nor betas.</param>
    /// <param name="cbs">Callbacks for this fit only.</param>
    /// <param name="resetOpt">Create a fresh optimizer first.</param>
    /// <param name="startEpoch">Resume at this epoch; the schedule continues where it would be.</param>
    /// <param name="cancellationToken">Stops the fit at the next batch boundary.</param>
    public void FitOneCycle(int nEpoch, double? lrMax = null, double div = 25.0, double divFinal = 1e5, double pctStart = 0.25,
        double? wd = null, (double Start, double Middle, double End)? moms = null, IEnumerable<Callback>? cbs = null,
        bool resetOpt = false, int startEpoch = 0, CancellationToken cancellationToken = default)
    {
        CheckPositive(div, nameof(div));
        CheckPositive(divFinal, nameof(divFinal));
        if (Opt is null) CreateOpt();
        var max = lrMax ?? Lr;
        Hyperparameters.SetLr(Opt!, max);
        max = Hyperparameters.GetLr(Opt!);
        var scheds = new Dictionary<string, Func<double, double>>
        {
            ["lr"] = Schedules.CombinedCos(pctStart, max / div, max, max / divFinal),
        };
        var (m0, m1, m2) = moms ?? Moms;
        if (Hyperparameters.GetMom(Opt!) is not null) scheds["mom"] = Schedules.CombinedCos(pctStart, m0, m1, m2);
        Fit(nEpoch, wd: wd, cbs: [new ParamScheduler(scheds), .. cbs ?? []], resetOpt: resetOpt, startEpoch: startEpoch,
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// fastai's <c>fit_flat_cos</c>: a flat learning rate for the first <paramref name="pctStart"/> of training, then
    /// cosine annealing to <c>lr/divFinal</c>.
    /// </summary>
    /// <param name="nEpoch">Epochs to train.</param>
    /// <param name="lr">The flat learning rate (default: <see cref="Lr"/>).</param>
    /// <param name="divFinal">The final rate is <c>lr / divFinal</c>.</param>
    /// <param name="pctStart">Fraction of training at the flat rate.</param>
    /// <param name="wd">Weight decay for this fit.</param>
    /// <param name="cbs">Callbacks for this fit only.</param>
    /// <param name="resetOpt">Create a fresh optimizer first.</param>
    /// <param name="startEpoch">Resume at this epoch.</param>
    /// <param name="cancellationToken">Stops the fit at the next batch boundary.</param>
    public void FitFlatCos(int nEpoch, double? lr = null, double divFinal = 1e5, double pctStart = 0.75, double? wd = null,
        IEnumerable<Callback>? cbs = null, bool resetOpt = false, int startEpoch = 0, CancellationToken cancellationToken = default)
    {
        CheckPositive(divFinal, nameof(divFinal));
        if (Opt is null) CreateOpt();
        Hyperparameters.SetLr(Opt!, lr ?? Lr);
        var rate = Hyperparameters.GetLr(Opt!);
        var scheds = new Dictionary<string, Func<double, double>>
        {
            ["lr"] = Schedules.CombinedCos(pctStart, rate, rate, rate / divFinal),
        };
        Fit(nEpoch, wd: wd, cbs: [new ParamScheduler(scheds), .. cbs ?? []], resetOpt: resetOpt, startEpoch: startEpoch,
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// fastai's <c>lr_find</c>: runs an <see cref="LRFinder"/> (no logging, no validation), puts the weights and
    /// optimizer state back, and suggests learning rates from the curve.
    /// </summary>
    /// <param name="startLr">The first learning rate.</param>
    /// <param name="endLr">The last learning rate.</param>
    /// <param name="numIt">Batches to run (the run spans <c>numIt / batches per epoch + 1</c> epochs).</param>
    /// <param name="stopDiv">Stop when the loss diverges.</param>
    /// <param name="suggestions">Suggestion methods (default: <see cref="SuggestionMethod.Valley"/>); pass an empty list for none.</param>
    /// <param name="cancellationToken">Stops the run at the next batch boundary (weights are still restored).</param>
    /// <returns>The curve and the suggested learning rates; <see cref="LrFindResult.Plot(int, int, int)"/> draws it.</returns>
    /// <exception cref="InvalidOperationException">The learner has no <see cref="FastCallbacks.Recorder"/> or training data,
    /// or the run recorded too few finite losses to suggest from.</exception>
    public LrFindResult LrFind(double startLr = 1e-7, double endLr = 10, int numIt = 100, bool stopDiv = true,
        IEnumerable<SuggestionMethod>? suggestions = null, CancellationToken cancellationToken = default)
    {
        var recorder = Recorder ?? throw new InvalidOperationException(
            "LrFind reads the losses from the Recorder, and this learner has none. Add one: learner.AddCb(new Recorder()).");
        var trainBatches = Dls.Train?.Count ?? 0;
        if (trainBatches == 0)
            throw new InvalidOperationException("LrFind needs training batches, and the training DataLoader is empty.");
        var methods = (suggestions ?? [SuggestionMethod.Valley]).ToList();
        var finder = new LRFinder(startLr, endLr, numIt, stopDiv);
        using (NoLogging())
            Fit(numIt / trainBatches + 1, cbs: [finder], cancellationToken: cancellationToken);

        var lrs = recorder.Lrs.ToArray();
        var losses = recorder.Losses.ToArray();
        if (methods.Count == 0) return new LrFindResult(lrs, losses, []);

        // fastai: lrs[num_it//10 : -5], then drop everything from the first NaN loss.
        var from = numIt / 10;
        var to = lrs.Length - 5;
        var firstNaN = Array.FindIndex(losses, from, Math.Max(0, to - from), double.IsNaN);
        if (firstNaN >= 0) to = firstNaN;
        if (to - from < 2)
            throw new InvalidOperationException(
                $"LrFind recorded {losses.Length} losses ({Math.Max(0, to - from)} usable after trimming the first numIt/10 and the last 5" +
                (firstNaN >= 0 ? " and dropping NaN losses" : "") +
                "), too few to suggest a learning rate. Raise numIt, lower endLr, or pass stopDiv: false.");
        var lrSlice = lrs[from..to];
        var lossSlice = losses[from..to];
        var found = methods.Select(m => m.Suggest(lrSlice, lossSlice, numIt)).ToArray();
        return new LrFindResult(lrs, losses, found);
    }

    private static void CheckPositive(double value, string name)
    {
        if (!(value > 0))
            throw new ArgumentOutOfRangeException(name, value, $"{name} divides the peak learning rate and must be positive.");
    }
}
