using System.Text.RegularExpressions;
using Spectre.Console.Testing;

namespace FastCallbacks.Tests.Library;

/// <summary>ProgressCallback prints fastai's table (plain when not interactive, live bars when it is) and always gives the logger back.</summary>
public class ProgressCallbackTests
{
    private const string Row = @"^\d+\s+\d+\.\d{6}\s+\d+\.\d{6}\s+\d\d:\d\d$";

    private static Learner Learner(ProgressCallback progress)
    {
        var learn = TestData.RegressionLearner();
        learn.RemoveCbs<ProgressCallback>();
        learn.AddCb(progress);
        return learn;
    }

    private static string[] Lines(TestConsole console) =>
        console.Output.Replace("\r", "").Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();

    /// <summary>Records what a fit tells its display, as the notebook extension's HTML table receives it.</summary>
    private sealed class RecordingDisplay : ProgressDisplay
    {
        public List<string> Calls { get; } = [];
        public override bool IsLive => true;
        public override void Header(IReadOnlyList<string> names) => Calls.Add("header " + string.Join(",", names));
        public override void Row(EpochLog log) => Calls.Add($"row {log.Epoch}");
        public override void StartEpochs(int nEpoch) => Calls.Add($"epochs {nEpoch}");
        public override void Epoch(int epoch) => Calls.Add($"epoch {epoch}");
        public override void StartPhase(string name, int total) => Calls.Add($"{name} {total}");
        public override void Batch(int done, double? smoothLoss) => Calls.Add($"batch {done}{(smoothLoss is null ? "" : " loss")}");
        public override void EndPhase() => Calls.Add("end");
        protected override void Dispose(bool disposing) => Calls.Add("dispose");
    }

    [Test]
    public void CreateDisplay_gives_each_fit_its_own_display_in_the_fits_order()
    {
        var displays = new List<RecordingDisplay>();
        ProgressCallback.CreateDisplay = () =>
        {
            var display = new RecordingDisplay();
            displays.Add(display);
            return display;
        };
        try
        {
            using var learn = TestData.RegressionLearner();
            var logged = new List<EpochLog>();
            learn.Fit(1);
            learn.Logger = logged.Add; // a logger of the user's own still gets the rows
            learn.Fit(1);

            Assert.That(displays, Has.Count.EqualTo(2));
            string[] oneEpoch = ["epochs 1", "epoch 0", "train 3", "batch 1 loss", "batch 2 loss", "batch 3 loss", "end",
                "valid 1", "batch 1 loss", "end", "row 0", "epoch 1", "dispose"];
            Assert.That(displays[0].Calls, Is.EqualTo(new[] { "header epoch,train_loss,valid_loss,time" }.Concat(oneEpoch)));
            Assert.That(displays[1].Calls, Is.EqualTo(displays[0].Calls));
            Assert.That(logged, Has.Count.EqualTo(1));
            Assert.That(learn.Cbs.OfType<ProgressCallback>().Single().IsLive, Is.True);
        }
        finally
        {
            ProgressCallback.CreateDisplay = null;
        }
    }

    [Test]
    public void Without_a_display_from_CreateDisplay_or_with_a_console_given_the_fit_draws_on_the_console()
    {
        var asked = 0;
        ProgressCallback.CreateDisplay = () =>
        {
            asked++;
            return null;
        };
        try
        {
            var console = new TestConsole();
            using var learn = Learner(new ProgressCallback(console));
            learn.Fit(2);
            Assert.That(asked, Is.Zero, "a console given to the callback is used");
            Assert.That(Lines(console), Has.Length.EqualTo(3));

            using var other = TestData.RegressionLearner();
            using (other.NoLogging()) other.Fit(1);
            Assert.That(asked, Is.EqualTo(1), "null: the console");
            Assert.That(other.Cbs.OfType<ProgressCallback>().Single().IsLive, Is.False);
        }
        finally
        {
            ProgressCallback.CreateDisplay = null;
        }
    }

    [Test]
    public void Every_learner_gets_one_by_default_and_NoBar_removes_it_for_a_block()
    {
        using var learn = TestData.RegressionLearner();
        var progress = learn.Cbs.OfType<ProgressCallback>().Single();
        Assert.That(progress.Order, Is.EqualTo(60));
        Assert.That(progress.Name, Is.EqualTo("progress"));
        using (learn.NoBar()) Assert.That(learn.Cbs.OfType<ProgressCallback>(), Is.Empty);
        Assert.That(learn.Cbs.OfType<ProgressCallback>().Single(), Is.SameAs(progress));
    }

