using FastCallbacks.Distributed.Worker;

namespace FastCallbacks.Distributed.Tests;

/// <summary>
/// Two ranks under a real mpiexec against one process, same seed and data: one job runs every case of
/// <see cref="Cases"/> (and the collective checks); the one-process references run here. Each rank starts from
/// other weights, so the trainer's broadcast is part of what is checked.
/// </summary>
[TestFixture, Category("Distributed"), NonParallelizable]
public class EquivalenceTests
{
    private const double Tolerance = 1e-6;
    private TempDir _dir = null!;
    private JobResult _job = null!;
    private readonly Dictionary<string, CaseResult> _plain = [];

    public static IEnumerable<string> EquivalentCases => Cases.Equivalent;

    [OneTimeSetUp]
    public async Task RunTheJob()
    {
        var mpi = MpiJob.Require();
        _dir = new TempDir();
        _job = await mpi.RunAsync(2, ["cases", _dir.Path, "collectives", .. Cases.Equivalent, .. Cases.Consistent], TimeSpan.FromSeconds(120));
        foreach (var name in Cases.Equivalent.Concat(Cases.Consistent)) _plain[name] = Cases.Run(name, Mode.Plain, _dir.Path);
    }

    [OneTimeTearDown]
    public void CleanUp() => _dir?.Dispose();

    private CaseResult Rank(string name, int rank)
    {
        Assert.That(_job.ExitCode, Is.EqualTo(0), _job.ToString());
        var file = Path.Combine(_dir.Path, $"{name}.rank{rank}.json");
        Assert.That(File.Exists(file), Is.True, $"rank {rank} wrote no result for {name}.\n{_job}");
        return CaseResult.FromJson(File.ReadAllText(file));
    }

    [Test]
    public void The_job_succeeds() => Assert.That(_job.ExitCode, Is.EqualTo(0), _job.ToString());

    [Test]
    public void Every_collective_gives_the_right_values_on_MPI()
    {
        for (var rank = 0; rank < 2; rank++)
        {
            var file = Path.Combine(_dir.Path, $"collectives.rank{rank}.txt");
            Assert.That(File.Exists(file), Is.True, _job.ToString());
            Assert.That(File.ReadAllLines(file), Is.Empty, $"rank {rank}'s failed checks");
        }
    }

    [TestCaseSource(nameof(EquivalentCases))]
    public void Two_ranks_train_as_one_process(string name)
    {
        var r0 = Rank(name, 0);
        var r1 = Rank(name, 1);
        Assert.That(r0.Size, Is.EqualTo(2));
        // The ranks hold the same model and see the same values: they are one training, not two.
        Assert.That(Compare.Weights(r0, r1), Is.EqualTo(0), "weights of rank 0 and rank 1");
        Assert.That(Compare.Recorded(r0, r1), Is.EqualTo(0), "recorded values of rank 0 and rank 1");
        var plain = _plain[name];
        var weights = Compare.Weights(r0, plain);
        var recorded = Compare.Recorded(r0, plain);
        TestContext.Out.WriteLine($"{name}: max |weight difference| {weights:G3}, max |recorded difference| {recorded:G3}, {r0.Steps} steps");
        Assert.That(weights, Is.LessThanOrEqualTo(Tolerance), "final weights against one process");
        Assert.That(recorded, Is.LessThanOrEqualTo(Tolerance), "losses, metrics and learning rates against one process");
        Assert.That(r0.Epoch, Is.EqualTo(plain.Epoch), "the epoch the fit ended in");
        Assert.That(r0.Steps, Is.EqualTo(plain.Steps), "optimizer steps");
        Assert.That(r0.Reductions, Is.EqualTo(r0.Steps), "one gradient reduction per optimizer step");
    }

    [Test]
    public void The_uneven_case_has_a_batch_with_a_row_for_one_rank_only()
    {
        // 256 training rows in batches of 85: the last batch has one row, so rank 1 runs a stand-in row and sends none.
        var r0 = Rank("uneven", 0);
        Assert.That(r0.Iters[0], Is.EqualTo(4));
    }

    [Test]
    public void Gradient_accumulation_reduces_only_when_the_optimizer_steps()
    {
        var r0 = Rank("accumulate", 0);
        var batches = r0.Iters[^1];
        Assert.That(r0.Reductions, Is.LessThan(batches / 2), "micro-batches do not communicate");
        Assert.That(r0.Reductions, Is.EqualTo(_plain["accumulate"].Steps));
    }

