using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastCallbacks;
using FastCallbacks.Benchmarks.ColdStart;
using static TorchSharp.torch;

// Usage: FastCallbacks.ColdStart generated|reflection
// Prints one tab-separated line: mode, first call (µs, wall clock), second call (µs, wall clock), handler calls of
// the first call, first call (µs of this thread's CPU time), second call (µs of CPU time). The CPU clock leaves out
// the time the thread waits for a core, so it is the steadier figure on a busy machine; JIT and type loading
// run on the calling thread, so they are counted in both.
// Before the clock starts, both modes do the same work: load TorchSharp and FastCallbacks, make a tiny model.
if (args.Length != 1 || args[0] is not ("generated" or "reflection"))
{
    Console.Error.WriteLine("usage: FastCallbacks.ColdStart generated|reflection");
    return 2;
}
var generated = args[0] == "generated";

using var x = zeros(4, 1);
using var y = zeros(4, 1);
using var dls = DataLoaders.FromTensors(x, y, batchSize: 4, validPct: 0, shuffle: false);
using var model = nn.Linear(1, 1);

var (first, firstCpu) = Time(generated, dls, model, out var calls);
var (second, secondCpu) = Time(generated, dls, model, out _);
Console.WriteLine($"{args[0]}\t{first:F1}\t{second:F1}\t{calls}\t{firstCpu:F1}\t{secondCpu:F1}");
return calls == ColdStartScenario.ExpectedCalls ? 0 : 1;

[MethodImpl(MethodImplOptions.NoInlining)]
static (double WallUs, double CpuUs) Time(bool generated, DataLoaders dls, nn.Module<Tensor, Tensor> model, out int calls)
{
    var cpu = ThreadCpu.Microseconds();
    var start = Stopwatch.GetTimestamp();
    calls = generated
        ? ColdStartScenario.Generated(dls, model, static (p, t) => nn.functional.mse_loss(p, t))
        : ColdStartScenario.Reflection();
    var wall = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    return (wall, ThreadCpu.Microseconds() - cpu);
}

/// <summary>The calling thread's CPU time (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID)).</summary>
internal static partial class ThreadCpu
{
    public static double Microseconds() => clock_gettime(3, out var ts) == 0 ? ts.Seconds * 1e6 + ts.Nanoseconds / 1e3 : double.NaN;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc")]
    private static extern int clock_gettime(int clockId, out Timespec time);
}
