using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastCallbacks;
using FastCallbacks.Benchmarks.ColdStart;
using static TorchSharp.torch;

// Usage: FastCallbacks.ColdStart generated|reflection
// Prints one tab-separated line: mode, first call (µs), second call (µs), handler calls of the first call.
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

var first = Time(generated, dls, model, out var calls);
var second = Time(generated, dls, model, out _);
Console.WriteLine($"{args[0]}\t{first:F1}\t{second:F1}\t{calls}");
return calls == ColdStartScenario.ExpectedCalls ? 0 : 1;

[MethodImpl(MethodImplOptions.NoInlining)]
static double Time(bool generated, DataLoaders dls, nn.Module<Tensor, Tensor> model, out int calls)
{
    var start = Stopwatch.GetTimestamp();
    calls = generated
        ? ColdStartScenario.Generated(dls, model, static (p, t) => nn.functional.mse_loss(p, t))
        : ColdStartScenario.Reflection();
    return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
}
