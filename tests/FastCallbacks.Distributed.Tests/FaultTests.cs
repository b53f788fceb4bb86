using System.Globalization;
using System.Text.RegularExpressions;

namespace FastCallbacks.Distributed.Tests;

/// <summary>
/// Real faults on one rank of a two-rank job under a real mpiexec: an exception, a hang, SIGKILL, an exit without
/// finishing. The job must always end, with a non-zero code, and say which rank and what.
/// </summary>
[TestFixture, Category("Distributed"), NonParallelizable]
public partial class FaultTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(60);

    private static Task<JobResult> Fault(params string[] args) => MpiJob.Require().RunAsync(2, ["fault", .. args], JobTimeout);

    /// <summary>When the faulty rank printed its marker (Unix ms), or fails the test.</summary>
    private static DateTimeOffset FaultTime(JobResult job, string kind)
    {
        var m = FaultMarker().Match(job.Output);
        Assert.That(m.Success && m.Groups[1].Value == kind, Is.True, $"the worker reached the fault `{kind}`.\n{job}");
        return DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"FAULT (\w+) rank \d+ at (\d+)")]
    private static partial Regex FaultMarker();

    private static void NoRankFinished(JobResult job) =>
        Assert.That(job.Output, Does.Not.Contain("fit done"), $"no rank may finish its fit as if nothing happened.\n{job}");

    [Test]
    public async Task A_rank_that_throws_ends_the_job_within_5_s_naming_the_rank_the_event_and_the_exception()
    {
        var job = await Fault("throw", "1", "after_batch", "1", "2");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0), job.ToString());
        var seconds = (job.Ended - FaultTime(job, "throw")).TotalSeconds;
        TestContext.Out.WriteLine($"ended {seconds:F2} s after the exception");
        Assert.That(seconds, Is.LessThan(5), job.ToString());
        Assert.That(job.Output, Does.Contain("rank 1 of 2 failed at `after_batch`"), job.ToString());
        Assert.That(job.Output, Does.Contain("training batch 2 of epoch 1"), job.ToString());
        Assert.That(job.Output, Does.Contain("InvalidOperationException: injected fault on rank 1"), job.ToString());
        NoRankFinished(job);
    }

    [Test]
    public async Task An_exception_outside_any_handler_names_the_rank_and_where_the_loop_was()
    {
        // Rank 0 throws at before_step of batch 1: the exception is the handler's, the step never runs.
        var job = await Fault("throw", "0", "before_step", "0", "1");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0), job.ToString());
        Assert.That(job.Output, Does.Contain("rank 0 of 2 failed at `before_step`"), job.ToString());
        Assert.That((job.Ended - FaultTime(job, "throw")).TotalSeconds, Is.LessThan(5), job.ToString());
        NoRankFinished(job);
    }

    [Test]
    public async Task A_hanging_rank_is_aborted_by_the_deadline_naming_the_waiting_rank_and_the_collective()
    {
        // Both ranks set a 3 s deadline at the fault point; rank 1 then sleeps for ever.
        var job = await Fault("hang", "1", "after_batch", "1", "2", "3");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0), job.ToString());
        var seconds = (job.Ended - FaultTime(job, "hang")).TotalSeconds;
        TestContext.Out.WriteLine($"ended {seconds:F2} s after the hang");
        Assert.That(job.Output, Does.Contain("rank 0 of 2 waited 3 s (the deadline) in Allgather"), job.ToString());
        Assert.That(job.Output, Does.Contain("rank 0 at `after_batch` of training batch 2 of epoch 1"), job.ToString());
        NoRankFinished(job);
    }

    [Test]
    public async Task A_rank_killed_with_SIGKILL_ends_the_job_with_a_non_zero_code()
    {
        var job = await Fault("kill", "1", "after_batch", "1", "2");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0), job.ToString());
        FaultTime(job, "kill");
        Assert.That(job.Elapsed, Is.LessThan(JobTimeout), "the job ended by itself, not by the test's timeout");
        NoRankFinished(job);
    }

    [Test]
    public async Task A_rank_calling_Environment_Exit_0_mid_fit_never_lets_the_job_succeed()
    {
        var job = await Fault("exit0", "1", "after_batch", "1", "2");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0), job.ToString());
        FaultTime(job, "exit0");
        Assert.That(job.Output, Does.Contain("rank 1's program ended while rank 0 is at"), job.ToString());
        Assert.That(job.Elapsed, Is.LessThan(JobTimeout));
        NoRankFinished(job);
    }

    [Test]
    public async Task A_rank_returning_before_the_fit_never_lets_the_job_succeed()
    {
        var job = await Fault("return", "1", "after_batch", "0", "0");
        Assert.That(job.ExitCode, Is.Not.EqualTo(0), job.ToString());
        FaultTime(job, "return");
        Assert.That(job.Output, Does.Contain("rank 1's program ended while rank 0 is at the start of fit 1"), job.ToString());
        NoRankFinished(job);
    }

    [Test]
    public async Task Without_a_fault_the_same_job_succeeds()
    {
        // The control: the fault's event never comes (epoch 9 of a 3-epoch fit), so both ranks finish and exit 0.
        var job = await Fault("throw", "1", "after_batch", "9", "0");
        Assert.That(job.ExitCode, Is.EqualTo(0), job.ToString());
        Assert.That(job.Lines(0).Concat(job.Lines(1)).Count(l => l.Contains("fit done", StringComparison.Ordinal)), Is.EqualTo(2), job.ToString());
    }
}