    [Test]
    public void Not_interactive_prints_the_header_once_and_one_plain_row_per_epoch()
    {
        var console = new TestConsole();
        var progress = new ProgressCallback(console);
        using var learn = Learner(progress);
        learn.Fit(3);

        var lines = Lines(console);
        Assert.That(progress.IsLive, Is.False);
        Assert.That(lines, Has.Length.EqualTo(4), console.Output);
        Assert.That(lines[0], Is.EqualTo("epoch     train_loss  valid_loss  time"));
        for (var i = 1; i <= 3; i++)
        {
            Assert.That(lines[i], Does.Match(Row));
            Assert.That(lines[i], Does.StartWith($"{i - 1}         "), "the value starts under its column");
        }
        var rec = learn.Recorder!;
        Assert.That(lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries)[2],
            Is.EqualTo(rec.Values[2][1]!.Value.ToString("F6", System.Globalization.CultureInfo.InvariantCulture)), "valid_loss with 6 decimals");
        // Ordinal: a culture-aware search finds an ignorable control character in any string.
        Assert.That(console.Output.Contains('\u001b', StringComparison.Ordinal), Is.False, "no escape codes");
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger), "the logger is given back");
    }

    [Test]
    public void Metric_columns_are_printed_too()
    {
        var console = new TestConsole();
        using var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), TestData.Mse,
            metrics: [new AvgMetric((p, t) => (p - t).abs().mean(), "mae")]);
        learn.RemoveCbs<ProgressCallback>();
        learn.AddCb(new ProgressCallback(console));
        learn.Fit(1);
        var lines = Lines(console);
        Assert.That(lines[0], Is.EqualTo("epoch     train_loss  valid_loss  mae       time"));
        Assert.That(lines[1], Does.Match(@"^0\s+\d+\.\d{6}\s+\d+\.\d{6}\s+\d+\.\d{6}\s+\d\d:\d\d$"));
    }

    [Test]
    public void Interactive_draws_bars_and_the_table()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true).EmitAnsiSequences().Width(120);
        var progress = new ProgressCallback(console);
        using var learn = Learner(progress);
        // Slow one training batch down so the display refreshes (every 100 ms) while the batch bar is up.
        var slow = Callback.Create((Event.AfterBatch, l => { if (l.Training && l.Epoch == 1 && l.Iter == 1) Thread.Sleep(250); }));
        learn.Fit(2, cbs: [slow]);

        Assert.That(progress.IsLive, Is.True);
        var text = Regex.Replace(console.Output, @"\u001b\[[0-9;?]*[A-Za-z]", "").Replace("\r", "\n");
        Assert.That(text, Does.Contain("epoch     train_loss  valid_loss  time"));
        Assert.That(Regex.Matches(text, @"(?m)^[01]\s+\d+\.\d{6}\s+\d+\.\d{6}\s+\d\d:\d\d"), Has.Count.EqualTo(2), text);
        Assert.That(text, Does.Contain("━"), "a bar");
        Assert.That(text, Does.Match(@"train\s+\d+% [━]+ \d/3 \[\d\d:\d\d<\d\d:\d\d \d+\.\d{4}\]"), "the batch bar with the smoothed loss");
        Assert.That(text, Does.Contain("100%").And.Contain("2/2"), "the epoch bar finished");
        Assert.That(console.Output.Contains("\u001b[", StringComparison.Ordinal), Is.True, "drawn with escape codes");
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger));
    }

    [Test]
    public void Console_lines_written_during_a_live_display_go_above_the_bars()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true).EmitAnsiSequences().Width(120);
        var progress = new ProgressCallback(console) { CaptureConsoleOut = true };
        using var learn = Learner(progress);
        var before = Console.Out;
        var printer = Callback.Create((Event.AfterEpoch, l => Console.WriteLine($"hello from epoch {l.Epoch}")));
        learn.Fit(2, cbs: [printer]);

        Assert.That(Console.Out, Is.SameAs(before), "standard output is given back");
        var text = Regex.Replace(console.Output, @"\u001b\[[0-9;?]*[A-Za-z]", "").Replace("\r", "\n");
        var lines = text.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.That(lines, Does.Contain("hello from epoch 0").And.Contain("hello from epoch 1"), text);
        Assert.That(lines.IndexOf("hello from epoch 0"), Is.LessThan(lines.FindIndex(l => l.StartsWith("1    ", StringComparison.Ordinal))),
            "printed in order with the table rows");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void A_failing_fit_gives_the_logger_back_and_closes_the_display(bool interactive)
    {
        var console = interactive ? new TestConsole().Interactive().SupportsAnsi(true).EmitAnsiSequences() : new TestConsole();
        var progress = new ProgressCallback(console);
        using var learn = Learner(progress);
        var rows = new List<EpochLog>();
        learn.Logger = rows.Add;
        learn.AddCb(new ThrowOnEvent(Event.BeforeValidate, () => new InvalidOperationException("boom")));

        Assert.Throws<CallbackException>(() => learn.Fit(2));
        Assert.That(learn.Logger, Is.EqualTo((Action<EpochLog>)rows.Add), "the user's logger is back");

        // The display was closed: a new fit on the same console gets a live display again (Spectre allows one at a time).
        learn.RemoveCbs<ThrowOnEvent>();
        learn.Fit(1);
        Assert.That(progress.IsLive, Is.EqualTo(interactive));
        Assert.That(rows, Has.Count.EqualTo(1), "a logger set by the user still gets the rows");
    }

    [Test]
    public void GetPreds_and_Validate_print_no_table_and_close_their_bar()
    {
        var console = new TestConsole();
        using var learn = Learner(new ProgressCallback(console));
        using (learn.GetPreds()) { }
        learn.Validate();
        Assert.That(console.Output, Is.Empty, "no epoch bar and no logging in prediction runs, as fastai");

        var live = new TestConsole().Interactive().SupportsAnsi(true).EmitAnsiSequences();
        var progress = new ProgressCallback(live);
        using var learn2 = Learner(progress);
        using (learn2.GetPreds()) { }
        learn2.Fit(1);
        Assert.That(progress.IsLive, Is.True, "the prediction run's display was closed, so the fit gets one");
        Assert.That(learn2.Logger, Is.SameAs(Defaults.ConsoleLogger));
    }

    [Test]
    public void NoLogging_prints_no_table_and_NoMbar_no_table_either()
    {
        var console = new TestConsole();
        using var learn = Learner(new ProgressCallback(console));
        using (learn.NoLogging()) learn.Fit(1);
        Assert.That(console.Output, Is.Empty);
        using (learn.NoMbar()) learn.Fit(1);
        Assert.That(console.Output, Is.Empty);
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger));
    }

    [Test]
    public void The_table_replaces_the_default_console_logger()
    {
        var console = new TestConsole();
        using var learn = Learner(new ProgressCallback(console));
        var stdout = new StringWriter();
        var before = Console.Out;
        Console.SetOut(stdout);
        try
        {
            learn.Fit(2);
        }
        finally
        {
            Console.SetOut(before);
        }
        Assert.That(stdout.ToString(), Is.Empty, "no '[0, 0.1, ...]' rows from Defaults.ConsoleLogger");
        Assert.That(Lines(console), Has.Length.EqualTo(3));
    }

    [Test]
    public void Progress_and_CsvLogger_both_replace_the_logger_and_the_chain_leads_back_to_the_users()
    {
        var console = new TestConsole();
        using var learn = Learner(new ProgressCallback(console));
        var rows = new List<EpochLog>();
        learn.Logger = rows.Add;
        var csv = Path.Combine(Path.GetTempPath(), $"fc-progress-{Guid.NewGuid():N}.csv");
        try
        {
            learn.Fit(2, cbs: [new CsvLogger(csv)]);
            Assert.That(Lines(console), Has.Length.EqualTo(3), "table: header and two rows");
            Assert.That(File.ReadAllLines(csv), Has.Length.EqualTo(3), "csv: header and two rows");
            Assert.That(rows, Has.Count.EqualTo(2), "CsvLogger -> progress table -> the user's logger");

            // Progress (installed first) was removed first and took itself out of the chain: the logger is the user's.
            Assert.That(learn.Logger, Is.EqualTo((Action<EpochLog>)rows.Add));
            learn.Logger!(new EpochLog(["epoch", "time"], 9, [], TimeSpan.Zero));
            Assert.That(rows, Has.Count.EqualTo(3));

            learn.Fit(1, cbs: [new CsvLogger(csv, append: true)]);
            Assert.That(Lines(console), Has.Length.EqualTo(5), "a second table");
            Assert.That(rows, Has.Count.EqualTo(4), "each row once: the stale pass-through was unwrapped");

            learn.RemoveCbs<ProgressCallback>();
            learn.Fit(1);
            Assert.That(rows, Has.Count.EqualTo(5));
            Assert.That(Lines(console), Has.Length.EqualTo(5), "no table without the callback");
        }
        finally
        {
            File.Delete(csv);
        }
    }
}
