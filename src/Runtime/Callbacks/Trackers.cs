namespace FastCallbacks;

/// <summary>
/// fastai's <c>EarlyStoppingCallback</c> (order 63): stops the fit (<see cref="CancelFitException"/>) when the
/// monitored value has not improved for <c>patience</c> epochs, printing
/// <c>No improvement since epoch N: early stopping</c> through <see cref="Learner.Log"/>.
/// </summary>
public sealed partial class EarlyStoppingCallback : TrackerCallback
{
    [Persist] private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The recorder column to watch.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b (default from the column's name).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="patience">Epochs without improvement before stopping (at least 1).</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    public EarlyStoppingCallback(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0,
        int patience = 1, bool resetOnFit = true) : base(monitor, comp, minDelta, resetOnFit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        Patience = patience;
    }

    /// <inheritdoc/>
    public override int Order => 63;

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>Epochs since the last improvement.</summary>
    public int Wait => _wait;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        if (Run) _wait = 0;
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        if (!PatienceCounter.Exhausted(ref _wait, NewBest, Patience)) return;
        var learn = Attached;
        learn.Log($"No improvement since epoch {learn.Epoch - _wait}: early stopping");
        throw new CancelFitException();
    }
}

/// <summary>
/// fastai's <c>SaveModelCallback</c> (order 61): saves the model (with <see cref="Learner.Save"/>, atomically)
/// whenever the monitored value improves, and loads that best model at the end of the fit. With
/// <c>everyEpoch</c> it saves <c>fname_epoch</c> every n-th epoch instead (and loads nothing); with
/// <c>atEnd</c> it saves once, at the end of the fit. On the other ranks of a distributed job
/// (<see cref="Learner.IsMainProcess"/> false) nothing is written: the best model is kept in memory and loaded from
/// there, so every rank ends with it.
/// </summary>
public sealed partial class SaveModelCallback : TrackerCallback
{
    [Persist] private bool _saved;
    [Persist] private byte[]? _inMemory;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The recorder column to watch.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b (default from the column's name).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="fname">The checkpoint's name (in <c>Path/ModelDir</c>).</param>
    /// <param name="everyEpoch">0 (fastai's False): save on improvement. n ≥ 1: save <c>fname_epoch</c> at every
    /// epoch divisible by n (1 is fastai's True).</param>
    /// <param name="atEnd">Save once at the end of the fit instead of loading the best model.</param>
    /// <param name="withOpt">Save (and load) the optimizer's state too.</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    /// <exception cref="ArgumentException">Both <paramref name="everyEpoch"/> and <paramref name="atEnd"/> are set.</exception>
    public SaveModelCallback(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0,
        string fname = "model", int everyEpoch = 0, bool atEnd = false, bool withOpt = false, bool resetOnFit = true)
        : base(monitor, comp, minDelta, resetOnFit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(everyEpoch);
        if (string.IsNullOrWhiteSpace(fname)) throw new ArgumentException("Name the checkpoint file, for example fname: \"model\".", nameof(fname));
        if (everyEpoch > 0 && atEnd)
            throw new ArgumentException("SaveModelCallback saves either every n-th epoch (everyEpoch) or once at the end (atEnd), not both.", nameof(atEnd));
        Fname = fname;
        EveryEpoch = everyEpoch;
        AtEnd = atEnd;
        WithOpt = withOpt;
    }

    /// <inheritdoc/>
    public override int Order => 61;

    /// <summary>The checkpoint's name.</summary>
    public string Fname { get; }
    /// <summary>Save every n-th epoch (0: on improvement).</summary>
    public int EveryEpoch { get; }
    /// <summary>Save at the end of the fit.</summary>
    public bool AtEnd { get; }
    /// <summary>Whether the optimizer's state is saved and loaded too.</summary>
    public bool WithOpt { get; }
    /// <summary>The file last written, or null.</summary>
    [Persist] public string? LastSavedPath { get; private set; }

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        // A process killed while saving leaves the temporary file of its atomic write behind.
        if (Run && Attached.IsMainProcess) AtomicFile.RemoveLeftovers(Attached.CheckpointPath(Fname));
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        var learn = Attached;
        if (EveryEpoch > 0)
        {
            if (learn.Epoch % EveryEpoch == 0) Save($"{Fname}_{learn.Epoch}");
        }
        else if (NewBest)
        {
            learn.Log($"Better model found at epoch {learn.Epoch} with {Monitor} value: {Format(Best)}.");
            Save(Fname);
        }
    }

