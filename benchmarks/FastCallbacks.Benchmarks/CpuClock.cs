using System.Runtime.InteropServices;

namespace FastCallbacks.Benchmarks;

/// <summary>The calling thread's CPU clock (clock_gettime(CLOCK_THREAD_CPUTIME_ID)): time the thread ran, not time it waited for a core. Linux only.</summary>
internal static class CpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>CPU time of the calling thread, in ns.</summary>
    public static double ThreadNs()
    {
        if (clock_gettime(ClockThreadCpuTimeId, out var ts) != 0) throw new InvalidOperationException("clock_gettime failed.");
        return ts.Seconds * 1e9 + ts.Nanoseconds;
    }

    /// <summary>Runs for <paramref name="ns"/> of this thread's CPU time: a fixed amount of work, however often the thread is preempted.</summary>
    public static void Spin(double ns)
    {
        var end = ThreadNs() + ns;
        while (ThreadNs() < end) { }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clockId, out Timespec time);
}
