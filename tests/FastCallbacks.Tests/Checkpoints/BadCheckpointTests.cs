using TorchSharp.Modules;

namespace FastCallbacks.Tests.Checkpoints;

using static Library.LibraryData;

/// <summary>
/// Resuming from a checkpoint that cannot be resumed from (cut short, damaged, not a checkpoint, from another format, or
/// taken with another model, optimizer, callbacks, metrics or fit) fails before the fit starts with a
/// <see cref="CheckpointException"/> that names the file and what does not match, and changes nothing: the learner's
/// weights, optimizer, callbacks' states, random generator and hyper-parameters are as they were, the file is intact,
/// and the learner trains on.
/// </summary>
public partial class BadCheckpointTests
{
    private static Learner NewLearner(string dir, nn.Module<Tensor, Tensor>? model = null, Func<ParameterGroups, double, optim.Optimizer>? optFunc = null,
        IEnumerable<Callback>? cbs = null, IEnumerable<Metric>? metrics = null, bool earlyStopping = true, bool picky = false)
    {
        List<Callback> all = [new CheckpointCallback(everyNBatches: 2), new CsvLogger(), new Picky(picky)];
        if (earlyStopping) all.Add(new EarlyStoppingCallback(patience: 5));
        all.AddRange(cbs ?? []);
        return new Learner(TestData.RegressionDls(n: 64), model ?? TestData.LinearModel(seed: 3), TestData.Mse, optFunc: optFunc, lr: 0.05,
            metrics: metrics, path: dir, cbs: all) { Logger = null, MessageWriter = null };
    }

    /// <summary>A stateful callback loaded after the others, which refuses every state but its own when <paramref name="refuse"/>.</summary>
    private sealed partial class Picky(bool refuse) : Callback, IStatefulCallback
    {
        private int _batches;

        public override int Order => 1000;

        [On(Event.AfterBatch)]
        private void Count() => _batches++;

        public void SaveState(StateDict state) => state.Set("batches", _batches);

        public void LoadState(StateDict state)
        {
            var batches = state.Get<int>("batches");
            if (refuse && batches != _batches) throw new InvalidDataException($"picky refuses {batches} batches");
            _batches = batches;
        }
    }

    /// <summary>A checkpoint of 2 of 4 epochs, in <paramref name="dir"/>/source/models/checkpoint.pt (the learners under test write theirs in <paramref name="dir"/>).</summary>
    private static string Checkpoint(string dir)
    {
        dir = Path.Combine(dir, "source");
        using var learn = NewLearner(dir, cbs: [Callback.Create((Event.BeforeEpoch, l => { if (l.Epoch == 2) throw new CancelFitException(); }))]);
        learn.Fit(4);
        var file = Path.Combine(dir, "models", "checkpoint.pt");
        Assert.That(File.Exists(file), Is.True);
        return file;
    }

