using TorchSharp.Modules;

namespace FastCallbacks.Tests.Library;

using static LibraryData;

/// <summary>Learner.Save/Load, atomic writes, optimizer state, and resuming a fit from a checkpoint.</summary>
public partial class CheckpointTests
{
    // TorchSharp's optimizers (the learner wraps them in an OptimWrapper), and fastai's below.
    private static readonly Func<IEnumerable<Parameter>, double, optim.Optimizer> Adam = (ps, lr) => optim.Adam(ps, lr);
    private static readonly Func<IEnumerable<Parameter>, double, optim.Optimizer> SgdMomentum = (ps, lr) => optim.SGD(ps, lr, momentum: 0.9);

    private static Learner NewLearner(string path, Func<ParameterGroups, double, optim.Optimizer>? opt, int modelSeed = 0, IEnumerable<Callback>? cbs = null)
    {
        // Shuffle off: every fit sees the same batches in the same order, so a resumed fit can match an uninterrupted one.
        var learn = new Learner(TestData.RegressionDls(n: 96, shuffle: false), TestData.LinearModel(seed: modelSeed), TestData.Mse,
            optFunc: opt, lr: 0.05, cbs: cbs, path: path) { Logger = null, MessageWriter = null };
        return learn;
    }

    [Test]
    public void Save_and_Load_round_trip_the_weights()
    {
        using var dir = NewTempDir();
        using var a = NewLearner(dir.Path, Adam);
        a.Fit(1);
        var file = a.Save("ck");
        Assert.That(file, Is.EqualTo(System.IO.Path.Combine(dir.Path, "models", "ck.pt")));
        using var b = NewLearner(dir.Path, Adam, modelSeed: 9);
        Assert.That(SameWeights(Weights(a.Model), Weights(b.Model)), Is.False);
        b.Load("ck");
        Assert.That(SameWeights(Weights(a.Model), Weights(b.Model)), Is.True);

        // The model part is TorchSharp's own format.
        var plain = TestData.LinearModel(seed: 5);
        plain.load(file);
        Assert.That(SameWeights(Weights(a.Model), Weights(plain)), Is.True);
    }

    private static Func<ParameterGroups, double, optim.Optimizer>? OptFunc(string which) => which switch
    {
        "adam" => Adam,
        "sgd-momentum" => SgdMomentum,
        "fastai-adam" => null, // the learner's default
        "fastai-sgd" => Optimizers.SGD(mom: 0.9),
        "fastai-lookahead-radam" => Optimizers.Ranger(),
        _ => throw new ArgumentOutOfRangeException(nameof(which)),
    };

    [TestCase("adam")]
    [TestCase("sgd-momentum")]
    [TestCase("fastai-adam")]
    [TestCase("fastai-sgd")]
    [TestCase("fastai-lookahead-radam")]
    public void Optimizer_state_round_trips_so_training_continues_identically(string which)
    {
        var opt = OptFunc(which);
        using var dir = NewTempDir();
        using var a = NewLearner(dir.Path, opt);
        a.Fit(2);
        a.Save("ck", withOpt: true);
        using var b = NewLearner(dir.Path, opt, modelSeed: 9);
        b.Load("ck", withOpt: true);
        a.Fit(1);
        b.Fit(1);
        Assert.That(SameWeights(Weights(a.Model), Weights(b.Model)), Is.True, "same weights and same optimizer state give the same next epoch");

        // Without the optimizer state the next epoch differs (momentum/Adam moments start from zero).
        using var c = NewLearner(dir.Path, opt, modelSeed: 9);
        c.Load("ck", withOpt: false);
        c.Fit(1);
        Assert.That(SameWeights(Weights(a.Model), Weights(c.Model)), Is.False);
    }