    [Test]
    public void Early_stopping_stops_both_ranks_at_the_same_epoch()
    {
        var r0 = Rank("earlystop", 0);
        var r1 = Rank("earlystop", 1);
        Assert.That(r0.Epoch, Is.LessThan(11), "the fit stopped early");
        Assert.That(r1.Epoch, Is.EqualTo(r0.Epoch));
        Assert.That(r0.Epoch, Is.EqualTo(_plain["earlystop"].Epoch));
        Assert.That(r0.Messages, Has.Some.Contains("early stopping"));
        Assert.That(r1.Messages, Is.Empty, "only rank 0 prints");
    }

    [Test]
    public void A_cancellation_or_CancelFitException_on_one_rank_stops_both_at_the_same_batch()
    {
        foreach (var name in new[] { "token", "cancelfit" })
        {
            var r0 = Rank(name, 0);
            var r1 = Rank(name, 1);
            Assert.That(r0.Steps, Is.EqualTo(r1.Steps), name);
            Assert.That(r0.Steps, Is.LessThan(3 * r0.Iters[0]), $"{name}: the fit stopped before its end");
            Assert.That(r0.Losses, Has.Length.EqualTo(_plain[name].Losses.Length), name);
        }
    }

    [Test]
    public void A_gradient_set_to_null_is_put_back_into_the_flat_buffer()
    {
        var r0 = Rank("nullgrad", 0);
        Assert.That(r0.Rebinds, Is.GreaterThan(0), "the trainer saw the gradients replaced");
        Assert.That(Compare.Weights(r0, _plain["nullgrad"]), Is.LessThanOrEqualTo(Tolerance), "and no parameter was dropped from the reduction");
    }

    [Test]
    public void Only_rank_0_writes_the_progress_table_the_log_and_the_checkpoint()
    {
        var r0 = Rank("savemodel", 0);
        var r1 = Rank("savemodel", 1);
        Assert.That(r0.Files, Is.EqualTo(new[] { "history.csv", "models/best.pt" }), "rank 0's files");
        Assert.That(r1.Files, Is.Empty, "rank 1 writes nothing");
        var csv = File.ReadAllLines(Path.Combine(_dir.Path, "savemodel", "rank0", "history.csv"));
        Assert.That(csv, Has.Length.EqualTo(1 + r0.Values.Length), "a header and one row per epoch");
        Assert.That(r0.Messages, Has.Some.StartsWith("Better model found"));
        Assert.That(r1.Messages, Is.Empty);
        // One progress table in the job's output, rank 0's.
        var headers = _job.Lines(0).Count(l => l.StartsWith("epoch", StringComparison.Ordinal) && l.Contains("train_loss", StringComparison.Ordinal));
        Assert.That(headers, Is.EqualTo(1), _job.ToString());
        Assert.That(_job.Lines(1).Where(l => l.Contains("train_loss", StringComparison.Ordinal) || l.Contains("Better model", StringComparison.Ordinal)), Is.Empty,
            "rank 1 prints no table and no messages");
        Assert.That(_job.Lines(0).Count(l => l.Length > 0 && char.IsDigit(l[0])), Is.EqualTo(r0.Values.Length), "one row per epoch");
    }

    [Test]
    public void SaveModelCallback_leaves_every_rank_with_the_best_model()
    {
        var r0 = Rank("savemodel", 0);
        var r1 = Rank("savemodel", 1);
        var plain = _plain["savemodel"];
        // The best epoch is not the last one, so ending with the best weights means a reload happened on both ranks.
        var validLoss = plain.Values.Select(v => v[1]!.Value).ToList();
        Assert.That(validLoss.IndexOf(validLoss.Min()), Is.LessThan(validLoss.Count - 1), "the case's best epoch is not its last");
        Assert.That(Compare.Weights(r1, plain), Is.LessThanOrEqualTo(Tolerance));
        Assert.That(Compare.Weights(r0, plain), Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void Sharding_the_data_set_gives_each_rank_half_the_steps_and_the_same_model()
    {
        var r0 = Rank("sharddataset", 0);
        var r1 = Rank("sharddataset", 1);
        Assert.That(Compare.Weights(r0, r1), Is.EqualTo(0));
        Assert.That(Compare.Recorded(r0, r1), Is.EqualTo(0));
        Assert.That(r0.Steps * 2, Is.EqualTo(_plain["sharddataset"].Steps), "a global batch of two loader batches");
        Assert.That(r0.Reductions, Is.EqualTo(r0.Steps));
    }
}
