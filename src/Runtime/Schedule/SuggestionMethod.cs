namespace FastCallbacks;

/// <summary>One learning rate suggested by <see cref="Learner.LrFind"/>.</summary>
/// <param name="Name">The method's name (<c>valley</c>, <c>slide</c>, <c>minimum</c>, <c>steep</c>, or a custom one).</param>
/// <param name="Lr">The suggested learning rate.</param>
/// <param name="PointLr">Where to mark the suggestion on the loss curve: its learning rate.</param>
/// <param name="PointLoss">Where to mark the suggestion on the loss curve: its loss.</param>
public sealed record Suggestion(string Name, double Lr, double PointLr, double PointLoss)
{
    /// <summary>The method and its rate, as in fastai's <c>SuggestedLRs(valley=0.000302)</c>: <c>valley=0.000302</c>.</summary>
    public override string ToString() => $"{Name}={Lr.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// A rule that picks a learning rate from an LR-finder curve (fastai's <c>SuggestionMethod</c>): it receives the
/// learning rates and smoothed losses (trimmed as fastai trims them) and the requested number of iterations.
/// </summary>
public sealed class SuggestionMethod
{
    private readonly Func<IReadOnlyList<double>, IReadOnlyList<double>, int, (double Lr, double PointLr, double PointLoss)> _suggest;

    /// <summary>Creates a custom method.</summary>
    /// <param name="name">Its name in <see cref="LrFindResult"/>.</param>
    /// <param name="suggest">(lrs, losses, numIt) → the suggested rate and the point to mark on the plot.</param>
    public SuggestionMethod(string name, Func<IReadOnlyList<double>, IReadOnlyList<double>, int, (double Lr, double PointLr, double PointLoss)> suggest)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        _suggest = suggest ?? throw new ArgumentNullException(nameof(suggest));
    }

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>fastai's <c>valley</c> (the default): a rate inside the longest descending run of the loss curve.</summary>
    public static SuggestionMethod Valley { get; } = new("valley", SuggestValley);

    /// <summary>fastai's <c>slide</c> with its defaults (<c>lr_diff=15, thresh=0.005, adjust_value=1</c>).</summary>
    public static SuggestionMethod Slide { get; } = SlideWith();

    /// <summary>fastai's <c>minimum</c>: one tenth of the rate at the lowest loss.</summary>
    public static SuggestionMethod Minimum { get; } = new("minimum", SuggestMinimum);

    /// <summary>fastai's <c>steep</c>: the rate where the loss falls fastest against log(lr).</summary>
    public static SuggestionMethod Steep { get; } = new("steep", SuggestSteep);

    /// <summary>fastai's <c>slide</c> with its parameters: walks left from the end until the gradients
    /// <paramref name="lrDiff"/> points apart differ by at most <paramref name="thresh"/>.</summary>
    /// <param name="lrDiff">How many points apart the two compared gradients of the loss are (fastai's <c>lr_diff</c>, 15); at least 1.</param>
    /// <param name="thresh">The largest difference between those gradients at which the walk stops (fastai's 0.005).</param>
    /// <param name="adjustValue">Multiplies the rate found (fastai's <c>adjust_value</c>; 1 suggests it as found).</param>
    public static SuggestionMethod SlideWith(int lrDiff = 15, double thresh = 0.005, double adjustValue = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lrDiff);
        return new("slide", (lrs, losses, _) => SuggestSlide(lrs, losses, lrDiff, thresh, adjustValue));
    }

    internal Suggestion Suggest(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int numIt)
    {
        var (lr, pointLr, pointLoss) = _suggest(lrs, losses, numIt);
        return new Suggestion(Name, lr, pointLr, pointLoss);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static (double, double, double) SuggestValley(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int numIt)
    {
        // Longest strictly decreasing subsequence ending at each point; the valley is the longest one.
        var n = losses.Count;
        var lds = new int[n];
        Array.Fill(lds, 1);
        int maxStart = 0, maxEnd = 0;
        for (var i = 1; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
                if (lds[maxEnd] < lds[i])
                {
                    maxEnd = i;
                    maxStart = maxEnd - lds[maxEnd];
                }
            }
        }
        var sections = (maxEnd - maxStart) / 3.0;
        var idx = maxStart + (int)sections + (int)(sections / 2);
        return (lrs[idx], lrs[idx], losses[idx]);
    }

    private static (double, double, double) SuggestSlide(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int lrDiff, double thresh, double adjust)
    {
        var n = losses.Count;
        var grad = Gradient(losses);
        // fastai indexes from the end: r = -1, l = r - lr_diff. With fewer points than lr_diff + 1 it would fail;
        // here the first rate is used.
        var r = n - 1;
        var l = r - lrDiff;
        var localMin = lrs[Math.Max(l, 0)];
        while (l >= 0 && Math.Abs(grad[r] - grad[l]) > thresh)
        {
            localMin = lrs[l];
            r--;
            l--;
        }
        var suggestion = localMin * adjust;
        return (suggestion, suggestion, Interp(Math.Log10(suggestion), lrs.Select(Math.Log10).ToArray(), losses));
    }

    private static (double, double, double) SuggestMinimum(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int numIt)
    {
        var argmin = ArgMin(losses);
        var lrMin = lrs[argmin];
        return (lrMin / 10, lrMin, losses[Nearest(lrs, lrMin)]);
    }

    private static (double, double, double) SuggestSteep(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int numIt)
    {
        var grads = new double[losses.Count - 1];
        for (var i = 0; i < grads.Length; i++)
            grads[i] = (losses[i + 1] - losses[i]) / (Math.Log(lrs[i + 1]) - Math.Log(lrs[i]));
        var lrSteep = lrs[ArgMin(grads)];
        return (lrSteep, lrSteep, losses[Nearest(lrs, lrSteep)]);
    }

    /// <summary>numpy's <c>gradient</c> with unit spacing: central differences inside, one-sided at the ends.</summary>
    private static double[] Gradient(IReadOnlyList<double> f)
    {
        var n = f.Count;
        var g = new double[n];
        if (n < 2) return g;
        g[0] = f[1] - f[0];
        g[n - 1] = f[n - 1] - f[n - 2];
        for (var i = 1; i < n - 1; i++) g[i] = (f[i + 1] - f[i - 1]) / 2;
        return g;
    }

    /// <summary>numpy's <c>interp</c> for increasing <paramref name="xp"/>: clamps outside the range.</summary>
    private static double Interp(double x, IReadOnlyList<double> xp, IReadOnlyList<double> fp)
    {
        if (x <= xp[0]) return fp[0];
        if (x >= xp[^1]) return fp[^1];
        var i = 1;
        while (xp[i] < x) i++;
        var t = (x - xp[i - 1]) / (xp[i] - xp[i - 1]);
        return fp[i - 1] + t * (fp[i] - fp[i - 1]);
    }

    /// <summary>The first index of the smallest value (NaN never wins, unlike torch's argmin).</summary>
    private static int ArgMin(IReadOnlyList<double> xs)
    {
        var best = 0;
        for (var i = 1; i < xs.Count; i++)
            if (xs[i] < xs[best] || double.IsNaN(xs[best])) best = i;
        return best;
    }

    private static int Nearest(IReadOnlyList<double> xs, double x)
    {
        var best = 0;
        for (var i = 1; i < xs.Count; i++)
            if (Math.Abs(xs[i] - x) < Math.Abs(xs[best] - x)) best = i;
        return best;
    }
}
