namespace FastCallbacks.Tests.Library;

using static LibraryData;

/// <summary>
/// Metrics against numbers computed by hand. The model is the identity, so the loader's inputs are the
/// predictions; Validate runs them through the Recorder in several batches, as a fit would.
/// </summary>
public partial class MetricTests
{
    private static ValidationResult ValidateOn(Tensor preds, Tensor targs, Func<Tensor, Tensor, Tensor> loss, int batchSize, params Metric[] metrics)
    {
        using var dls = Loaders(preds, targs, batchSize);
        using var learn = new Learner(dls, Identity(), loss, metrics: metrics);
        return learn.Validate();
    }

    // Predicted classes p and targets t of 8 items (two classes):
    //   p = 1 0 1 1 0 1 0 0
    //   t = 1 0 0 1 1 1 0 1
    // TP = 3 (items 0, 3, 5), FP = 1 (item 2), FN = 2 (items 4, 7), correct = 5.
    private static readonly long[] BinaryPred = [1, 0, 1, 1, 0, 1, 0, 0];
    private static readonly long[] BinaryTarg = [1, 0, 0, 1, 1, 1, 0, 1];

    // Three classes, 9 items:
    //   p = 0 0 0 1 1 2 2 2 2
    //   t = 0 0 1 1 2 2 2 0 1
    // class 0: TP 2, FP 1, FN 1   class 1: TP 1, FP 1, FN 2   class 2: TP 2, FP 2, FN 1; correct = 5; support 3/3/3.
    private static readonly long[] MultiPred = [0, 0, 0, 1, 1, 2, 2, 2, 2];
    private static readonly long[] MultiTarg = [0, 0, 1, 1, 2, 2, 2, 0, 1];

    private static Tensor Scores(long[] classes, int nClasses)
    {
        using var c = tensor(classes);
        using var oneHot = nn.functional.one_hot(c, nClasses);
        return oneHot.to_type(ScalarType.Float32) * 3 - 1;
    }

    [Test]
    public void Binary_classification_metrics()
    {
        using var scores = Scores(BinaryPred, 2);
        using var targs = tensor(BinaryTarg);
        var r = ValidateOn(scores, targs, CrossEntropy, batchSize: 3,
            Metrics.Accuracy(), Metrics.ErrorRate(), Metrics.F1(), Metrics.Precision(), Metrics.Recall());
        Assert.That(r.Names, Is.EqualTo(new[] { "valid_loss", "accuracy", "error_rate", "f1_score", "precision_score", "recall_score" }));
        Assert.That(r["accuracy"], Is.EqualTo(5.0 / 8).Within(1e-6));
        Assert.That(r["error_rate"], Is.EqualTo(3.0 / 8).Within(1e-6));
        Assert.That(r["precision_score"], Is.EqualTo(3.0 / 4).Within(1e-12));
        Assert.That(r["recall_score"], Is.EqualTo(3.0 / 5).Within(1e-12));
        Assert.That(r["f1_score"], Is.EqualTo(2.0 * 3 / (2 * 3 + 1 + 2)).Within(1e-12));
    }

    [Test]
    public void Binary_metrics_with_a_threshold_on_one_output()
    {
        // One logit per item: sigmoid(logit) >= 0.5 is class 1.
        using var logits = tensor(BinaryPred.Select(c => c == 1 ? 2f : -2f).ToArray()).reshape(8, 1);
        using var targs = tensor(BinaryTarg.Select(c => (float)c).ToArray()).reshape(8, 1);
        var r = ValidateOn(logits, targs, (p, t) => nn.functional.binary_cross_entropy_with_logits(p, t), batchSize: 5,
            Metrics.F1(thresh: 0.5), Metrics.Recall(thresh: 0.5));
        Assert.That(r["f1_score"], Is.EqualTo(6.0 / 9).Within(1e-12));
        Assert.That(r["recall_score"], Is.EqualTo(3.0 / 5).Within(1e-12));
    }

    [Test]
    public void Multiclass_macro_micro_weighted()
    {
        using var scores = Scores(MultiPred, 3);
        using var targs = tensor(MultiTarg);
        var r = ValidateOn(scores, targs, CrossEntropy, batchSize: 4,
            Metrics.F1(Average.Macro), Metrics.Precision(Average.Macro), Metrics.Recall(Average.Macro));
        double[] p = [2.0 / 3, 1.0 / 2, 2.0 / 4], rc = [2.0 / 3, 1.0 / 3, 2.0 / 3], f1 = [4.0 / 6, 2.0 / 5, 4.0 / 7];
        Assert.That(r["precision_score"], Is.EqualTo(p.Average()).Within(1e-12));
        Assert.That(r["recall_score"], Is.EqualTo(rc.Average()).Within(1e-12));
        Assert.That(r["f1_score"], Is.EqualTo(f1.Average()).Within(1e-12));

        var micro = ValidateOn(scores, targs, CrossEntropy, batchSize: 4, Metrics.F1(Average.Micro), Metrics.Accuracy());
        Assert.That(micro["f1_score"], Is.EqualTo(5.0 / 9).Within(1e-12), "micro F1 of single-label data is the accuracy");
        Assert.That(micro["accuracy"], Is.EqualTo(5.0 / 9).Within(1e-6));

        var weighted = ValidateOn(scores, targs, CrossEntropy, batchSize: 4, Metrics.Recall(Average.Weighted));
        Assert.That(weighted["recall_score"], Is.EqualTo((3 * rc[0] + 3 * rc[1] + 3 * rc[2]) / 9).Within(1e-12));
    }

