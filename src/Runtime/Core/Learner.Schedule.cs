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
    /// the momentum goes the opposite way through <paramref name="moms"/>. With several parameter groups each group
    /// follows the curve from its own rate (discriminative learning rates).
    /// </summary>
    /// <param name="nEpoch">Epochs to train.</param>
    /// <param name="lrMax">The peak learning rate: one for all groups, one per group, or a
    /// <see cref="PerGroup.Slice(double, double)"/> (default: <see cref="Lr"/>).</param>
    /// <param name="div">The start rate is <c>lrMax / div</c>.</param>
    /// <param name="divFinal">The final rate is <c>lrMax / divFinal</c>.</param>
    /// <param name="pctStart">Fraction of training spent warming up.</param>
    /// <param name="wd">Weight decay for this fit.</param>
    /// <param name="moms">Momentum at start, middle and end (default: <see cref="Moms"/>), for every group. Not
    /// scheduled when the optimizer has no momentum setting.</param>
    /// <param name="cbs">Callbacks for this fit only.</param>
    /// <param name="resetOpt">Create a fresh optimizer first.</param>
    /// <param name="startEpoch">Resume at this epoch; the schedule continues where it would be.</param>
    /// <param name="cancellationToken">Stops the fit at the next batch boundary.</param>
    /// <exception cref="ArgumentException">The rates do not fit the parameter groups (nothing changes).</exception>
    public void FitOneCycle(int nEpoch, PerGroup? lrMax = null, double div = 25.0, double divFinal = 1e5, double pctStart = 0.25,
        double? wd = null, (double Start, double Middle, double End)? moms = null, IEnumerable<Callback>? cbs = null,
        bool resetOpt = false, int startEpoch = 0, CancellationToken cancellationToken = default)
    {
        CheckPositive(div, nameof(div));
        CheckPositive(divFinal, nameof(divFinal));
        CheckPct(pctStart);
        var max = RatesForRecipe(nEpoch, startEpoch, lrMax, resetOpt);
        var (m0, m1, m2) = moms ?? Moms;
        var scheds = new Dictionary<string, IReadOnlyList<Func<double, double>>>
        {
            ["lr"] = PerGroupSchedule(max, m => Schedules.CombinedCos(pctStart, m / div, m, m / divFinal)),
        };
        if (Opt!.HasHyper("mom")) scheds["mom"] = [Schedules.CombinedCos(pctStart, m0, m1, m2)];
        Fit(nEpoch, wd: wd, cbs: [ParamScheduler.ForGroups(scheds), .. cbs ?? []], resetOpt: resetOpt, startEpoch: startEpoch,
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// fastai's <c>fit_flat_cos</c>: a flat learning rate for the first <paramref name="pctStart"/> of training, then
    /// cosine annealing to <c>lr/divFinal</c>; each parameter group from its own rate.
    /// </summary>
    /// <param name="nEpoch">Epochs to train.</param>
    /// <param name="lr">The flat learning rate: one for all groups, one per group, or a slice (default: <see cref="Lr"/>).</param>
    /// <param name="divFinal">The final rate is <c>lr / divFinal</c>.</param>
    /// <param name="pctStart">Fraction of training at the flat rate.</param>
    /// <param name="wd">Weight decay for this fit.</param>
    /// <param name="cbs">Callbacks for this fit only.</param>
    /// <param name="resetOpt">Create a fresh optimizer first.</param>
    /// <param name="startEpoch">Resume at this epoch.</param>
    /// <param name="cancellationToken">Stops the fit at the next batch boundary.</param>
    /// <exception cref="ArgumentException">The rates do not fit the parameter groups (nothing changes).</exception>
    public void FitFlatCos(int nEpoch, PerGroup? lr = null, double divFinal = 1e5, double pctStart = 0.75, double? wd = null,
        IEnumerable<Callback>? cbs = null, bool resetOpt = false, int startEpoch = 0, CancellationToken cancellationToken = default)
    {
        CheckPositive(divFinal, nameof(divFinal));
        CheckPct(pctStart);
        var rates = RatesForRecipe(nEpoch, startEpoch, lr, resetOpt);
        var scheds = new Dictionary<string, IReadOnlyList<Func<double, double>>>
        {
            ["lr"] = PerGroupSchedule(rates, r => Schedules.CombinedCos(pctStart, r, r, r / divFinal)),
        };
        Fit(nEpoch, wd: wd, cbs: [ParamScheduler.ForGroups(scheds), .. cbs ?? []], resetOpt: resetOpt, startEpoch: startEpoch,
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// fastai's <c>fit_sgdr</c> (SGD with warm restarts): <paramref name="nCycles"/> cosine annealings of the learning
    /// rate from <paramref name="lrMax"/> to 0, the first <paramref name="cycleLen"/> epochs long and each next one
    /// <paramref name="cycleMult"/> times longer, for <c>cycleLen·(cycleMult^nCycles − 1)/(cycleMult − 1)</c> epochs
    /// in all (<c>nCycles·cycleLen</c> when <paramref name="cycleMult"/> is 1).
    /// </summary>
    /// <param name="nCycles">Number of cycles.</param>
    /// <param name="cycleLen">Epochs of the first cycle.</param>
    /// <param name="lrMax">The rate each cycle starts at: one for all groups, one per group, or a slice (default: <see cref="Lr"/>).</param>
    /// <param name="cycleMult">How much longer each cycle is than the one before.</param>
    /// <param name="cbs">Callbacks for this fit only.</param>
    /// <param name="resetOpt">Create a fresh optimizer first.</param>
    /// <param name="wd">Weight decay for this fit.</param>
    /// <param name="startEpoch">Resume at this epoch.</param>
    /// <param name="cancellationToken">Stops the fit at the next batch boundary.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nCycles"/>, <paramref name="cycleLen"/> or <paramref name="cycleMult"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The rates do not fit the parameter groups (nothing changes).</exception>
    public void FitSgdr(int nCycles, int cycleLen, PerGroup? lrMax = null, int cycleMult = 2, IEnumerable<Callback>? cbs = null,
        bool resetOpt = false, double? wd = null, int startEpoch = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nCycles, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cycleLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cycleMult, 1);
        // fastai: n_epoch = cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1), each cycle's share of it.
        long epochs = 0, len = cycleLen;
        var lengths = new long[nCycles];
        for (var i = 0; i < nCycles; i++, len *= cycleMult) epochs = checked(epochs + (lengths[i] = len));
        var nEpoch = checked((int)epochs);
        var max = RatesForRecipe(nEpoch, startEpoch, lrMax, resetOpt);
        var pcts = lengths.Select(l => (double)l / nEpoch).ToArray();
        var scheds = new Dictionary<string, IReadOnlyList<Func<double, double>>>
        {
            ["lr"] = PerGroupSchedule(max, m => Schedules.CombineScheds(pcts, lengths.Select(_ => Schedules.SchedCos(m, 0)).ToArray())),
        };
        Fit(nEpoch, wd: wd, cbs: [ParamScheduler.ForGroups(scheds), .. cbs ?? []], resetOpt: resetOpt, startEpoch: startEpoch,
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// fastai's <c>fine_tune</c>: <see cref="Freeze"/> and <see cref="FitOneCycle"/> for <paramref name="freezeEpochs"/>
    /// at <c>Slice(baseLr)</c> with <c>pctStart</c> 0.99; then <see cref="Unfreeze"/> and <see cref="FitOneCycle"/> for
    /// <paramref name="epochs"/> at <c>Slice(baseLr/2/lrMult, baseLr/2)</c> with <paramref name="pctStart"/> and
    /// <paramref name="div"/>. Needs a splitter that makes at least two parameter groups (body and head).
    /// </summary>
    /// <param name="epochs">Epochs of the unfrozen stage.</param>
    /// <param name="baseLr">The head's rate in the frozen stage (half of it in the unfrozen one).</param>
    /// <param name="freezeEpochs">Epochs of the frozen stage.</param>
    /// <param name="lrMult">How much lower the first group's rate is than the head's in the unfrozen stage.</param>
    /// <param name="pctStart">Warm-up fraction of the unfrozen stage.</param>
    /// <param name="div">The unfrozen stage starts at its rates divided by this.</param>
    /// <param name="divFinal">Both stages end at their rates divided by this.</param>
    /// <param name="wd">Weight decay for both stages.</param>
    /// <param name="moms">Momentum at start, middle and end of both stages (default: <see cref="Moms"/>).</param>
    /// <param name="cbs">Callbacks for both stages.</param>
    /// <param name="cancellationToken">Stops the current stage at the next batch boundary; the next one does not start.</param>
    /// <exception cref="InvalidOperationException">The model has one parameter group (nothing changes).</exception>
    public void FineTune(int epochs, double baseLr = 2e-3, int freezeEpochs = 1, double lrMult = 100, double pctStart = 0.3,
        double div = 5.0, double divFinal = 1e5, double? wd = null, (double Start, double Middle, double End)? moms = null,
        IEnumerable<Callback>? cbs = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(freezeEpochs);
        CheckPositive(div, nameof(div));
        CheckPositive(divFinal, nameof(divFinal));
        CheckPct(pctStart);
        if (!(baseLr > 0) || !double.IsFinite(baseLr)) throw new ArgumentOutOfRangeException(nameof(baseLr), baseLr, "FineTune: baseLr must be a positive rate.");
        if (!(lrMult > 0) || !double.IsFinite(lrMult)) throw new ArgumentOutOfRangeException(nameof(lrMult), lrMult, "FineTune: lrMult must be positive.");
        CheckFit(Math.Max(epochs, freezeEpochs), 0);
        var list = cbs?.ToList();
        Freeze();
        FitOneCycle(freezeEpochs, PerGroup.Slice(baseLr), pctStart: 0.99, divFinal: divFinal, wd: wd, moms: moms, cbs: list,
            cancellationToken: cancellationToken);
        if (cancellationToken.IsCancellationRequested) return;
        baseLr /= 2;
        Unfreeze();
        FitOneCycle(epochs, PerGroup.Slice(baseLr / lrMult, baseLr), div: div, divFinal: divFinal, pctStart: pctStart, wd: wd, moms: moms,
            cbs: list, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The checks of a schedule recipe, then fastai's start: the optimizer (made when there is none) gets the rates,
    /// which are returned per group. Nothing changes when a check fails.
    /// </summary>
    private double[] RatesForRecipe(int nEpoch, int startEpoch, PerGroup? lr, bool resetOpt)
    {
        CheckFit(nEpoch, startEpoch);
        double[] rates = [];
        // fastai: create_opt() if there is none, set_hyper('lr', ...) and read the rates back (with reset_opt, the fit
        // then makes a new optimizer of the same groups).
        WithOpt(resetOpt: false, opt =>
        {
            rates = (lr ?? Lr).Resolve(opt.GroupCount, "lr");
            return () => opt.SetHyper("lr", rates);
        });
        return rates;
    }

    /// <summary>One schedule per group built from each group's rate, or one for all when the rates are equal.</summary>
    private static IReadOnlyList<Func<double, double>> PerGroupSchedule(double[] rates, Func<double, Func<double, double>> make) =>
        rates.All(r => r.Equals(rates[0])) ? [make(rates[0])] : rates.Select(make).ToArray();

    private static void CheckPct(double pctStart)
    {
        if (!(pctStart >= 0 && pctStart <= 1))
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart is a fraction of training, between 0 and 1.");
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
