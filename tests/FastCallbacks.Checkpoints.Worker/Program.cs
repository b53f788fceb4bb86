// The program the checkpoint kill tests start, and kill with SIGKILL:
//
//   Worker train <dir> <report-dir> [--epochs N] [--every N] [--hold-write K FRACTION]
//
// trains the Scenario in <dir>, resuming from <dir>/models/checkpoint.pt when there is one, and at the end writes what it
// ended with to <report-dir>. It prints, one line each, flushed: `fresh` or `resumed <epoch> <batch>`, `batch <n>` after
// every training batch (n: training batches done in the fit), `write <k>` as the k-th atomic file write of this process
// is about to be committed, `done <n>`. With --hold-write, the K-th write is cut to FRACTION of its length and left
// uncommitted, the process prints `holding` and waits to be killed: a process killed in the middle of writing a
// checkpoint or the best model.
using System.Globalization;
using FastCallbacks;
using FastCallbacks.Checkpoints.Worker;
using static TorchSharp.torch;

if (args.Length < 3 || args[0] != "train")
{
    Console.Error.WriteLine("usage: Worker train <dir> <report-dir> [--epochs N] [--every N] [--hold-write K FRACTION]");
    return 2;
}
var dir = args[1];
var report = args[2];
var epochs = 8;
var every = 3;
(int Write, double Fraction)? hold = null;
for (var i = 3; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--every": every = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--hold-write": hold = (int.Parse(args[++i], CultureInfo.InvariantCulture), double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

// One thread: libtorch's reductions then add in one order, so a resumed run matches bit for bit.
set_num_threads(1);
var scenario = new Scenario(dir, epochs, every);
var writes = 0;
AtomicFile.BeforeCommit = stream =>
{
    writes++;
    Say($"write {writes}");
    if (hold is not { } h || writes != h.Write) return;
    stream.Flush();
    stream.SetLength((long)(stream.Length * h.Fraction));
    stream.Flush();
    Say("holding");
    Thread.Sleep(Timeout.Infinite);
};

// A fresh run starts from the same weights every time; a resumed one from others (its process id), which the
// checkpoint must replace.
var resumeFrom = File.Exists(scenario.CheckpointFile) ? "checkpoint" : null;
using var learn = scenario.NewLearner(modelSeed: resumeFrom is null ? 1 : Environment.ProcessId, extra: [new Progress()]);
Say(resumeFrom is null ? "fresh" : "resuming");
scenario.Fit(learn, resumeFrom);
scenario.Capture(learn).WriteTo(report);
Say($"done {learn.TrainIter}");
return 0;

static void Say(string line)
{
    Console.Out.WriteLine(line);
    Console.Out.Flush();
}

/// <summary>Prints `batch n` after every training batch, after the checkpoint that batch may have written.</summary>
internal sealed partial class Progress : Callback
{
    public override int Order => int.MaxValue;

    [On(Event.AfterBatch)]
    private void AfterBatch()
    {
        if (!Attached.Training) return;
        Console.Out.WriteLine($"batch {Attached.TrainIter}");
        Console.Out.Flush();
    }
}