    [On(Event.AfterFit)]
    private void AfterFit()
    {
        var learn = Attached;
        if (AtEnd) Save(Fname);
        else if (EveryEpoch == 0 && _saved && _inMemory is { } copy) learn.LoadFromMemory(copy, WithOpt);
        else if (EveryEpoch == 0 && _saved) learn.Load(Fname, WithOpt);
    }

    private void Save(string name)
    {
        var learn = Attached;
        LastSavedPath = learn.Save(name, WithOpt);
        // The other ranks of a distributed job hold the same weights but write no file (IsMainProcess): they keep the
        // best model in memory, so they end the fit with it as rank 0 does, on machines without rank 0's disk too.
        _inMemory = learn.IsMainProcess || EveryEpoch > 0 ? null : learn.SaveToMemory(WithOpt);
        _saved = true;
    }
}

/// <summary>
/// fastai's <c>ReduceLROnPlateau</c> (order 62): divides every parameter group's learning rate by
/// <c>factor</c> (not below <c>minLr</c>) when the monitored value has not improved for <c>patience</c> epochs,
/// printing <c>Epoch N: reducing lr to X</c> through <see cref="Learner.Log"/>.
/// </summary>
public sealed partial class ReduceLROnPlateau : TrackerCallback
{
    [Persist] private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The recorder column to watch.</param>
    /// <param name="comp">comp(a, b) is true when a is better than b (default from the column's name).</param>
    /// <param name="minDelta">How much a value must beat the best by to count as an improvement.</param>
    /// <param name="patience">Epochs without improvement before reducing (at least 1).</param>
    /// <param name="factor">The divisor of the learning rate (above 1).</param>
    /// <param name="minLr">The learning rate is never reduced below this.</param>
    /// <param name="resetOnFit">Forget the best value at the start of every fit.</param>
    public ReduceLROnPlateau(string monitor = "valid_loss", Func<double, double, bool>? comp = null, double minDelta = 0,
        int patience = 1, double factor = 10, double minLr = 0, bool resetOnFit = true) : base(monitor, comp, minDelta, resetOnFit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        if (!(factor > 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLROnPlateau divides the learning rate by factor, so it must be above 1.");
        if (!(minLr >= 0)) throw new ArgumentOutOfRangeException(nameof(minLr), minLr, "minLr must be zero or positive.");
        Patience = patience;
        Factor = factor;
        MinLr = minLr;
    }

    /// <inheritdoc/>
    public override int Order => 62;

    /// <summary>Epochs without improvement before reducing.</summary>
    public int Patience { get; }
    /// <summary>The divisor of the learning rate.</summary>
    public double Factor { get; }
    /// <summary>The lowest learning rate.</summary>
    public double MinLr { get; }

    /// <summary>Epochs since the last improvement or reduction.</summary>
    public int Wait => _wait;

    [On(Event.BeforeFit)]
    private void BeforeFit()
    {
        if (Run) _wait = 0;
    }

    [On(Event.AfterEpoch)]
    private void AfterEpoch()
    {
        if (!PatienceCounter.Exhausted(ref _wait, NewBest, Patience)) return;
        var learn = Attached;
        var opt = learn.Opt ?? throw new InvalidOperationException("ReduceLROnPlateau needs the learner's optimizer, which does not exist yet.");
        var old = opt.GetHyper("lr");
        foreach (var h in opt.Hypers) h["lr"] = Math.Max(h["lr"] / Factor, MinLr);
        _wait = 0;
        var lr = opt.GetHyper("lr");
        if (lr < old) learn.Log($"Epoch {learn.Epoch}: reducing lr to {Format(lr)}");
    }
}

/// <summary>Counts epochs without a new best, for the trackers that act after <c>patience</c> of them in a row.</summary>
internal static class PatienceCounter
{
    /// <summary>Records one epoch in <paramref name="wait"/> (epochs since the last new best); true when <paramref name="patience"/> epochs in a row brought no new best.</summary>
    public static bool Exhausted(ref int wait, bool newBest, int patience)
    {
        wait = newBest ? 0 : wait + 1;
        return wait >= patience;
    }
}
