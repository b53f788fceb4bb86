using TorchSharp;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>DataLoaders</c>: a training loader and an optional validation loader.
/// Without a validation loader the validate phase still runs, with zero batches, as fastai does for an empty
/// validation set.
/// </summary>
public sealed class DataLoaders : IDisposable
{
    /// <summary>Creates data loaders from a training and an optional validation loader.</summary>
    /// <param name="train">The batches <see cref="Learner.Fit"/> trains on, in each epoch.</param>
    /// <param name="valid">The batches validated on after each epoch's training; null for none (the validate phase
    /// then runs with no batches, and the validation loss is None).</param>
    public DataLoaders(DataLoader train, DataLoader? valid = null)
    {
        Train = train ?? throw new ArgumentNullException(nameof(train));
        Valid = valid;
    }

    /// <summary>The training loader.</summary>
    public DataLoader Train { get; }

    /// <summary>The validation loader, or null when there is none.</summary>
    public DataLoader? Valid { get; }

    /// <summary>fastai's <c>dls[i]</c>: 0 is <see cref="Train"/>, 1 is <see cref="Valid"/>.</summary>
    /// <param name="index">0 for the training loader, 1 for the validation loader (null when there is none); any
    /// other value throws <see cref="ArgumentOutOfRangeException"/>.</param>
    public DataLoader? this[int index] => index switch
    {
        0 => Train,
        1 => Valid,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "0 is the training loader, 1 the validation loader."),
    };

    /// <summary>The device batches go to; setting it moves both loaders.</summary>
    public Device Device
    {
        get => Train.Device;
        set
        {
            Train.Device = value;
            if (Valid is not null) Valid.Device = value;
        }
    }

    /// <summary>
    /// Splits tensors into training and validation loaders: <c>round(n * validPct)</c> rows, chosen at random with
    /// <paramref name="seed"/>, go to validation. As fastai's <c>dataloaders</c>: the validation batch size is the
    /// training one, and the last incomplete training batch is dropped when the training set is shuffled.
    /// </summary>
    /// <param name="x">Inputs; row i is sample i.</param>
    /// <param name="y">Targets, same number of rows.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="validPct">Fraction of samples held out for validation, in [0, 1).</param>
    /// <param name="shuffle">Reshuffle the training set every epoch.</param>
    /// <param name="seed">Seed of the split and of the shuffles.</param>
    /// <param name="dropLast">Drop the last incomplete training batch (default: when <paramref name="shuffle"/>, as
    /// fastai's <c>drop_last</c>). The validation set keeps every sample.</param>
    /// <param name="validBatchSize">Validation batch size (default: <paramref name="batchSize"/>, as fastai).</param>
    /// <param name="numWorkers">Threads that prepare batches ahead, for both loaders (see <see cref="TensorDataLoader"/>'s
    /// <c>numWorkers</c>; null takes its default, 0 makes every batch on the training thread).</param>
    public static DataLoaders FromTensors(Tensor x, Tensor y, int batchSize = 64, double validPct = 0.2, bool shuffle = true,
        int seed = 42, bool? dropLast = null, int? validBatchSize = null, int? numWorkers = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (validPct is < 0 or >= 1 || double.IsNaN(validPct))
            throw new ArgumentOutOfRangeException(nameof(validPct), validPct, "validPct must be in [0, 1).");
        if (x.shape.Length == 0 || y.shape.Length == 0 || x.shape[0] != y.shape[0])
            throw new ArgumentException($"x and y need the same number of rows; got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}].");
        var n = checked((int)x.shape[0]);
        if (n == 0) throw new ArgumentException("There are no samples: x has zero rows.", nameof(x));
        var nValid = (int)Math.Round(n * validPct, MidpointRounding.ToEven);
        if (nValid >= n) throw new ArgumentException($"validPct {validPct} leaves no training samples out of {n}.", nameof(validPct));

        var order = new long[n];
        for (var i = 0; i < n; i++) order[i] = i;
        new Random(seed).Shuffle(order);
        var validIdx = order[..nValid];
        Array.Sort(validIdx);
        var trainIdx = order[nValid..];
        Array.Sort(trainIdx);

        var train = new TensorDataLoader([Take(x, trainIdx)], [Take(y, trainIdx)], batchSize, shuffle, dropLast ?? shuffle, seed, ownsTensors: true, numWorkers);
        var valid = nValid == 0
            ? null
            : new TensorDataLoader([Take(x, validIdx)], [Take(y, validIdx)], validBatchSize ?? batchSize, false, false, seed, ownsTensors: true, numWorkers);
        return new DataLoaders(train, valid);
    }

    private static Tensor Take(Tensor t, long[] rows)
    {
        using var idx = tensor(rows, device: t.device);
        return t.index_select(0, idx).DetachFromDisposeScope();
    }

    /// <summary>Disposes loaders that own tensors (those made by <see cref="FromTensors"/>).</summary>
    public void Dispose()
    {
        (Train as IDisposable)?.Dispose();
        (Valid as IDisposable)?.Dispose();
    }
}
