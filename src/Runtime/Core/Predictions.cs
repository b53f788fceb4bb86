using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// What <see cref="Learner.GetPreds"/> returns (fastai's tuple <c>(inputs?, preds, targs, decoded?, losses?)</c>),
/// one row per item, in dataset order unless asked otherwise. The tensors are on the CPU, detached, and belong
/// to this object: dispose it when done.
/// </summary>
public sealed class Predictions : IDisposable
{
    internal Predictions(Tensor? inputs, Tensor? preds, Tensor? targets, Tensor? decoded, Tensor? losses)
    {
        Inputs = inputs;
        Preds = preds;
        Targets = targets;
        Decoded = decoded;
        Losses = losses;
    }

    /// <summary>The inputs (the model's <c>Xb[0]</c>), when asked for with <c>withInput</c>; otherwise null.</summary>
    public Tensor? Inputs { get; private set; }

    /// <summary>The model's outputs after the activation (<c>act</c>); null when <c>withPreds</c> was false or there were no batches.</summary>
    public Tensor? Preds { get; private set; }

    /// <summary>The targets (<c>Yb[0]</c>); null when the data has none or <c>withTargs</c> was false.</summary>
    public Tensor? Targets { get; private set; }

    /// <summary>The decoded predictions (for example the class index), when asked for with <c>withDecoded</c>; otherwise null.</summary>
    public Tensor? Decoded { get; private set; }

    /// <summary>The loss of each item, when asked for with <c>withLoss</c>; otherwise null.</summary>
    public Tensor? Losses { get; private set; }

    /// <summary>fastai's tuple order: <c>(inputs, preds, targets, decoded, losses)</c>.</summary>
    /// <param name="inputs">Receives <see cref="Inputs"/>: null unless asked for with <c>withInput</c>.</param>
    /// <param name="preds">Receives <see cref="Preds"/>: null when <c>withPreds</c> was false or there were no batches.</param>
    /// <param name="targets">Receives <see cref="Targets"/>: null for data without targets or with <c>withTargs</c> false.</param>
    /// <param name="decoded">Receives <see cref="Decoded"/>: null unless asked for with <c>withDecoded</c>.</param>
    /// <param name="losses">Receives <see cref="Losses"/>: null unless asked for with <c>withLoss</c>.</param>
    /// <remarks>The tensors stay owned by this object: dispose it, not them.</remarks>
    public void Deconstruct(out Tensor? inputs, out Tensor? preds, out Tensor? targets, out Tensor? decoded, out Tensor? losses) =>
        (inputs, preds, targets, decoded, losses) = (Inputs, Preds, Targets, Decoded, Losses);

    /// <summary>The common case: <c>var (preds, targets) = learn.GetPreds();</c>.</summary>
    /// <param name="preds">Receives <see cref="Preds"/>: the activated outputs, or null when there were no batches.</param>
    /// <param name="targets">Receives <see cref="Targets"/>: null for data without targets.</param>
    /// <remarks>The tensors stay owned by this object: dispose it, not them.</remarks>
    public void Deconstruct(out Tensor? preds, out Tensor? targets) => (preds, targets) = (Preds, Targets);

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Inputs?.Dispose();
        Preds?.Dispose();
        Targets?.Dispose();
        Decoded?.Dispose();
        Losses?.Dispose();
        (Inputs, Preds, Targets, Decoded, Losses) = (null, null, null, null, null);
    }
}

/// <summary>
/// What <see cref="Learner.Predict"/> returns for one item: the model's output (after the activation) and its
/// decoded form (the class index for a classifier). Owns its tensors; dispose it when done.
/// </summary>
public sealed class ItemPrediction : IDisposable
{
    internal ItemPrediction(Tensor output, Tensor decoded)
    {
        Output = output;
        Decoded = decoded;
    }

    /// <summary>The model's output for the item, without the batch dimension, after the activation.</summary>
    public Tensor Output { get; }

    /// <summary>The decoded output: the loss's decodes (see <see cref="ILossActivation"/>), or the argmax of the last dimension for a classifier's scores, otherwise a copy of <see cref="Output"/>.</summary>
    public Tensor Decoded { get; }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Output.Dispose();
        Decoded.Dispose();
    }
}

/// <summary>
/// What <see cref="Learner.Validate"/> returns: fastai's <c>[valid_loss, *metrics]</c>, with the column names.
/// </summary>
/// <param name="Names">"valid_loss" then the metric names.</param>
/// <param name="Values">The values in the same order; null where nothing was accumulated (an empty loader).</param>
public sealed record ValidationResult(IReadOnlyList<string> Names, IReadOnlyList<double?> Values)
{
    /// <summary>The validation loss.</summary>
    public double? ValidLoss => Values.Count > 0 ? Values[0] : null;

    /// <summary>The value of the column <paramref name="name"/>.</summary>
    /// <param name="name">One of <see cref="Names"/>: <c>"valid_loss"</c> or a metric's <see cref="Metric.Name"/> (<c>"accuracy"</c>).</param>
    /// <exception cref="KeyNotFoundException">No column has that name; the message lists the columns.</exception>
    public double? this[string name]
    {
        get
        {
            for (var i = 0; i < Names.Count; i++)
                if (Names[i] == name) return Values[i];
            throw new KeyNotFoundException($"The validation has no column `{name}`; it has: {string.Join(", ", Names)}.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Join(", ", Names.Select((n, i) => $"{n}={Values[i]?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? "None"}"));
}
