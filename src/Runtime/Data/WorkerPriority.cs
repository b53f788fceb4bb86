using System.Runtime.InteropServices;

namespace FastCallbacks;

/// <summary>
/// Data workers run below the training thread's priority. When the workers keep every core busy, the learner's thread
/// still gets a core as soon as its next batch is ready, instead of waiting for a worker's time slice to end; the
/// workers lose nothing, since they get whatever the learner does not use. .NET's <see cref="Thread.Priority"/> does
/// this on Windows but is ignored on Linux, where each thread has its own nice value: there it is raised by
/// <see cref="NiceIncrement"/>.
/// </summary>
internal static class WorkerPriority
{
    /// <summary>Added to a worker's nice value on Linux (0..19; a higher value is a lower priority).</summary>
    public const int NiceIncrement = 5;

    /// <summary>Off to compare with workers at the learner's priority (the data-loading benchmark).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>Lowers the calling thread's priority; best effort (a platform that refuses leaves it as it is).</summary>
    public static void LowerCurrentThread()
    {
        if (!Enabled) return;
        try
        {
            Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
            if (!OperatingSystem.IsLinux()) return;
            var tid = gettid();
            Marshal.SetLastPInvokeError(0);
            var nice = getpriority(PrioProcess, tid);
            if (nice == -1 && Marshal.GetLastPInvokeError() != 0) return;
            setpriority(PrioProcess, tid, Math.Min(19, nice + NiceIncrement));
        }
        catch (Exception ex) when (ex is ThreadStateException or EntryPointNotFoundException or DllNotFoundException)
        {
            // Priority is an optimization: without it the workers still work.
        }
    }

    private const int PrioProcess = 0; // PRIO_PROCESS: with a thread id, Linux sets that thread's nice value alone.

    [DllImport("libc")]
    private static extern int gettid();

    [DllImport("libc", SetLastError = true)]
    private static extern int getpriority(int which, int who);

    [DllImport("libc", SetLastError = true)]
    private static extern int setpriority(int which, int who, int prio);
}
