namespace FastCallbacks.Distributed.Tests;

/// <summary>Finding the launcher and the MPI library from the environment, and the errors when they do not fit.</summary>
public class DiscoveryTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Test]
    public void Each_launcher_is_recognized_by_its_variables()
    {
        Assert.That(MpiDiscovery.Launch(Env()), Is.Null);
        var hydra = MpiDiscovery.Launch(Env(("PMI_SIZE", "4"), ("PMI_RANK", "3")))!;
        Assert.That((hydra.Size, hydra.Rank, hydra.PrefersOpenMpi), Is.EqualTo((4, 3, false)));
        var ompi = MpiDiscovery.Launch(Env(("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "1")))!;
        Assert.That((ompi.Size, ompi.Rank, ompi.PrefersOpenMpi), Is.EqualTo((2, 1, true)));
        var srun = MpiDiscovery.Launch(Env(("SLURM_STEP_ID", "0"), ("SLURM_STEP_NUM_TASKS", "8"), ("SLURM_PROCID", "5")))!;
        Assert.That((srun.Size, srun.Rank), Is.EqualTo((8, 5)));
        // A Slurm batch script outside srun is not a job step: one process, not a world.
        Assert.That(MpiDiscovery.Launch(Env(("SLURM_NTASKS", "8"), ("SLURM_PROCID", "0"))), Is.Null);
        Assert.That(MpiDiscovery.Launch(Env(("PMIX_RANK", "0")))!.Size, Is.EqualTo(0), "PMIx does not say the size");
    }

    [Test]
    public void The_launchers_own_library_is_tried_first_and_the_variable_overrides_the_search()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("The library names checked are Linux's.");
        var hydra = MpiDiscovery.Launch(Env(("PMI_SIZE", "2")));
        Assert.That(MpiDiscovery.Candidates(hydra, Env())[0].Library, Is.EqualTo("libmpich.so.12"));
        var ompi = MpiDiscovery.Launch(Env(("OMPI_COMM_WORLD_SIZE", "2")));
        Assert.That(MpiDiscovery.Candidates(ompi, Env())[0].Library, Is.EqualTo("libmpi.so.40"));
        Assert.That(MpiDiscovery.Candidates(ompi, Env(("FASTCALLBACKS_MPI_LIBRARY", "/opt/mpi/lib/libmpi.so"))).Select(c => c.Library),
            Is.EqualTo(new[] { "/opt/mpi/lib/libmpi.so" }));
    }

    [Test]
    public void Several_ranks_without_a_loadable_library_is_a_clear_error_naming_what_to_install()
    {
        var e = Assert.Throws<InvalidOperationException>(() => DistributedWorld.Create(
            Env(("PMI_SIZE", "2"), ("PMI_RANK", "1"), ("FASTCALLBACKS_MPI_LIBRARY", "/nonexistent/libmpi-missing.so"))));
        Assert.That(e!.Message, Does.Contain("as rank 1 of 2 ranks (PMI_SIZE)"));
        Assert.That(e.Message, Does.Contain("/nonexistent/libmpi-missing.so"));
        Assert.That(e.Message, Does.Contain("apt-get install mpich"));
        Assert.That(e.Message, Does.Contain("FASTCALLBACKS_MPI_LIBRARY"));
    }

    [Test]
    public void A_library_that_is_not_MPI_is_refused_with_the_reason()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("Uses the C library as a library that is not MPI.");
        Assert.That(MpiLibrary.TryLoad("libc.so.6", out var lib, out var problem), Is.False);
        Assert.That(lib, Is.Null);
        Assert.That(problem, Does.Contain("MPI_Init_thread"));
    }

    [Test]
    public void A_library_of_another_MPI_than_the_launcher_is_named_in_the_error()
    {
        var launch = MpiDiscovery.Launch(Env(("OMPI_COMM_WORLD_SIZE", "2")))!;
        var e = MpiDiscovery.WrongLibrary(launch, "libmpich.so.12", 1);
        Assert.That(e.Message, Does.Contain("libmpich.so.12 sees a world of 1 rank(s), but Open MPI's mpiexec started 2"));
        Assert.That(e.Message, Does.Contain("mpiexec.mpich or mpiexec.openmpi"));
    }

    [Test]
    public void The_deadline_comes_from_the_environment_or_defaults_to_30_minutes()
    {
        Assert.That(MpiDiscovery.Timeout(Env(), DistributedWorld.DefaultTimeout), Is.EqualTo(TimeSpan.FromMinutes(30)));
        Assert.That(MpiDiscovery.Timeout(Env(("FASTCALLBACKS_DISTRIBUTED_TIMEOUT", "2.5")), DistributedWorld.DefaultTimeout), Is.EqualTo(TimeSpan.FromSeconds(2.5)));
        var e = Assert.Throws<InvalidOperationException>(() => MpiDiscovery.Timeout(Env(("FASTCALLBACKS_DISTRIBUTED_TIMEOUT", "soon")), DistributedWorld.DefaultTimeout));
        Assert.That(e!.Message, Does.Contain("FASTCALLBACKS_DISTRIBUTED_TIMEOUT=soon"));
    }
}
