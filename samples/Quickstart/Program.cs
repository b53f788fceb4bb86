// Quickstart: a small convolutional network learns the 8x8 handwritten digits (1,797 images, data/README.md),
// trained with fastai's one-cycle schedule and the standard callbacks: the progress table (a default callback),
// early stopping, saving the best model, a CSV log, and a plot of the losses.
//
//   dotnet run --project samples/Quickstart [-- --epochs 10 --lr 0.01 --out out/quickstart]
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using FastCallbacks;
using static TorchSharp.torch;

if (Options.WantsHelp(args))
{
    Console.WriteLine(Options.Usage);
    return 0;
}
if (!Options.TryParse(args, out var options, out var problem))
{
    Console.Error.WriteLine(problem);
    return 2;
}
var clock = Stopwatch.StartNew();
manual_seed(0);
set_num_threads(1); // the tensors are tiny: one thread beats several waiting on each other on a busy machine

var (x, y) = Digits.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"));
Console.WriteLine($"{x.shape[0]} digits of {x.shape[2]}x{x.shape[3]} pixels; 20% held out for validation.");
using var dls = DataLoaders.FromTensors(x, y, batchSize: 64, validPct: 0.2, seed: 42);

var model = nn.Sequential(
    ("conv1", nn.Conv2d(1, 16, 3, padding: 1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()),   // 16 x 8 x 8
    ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()),  // 32 x 8 x 8
    ("pool", nn.MaxPool2d(2)),                                                                         // 32 x 4 x 4
    ("flatten", nn.Flatten()),
    ("drop", nn.Dropout(0.25)),
    ("fc", nn.Linear(32 * 4 * 4, 10)));

using var learn = new Learner(dls, model, new CrossEntropyLossFlat(), metrics: [Metrics.Accuracy()], path: options.Out,
    cbs: [
        new EarlyStoppingCallback(monitor: "accuracy", patience: 4),   // stop when accuracy stalls for 4 epochs
        new SaveModelCallback(monitor: "accuracy", fname: "digits"),   // keep the best model, load it at the end
        new CsvLogger("history.csv"),                                  // the table, as CSV
    ]);

// One-cycle: the learning rate warms up to lrMax and anneals. FitSummary (below) is added for this fit only.
learn.FitOneCycle(options.Epochs, lrMax: options.Lr, cbs: [new FitSummary()]);

var final = learn.Validate();
var plot = learn.Recorder!.PlotLoss(Path.Combine(options.Out, "loss.png"));
Console.WriteLine();
Console.WriteLine($"best model (reloaded): {final}");
Console.WriteLine($"validation accuracy: {final["accuracy"]:P2}");
Console.WriteLine($"wrote {Path.GetFullPath(learn.Cb<SaveModelCallback>()!.LastSavedPath!)}, {learn.Cb<CsvLogger>()!.FullPath}, {plot}");
Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:F1} s");
return 0;

/// <summary>
/// A callback of our own: counts the training batches and reports them with the fit's duration when the fit ends.
/// <c>partial</c>, so the generator can add its dispatch; handlers are plain methods marked with <c>[On]</c>.
/// </summary>
public sealed partial class FitSummary : Callback
{
    private readonly Stopwatch _clock = new();
    private int _batches;

    [On(Event.BeforeFit)]
    private void Start()
    {
        _batches = 0;
        _clock.Restart();
    }

    [On(Event.AfterStep)]   // training batches only: validation has no optimizer step
    private void Count() => _batches++;

    [On(Event.AfterFit)]
    private void Report() =>
        Console.WriteLine($"fit: {Epoch + 1} epochs, {_batches} optimizer steps, {_clock.Elapsed.TotalSeconds:F1} s");
}

/// <summary>The 8x8 digits: 64 pixel values (0..16) and the label per line of the gzipped CSV.</summary>
internal static class Digits
{
    public static (Tensor X, Tensor Y) Load(string path)
    {
        var pixels = new List<float>();
        var labels = new List<long>();
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var cells = line.Split(',');
            if (cells.Length != 65) throw new InvalidDataException($"{path}: expected 65 values per line, got {cells.Length}.");
            for (var i = 0; i < 64; i++) pixels.Add(float.Parse(cells[i], CultureInfo.InvariantCulture) / 16f);
            labels.Add(long.Parse(cells[64], CultureInfo.InvariantCulture));
        }
        return (tensor(pixels.ToArray()).reshape(labels.Count, 1, 8, 8), tensor(labels.ToArray()));
    }
}

/// <summary>Command-line options: <c>--epochs N</c>, <c>--lr X</c>, <c>--out DIR</c>.</summary>
internal sealed record Options(int Epochs, double Lr, string Out)
{
    public const string Usage = """
        usage: dotnet run --project samples/Quickstart [-- --epochs 10 --lr 0.01 --out out/quickstart]
          --epochs N   epochs of one-cycle training (default 10; early stopping may end sooner)
          --lr X       the peak learning rate of the one-cycle schedule (default 0.01)
          --out DIR    where the best model, history.csv and loss.png go (default out/quickstart)
          -h, --help   this text
        """;

    /// <summary>True when the arguments ask for the usage (<c>-h</c>, <c>--help</c>), which is not an error.</summary>
    public static bool WantsHelp(string[] args) => args.Any(a => a is "-h" or "--help");

    public static bool TryParse(string[] args, out Options options, out string problem)
    {
        options = new Options(Epochs: 10, Lr: 1e-2, Out: Path.Combine("out", "quickstart"));
        problem = Usage;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                problem = $"{name}: a value is missing.\n{Usage}";
                return false;
            }
            var value = args[++i];
            switch (name)
            {
                case "--epochs" when int.TryParse(value, out var n) && n > 0:
                    options = options with { Epochs = n };
                    break;
                case "--lr" when double.TryParse(value, CultureInfo.InvariantCulture, out var lr) && lr > 0:
                    options = options with { Lr = lr };
                    break;
                case "--out" when value.Length > 0:
                    options = options with { Out = value };
                    break;
                default:
                    problem = $"{name} {value}: not an option or not a valid value (--epochs takes a positive integer, --lr a positive number, --out a folder).\n{Usage}";
                    return false;
            }
        }
        return true;
    }
}
