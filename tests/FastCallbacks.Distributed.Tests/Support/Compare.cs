using FastCallbacks.Distributed.Worker;

namespace FastCallbacks.Distributed.Tests;

/// <summary>Compares what two runs of a case ended with, number by number.</summary>
public static class Compare
{
    /// <summary>The largest difference between the weights of <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static double Weights(CaseResult a, CaseResult b)
    {
        Assert.That(a.Weights.Keys, Is.EquivalentTo(b.Weights.Keys), "the same parameters and buffers");
        double max = 0;
        foreach (var (name, values) in a.Weights)
        {
            var other = b.Weights[name];
            Assert.That(other, Has.Length.EqualTo(values.Length), name);
            for (var i = 0; i < values.Length; i++) max = Math.Max(max, Math.Abs(values[i] - other[i]));
        }
        return max;
    }

    /// <summary>
    /// The largest difference between everything the recorders kept (smoothed losses, learning rates, every
    /// epoch's losses and metrics); the lists must have the same lengths and the same missing values.
    /// </summary>
    public static double Recorded(CaseResult a, CaseResult b)
    {
        Assert.That(b.Losses, Has.Length.EqualTo(a.Losses.Length), "smoothed losses recorded");
        Assert.That(b.Lrs, Has.Length.EqualTo(a.Lrs.Length), "learning rates recorded");
        Assert.That(b.Values, Has.Length.EqualTo(a.Values.Length), "epoch rows recorded");
        Assert.That(b.Iters, Is.EqualTo(a.Iters), "batches per epoch");
        double max = 0;
        for (var i = 0; i < a.Losses.Length; i++) max = Math.Max(max, Math.Abs(a.Losses[i] - b.Losses[i]));
        for (var i = 0; i < a.Lrs.Length; i++) max = Math.Max(max, Math.Abs(a.Lrs[i] - b.Lrs[i]));
        for (var r = 0; r < a.Values.Length; r++)
        {
            Assert.That(b.Values[r], Has.Length.EqualTo(a.Values[r].Length), $"columns of epoch {r}");
            for (var c = 0; c < a.Values[r].Length; c++)
            {
                Assert.That(b.Values[r][c].HasValue, Is.EqualTo(a.Values[r][c].HasValue), $"epoch {r}, column {c}");
                if (a.Values[r][c] is { } x && b.Values[r][c] is { } y) max = Math.Max(max, Math.Abs(x - y));
            }
        }
        return max;
    }
}
