using System.Globalization;

namespace FastCallbacks;

/// <summary>
/// A hyper-parameter value for every parameter group, given the ways fastai takes one: a single value for all
/// groups (<c>1e-3</c>), one value per group (<c>new[] { 1e-5, 1e-3 }</c>), or fastai's <c>slice</c>:
/// <see cref="Slice(double, double)"/> spreads rates geometrically from the first group to the last (the head),
/// <see cref="Slice(double)"/> gives the last group its value and every other group a tenth of it.
/// </summary>
/// <remarks>
/// Used by <see cref="Optimizer.SetHyper(string, PerGroup)"/> and by every <c>lr</c>/<c>lrMax</c> parameter of
/// <see cref="Learner.Fit"/>, <see cref="Learner.FitOneCycle"/>, <see cref="Learner.FitFlatCos"/> and
/// <see cref="Learner.FitSgdr"/>. A double or a double array converts to it implicitly.
/// </remarks>
public readonly struct PerGroup : IEquatable<PerGroup>
{
    private enum Kind : byte { Value, Values, Slice, SliceHead }

    private readonly Kind _kind;
    private readonly double _lo;
    private readonly double _hi;
    private readonly double[]? _values;

    private PerGroup(Kind kind, double lo, double hi, double[]? values)
    {
        _kind = kind;
        _lo = lo;
        _hi = hi;
        _values = values;
    }

    /// <summary>One value for every group.</summary>
    /// <param name="value">The hyper-parameter (a learning rate, a weight decay, …) that every parameter group gets.</param>
    public static implicit operator PerGroup(double value) => new(Kind.Value, value, value, null);

    /// <summary>One value per group, first group first (the head, fastai's last group, last).</summary>
    /// <param name="values">The values; copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    public static implicit operator PerGroup(double[] values) => Of(values);

    /// <summary>One value per group, first group first.</summary>
    /// <param name="values">The values; copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public static PerGroup Of(params double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0) throw new ArgumentException("Give at least one value (one per parameter group).", nameof(values));
        return new PerGroup(Kind.Values, 0, 0, (double[])values.Clone());
    }

    /// <summary>
    /// fastai's <c>slice(lo, hi)</c>: <paramref name="lo"/> for the first group, <paramref name="hi"/> for the last,
    /// the groups between spread geometrically (fastai's <c>even_mults</c>). Needs at least two groups.
    /// </summary>
    /// <param name="lo">The first group's value (the body's start); positive.</param>
    /// <param name="hi">The last group's value (the head); positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not positive and finite.</exception>
    public static PerGroup Slice(double lo, double hi)
    {
        CheckPositive(lo, nameof(lo));
        CheckPositive(hi, nameof(hi));
        return new PerGroup(Kind.Slice, lo, hi, null);
    }

    /// <summary>
    /// fastai's <c>slice(hi)</c>: <paramref name="hi"/> for the last group (the head) and <c>hi / 10</c> for every
    /// other group. Needs at least two groups.
    /// </summary>
    /// <param name="hi">The last group's value; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hi"/> is not positive and finite.</exception>
    public static PerGroup Slice(double hi)
    {
        CheckPositive(hi, nameof(hi));
        return new PerGroup(Kind.SliceHead, hi / 10, hi, null);
    }

    /// <summary>True when this is one value for every group (a plain double).</summary>
    public bool IsSingle => _kind == Kind.Value;

    /// <summary>True for <see cref="Slice(double, double)"/> and <see cref="Slice(double)"/>, which need several groups.</summary>
    public bool IsSlice => _kind is Kind.Slice or Kind.SliceHead;

    /// <summary>
    /// The value of each of <paramref name="groups"/> groups (fastai's <c>set_hyper</c>): a single value repeated,
    /// the per-group values, or the slice spread.
    /// </summary>
    /// <param name="groups">The number of parameter groups (at least 1).</param>
    /// <param name="name">The hyper-parameter's name, for the error message.</param>
    /// <exception cref="ArgumentException">The values do not fit the groups: per-group values of another count,
    /// or a slice with a single group.</exception>
    public double[] Resolve(int groups, string name = "lr")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        switch (_kind)
        {
            case Kind.Values:
                if (_values!.Length == 1) return Enumerable.Repeat(_values[0], groups).ToArray();
                if (_values.Length != groups)
                    throw new ArgumentException(
                        $"{_values.Length} values were given for `{name}` but the optimizer has {groups} parameter group{(groups == 1 ? "" : "s")}. " +
                        $"Give one value, or one per group ({groups}).", name);
                return (double[])_values.Clone();
            case Kind.Slice or Kind.SliceHead when groups == 1:
                throw new ArgumentException(
                    $"`{name}` = {this} spreads values across parameter groups, but the optimizer has one group. " +
                    "Pass a splitter to the Learner to split the model into groups (for example Splitters.ByChildren(...)), or give one value.", name);
            case Kind.Slice:
            {
                // fastai's even_mults(lo, hi, n): lo·step^i with step = (hi/lo)^(1/(n-1)).
                var step = Math.Pow(_hi / _lo, 1.0 / (groups - 1));
                var result = new double[groups];
                for (var i = 0; i < groups; i++) result[i] = _lo * Math.Pow(step, i);
                return result;
            }
            case Kind.SliceHead:
            {
                var result = new double[groups];
                for (var i = 0; i < groups - 1; i++) result[i] = _hi / 10;
                result[^1] = _hi;
                return result;
            }
            default:
                return Enumerable.Repeat(_lo, groups).ToArray();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => _kind switch
    {
        Kind.Value => F(_lo),
        Kind.Values => "[" + string.Join(", ", _values!.Select(F)) + "]",
        Kind.Slice => $"Slice({F(_lo)}, {F(_hi)})",
        _ => $"Slice({F(_hi)})",
    };

    /// <inheritdoc/>
    public bool Equals(PerGroup other) =>
        _kind == other._kind && _lo.Equals(other._lo) && _hi.Equals(other._hi) &&
        (_values is null ? other._values is null : other._values is not null && _values.AsSpan().SequenceEqual(other._values));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PerGroup other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_kind, _lo, _hi, _values?.Length ?? 0);

    /// <summary>Equality of the values given.</summary>
    /// <param name="left">One set of per-group values.</param>
    /// <param name="right">The other: equal when given the same way (one value, a slice, a list) with the same numbers.</param>
    public static bool operator ==(PerGroup left, PerGroup right) => left.Equals(right);

    /// <summary>Inequality of the values given.</summary>
    /// <param name="left">One set of per-group values.</param>
    /// <param name="right">The other: different when given another way (a slice and the list it spreads to differ) or with other numbers.</param>
    public static bool operator !=(PerGroup left, PerGroup right) => !left.Equals(right);

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static void CheckPositive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
            throw new ArgumentOutOfRangeException(name, value, $"PerGroup.Slice: {name} must be a positive, finite value (the values are spread geometrically).");
    }
}
