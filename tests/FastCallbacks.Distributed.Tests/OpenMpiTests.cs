using FastCallbacks.Distributed.Worker;

namespace FastCallbacks.Distributed.Tests;

/// <summary>
/// The Open MPI ABI (handles are addresses of the library's objects, another MPI_IN_PLACE): the collectives and two
/// equivalence cases under Open MPI's own mpiexec, on three ranks. CI installs MPICH only; machines with
/// openmpi-bin run these too.
/// </summary>
[TestFixture, Category("Distributed"), NonParallelizable]
public class OpenMpiTests
{
    [Test]
    public async Task Three_ranks_on_Open_MPI_train_as_one_process()
    {
        if (MpiJob.OpenMpi is not { } openMpi)
        {
            Assert.Ignore("Open MPI is not installed (apt-get install openmpi-bin); its ABI is checked where it is.");
            return;
        }
        using var dir = new TempDir();
        var job = await openMpi.RunAsync(3, ["cases", dir.Path, "collectives", "even", "uneven"], TimeSpan.FromSeconds(120));
        Assert.That(job.ExitCode, Is.EqualTo(0), job.ToString());
        for (var rank = 0; rank < 3; rank++)
            Assert.That(File.ReadAllLines(Path.Combine(dir.Path, $"collectives.rank{rank}.txt")), Is.Empty, $"rank {rank}'s failed checks");
        foreach (var name in new[] { "even", "uneven" })
        {
            var plain = Cases.Run(name, Mode.Plain, dir.Path);
            for (var rank = 0; rank < 3; rank++)
            {
                var result = CaseResult.FromJson(File.ReadAllText(Path.Combine(dir.Path, $"{name}.rank{rank}.json")));
                Assert.That(result.Size, Is.EqualTo(3));
                Assert.That(Compare.Weights(result, plain), Is.LessThanOrEqualTo(1e-6), $"{name}, rank {rank}: weights");
                Assert.That(Compare.Recorded(result, plain), Is.LessThanOrEqualTo(1e-6), $"{name}, rank {rank}: recorded values");
            }
        }
    }
}
