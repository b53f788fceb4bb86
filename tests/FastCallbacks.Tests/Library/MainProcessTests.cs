using Spectre.Console.Testing;

namespace FastCallbacks.Tests.Library;

using static LibraryData;

/// <summary>
/// <see cref="Learner.IsMainProcess"/>: on the other ranks of a distributed job nothing writes to the console or to
/// files, and the best model is still reloaded. (The multi-process side is in FastCallbacks.Distributed.Tests.)
/// </summary>
public class MainProcessTests
{
    private static Learner NewLearner(string path, bool main, List<string> messages, List<EpochLog> rows, TestConsole console, params Callback[] cbs)
    {
        var (x, y) = TestData.Classification(n: 128, seed: 3);
        var dls = DataLoaders.FromTensors(x, y, batchSize: 16, validPct: 0.25, seed: 1);
        var learn = new Learner(dls, Classifier(seed: 4), CrossEntropy, lr: 0.2, metrics: [Metrics.Accuracy()], path: path,
            defaultCbs: false, cbs: [new TrainEvalCallback(), new Recorder(), new ProgressCallback(console), .. cbs])
        {
            MessageWriter = messages.Add,
            Logger = rows.Add,
            IsMainProcess = main,
        };
        return learn;
    }

    [Test]
    public void A_process_that_is_not_the_main_one_writes_nothing_but_trains_the_same()
    {
        using var dir = NewTempDir();
        var runs = new Dictionary<bool, (Tensor[] Weights, List<string> Messages, List<EpochLog> Rows, TestConsole Console, string Path, IReadOnlyList<IReadOnlyList<double?>> Values)>();
        foreach (var main in new[] { true, false })
        {
            var path = System.IO.Path.Combine(dir.Path, main ? "main" : "other");
            List<string> messages = [];
            List<EpochLog> rows = [];
            var console = new TestConsole();
            using var learn = NewLearner(path, main, messages, rows, console,
                // The highest validation loss counts as the best, so the best epoch is not the last and the end reloads it.
                new SaveModelCallback(monitor: "valid_loss", comp: (value, best) => value > best, fname: "best"),
                new CsvLogger(), new ShowGraphCallback(), new TensorBoardCallback("tb"));
            learn.Fit(5);
            var saved = learn.Save("explicit");
            Assert.That(saved, Is.EqualTo(learn.CheckpointPath("explicit")), "Save returns the checkpoint's path either way");
            var plot = learn.Recorder!.PlotLoss(System.IO.Path.Combine(path, "loss.png"), skipStart: 0);
            Assert.That(plot, Is.EqualTo(System.IO.Path.GetFullPath(System.IO.Path.Combine(path, "loss.png"))));
            learn.Log("a message");
            runs[main] = (Weights(learn.Model), messages, rows, console, path, learn.Recorder.Values);
        }

        var (mainRun, other) = (runs[true], runs[false]);
        Assert.That(Directory.EnumerateFiles(mainRun.Path, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(mainRun.Path, f)),
            Is.SupersetOf(new[] { "history.csv", "training.png", "loss.png", System.IO.Path.Combine("models", "best.pt"), System.IO.Path.Combine("models", "explicit.pt") }));
        Assert.That(Directory.Exists(System.IO.Path.Combine(mainRun.Path, "tb")), Is.True);
        Assert.That(Directory.Exists(other.Path) ? Directory.EnumerateFileSystemEntries(other.Path, "*", SearchOption.AllDirectories) : [], Is.Empty,
            "no CSV, plot, TensorBoard folder or checkpoint");
        Assert.That(mainRun.Messages, Has.Some.StartsWith("Better model found").And.Some.EqualTo("a message"));
        Assert.That(other.Messages, Is.Empty, "no messages");
        Assert.That(mainRun.Rows, Has.Count.EqualTo(5));
        Assert.That(other.Rows, Is.Empty, "the logger gets no rows");
        Assert.That(mainRun.Console.Output, Does.Contain("train_loss"));
        Assert.That(other.Console.Output, Is.Empty, "no progress display");
        // The same training, and the same best model reloaded at the end: from the file on the main process, from memory on the other.
        Assert.That(SameWeights(mainRun.Weights, other.Weights), Is.True);
        Assert.That(other.Values, Is.EqualTo(mainRun.Values));
        var validLoss = mainRun.Values.Select(r => r[1]!.Value).ToList();
        Assert.That(validLoss.IndexOf(validLoss.Max()), Is.LessThan(4), "the best epoch is not the last, so a reload happened");
    }

    [Test]
    public void SaveModelCallback_with_the_optimizer_restores_both_from_memory_on_other_processes()
    {
        using var dir = NewTempDir();
        var weights = new List<Tensor[]>();
        foreach (var main in new[] { true, false })
        {
            using var learn = NewLearner(System.IO.Path.Combine(dir.Path, main.ToString()), main, [], [], new TestConsole(),
                new SaveModelCallback(monitor: "valid_loss", fname: "best", withOpt: true));
            learn.Fit(4);
            // One more fit from the reloaded state: the optimizer's state was restored too, so both continue alike.
            learn.Fit(1);
            weights.Add(Weights(learn.Model));
        }
        Assert.That(SameWeights(weights[0], weights[1]), Is.True);
    }
}
