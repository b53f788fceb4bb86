// The program the distributed tests start with mpiexec:
//
//   Worker cases <out-dir> <case>...                      every case, one after another, in this job; each rank writes
//                                                          <out-dir>/<case>.rank<r>.json
//   Worker plain <out-dir> <case>...                      the same cases without ToDistributed (the references)
//                                                          (case "collectives": every collective, checked; the failures
//                                                          go to <out-dir>/collectives.rank<r>.txt)
//   Worker fault <kind> <rank> <event> <epoch> <iter>     the "even" fit, where rank <rank> at <event> of training
//                [deadline-seconds]                       batch <iter> of epoch <epoch> throws, hangs, kills itself
//                                                          (SIGKILL), calls Environment.Exit(0), or (kind "return") leaves
//                                                          Main before the fit. At that point every rank sets the
//                                                          collectives' deadline to <deadline-seconds>.
using System.Diagnostics;
using System.Globalization;
using FastCallbacks;
using FastCallbacks.Distributed;
using FastCallbacks.Distributed.Worker;
using static TorchSharp.torch;

if (args.Length >= 2 && args[0] is "cases" or "plain")
{
    var mode = args[0] == "plain" ? Mode.Plain : Mode.Distributed;
    var comm = mode == Mode.Plain ? new LocalCommunicator() : DistributedWorld.Current;
    foreach (var name in args.Skip(2))
    {
        if (name == "collectives")
        {
            File.WriteAllLines(Path.Combine(args[1], $"collectives.rank{comm.Rank}.txt"), Collectives.Check(comm));
            continue;
        }
        var result = Cases.Run(name, mode, args[1], comm);
        File.WriteAllText(Path.Combine(args[1], $"{name}.rank{comm.Rank}.json"), result.ToJson());
    }
    return 0;
}
if (args.Length >= 6 && args[0] == "fault")
{
    var kind = args[1];
    var faultRank = int.Parse(args[2], CultureInfo.InvariantCulture);
    var faultEvent = Events.Parse(args[3]);
    var epoch = int.Parse(args[4], CultureInfo.InvariantCulture);
    var iter = int.Parse(args[5], CultureInfo.InvariantCulture);
    var deadline = args.Length > 6 ? double.Parse(args[6], CultureInfo.InvariantCulture) : 0;
    var comm = DistributedWorld.Current;

    var (x, y) = Cases.Data();
    using var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.2, seed: 1);
    manual_seed(0);
    using var learn = new Learner(dls, nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)), nn.CrossEntropyLoss(),
        cbs: [Callback.Create((faultEvent, l =>
        {
            if (l.Epoch != epoch || l.Iter != iter || !l.Training) return;
            if (deadline > 0) comm.Timeout = TimeSpan.FromSeconds(deadline);
            if (comm.Rank != faultRank) return;
            Console.Error.WriteLine($"FAULT {kind} rank {comm.Rank} at {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
            Console.Error.Flush();
            switch (kind)
            {
                case "throw": throw new InvalidOperationException($"injected fault on rank {comm.Rank}");
                case "hang": Thread.Sleep(Timeout.Infinite); break;
                case "kill": Process.GetCurrentProcess().Kill(); break;
                case "exit0": Environment.Exit(0); break;
            }
        }))]) { Logger = null };
    learn.RemoveCbs<ProgressCallback>();
    using var dist = learn.ToDistributed();
    if (kind == "return" && comm.Rank == faultRank)
    {
        Console.Error.WriteLine($"FAULT return rank {comm.Rank} at {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        return 0;
    }
    learn.Fit(3);
    Console.WriteLine($"rank {comm.Rank}: fit done");
    return 0;
}
Console.Error.WriteLine("usage: Worker cases <out-dir> <case>... | Worker fault <kind> <rank> <event> <epoch> <iter> [deadline-seconds]");
return 2;
