using FastCallbacks.Distributed.Worker;

namespace FastCallbacks.Distributed.Tests;

/// <summary>Without an MPI launcher the world has one rank, and a learner with ToDistributed trains bit for bit as without it.</summary>
[TestFixture]
public class OneRankTests
{
    public static IEnumerable<string> AllCases => Cases.Equivalent.Concat(Cases.Consistent);

    [TestCaseSource(nameof(AllCases))]
    public void One_rank_is_bitwise_equal_to_no_callback(string name)
    {
        using var dir = new TempDir();
        var plain = Cases.Run(name, Mode.Plain, dir.Path);
        var oneRank = Cases.Run(name, Mode.Distributed, dir.Path, new LocalCommunicator());
        Assert.That(oneRank.Size, Is.EqualTo(1));
        Assert.That(Compare.Weights(plain, oneRank), Is.EqualTo(0), "weights");
        Assert.That(Compare.Recorded(plain, oneRank), Is.EqualTo(0), "recorded values");
        Assert.That(oneRank.Epoch, Is.EqualTo(plain.Epoch));
        Assert.That(oneRank.Steps, Is.EqualTo(plain.Steps));
        Assert.That(oneRank.Reductions, Is.EqualTo(0), "one rank: nothing is reduced");
        Assert.That(oneRank.Files, Is.EqualTo(plain.Files), "rank 0 of one writes what a plain learner writes");
        Assert.That(oneRank.Messages, Is.EqualTo(plain.Messages));
    }

    [Test]
    public void The_world_of_a_process_started_without_a_launcher_is_one_local_rank()
    {
        var world = DistributedWorld.Create(_ => null);
        Assert.That(world, Is.InstanceOf<LocalCommunicator>());
        Assert.That((world.Rank, world.Size, world.LocalRank, world.LocalSize), Is.EqualTo((0, 1, 0, 1)));
        // mpiexec -n 1 is one rank too, and loads no MPI.
        Assert.That(DistributedWorld.Create(v => v == "PMI_SIZE" ? "1" : null), Is.InstanceOf<LocalCommunicator>());
        Assert.That(DistributedWorld.Create(v => v == "OMPI_COMM_WORLD_SIZE" ? "1" : null), Is.InstanceOf<LocalCommunicator>());
    }

    [Test]
    public void ToDistributed_on_one_rank_keeps_the_learner_the_main_process_and_detaches_on_dispose()
    {
        var (x, y) = Cases.Data();
        using var dls = DataLoaders.FromTensors(x, y, batchSize: 64);
        using var learn = new Learner(dls, nn.Linear(8, 3), nn.CrossEntropyLoss()) { Logger = null };
        using (var dist = learn.ToDistributed(new DistributedOptions { Communicator = new LocalCommunicator() }))
        {
            Assert.That(learn.IsMainProcess, Is.True);
            Assert.That(dist.IsMainProcess, Is.True);
            Assert.That(learn.Cbs, Has.Member(dist.Trainer));
            var twice = Assert.Throws<InvalidOperationException>(() => learn.ToDistributed(new DistributedOptions { Communicator = new LocalCommunicator() }));
            Assert.That(twice!.Message, Does.Contain("already distributed"));
        }
        Assert.That(learn.Cbs.OfType<DistributedTrainer>(), Is.Empty);
    }

    [Test]
    public void Asking_for_more_ranks_than_there_are_says_what_to_install_and_how_to_launch()
    {
        var (x, y) = Cases.Data();
        using var dls = DataLoaders.FromTensors(x, y, batchSize: 64);
        using var learn = new Learner(dls, nn.Linear(8, 3), nn.CrossEntropyLoss()) { Logger = null };
        var e = Assert.Throws<InvalidOperationException>(() =>
            learn.ToDistributed(new DistributedOptions { Communicator = new LocalCommunicator(), MinRanks = 2 }));
        Assert.That(e!.Message, Does.Contain("at least 2 ranks"));
        Assert.That(e.Message, Does.Contain("apt-get install mpich"));
        Assert.That(e.Message, Does.Contain("mpiexec -n 2 dotnet app.dll"));
        Assert.That(learn.Cbs.OfType<DistributedTrainer>(), Is.Empty, "nothing attached");
    }
}
