namespace FastCallbacks;

/// <summary>
/// fastai's schedule functions (<c>fastai.callback.schedule</c>): each factory returns a function of the position
/// in training, <c>pos</c> from 0 to 1, to a hyper-parameter value. Pass them to <see cref="ParamScheduler"/>.
/// </summary>
/// <remarks>
/// The formulas are fastai's, in double precision, except where fastai itself rounds: <see cref="CombineScheds"/>
/// computes the position inside a segment in float32, as fastai's <c>combine_scheds</c> does with its float32 tensor
/// of boundaries, so one-cycle and flat-cosine schedules give fastai's values to the last digit.
/// </remarks>
public static class Schedules
{
    /// <summary>Linear from <paramref name="start"/> to <paramref name="end"/>: <c>start + pos·(end − start)</c>.</summary>
    /// <param name="start">The value at <c>pos = 0</c>, where this schedule's part of training begins.</param>
    /// <param name="end">The value at <c>pos = 1</c>, where it ends.</param>
    public static Func<double, double> SchedLin(double start, double end) => pos => start + pos * (end - start);

    /// <summary>Cosine from <paramref name="start"/> to <paramref name="end"/>: <c>start + (1 + cos(π·(1 − pos)))·(end − start)/2</c>.</summary>
    /// <param name="start">The value at <c>pos = 0</c>, where this schedule's part of training begins.</param>
    /// <param name="end">The value at <c>pos = 1</c>, where it ends.</param>
    public static Func<double, double> SchedCos(double start, double end) =>
        pos => start + (1 + Math.Cos(Math.PI * (1 - pos))) * (end - start) / 2;

    /// <summary>Constant <paramref name="start"/> (<paramref name="end"/> is ignored, as in fastai).</summary>
    /// <param name="start">The value at every position.</param>
    /// <param name="end">Ignored: it is there so that every schedule takes <c>(start, end)</c>.</param>
    public static Func<double, double> SchedNo(double start, double end) => _ => start;

    /// <summary>Exponential from <paramref name="start"/> to <paramref name="end"/>: <c>start·(end/start)^pos</c>.</summary>
    /// <param name="start">The value at <c>pos = 0</c>; not 0, and of the sign of <paramref name="end"/> (the ratio <c>end/start</c> is raised to <c>pos</c>).</param>
    /// <param name="end">The value at <c>pos = 1</c>.</param>
    public static Func<double, double> SchedExp(double start, double end) => pos => start * Math.Pow(end / start, pos);

    /// <summary>Polynomial of degree <paramref name="power"/> from <paramref name="start"/> to <paramref name="end"/>: <c>start + (end − start)·pos^power</c>.</summary>
    /// <param name="start">The value at <c>pos = 0</c>, where this schedule's part of training begins.</param>
    /// <param name="end">The value at <c>pos = 1</c>, where it ends.</param>
    /// <param name="power">The exponent of <c>pos</c>: 1 is linear, above 1 starts slowly, between 0 and 1 starts fast.</param>
    public static Func<double, double> SchedPoly(double start, double end, double power) =>
        pos => start + (end - start) * Math.Pow(pos, power);

    /// <summary>
    /// fastai's <c>combine_scheds</c>: runs <c>scheds[i]</c> over the fraction <c>pcts[i]</c> of training, each
    /// one seeing its own position from 0 to 1.
    /// </summary>
    /// <param name="pcts">Fractions of training, one per schedule, non-negative, adding up to 1.</param>
    /// <param name="scheds">The schedules, in order.</param>
    /// <remarks>
    /// Positions past the last boundary stay in the last schedule (so <c>pos = 1</c> gives its end value). As in
    /// fastai, the boundaries are float32 (their cumulative sum), and the segment is chosen and the position in it
    /// computed in float32: <c>(pos − start) / (end − start)</c>. A position that falls on a segment of width 0 gives
    /// that segment's start value (fastai gives NaN there).
    /// </remarks>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, a fraction is negative, or they do not add up to 1.</exception>
    public static Func<double, double> CombineScheds(IReadOnlyList<double> pcts, IReadOnlyList<Func<double, double>> scheds)
    {
        ArgumentNullException.ThrowIfNull(pcts);
        ArgumentNullException.ThrowIfNull(scheds);
        if (pcts.Count == 0 || pcts.Count != scheds.Count)
            throw new ArgumentException($"CombineScheds needs one fraction per schedule; got {pcts.Count} fractions and {scheds.Count} schedules.", nameof(pcts));
        if (pcts.Any(p => p < 0 || double.IsNaN(p)))
            throw new ArgumentException($"CombineScheds: every fraction must be ≥ 0; got [{string.Join(", ", pcts)}].", nameof(pcts));
        var sum = pcts.Sum();
        if (Math.Abs(sum - 1) > 1e-9)
            throw new ArgumentException($"CombineScheds: the fractions must add up to 1 (they cover the whole training); [{string.Join(", ", pcts)}] adds up to {sum}.", nameof(pcts));
        for (var i = 0; i < scheds.Count; i++)
            if (scheds[i] is null) throw new ArgumentException($"CombineScheds: schedule number {i} is null.", nameof(scheds));

        // Cumulative boundaries [0, p0, p0+p1, ..., 1] as fastai's torch.cumsum of a float32 tensor gives them
        // (accumulated in double on the CPU, each stored as float32).
        var bounds = new float[pcts.Count + 1];
        var cumulative = 0.0;
        for (var i = 0; i < pcts.Count; i++)
        {
            cumulative += (float)pcts[i];
            bounds[i + 1] = (float)cumulative;
        }
        var fs = scheds.ToArray();
        var last = fs.Length - 1;
        return pos =>
        {
            // fastai compares and subtracts the position against float32 boundaries: float32 arithmetic throughout.
            var p = (float)pos;
            // The last boundary the position has reached, but never past the last schedule.
            var idx = 0;
            for (var i = 1; i <= last; i++)
                if (p >= bounds[i]) idx = i;
            var width = bounds[idx + 1] - bounds[idx];
            var actual = width == 0 ? 0f : (float)((float)(p - bounds[idx]) / width);
            return fs[idx](actual);
        };
    }

    /// <summary>
    /// fastai's <c>combined_cos</c>: cosine from <paramref name="start"/> to <paramref name="middle"/> over the first
    /// <paramref name="pct"/> of training, then cosine from <paramref name="middle"/> to <paramref name="end"/>.
    /// </summary>
    /// <param name="pct">The fraction of training, 0 to 1, spent going from <paramref name="start"/> to <paramref name="middle"/> (fastai's <c>fit_one_cycle</c> uses 0.25).</param>
    /// <param name="start">The value at the start of training.</param>
    /// <param name="middle">The value reached after <paramref name="pct"/> of training (one cycle's peak).</param>
    /// <param name="end">The value at the end of training.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pct"/> is not between 0 and 1.</exception>
    public static Func<double, double> CombinedCos(double pct, double start, double middle, double end)
    {
        if (!(pct >= 0 && pct <= 1))
            throw new ArgumentOutOfRangeException(nameof(pct), pct, "CombinedCos: pct (the fraction of training spent going from start to middle) must be between 0 and 1.");
        return CombineScheds([pct, 1 - pct], [SchedCos(start, middle), SchedCos(middle, end)]);
    }
}