    [Test]
    public void Resuming_from_a_checkpoint_continues_like_an_uninterrupted_fit()
    {
        using var dir = NewTempDir();
        // Uninterrupted: 4 epochs.
        using var whole = NewLearner(dir.Path, Adam);
        whole.Fit(4);
        var wholeValid = whole.Recorder!.Values.Select(r => r[1]).ToArray();

        // Interrupted: checkpoint every epoch (with the optimizer), "crash" as epoch 2 begins.
        var crash = Callback.Create((Event.BeforeEpoch, l => { if (l.Epoch == 2) throw new InvalidOperationException("crash"); }));
        using var first = NewLearner(dir.Path, Adam, cbs: [new SaveModelCallback(everyEpoch: 1, withOpt: true, fname: "run"), crash]);
        Assert.Throws<CallbackException>(() => first.Fit(4));

        // Resume in a new process: a fresh learner (another initialisation), load epoch 1's checkpoint, fit from epoch 2.
        using var resumed = NewLearner(dir.Path, Adam, modelSeed: 7);
        resumed.Load("run_1", withOpt: true);
        var epochs = new List<int>();
        resumed.Fit(4, startEpoch: 2, cbs: [Callback.Create((Event.BeforeEpoch, l => epochs.Add(l.Epoch)))]);

        Assert.That(epochs, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(resumed.Recorder!.Values.Select(r => r[1]), Is.EqualTo(wholeValid[2..]), "valid losses of epochs 2 and 3 are identical");
        Assert.That(SameWeights(Weights(resumed.Model), Weights(whole.Model)), Is.True, "final weights are identical");
    }

    [Test]
    public void A_save_that_fails_midway_leaves_the_previous_checkpoint_intact()
    {
        using var dir = NewTempDir();
        using var learn = NewLearner(dir.Path, Adam);
        learn.Fit(1);
        var saved = Weights(learn.Model);
        var file = learn.Save("ck");
        var goodBytes = File.ReadAllBytes(file);
        learn.Fit(1); // new weights to save

        AtomicFile.BeforeCommit = stream =>
        {
            stream.SetLength(stream.Length / 2); // half written...
            throw new IOException("disk full (simulated)"); // ...then the process dies
        };
        try
        {
            var ex = Assert.Throws<IOException>(() => learn.Save("ck"));
            Assert.That(ex!.Message, Does.Contain("simulated"));
        }
        finally
        {
            AtomicFile.BeforeCommit = null;
        }

        Assert.That(File.ReadAllBytes(file), Is.EqualTo(goodBytes), "the old checkpoint is untouched");
        Assert.That(Directory.GetFiles(System.IO.Path.GetDirectoryName(file)!), Is.EqualTo(new[] { file }), "no temporary file is left");
        using var other = NewLearner(dir.Path, Adam, modelSeed: 3);
        other.Load("ck");
        Assert.That(SameWeights(Weights(other.Model), saved), Is.True, "and it loads");

        // A normal save afterwards replaces it.
        learn.Save("ck");
        other.Load("ck");
        Assert.That(SameWeights(Weights(other.Model), Weights(learn.Model)), Is.True);
    }

    [Test]
    public void Load_errors_and_messages_are_clear()
    {
        using var dir = NewTempDir();
        using var learn = NewLearner(dir.Path, Adam);
        var missing = Assert.Throws<FileNotFoundException>(() => learn.Load("nope"));
        Assert.That(missing!.Message, Does.Contain("nope").And.Contain("Save"));

        var messages = new List<string>();
        learn.MessageWriter = messages.Add;
        learn.Save("model-only", withOpt: false);
        learn.Load("model-only", withOpt: true);
        Assert.That(messages, Is.EqualTo(new[] { "Saved file doesn't contain an optimizer state." }));

        learn.Fit(1);
        learn.Save("adam");
        using var sgd = NewLearner(dir.Path, SgdMomentum);
        var wrong = Assert.Throws<InvalidOperationException>(() => sgd.Load("adam"));
        Assert.That(wrong!.Message, Does.Contain("withOpt: false"));
        Assert.Throws<ArgumentException>(() => learn.Save(""));
    }

    [Test]
    public void A_checkpoint_of_another_optimizer_is_refused_and_the_model_is_put_back()
    {
        using var dir = NewTempDir();
        using var adam = NewLearner(dir.Path, null);
        adam.Fit(1);
        adam.Save("fastai-adam");
        using var sgd = NewLearner(dir.Path, Optimizers.SGD(mom: 0.9), modelSeed: 4);
        sgd.Fit(1);
        var before = Weights(sgd.Model);
        var lr = sgd.Opt!.GetHyper("lr");
        var ex = Assert.Throws<InvalidOperationException>(() => sgd.Load("fastai-adam"))!;
        Assert.That(ex.Message, Does.Contain("Adam").And.Contain("SGD").And.Contain("withOpt: false").And.Contain("model is as it was"));
        Assert.That(SameWeights(Weights(sgd.Model), before), Is.True, "the model is as it was before the Load");
        Assert.That(sgd.Opt.GetHyper("lr"), Is.EqualTo(lr));
        sgd.Load("fastai-adam", withOpt: false);
        Assert.That(SameWeights(Weights(sgd.Model), Weights(adam.Model)), Is.True, "the model part loads on its own");
    }

    [Test]
    public void Save_with_the_optimizer_then_Load_resumes_a_one_cycle_fit_exactly()
    {
        using var dir = NewTempDir();
        using var whole = NewLearner(dir.Path, null);
        whole.FitOneCycle(3, 1e-2);

        using var first = NewLearner(dir.Path, null, cbs: [new SaveModelCallback(everyEpoch: 1, withOpt: true, fname: "cycle")]);
        first.FitOneCycle(3, 1e-2, cbs: [Callback.Create((Event.BeforeEpoch, l => { if (l.Epoch == 1) throw new CancelFitException(); }))]);

        using var resumed = NewLearner(dir.Path, null, modelSeed: 5);
        resumed.Load("cycle_0");
        Assert.That(resumed.Opt!.State.Select(s => s.Step), Is.All.EqualTo(5), "the optimizer's step counts came back (5 batches in epoch 0)");
        resumed.FitOneCycle(3, 1e-2, startEpoch: 1);
        Assert.That(SameWeights(Weights(resumed.Model), Weights(whole.Model)), Is.True, "bit for bit the uninterrupted fit's weights");
        Assert.That(resumed.Opt.State.Select(s => s.Step), Is.All.EqualTo(15));
    }

    [Test]
    public void Checkpoints_holding_torchsharps_optimizer_state_still_load_into_a_torchsharp_optimizer()
    {
        // Before FastCallbacks had its own optimizers, Save wrote TorchSharp's save_state_dict after the marker.
        using var dir = NewTempDir();
        using var a = NewLearner(dir.Path, Adam);
        a.Fit(2);
        var file = a.CheckpointPath("old");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        using (var stream = File.Create(file))
        using (var writer = new BinaryWriter(stream))
        {
            a.Model.save(writer);
            writer.Write("FastCallbacks.optimizer");
            ((OptimizerHelper)((OptimWrapper)a.Opt!).Opt).save_state_dict(writer);
        }
        using var b = NewLearner(dir.Path, Adam, modelSeed: 9);
        b.Load("old");
        a.Fit(1);
        b.Fit(1);
        Assert.That(SameWeights(Weights(a.Model), Weights(b.Model)), Is.True);

        using var ours = NewLearner(dir.Path, null);
        Assert.That(() => ours.Load("old"), Throws.InvalidOperationException.With.Message.Contains("TorchSharp's Adam state"));
    }
}
