using System.Globalization;

namespace FastCallbacks.Tests.Library;

/// <summary>CsvLogger writes fastai's history.csv, flushed row by row.</summary>
public partial class CsvLoggerTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), $"fc-csv-{Guid.NewGuid():N}"));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private Learner Learner()
    {
        var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), TestData.Mse, lr: 0.1, path: _dir);
        learn.RemoveCbs<ProgressCallback>();
        return learn;
    }

    [Test]
    public void Writes_the_header_and_one_row_per_epoch_under_the_learner_path()
    {
        using var learn = Learner();
        var logger = new CsvLogger();
        learn.Fit(3, cbs: [logger]);

        var path = Path.Combine(_dir, "history.csv");
        var lines = File.ReadAllLines(path);
        Assert.That(lines, Has.Length.EqualTo(4));
        Assert.That(lines[0], Is.EqualTo("epoch,train_loss,valid_loss,time"));
        var values = learn.Recorder!.Values;
        for (var i = 0; i < 3; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.That(cells[0], Is.EqualTo(i.ToString(CultureInfo.InvariantCulture)));
            Assert.That(double.Parse(cells[1], CultureInfo.InvariantCulture), Is.EqualTo(values[i][0]), "full precision");
            Assert.That(double.Parse(cells[2], CultureInfo.InvariantCulture), Is.EqualTo(values[i][1]));
            Assert.That(cells[3], Does.Match(@"^\d\d:\d\d$"));
        }
        Assert.That(logger.Order, Is.EqualTo(60));
        Assert.That(logger.Name, Is.EqualTo("csv_logger"));
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger));
    }

    [Test]
    public void Read_returns_the_rows_by_column()
    {
        using var learn = Learner();
        var logger = new CsvLogger("logs/run.csv");
        learn.AddCb(logger);
        learn.Fit(2);
        var rows = logger.Read();
        Assert.That(rows, Has.Count.EqualTo(2));
        Assert.That(rows[1]["epoch"], Is.EqualTo("1"));
        Assert.That(double.Parse(rows[1]["valid_loss"], CultureInfo.InvariantCulture), Is.EqualTo(learn.Recorder!.Values[1][1]));
        Assert.That(logger.FullPath, Is.EqualTo(Path.Combine(_dir, "logs", "run.csv")));
    }

    [Test]
    public void Append_keeps_earlier_fits_and_replace_does_not()
    {
        using var learn = Learner();
        var logger = new CsvLogger(append: true);
        learn.AddCb(logger);
        learn.Fit(2);
        learn.Fit(1);
        var lines = File.ReadAllLines(Path.Combine(_dir, "history.csv"));
        Assert.That(lines.Count(l => l.StartsWith("epoch,", StringComparison.Ordinal)), Is.EqualTo(2), "a header per fit, as fastai");
        Assert.That(lines, Has.Length.EqualTo(5));
        Assert.That(logger.Read(), Has.Count.EqualTo(3));

        learn.RemoveCb(logger);
        learn.Fit(1, cbs: [new CsvLogger()]);
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "history.csv")), Has.Length.EqualTo(2), "without append the file is replaced");
    }

    [Test]
    public void A_failing_epoch_leaves_the_finished_rows_on_disk_and_the_logger_restored()
    {
        using var learn = Learner();
        var failing = Callback.Create((Event.BeforeEpoch, l => { if (l.Epoch == 2) throw new InvalidOperationException("boom"); }));
        Assert.Throws<CallbackException>(() => learn.Fit(4, cbs: [new CsvLogger(), failing]));
        var path = Path.Combine(_dir, "history.csv");
        // The file was closed: it can be opened for writing again.
        using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
        Assert.That(File.ReadAllLines(path), Has.Length.EqualTo(3), "header and epochs 0 and 1");
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger));
    }

    [Test]
    public void Rows_pass_on_to_the_previous_logger()
    {
        using var learn = Learner();
        var rows = new List<EpochLog>();
        learn.Logger = rows.Add;
        learn.Fit(2, cbs: [new CsvLogger()]);
        Assert.That(rows.Select(r => r.Epoch), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(learn.Logger, Is.EqualTo((Action<EpochLog>)rows.Add));
    }

    [Test]
    public void Nothing_is_written_during_prediction_runs()
    {
        using var learn = Learner();
        learn.Fit(1);
        var logger = new CsvLogger("preds.csv");
        learn.AddCb(logger);
        using (learn.GetPreds()) { }
        learn.Validate();
        Assert.That(File.Exists(logger.FullPath), Is.False);
        Assert.That(learn.Logger, Is.SameAs(Defaults.ConsoleLogger));

        learn.Fit(1);
        Assert.That(logger.Read(), Has.Count.EqualTo(1), "a fit after them logs as usual");
    }

    [Test]
    public void GetPreds_and_Validate_keep_the_recorded_schedule()
    {
        using var learn = Learner();
        learn.FitOneCycle(1);
        using (learn.GetPreds()) { }
        learn.Validate();
        Assert.That(learn.Recorder!.Hps["lr"], Has.Count.EqualTo(3));
    }
}
