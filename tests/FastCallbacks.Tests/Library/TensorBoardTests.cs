namespace FastCallbacks.Tests.Library;

/// <summary>TensorBoardCallback writes an event file through TorchSharp's SummaryWriter.</summary>
public class TensorBoardTests
{
    [Test]
    public void Writes_a_non_empty_event_file_with_the_scalars()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"fc-tb-{Guid.NewGuid():N}");
        try
        {
            using var learn = new Learner(TestData.RegressionDls(), TestData.LinearModel(), TestData.Mse, lr: 0.1, path: dir);
            learn.RemoveCbs<ProgressCallback>();
            var tb = new TensorBoardCallback("runs/test");
            learn.Fit(2, cbs: [tb]);

            Assert.That(tb.OutputDir, Is.EqualTo(Path.Combine(dir, "runs", "test")));
            var files = Directory.GetFiles(tb.OutputDir!, "events.out.tfevents.*");
            Assert.That(files, Has.Length.EqualTo(1));
            var bytes = File.ReadAllBytes(files[0]);
            Assert.That(bytes.Length, Is.GreaterThan(500), "6 batches x (train_loss, lr, mom) + 2 x valid_loss");
            var text = System.Text.Encoding.ASCII.GetString(bytes);
            Assert.That(text, Does.Contain("train_loss").And.Contain("valid_loss").And.Contain("lr").And.Contain("mom"));
            Assert.That(tb.Order, Is.EqualTo(51));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
