namespace FastCallbacks.Tests.Library;

/// <summary>The schedule functions give fastai's formulas.</summary>
public class SchedulesTests
{
    private static readonly double[] Points = [0, 0.25, 0.5, 1];

    private static void AssertAt(Func<double, double> f, Func<double, double> expected)
    {
        foreach (var p in Points)
            Assert.That(f(p), Is.EqualTo(expected(p)).Within(1e-12), $"at pos {p}");
    }

    [Test]
    public void SchedLin_is_linear()
    {
        var f = Schedules.SchedLin(0, 2);
        Assert.That(Points.Select(f), Is.EqualTo(new[] { 0, 0.5, 1, 2 }).Within(1e-12));
        AssertAt(Schedules.SchedLin(1, -1), p => 1 + p * (-2));
    }

    [Test]
    public void SchedCos_is_half_a_cosine()
    {
        var f = Schedules.SchedCos(0, 2);
        // start + (1 + cos(pi (1 - pos))) (end - start) / 2
        Assert.That(Points.Select(f), Is.EqualTo(new[] { 0, 1 - Math.Sqrt(0.5), 1, 2 }).Within(1e-12));
        AssertAt(Schedules.SchedCos(1e-3, 1e-5), p => 1e-3 + (1 + Math.Cos(Math.PI * (1 - p))) * (1e-5 - 1e-3) / 2);
    }

    [Test]
    public void SchedNo_is_constant_start()
    {
        Assert.That(Points.Select(Schedules.SchedNo(3, 7)), Is.All.EqualTo(3.0));
    }

    [Test]
    public void SchedExp_is_geometric()
    {
        var f = Schedules.SchedExp(1e-7, 10);
        Assert.That(Points.Select(f), Is.EqualTo(new[] { 1e-7, 1e-7 * Math.Pow(1e8, 0.25), 1e-3, 10 }).Within(1e-9).Percent);
    }

    [Test]
    public void SchedPoly_is_a_power()
    {
        var f = Schedules.SchedPoly(0, 1, 2);
        Assert.That(Points.Select(f), Is.EqualTo(new[] { 0, 0.0625, 0.25, 1 }).Within(1e-12));
        AssertAt(Schedules.SchedPoly(2, 1, 0.5), p => 2 + (1 - 2) * Math.Pow(p, 0.5));
    }

    [Test]
    public void CombineScheds_runs_each_schedule_over_its_fraction()
    {
        // fastai's notebook example: 30% cosine 0.3 -> 0.6, then 70% cosine 0.6 -> 0.2.
        var f = Schedules.CombineScheds([0.3, 0.7], [Schedules.SchedCos(0.3, 0.6), Schedules.SchedCos(0.6, 0.2)]);
        Assert.That(f(0), Is.EqualTo(0.3).Within(1e-12));
        Assert.That(f(0.15), Is.EqualTo(Schedules.SchedCos(0.3, 0.6)(0.5)).Within(1e-12));
        Assert.That(f(0.3), Is.EqualTo(0.6).Within(1e-12));
        Assert.That(f(0.65), Is.EqualTo(Schedules.SchedCos(0.6, 0.2)(Pos32(0.65, 0.3, 1.0))).Within(1e-15), "the position in the segment in float32, as fastai's");
        Assert.That(f(0.65), Is.EqualTo(Schedules.SchedCos(0.6, 0.2)(0.5)).Within(1e-7));
        Assert.That(f(1), Is.EqualTo(0.2).Within(1e-12));

        var lin = Schedules.CombineScheds([0.5, 0.5], [Schedules.SchedLin(0, 1), Schedules.SchedLin(1, 0)]);
        Assert.That(Points.Select(lin), Is.EqualTo(new[] { 0, 0.5, 1, 0 }).Within(1e-12), "pos 0.5 starts the second schedule; pos 1 ends it");
    }

    [Test]
    public void CombinedCos_goes_start_middle_end()
    {
        var f = Schedules.CombinedCos(0.25, 1, 10, 0.1);
        Assert.That(f(0), Is.EqualTo(1).Within(1e-12));
        Assert.That(f(0.125), Is.EqualTo(5.5).Within(1e-12));
        Assert.That(f(0.25), Is.EqualTo(10).Within(1e-12));
        Assert.That(f(0.5), Is.EqualTo(Schedules.SchedCos(10, 0.1)(Pos32(0.5, 0.25, 1.0))).Within(1e-15));
        Assert.That(f(0.5), Is.EqualTo(Schedules.SchedCos(10, 0.1)(1.0 / 3)).Within(1e-6));
        Assert.That(f(1), Is.EqualTo(0.1).Within(1e-12));
    }

    [Test]
    public void CombinedCos_gives_fastais_values_to_the_last_digit()
    {
        // fastai's fit_one_cycle(3, 1e-2) at its second batch of 30 (schedules.json): fastai's combine_scheds computes the
        // position in the segment from a float32 tensor, so the double-precision value would be 4.2e-11 (5e-8 relative) off.
        var lr = Schedules.CombinedCos(0.25, 1e-2 / 25, 1e-2, 1e-2 / 1e5);
        Assert.That(lr(1 / 30.0), Is.EqualTo(0.0008149818459667217));
        Assert.That(Schedules.SchedCos(1e-2 / 25, 1e-2)(1 / 30.0 / 0.25), Is.Not.EqualTo(0.0008149818459667217));
    }

    /// <summary>fastai's position inside a segment: (pos − lo) / (hi − lo) in float32.</summary>
    private static double Pos32(double pos, double lo, double hi) => (float)((float)((float)pos - (float)lo) / (float)((float)hi - (float)lo));

    [Test]
    public void CombineScheds_rejects_bad_fractions_with_a_clear_message()
    {
        var s = Schedules.SchedNo(1, 1);
        Assert.That(() => Schedules.CombineScheds([0.5, 0.4], [s, s]),
            Throws.ArgumentException.With.Message.Contains("add up to 1").And.Property("ParamName").EqualTo("pcts"));
        Assert.That(() => Schedules.CombineScheds([1.5, -0.5], [s, s]), Throws.ArgumentException.With.Message.Contains("≥ 0"));
        Assert.That(() => Schedules.CombineScheds([1.0], [s, s]), Throws.ArgumentException.With.Message.Contains("one fraction per schedule"));
        Assert.That(() => Schedules.CombinedCos(1.5, 1, 2, 3), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("pct"));
        Assert.That(Schedules.CombineScheds([0.1, 0.2, 0.7], [s, s, s])(0.5), Is.EqualTo(1), "0.1 + 0.2 + 0.7 is 1 within rounding");
    }
}