    /// <summary>Everything of a learner a failed resume must leave alone.</summary>
    private sealed record Snapshot(string Weights, string Optimizer, string Callbacks, string Rng, string Hypers)
    {
        public static Snapshot Of(Learner learn)
        {
            using var scope = NewDisposeScope();
            var weights = string.Join(";", learn.Model.state_dict().Select(kv => kv.Key + "=" + Convert.ToHexString(kv.Value.detach().contiguous().bytes.ToArray())));
            string optimizer = "none";
            if (learn.Opt is { } opt)
            {
                using var ms = new MemoryStream();
                using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) opt.SaveState(w);
                optimizer = $"{opt.Name} frozen {opt.FrozenIdx} " + Convert.ToHexString(ms.ToArray());
            }
            var callbacks = string.Join(";", learn.Cbs.Select(cb => cb.Name)) + "|" + string.Join(";", TrainingCheckpoint.StatefulCallbacks(learn).Select(s =>
            {
                var state = new StateDict();
                ((IStatefulCallback)s.Callback).SaveState(state);
                return s.Key + "=" + Convert.ToHexString(state.ToBytes());
            }));
            var rng = Convert.ToHexString(torch.get_rng_state().bytes.ToArray());
            return new Snapshot(weights, optimizer, callbacks, rng, $"lr {learn.Lr} wd {learn.Wd} moms {learn.Moms} iter {learn.TrainIter} epoch {learn.Epoch}");
        }
    }

    /// <summary>
    /// Resumes <paramref name="learn"/> (trained one epoch first unless <paramref name="pretrain"/> is false, so that it
    /// has an optimizer and callback states to lose) from <paramref name="file"/>, expecting the refusal; returns its message.
    /// </summary>
    private static string Refused(Learner learn, string file, Action<Learner>? fit = null, bool pretrain = true)
    {
        if (pretrain) learn.Fit(1);
        var before = Snapshot.Of(learn);
        var bytes = File.ReadAllBytes(file);
        var ex = Assert.Throws<CheckpointException>(() => (fit ?? (l => l.Fit(4, resumeFrom: file)))(learn))!;
        Assert.That(ex.Path, Is.EqualTo(Path.GetFullPath(file)));
        Assert.That(ex.Message, Does.Contain(Path.GetFullPath(file)), "the message names the file");
        Assert.That(Snapshot.Of(learn), Is.EqualTo(before), "the learner is as it was");
        Assert.That(File.ReadAllBytes(file), Is.EqualTo(bytes), "the file is as it was");
        // And it trains on.
        learn.Fit(1);
        return ex.Message;
    }

    [TestCase(0.5)]
    [TestCase(0.99)]
    [TestCase(0.001)]
    public void A_truncated_checkpoint_is_refused(double keep)
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        var bytes = File.ReadAllBytes(file);
        var cut = Path.Combine(dir.Path, "cut.pt");
        File.WriteAllBytes(cut, bytes[..Math.Max(9, (int)(bytes.Length * keep))]);
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, cut), Does.Contain("is truncated").And.Contain("bytes"));
    }

    [Test]
    public void A_checkpoint_cut_by_one_byte_is_refused()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        var bytes = File.ReadAllBytes(file);
        var cut = Path.Combine(dir.Path, "cut.pt");
        File.WriteAllBytes(cut, bytes[..^1]);
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, cut), Does.Contain("is truncated"));
    }

    [TestCase(0.3)]
    [TestCase(0.6)]
    [TestCase(0.95)]
    public void A_damaged_checkpoint_is_refused(double where)
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        var bytes = File.ReadAllBytes(file);
        bytes[(int)(bytes.Length * where)] ^= 0x40;
        var damaged = Path.Combine(dir.Path, "damaged.pt");
        File.WriteAllBytes(damaged, bytes);
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, damaged), Does.Contain("damaged").Or.Contain("truncated"));
    }

    [Test]
    public void A_damaged_checkpoint_is_refused_by_its_checksum()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        var bytes = File.ReadAllBytes(file);
        bytes[^40] ^= 0x01; // the last bytes of the last section, not a length
        var damaged = Path.Combine(dir.Path, "damaged.pt");
        File.WriteAllBytes(damaged, bytes);
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, damaged), Does.Contain("is damaged: its content does not match its checksum"));
    }

    [Test]
    public void A_model_file_of_learn_Save_is_not_a_training_checkpoint()
    {
        using var dir = NewTempDir();
        string file;
        using (var other = NewLearner(dir.Path))
        {
            other.Fit(1);
            file = other.Save("model-only", withOpt: true);
        }
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, file), Does.Contain("is not a FastCallbacks training checkpoint").And.Contain("learn.Load"));
    }

    [Test]
    public void A_file_that_is_not_a_checkpoint_is_refused()
    {
        using var dir = NewTempDir();
        var file = Path.Combine(dir.Path, "notes.pt");
        File.WriteAllText(file, "epoch,train_loss\n0,1.0\n");
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, file), Does.Contain("is not a FastCallbacks training checkpoint"));
    }

    [TestCase(TrainingCheckpoint.FormatVersion + 1, "from a newer FastCallbacks")]
    [TestCase(0, "format 0, which no FastCallbacks writes")]
    public void A_checkpoint_of_another_format_version_says_so(int format, string says)
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        var bytes = File.ReadAllBytes(file);
        Assert.That(BitConverter.ToInt32(bytes, 8), Is.EqualTo(TrainingCheckpoint.FormatVersion), "the format follows the 8-byte header");
        BitConverter.GetBytes(format).CopyTo(bytes, 8);
        var other = Path.Combine(dir.Path, "other.pt");
        File.WriteAllBytes(other, bytes);
        using var learn = NewLearner(dir.Path);
        Assert.That(Refused(learn, other), Does.Contain(says).And.Contain($"format {format}"));
    }

    [Test]
    public void A_checkpoint_of_another_model_shape_names_the_tensors()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        // Not trained before: it has no optimizer, and a refused resume does not leave one behind.
        using var learn = NewLearner(dir.Path, model: TestData.LinearModel(inFeatures: 3, outFeatures: 2));
        var message = Refused(learn, file, fit: l => l.Fit(4, resumeFrom: file), pretrain: false);
        Assert.That(message, Does.Contain("its model does not fit this one").And.Contain("`weight` is [1, 3] Float32 in the checkpoint and [2, 3] Float32 in this model"));
        Assert.That(learn.Opt, Is.Not.Null, "the learner trained on afterwards (and made its optimizer then)");
    }

    [Test]
    public void A_checkpoint_of_another_model_names_missing_and_unknown_tensors()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        manual_seed(0);
        var model = nn.Sequential(("l1", nn.Linear(3, 4)), ("l2", nn.Linear(4, 1)));
        using var learn = NewLearner(dir.Path, model: model);
        Assert.That(Refused(learn, file), Does.Contain("this model has `l1.weight`").And.Contain("which the checkpoint lacks")
            .And.Contain("the checkpoint has `weight`").And.Contain("which this model lacks"));
    }

    [Test]
    public void A_checkpoint_of_another_optimizer_names_both()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        using var learn = NewLearner(dir.Path, optFunc: Optimizers.SGD(mom: 0.9));
        Assert.That(Refused(learn, file), Does.Contain("its optimizer is Adam, and this learner's is SGD"));
    }

    [Test]
    public void A_checkpoint_without_the_state_of_a_callback_this_learner_has_names_it()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        using var learn = NewLearner(dir.Path, cbs: [new SaveModelCallback()]);
        Assert.That(Refused(learn, file), Does.Contain("it holds no state for this learner's `save_model` (SaveModelCallback)"));
    }

    [Test]
    public void A_checkpoint_with_the_state_of_a_callback_this_learner_lacks_names_it()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        using var learn = NewLearner(dir.Path, earlyStopping: false);
        Assert.That(Refused(learn, file), Does.Contain("it holds the state of `early_stopping` (EarlyStoppingCallback), which this learner does not have"));
    }

    [Test]
    public void A_callback_state_that_does_not_load_puts_back_the_states_loaded_before_it()
    {
        // Picky is loaded after the learner's other stateful callbacks (Recorder, EarlyStopping, CsvLogger, ...), which
        // had taken the checkpoint's states: they get theirs back.
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        using var learn = NewLearner(dir.Path, picky: true);
        Assert.That(Refused(learn, file), Does.Contain("the state of callback `picky` (Picky) does not fit: picky refuses"));
    }

    [Test]
    public void A_checkpoint_of_other_metrics_names_them()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        using var learn = NewLearner(dir.Path, metrics: [Metrics.Mae()]);
        Assert.That(Refused(learn, file), Does.Contain("its fit had the metrics none, and this learner has `mae`"));
    }

    [Test]
    public void A_checkpoint_of_another_fit_says_how_to_resume()
    {
        using var dir = NewTempDir();
        var file = Checkpoint(dir.Path);
        using (var learn = NewLearner(dir.Path))
            Assert.That(Refused(learn, file, fit: l => l.Fit(6, resumeFrom: file)), Does.Contain("a fit of 4 epochs, and this one has 6").And.Contain("nEpoch: 4"));
        using (var learn = NewLearner(dir.Path))
            Assert.That(Refused(learn, file, fit: l => l.FitOneCycle(4, resumeFrom: file)), Does.Contain("it was taken in Fit, and this is FitOneCycle"));
    }

    [Test]
    public void A_missing_checkpoint_says_where_it_looked()
    {
        using var dir = NewTempDir();
        using var learn = NewLearner(dir.Path);
        var ex = Assert.Throws<FileNotFoundException>(() => learn.Fit(2, resumeFrom: "checkpoint"))!;
        Assert.That(ex.Message, Does.Contain(Path.Combine(dir.Path, "models", "checkpoint.pt")).And.Contain("without resumeFrom"));
        learn.Fit(1);
    }
}
