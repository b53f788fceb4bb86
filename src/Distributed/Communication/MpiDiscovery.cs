using System.Globalization;

namespace FastCallbacks.Distributed;

/// <summary>How this process was launched, as the launcher's environment variables tell.</summary>
/// <param name="Launcher">The launcher, in words.</param>
/// <param name="Size">The number of ranks it started, or 0 when its variables do not say.</param>
/// <param name="Rank">This process's rank, or -1 when they do not say.</param>
/// <param name="Variable">The variable that told.</param>
/// <param name="PrefersOpenMpi">Whether Open MPI's library is the one to try first.</param>
internal sealed record LaunchInfo(string Launcher, int Size, int Rank, string Variable, bool PrefersOpenMpi);

/// <summary>
/// Finds out whether this process belongs to an MPI job and which MPI library to load: the library named by
/// <c>FASTCALLBACKS_MPI_LIBRARY</c>, otherwise the usual file names of each ABI, those of the launcher's kind first.
/// The environment is passed in, so tests can describe any launch.
/// </summary>
internal static class MpiDiscovery
{
    /// <summary>The MPI library to load, a file name or a path (overrides the search).</summary>
    public const string LibraryVariable = "FASTCALLBACKS_MPI_LIBRARY";

    /// <summary>The deadline of every collective, in seconds (overrides the default of 30 minutes).</summary>
    public const string TimeoutVariable = "FASTCALLBACKS_DISTRIBUTED_TIMEOUT";

    /// <summary>The launch this environment describes, or null when no MPI launcher started the process.</summary>
    public static LaunchInfo? Launch(Func<string, string?> env)
    {
        if (Int(env("OMPI_COMM_WORLD_SIZE")) is { } ompi)
            return new("Open MPI's mpiexec", ompi, Int(env("OMPI_COMM_WORLD_RANK")) ?? -1, "OMPI_COMM_WORLD_SIZE", PrefersOpenMpi: true);
        // MPICH's and Intel MPI's Hydra, MS-MPI's mpiexec and Slurm's PMI plug-ins all describe the job with PMI_*.
        if (Int(env("PMI_SIZE")) is { } pmi)
            return new("mpiexec (PMI)", pmi, Int(env("PMI_RANK")) ?? -1, "PMI_SIZE", PrefersOpenMpi: false);
        // A Slurm job step (srun); a batch script outside srun has no step.
        if (env("SLURM_STEP_ID") is not null && Int(env("SLURM_STEP_NUM_TASKS") ?? env("SLURM_NTASKS")) is { } slurm)
            return new("Slurm's srun", slurm, Int(env("SLURM_PROCID")) ?? -1, "SLURM_STEP_NUM_TASKS", PrefersOpenMpi: false);
        // PMIx (Open MPI 5's prterun, Slurm's --mpi=pmix) does not put the job's size in the environment.
        if (env("PMIX_RANK") is { } pmix)
            return new("a PMIx launcher", 0, Int(pmix) ?? -1, "PMIX_RANK", PrefersOpenMpi: true);
        return null;
    }

    /// <summary>The libraries to try, in order, with the MPI each belongs to.</summary>
    public static IReadOnlyList<(string Library, string Kind)> Candidates(LaunchInfo? launch, Func<string, string?> env)
    {
        if (env(LibraryVariable) is { Length: > 0 } chosen) return [(chosen, LibraryVariable)];
        (string, string)[] mpich, openMpi;
        if (OperatingSystem.IsWindows())
        {
            mpich = [("msmpi.dll", "MS-MPI"), ("impi.dll", "Intel MPI")];
            openMpi = [];
        }
        else if (OperatingSystem.IsMacOS())
        {
            mpich = [("libmpich.12.dylib", "MPICH"), ("libmpich.dylib", "MPICH")];
            openMpi = [("libmpi.40.dylib", "Open MPI"), ("libmpi.dylib", "Open MPI or MPICH")];
        }
        else
        {
            mpich = [("libmpich.so.12", "MPICH"), ("libmpi.so.12", "Intel MPI or MPICH"), ("libmpich.so", "MPICH")];
            openMpi = [("libmpi.so.40", "Open MPI"), ("libmpi.so", "Open MPI or MPICH")];
        }
        return launch?.PrefersOpenMpi == true ? [.. openMpi, .. mpich] : [.. mpich, .. openMpi];
    }

    /// <summary>The deadline of collectives: the environment's, or the default.</summary>
    public static TimeSpan Timeout(Func<string, string?> env, TimeSpan fallback)
    {
        if (env(TimeoutVariable) is not { Length: > 0 } text) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : throw new InvalidOperationException($"{TimeoutVariable}={text}: the deadline of a collective is a positive number of seconds, for example {TimeoutVariable}=600.");
    }

    /// <summary>The error when the launcher started several ranks but no MPI library could be loaded.</summary>
    public static InvalidOperationException NoLibrary(LaunchInfo launch, IEnumerable<(string Library, string Kind, string Problem)> tried) => new(
        $"This process was started by {launch.Launcher} as {(launch.Rank >= 0 ? $"rank {launch.Rank} of " : "one of ")}" +
        $"{(launch.Size > 0 ? launch.Size.ToString(CultureInfo.InvariantCulture) : "several")} ranks ({launch.Variable}), but no MPI library could be loaded: " +
        string.Join("; ", tried.Select(t => $"{t.Library} ({t.Kind}): {t.Problem}")) + ". " +
        "Install the MPI whose mpiexec you launch with (Debian/Ubuntu: apt-get install mpich, then mpiexec -n 2 dotnet app.dll; " +
        $"Windows: MS-MPI), or set {LibraryVariable} to the path of its library (libmpi.so.40 for Open MPI, libmpich.so.12 for MPICH).");

    /// <summary>The error when the library's world differs from what the launcher started: a library of another MPI.</summary>
    public static InvalidOperationException WrongLibrary(LaunchInfo launch, string library, int size) => new(
        $"The MPI library {library} sees a world of {size} rank(s), but {launch.Launcher} started {launch.Size} ({launch.Variable}): " +
        "the library belongs to another MPI than the launcher (for example Open MPI's mpiexec with MPICH's library). " +
        $"Launch with the mpiexec of that library (mpiexec.mpich or mpiexec.openmpi on Debian), or set {LibraryVariable} to the library of the launcher you use.");

    /// <summary>The error when the code asks for more ranks than the process has.</summary>
    public static InvalidOperationException TooFewRanks(int wanted, int size, bool launched) => new(
        $"This training asks for at least {wanted} ranks (DistributedOptions.MinRanks) but runs with {size}: " +
        (launched
            ? $"start it with more, for example mpiexec -n {wanted} dotnet app.dll."
            : $"it was not started by an MPI launcher. Install MPI (Debian/Ubuntu: apt-get install mpich) and start it with mpiexec -n {wanted} dotnet app.dll " +
              "(several machines: mpiexec -f hosts -n N, or Slurm's srun; see docs/distributed.md)."));

    private static int? Int(string? text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : null;
}
