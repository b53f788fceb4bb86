namespace FastCallbacks;

/// <summary>
/// fastai's <c>ShortEpochCallback</c>: runs only the first <c>pct</c> of each phase (for quick checks). After the
/// batch at which <c>Iter / NIter</c> reaches <c>pct</c>, it ends the training phase
/// (<see cref="CancelTrainException"/>) and, with <c>shortValid</c>, the validation phase
/// (<see cref="CancelValidException"/>).
/// </summary>
public sealed partial class ShortEpochCallback : Callback
{
    /// <summary>Creates the callback.</summary>
    /// <param name="pct">The fraction of each phase's batches to run, in [0, 1].</param>
    /// <param name="shortValid">Shorten the validation phase too.</param>
    public ShortEpochCallback(double pct = 0.01, bool shortValid = true)
    {
        if (!(pct is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(pct), pct, "ShortEpochCallback: pct is a fraction of the batches, in [0, 1].");
        Pct = pct;
        ShortValid = shortValid;
    }

    /// <summary>The fraction of each phase's batches run.</summary>
    public double Pct { get; }

    /// <summary>Whether the validation phase is shortened too.</summary>
    public bool ShortValid { get; }

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        var learn = Attached;
        if ((double)learn.Iter / learn.NIter < Pct) return;
        if (learn.Training) throw new CancelTrainException();
        if (ShortValid) throw new CancelValidException();
    }
}
