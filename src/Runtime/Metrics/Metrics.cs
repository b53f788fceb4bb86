using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>How per-class classification scores are combined (scikit-learn's <c>average</c>).</summary>
public enum Average
{
    /// <summary>The score of the positive class only (two classes).</summary>
    Binary,
    /// <summary>The unweighted mean of the per-class scores.</summary>
    Macro,
    /// <summary>The score of the pooled true/false positives and negatives of all classes.</summary>
    Micro,
    /// <summary>The mean of the per-class scores weighted by each class's number of targets.</summary>
    Weighted,
}

/// <summary>
/// fastai's metrics, for <c>new Learner(..., metrics: [Metrics.Accuracy()])</c>. Each returns a new metric whose
/// <see cref="Metric.Name"/> is fastai's column name (accuracy, error_rate, mse, mae, _rmse, r2_score, f1_score,
/// precision_score, recall_score).
/// </summary>
/// <remarks>
/// Accuracy, error rate, MSE and MAE are averages of batch values (<see cref="AvgMetric"/>); RMSE, R², F1,
/// precision and recall are computed on the whole set (<see cref="AccumMetric"/>), as in fastai. The
/// classification scores follow scikit-learn: the classes are those present in targets or predictions, and a
/// score whose denominator is zero is 0.
/// </remarks>
public static class Metrics
{
    /// <summary>fastai's <c>accuracy</c>: the fraction of items whose argmax over <paramref name="axis"/> equals the target.</summary>
    /// <param name="axis">The dimension of the class scores whose argmax is the predicted class (default -1, the last).</param>
    public static Metric Accuracy(int axis = -1) => new AvgMetric((p, t) => AccuracyOf(p, t, axis), "accuracy");

    /// <summary>fastai's <c>error_rate</c>: 1 - accuracy.</summary>
    /// <param name="axis">The dimension of the class scores whose argmax is the predicted class (default -1, the last).</param>
    public static Metric ErrorRate(int axis = -1) => new AvgMetric((p, t) => 1 - AccuracyOf(p, t, axis), "error_rate");

    /// <summary>fastai's <c>mse</c>: the mean squared error (batch-size-weighted over the set).</summary>
    public static Metric Mse() => new AvgMetric((p, t) =>
    {
        var (pf, tf) = FlattenCheck(p, t, "mse");
        return nn.functional.mse_loss(pf, tf.to_type(pf.dtype));
    }, "mse");

    /// <summary>fastai's <c>mae</c>: the mean absolute error (batch-size-weighted over the set).</summary>
    public static Metric Mae() => new AvgMetric((p, t) =>
    {
        var (pf, tf) = FlattenCheck(p, t, "mae");
        return (pf - tf.to_type(pf.dtype)).abs().mean();
    }, "mae");

    /// <summary>fastai's <c>rmse</c> (column <c>_rmse</c>): the root of the mean squared error over the whole set.</summary>
    public static AccumMetric Rmse() => new((p, t) => nn.functional.mse_loss(p.to_type(ScalarType.Float64), t.to_type(ScalarType.Float64)).sqrt(), name: "_rmse");

    /// <summary>
    /// fastai's <c>R2Score</c> (column <c>r2_score</c>): 1 - Σ(t - p)² / Σ(t - mean t)² over the whole set; as
    /// scikit-learn, 1 for a perfect fit and 0 otherwise when the targets are constant.
    /// </summary>
    public static AccumMetric R2() => new(static (p, t) => tensor(R2Of(p, t)), name: "r2_score");

    /// <summary>fastai's <c>F1Score</c> (column <c>f1_score</c>): 2·TP / (2·TP + FP + FN).</summary>
    /// <param name="average">How classes are combined; <see cref="Average.Binary"/> scores <paramref name="posLabel"/> only.</param>
    /// <param name="posLabel">The positive class for <see cref="Average.Binary"/>.</param>
    /// <param name="axis">The class dimension of the predictions (their argmax is the predicted class).</param>
    /// <param name="thresh">Instead of the argmax: predicted class = sigmoid(pred) ≥ thresh (one output per item).</param>
    public static AccumMetric F1(Average average = Average.Binary, int posLabel = 1, int axis = -1, double? thresh = null) =>
        Classification("f1_score", Score.F1, average, posLabel, axis, thresh);

    /// <summary>fastai's <c>Precision</c> (column <c>precision_score</c>): TP / (TP + FP).</summary>
    /// <inheritdoc cref="F1" path="/param"/>
    public static AccumMetric Precision(Average average = Average.Binary, int posLabel = 1, int axis = -1, double? thresh = null) =>
        Classification("precision_score", Score.Precision, average, posLabel, axis, thresh);

    /// <summary>fastai's <c>Recall</c> (column <c>recall_score</c>): TP / (TP + FN).</summary>
    /// <inheritdoc cref="F1" path="/param"/>
    public static AccumMetric Recall(Average average = Average.Binary, int posLabel = 1, int axis = -1, double? thresh = null) =>
        Classification("recall_score", Score.Recall, average, posLabel, axis, thresh);

    private enum Score { F1, Precision, Recall }

    private static Tensor AccuracyOf(Tensor pred, Tensor targ, int axis)
    {
        var (p, t) = FlattenCheck(pred.argmax(axis), targ, "accuracy");
        return p.eq(t.to_type(p.dtype)).to_type(ScalarType.Float32).mean();
    }

    /// <summary>fastai's <c>flatten_check</c>: both flattened, with the same number of elements.</summary>
    private static (Tensor, Tensor) FlattenCheck(Tensor pred, Tensor targ, string metric)
    {
        var p = pred.contiguous().view(-1);
        var t = targ.contiguous().view(-1);
        if (p.shape[0] != t.shape[0])
            throw new ArgumentException($"Metric `{metric}`: {p.shape[0]} predictions but {t.shape[0]} targets after flattening; their shapes must match.");
        return (p, t);
    }

    private static double R2Of(Tensor pred, Tensor targ)
    {
        var p = pred.to_type(ScalarType.Float64).data<double>().ToArray();
        var t = targ.to_type(ScalarType.Float64).data<double>().ToArray();
        var mean = t.Length == 0 ? 0 : t.Average();
        double ssRes = 0, ssTot = 0;
        for (var i = 0; i < t.Length; i++)
        {
            ssRes += (t[i] - p[i]) * (t[i] - p[i]);
            ssTot += (t[i] - mean) * (t[i] - mean);
        }
        if (ssTot == 0) return ssRes == 0 ? 1 : 0;
        return 1 - ssRes / ssTot;
    }

    private static AccumMetric Classification(string name, Score score, Average average, int posLabel, int axis, double? thresh) =>
        new((p, t) => tensor(ClassificationScore(p, t, score, average, posLabel, name)),
            dimArgmax: thresh is null ? axis : null,
            activation: thresh is null ? ActivationType.No : ActivationType.Sigmoid,
            thresh: thresh,
            name: name);

    private static double ClassificationScore(Tensor preds, Tensor targs, Score score, Average average, long posLabel, string name)
    {
        var p = preds.to_type(ScalarType.Int64).data<long>().ToArray();
        var t = targs.to_type(ScalarType.Int64).data<long>().ToArray();
        var labels = p.Concat(t).Distinct().Order().ToArray();
        if (average == Average.Binary)
        {
            if (labels.Length > 2)
                throw new InvalidOperationException(
                    $"Metric `{name}` averages Binary, but targets and predictions hold {labels.Length} classes ({string.Join(", ", labels)}). " +
                    "Use average: Average.Macro, Micro or Weighted.");
            labels = [posLabel];
        }
        long tpSum = 0, fpSum = 0, fnSum = 0, supportSum = 0;
        double sum = 0, weighted = 0;
        foreach (var c in labels)
        {
            long tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < p.Length; i++)
            {
                var predicted = p[i] == c;
                var actual = t[i] == c;
                if (predicted && actual) tp++;
                else if (predicted) fp++;
                else if (actual) fn++;
            }
            var s = Of(score, tp, fp, fn);
            sum += s;
            weighted += s * (tp + fn);
            (tpSum, fpSum, fnSum, supportSum) = (tpSum + tp, fpSum + fp, fnSum + fn, supportSum + tp + fn);
        }
        return average switch
        {
            Average.Binary => sum,
            Average.Macro => labels.Length == 0 ? 0 : sum / labels.Length,
            Average.Micro => Of(score, tpSum, fpSum, fnSum),
            Average.Weighted => supportSum == 0 ? 0 : weighted / supportSum,
            _ => throw new ArgumentOutOfRangeException(nameof(average), average, null),
        };
    }

    private static double Of(Score score, long tp, long fp, long fn) => score switch
    {
        Score.F1 => Ratio(2 * tp, 2 * tp + fp + fn),
        Score.Precision => Ratio(tp, tp + fp),
        _ => Ratio(tp, tp + fn),
    };

    private static double Ratio(long num, long den) => den == 0 ? 0 : (double)num / den;
}