    [Test]
    public void Binary_average_on_three_classes_says_to_use_macro()
    {
        using var scores = Scores(MultiPred, 3);
        using var targs = tensor(MultiTarg);
        var ex = Assert.Throws<CallbackException>(() => ValidateOn(scores, targs, CrossEntropy, 4, Metrics.F1()));
        Assert.That(ex!.InnerException!.Message, Does.Contain("Average.Macro"));
    }

    [Test]
    public void Regression_metrics()
    {
        // errors p - t = -0.5, 0, 1, -1: MSE = 2.25 / 4, MAE = 2.5 / 4, RMSE = sqrt(MSE);
        // mean t = 2.625, SS_tot = 7.6875, SS_res = 2.25, R² = 1 - 2.25 / 7.6875.
        using var preds = tensor(new[] { 1f, 2f, 3f, 4f }).reshape(4, 1);
        using var targs = tensor(new[] { 1.5f, 2f, 2f, 5f }).reshape(4, 1);
        var r = ValidateOn(preds, targs, TestData.Mse, batchSize: 3, Metrics.Mse(), Metrics.Mae(), Metrics.Rmse(), Metrics.R2());
        Assert.That(r.Names, Is.EqualTo(new[] { "valid_loss", "mse", "mae", "_rmse", "r2_score" }));
        Assert.That(r.ValidLoss, Is.EqualTo(0.5625).Within(1e-6));
        Assert.That(r["mse"], Is.EqualTo(0.5625).Within(1e-6));
        Assert.That(r["mae"], Is.EqualTo(0.625).Within(1e-6));
        Assert.That(r["_rmse"], Is.EqualTo(0.75).Within(1e-6), "RMSE over the whole set, not a mean of batch RMSEs");
        Assert.That(r["r2_score"], Is.EqualTo(1 - 2.25 / 7.6875).Within(1e-6));
    }

    [Test]
    public void Valid_loss_of_an_unreduced_loss_is_the_mean_per_item()
    {
        // Squared errors 0.25, 0, 1 | 1 in batches of 3 and 1: batch means 1.25/3 and 1, weighted by batch size 2.25/4.
        using var preds = tensor(new[] { 1f, 2f, 3f, 4f }).reshape(4, 1);
        using var targs = tensor(new[] { 1.5f, 2f, 2f, 5f }).reshape(4, 1);
        var perItem = ValidateOn(preds, targs, (p, t) => (p - t).pow(2).flatten(), batchSize: 3);
        var reduced = ValidateOn(preds, targs, TestData.Mse, batchSize: 3);
        Assert.That(perItem.ValidLoss, Is.EqualTo(0.5625).Within(1e-6));
        Assert.That(reduced.ValidLoss, Is.EqualTo(0.5625).Within(1e-6));
    }

    [Test]
    public void AccumMetric_applies_activation_argmax_and_threshold()
    {
        using var dls = Loaders(zeros(2, 2), zeros(2, dtype: ScalarType.Int64), 2);
        using var learn = new Learner(dls, Identity(), CrossEntropy);
        using var seen = new AccumMetric((p, t) => p.sum(), dimArgmax: -1, name: "argmax_sum");
        using var soft = new AccumMetric((p, t) => p.sum(), activation: ActivationType.BinarySoftmax, thresh: 0.5, name: "binary_softmax");
        learn.Pred = tensor(new[,] { { 0f, 1f }, { 3f, 1f }, { 0f, 5f } });
        learn.Yb = [tensor(new long[] { 1, 0, 1 })];
        foreach (var m in new[] { seen, soft })
        {
            m.Reset();
            m.Accumulate(learn);
            m.Accumulate(learn);
        }
        Assert.That(seen.Value, Is.EqualTo(4), "argmax per row: 1, 0, 1, twice");
        Assert.That(soft.Value, Is.EqualTo(4), "P(last class) >= 0.5: 1, 0, 1, twice");
        seen.Reset();
        Assert.That(seen.Value, Is.Null);
        Assert.That(new AccumMetric(Rmse).Name, Is.EqualTo("rmse"), "a method's name, snake_cased");
        Assert.Throws<ArgumentException>(() => _ = new AccumMetric((p, t) => p));
    }

    private static Tensor Rmse(Tensor p, Tensor t) => (p - t).pow(2).mean().sqrt();

    [Test]
    public void Metrics_show_in_the_recorder_table()
    {
        using var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), TestData.Mse, lr: 0.1,
            metrics: [Metrics.Mse(), Metrics.R2()]);
        var rows = new List<EpochLog>();
        learn.Logger = rows.Add;
        learn.Fit(1);
        Assert.That(rows[0].Names, Is.EqualTo(new[] { "epoch", "train_loss", "valid_loss", "mse", "r2_score", "time" }));
        Assert.That(rows[0].Values[2], Is.EqualTo(rows[0].Values[1]).Within(1e-6), "mse equals the MSE loss");
    }
}
