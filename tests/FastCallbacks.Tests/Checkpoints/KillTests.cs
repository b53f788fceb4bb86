using System.Diagnostics;
using System.Globalization;
using FastCallbacks.Checkpoints.Worker;

namespace FastCallbacks.Tests.Checkpoints;

using static Library.LibraryData;

/// <summary>
/// The proof of the training checkpoints: a training run in a child process (tests/FastCallbacks.Checkpoints.Worker) is
/// killed with SIGKILL at seeded random moments (between and inside batches, at startup and while resuming, and in the
/// middle of writing a checkpoint or the best model), restarted each time, and must end exactly as an uninterrupted run:
/// the same weights (bit for bit: CPU, one libtorch thread), Recorder history, best-model file and CSV log (but for its
/// wall-clock time column, which no two runs share).
/// </summary>
/// <remarks>
/// CI kills <see cref="CiKills"/> times; <c>FASTCALLBACKS_CHECKPOINT_KILLS=20</c> runs the full count (about half a minute),
/// <c>FASTCALLBACKS_CHECKPOINT_KILL_SEED=n</c> another sequence of moments.
/// </remarks>
[Category("Kill")]
public partial class KillTests
{
    public const string KillsVariable = "FASTCALLBACKS_CHECKPOINT_KILLS";
    public const string SeedVariable = "FASTCALLBACKS_CHECKPOINT_KILL_SEED";
    private const int CiKills = 6;
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(90);

