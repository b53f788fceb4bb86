using System.Runtime.InteropServices;

namespace FastCallbacks.Distributed;

/// <summary>
/// This process's place in a data-parallel job: <see cref="Current"/> is MPI's world when an MPI launcher
/// (<c>mpiexec</c>, <c>srun</c>) started the process, and a world of one rank otherwise. MPI is initialized once
/// per process, on first use, and finalized when the process ends and every rank agrees it is done.
/// </summary>
/// <remarks>
/// <para>Faults end the whole job rather than leaving the other ranks waiting: an exception nothing catches
/// aborts it with a message naming the rank, the event and the exception; a rank whose program ends while
/// others still train aborts it too (MPICH would otherwise report success for a rank that exits without
/// MPI_Finalize). MPI_Finalize, which waits for every rank, is only called once all of them have finished.</para>
/// <para>The MPI library is found by name (MPICH, MS-MPI and Intel MPI's <c>libmpich.so.12</c>/<c>msmpi.dll</c>,
/// Open MPI's <c>libmpi.so.40</c>) or taken from <c>FASTCALLBACKS_MPI_LIBRARY</c>; the deadline of collectives is
/// 30 minutes (PyTorch's default) or <c>FASTCALLBACKS_DISTRIBUTED_TIMEOUT</c> seconds.</para>
/// </remarks>
public static class DistributedWorld
{
    /// <summary>The default deadline of a collective: 30 minutes, as torch.distributed's.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    private static readonly object Gate = new();
    private static ICommunicator? _current;
    private static volatile bool _aborting;
    private static volatile bool _signalled;
    private static volatile bool _finished;
    private static readonly List<PosixSignalRegistration> Signals = [];

    /// <summary>
    /// This process's world, created on first use from the environment.
    /// </summary>
    /// <exception cref="InvalidOperationException">An MPI launcher started several ranks but no MPI library could be
    /// loaded, or the library belongs to another MPI than the launcher (the message says what to install or set).</exception>
    public static ICommunicator Current
    {
        get
        {
            lock (Gate) return _current ??= Create(Environment.GetEnvironmentVariable);
        }
    }

    /// <summary>Whether <see cref="Current"/> has been created.</summary>
    public static bool IsInitialized
    {
        get
        {
            lock (Gate) return _current is not null;
        }
    }

    /// <summary>What the active trainer is doing, for the message when an exception ends the job.</summary>
    internal static Func<Exception, string>? DescribeFailure { get; set; }

    /// <summary>Set before an abort, so the exit handlers do not try to talk to the other ranks.</summary>
    internal static void MarkAborting() => _aborting = true;

    /// <summary>The world this environment describes (the environment is passed in so tests can describe any launch).</summary>
    internal static ICommunicator Create(Func<string, string?> env)
    {
        var timeout = MpiDiscovery.Timeout(env, DefaultTimeout);
        var launch = MpiDiscovery.Launch(env);
        // Not launched, or launched alone: one rank, and no MPI at all, so training is exactly a plain learner's.
        if (launch is null || launch.Size == 1) return new LocalCommunicator { Timeout = timeout };
        var tried = new List<(string, string, string)>();
        foreach (var (library, kind) in MpiDiscovery.Candidates(launch, env))
        {
            if (MpiLibrary.TryLoad(library, out var mpi, out var problem)) return Start(mpi!, launch, timeout);
            tried.Add((library, kind, problem));
        }
        throw MpiDiscovery.NoLibrary(launch, tried);
    }

    private static unsafe MpiCommunicator Start(MpiLibrary mpi, LaunchInfo launch, TimeSpan timeout)
    {
        int initialized;
        _ = mpi.Initialized(&initialized);
        if (initialized == 0)
        {
            // MPI_Init waits for every rank; one that never starts (or failed first) would hold this one for ever.
            using var watchdog = new Timer(_ =>
            {
                MpiCommunicator.WriteError(
                    $"FastCallbacks.Distributed: MPI_Init did not finish within {MpiCommunicator.FormatTime(timeout)} ({mpi.Path}): another rank did not start, " +
                    "or failed before initializing MPI. Exiting.");
                Environment.Exit(1);
            }, null, timeout, System.Threading.Timeout.InfiniteTimeSpan);
            int provided;
            var code = mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided);
            if (code != 0) throw new InvalidOperationException($"MPI_Init_thread failed with MPI error {code} ({mpi.Path}).");
        }
        var comm = new MpiCommunicator(mpi, timeout);
        if (launch.Size > 0 && comm.Size != launch.Size) throw MpiDiscovery.WrongLibrary(launch, mpi.Path, comm.Size);
        InstallExitHandlers(comm);
        return comm;
    }

    private static void InstallExitHandlers(MpiCommunicator comm)
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) => OnUnhandledException(comm, e.ExceptionObject as Exception);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => OnProcessExit(comm);
        // A signal means the launcher (or the user) is ending the job: leave without talking to the other ranks.
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGHUP })
        {
            try
            {
                Signals.Add(PosixSignalRegistration.Create(signal, _ => _signalled = true));
            }
            catch (PlatformNotSupportedException)
            {
                // Not every signal exists everywhere (Windows has SIGINT and SIGQUIT only).
            }
        }
    }

    private static void OnUnhandledException(MpiCommunicator comm, Exception? exception)
    {
        if (_aborting) return;
        var where = exception is null ? "" : DescribeFailure?.Invoke(exception) ?? "";
        // A callback's failure is named by where (the event and the callback); say what it threw.
        var thrown = exception is CallbackException { InnerException: { } inner } ? inner : exception;
        var what = thrown is null ? "an unknown error" : $"{thrown.GetType().Name}: {thrown.Message.Split('\n', 2)[0].TrimEnd()}";
        comm.Abort($"FastCallbacks.Distributed: rank {comm.Rank} of {comm.Size} failed{where}: {what}. Aborting the job.", exception?.ToString());
    }

    private static void OnProcessExit(MpiCommunicator comm)
    {
        if (_aborting || _signalled || _finished) return;
        _finished = true;
        // Every rank says it is done; if one is still training, the job aborts instead (see Rendezvous.Leave).
        Rendezvous.For(comm).Leave();
        comm.FinalizeMpi();
    }
}