    private static int Kills => int.TryParse(Environment.GetEnvironmentVariable(KillsVariable), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : CiKills;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), CultureInfo.InvariantCulture, out var n) ? n : 14;

    [Test, CancelAfter(600_000)]
    public async Task A_run_killed_at_random_moments_ends_as_an_uninterrupted_one(CancellationToken ct)
    {
        using var work = NewTempDir();
        // Eight epochs of ten batches, of which early stopping keeps six: the uninterrupted run stops early too.
        const int epochs = 8;

        var referenceDir = Path.Combine(work.Path, "reference");
        var reference = await Child.Run(referenceDir, Path.Combine(work.Path, "reference-report"), epochs, hold: null, kill: null, ct);
        Assert.That(reference.Finished, Is.True, reference.ToString());
        var total = reference.LastBatch;
        Assert.That(total, Is.LessThan(epochs * Scenario.BatchesPerEpoch), "early stopping stops the run (it is part of what resumes)");
        var expected = Scenario.Outcome.ReadFrom(Path.Combine(work.Path, "reference-report"));

        var random = new Random(Seed);
        var runDir = Path.Combine(work.Path, "killed");
        var reportDir = Path.Combine(work.Path, "killed-report");
        var log = new List<string>();
        var progress = 0;
        var kills = 0;
        var inWrites = 0;
        Child.Result last;
        while (true)
        {
            Plan? plan = null;
            if (kills < Kills)
            {
                var left = Kills - kills;
                // The moments spread over what is left of the run, so that all of them land before it ends: near its end
                // there may be no write left to hold, a long delay after the start may outlast the rest of the run, and
                // a batch at or before the last one seen may be behind the checkpoint the child resumes from.
                var span = Math.Max(1, (total - 8 - progress) / (left + 1) * 2);
                var kind = random.Next(10);
                if (kind <= 3 && total - progress < 12) kind = 9;
                if (kind > 3 && progress + 2 > total - 1) kind = 4;
                plan = kind switch
                {
                    < 3 => new Plan(null, random.Next(1, 4), Math.Round(random.NextDouble(), 2), 0),
                    3 => new Plan(0, null, 0, random.Next(0, 120)),
                    4 when progress + 2 > total - 1 => new Plan(0, null, 0, random.Next(0, 5)),
                    // The child may have written a checkpoint after the last batch it reported: aim past it.
                    _ => new Plan(Math.Min(total - 1, progress + 1 + random.Next(1, span + 1)), null, 0, random.Next(0, 10)),
                };
            }
            last = await Child.Run(runDir, reportDir, epochs, plan, plan, ct);
            if (last.Killed)
            {
                kills++;
                if (last.Holding) inWrites++;
                progress = Math.Max(progress, last.LastBatch);
                log.Add($"kill {kills}: {plan} -> killed after `{last.LastLine}`");
                continue;
            }
            Assert.That(last.Finished, Is.True, $"a child run failed:\n{last}\nkills so far:\n{string.Join("\n", log)}");
            if (plan is not null) log.Add($"not killed: {plan} (the run ended first)");
            break;
        }
        TestContext.Out.WriteLine($"seed {Seed}: {kills} kills ({inWrites} inside a file write) over {total} training batches");
        foreach (var line in log) TestContext.Out.WriteLine(line);

        var actual = Scenario.Outcome.ReadFrom(reportDir);
        Assert.That(actual.Differences(expected), Is.Empty, string.Join("\n", log));
        Assert.That(kills, Is.EqualTo(Kills), "every planned kill landed before the run ended");
        if (Kills >= 3) Assert.That(inWrites, Is.GreaterThan(0), "some kills were inside a checkpoint or best-model write");
        Assert.That(Directory.GetFiles(Path.Combine(runDir, "models"), "*.tmp"), Is.Empty, "the temporary files of killed writes were cleaned up");
    }

    /// <summary>
    /// When to kill: after the child reports training batch <see cref="Batch"/> (then <see cref="DelayMs"/> later, inside
    /// the next batch), or inside its <see cref="HoldWrite"/>-th file write cut to <see cref="Fraction"/> of its length.
    /// A batch of 0 is the startup: reading and applying the checkpoint.
    /// </summary>
    private sealed record Plan(int? Batch, int? HoldWrite, double Fraction, int DelayMs)
    {
        public override string ToString() => HoldWrite is { } w
            ? $"inside write {w} of the process, cut to {Fraction:P0}"
            : Batch == 0 ? $"{DelayMs} ms after starting" : $"{DelayMs} ms after training batch {Batch}";
    }

    /// <summary>A run of the worker, killed as planned, bounded by <see cref="ChildTimeout"/>.</summary>
    private static class Child
    {
        public sealed record Result(List<string> Lines, bool Killed, bool Holding, int ExitCode, string Stderr)
        {
            public bool Finished => !Killed && ExitCode == 0 && LastLine.StartsWith("done", StringComparison.Ordinal);
            public string LastLine => Lines.Count == 0 ? "" : Lines[^1];
            public int LastBatch => Lines.Where(l => l.StartsWith("batch ", StringComparison.Ordinal) || l.StartsWith("done ", StringComparison.Ordinal))
                .Select(l => int.Parse(l[(l.IndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
            public override string ToString() => $"exit {ExitCode}{(Killed ? " (killed)" : "")}\n{string.Join("\n", Lines)}\n{Stderr}";
        }

        public static async Task<Result> Run(string dir, string report, int epochs, Plan? hold, Plan? kill, CancellationToken ct)
        {
            var bin = AppContext.BaseDirectory;
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = bin };
            // The tests' deps.json: the worker runs on their copy of libtorch (its own output has none).
            foreach (var a in new[] { "exec", "--depsfile", Path.Combine(bin, "FastCallbacks.Tests.deps.json"),
                "--runtimeconfig", Path.Combine(bin, "FastCallbacks.Checkpoints.Worker.runtimeconfig.json"),
                Path.Combine(bin, "FastCallbacks.Checkpoints.Worker.dll"), "train", dir, report, "--epochs", epochs.ToString(CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(a);
            if (hold?.HoldWrite is { } write)
            {
                start.ArgumentList.Add("--hold-write");
                start.ArgumentList.Add(write.ToString(CultureInfo.InvariantCulture));
                start.ArgumentList.Add(hold.Fraction.ToString(CultureInfo.InvariantCulture));
            }
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            var stderr = process.StandardError.ReadToEndAsync(ct);
            var lines = new List<string>();
            var killed = false;
            var holding = false;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ChildTimeout);
            try
            {
                while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                {
                    lines.Add(line);
                    if (kill is null) continue;
                    var due = line == "holding"
                        || (kill.HoldWrite is null && kill.Batch == 0 && line is "fresh" or "resuming")
                        || (kill.HoldWrite is null && kill.Batch > 0 && line.StartsWith("batch ", StringComparison.Ordinal)
                            && int.Parse(line[6..], CultureInfo.InvariantCulture) >= kill.Batch);
                    if (!due) continue;
                    holding = line == "holding";
                    if (kill.DelayMs > 0) await Task.Delay(kill.DelayMs, timeout.Token);
                    killed = !process.HasExited;
                    // SIGKILL: no finally, no flush, no handler runs.
                    process.Kill();
                    // What it printed before it died (during the delay it went on): the last batch it reported.
                    while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } rest) lines.Add(rest);
                    break;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                Assert.Fail($"the worker did not finish within {ChildTimeout.TotalSeconds} s:\n{string.Join("\n", lines)}");
            }
            await process.WaitForExitAsync(ct);
            return new Result(lines, killed && process.ExitCode != 0, holding, process.ExitCode, await stderr);
        }
    }
}
