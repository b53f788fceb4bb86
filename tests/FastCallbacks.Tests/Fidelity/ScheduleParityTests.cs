using System.Text.Json;
using TorchSharp.Modules;

namespace FastCallbacks.Tests.Fidelity;

/// <summary>
/// fastai's schedules, every parameter group: schedules.json holds, per training batch, each group's lr and mom, the
/// schedule position and the Recorder's lrs/hps of <c>fit_one_cycle(3, 1e-2)</c>, <c>fit_flat_cos(3, 1e-2)</c> and
/// <c>fit(2, 1e-2)</c> on a two-group model with 10 training batches per epoch. The same calls here give the same
/// numbers (pure arithmetic, to 1e-9).
/// </summary>
public partial class ScheduleParityTests
{
    private const double Rel = 1e-9;

    /// <summary>fastai's HyperLog: at before_batch, after the scheduler (order 60), every group's hypers and the position.</summary>
    public sealed partial class HyperLog : Callback
    {
        public List<Dictionary<string, double>[]> Hypers { get; } = [];
        public List<double> PctTrains { get; } = [];
        public List<int> Epochs { get; } = [];
        public List<int> Iters { get; } = [];
        public bool[] TrainableGroups { get; private set; } = [];

        public void SetTrainable(bool[] trainable) => TrainableGroups = trainable;

        public override int Order => 100;

        [On(Event.BeforeFit)]
        private void Trainable() => TrainableGroups = Opt!.ParamLists.Select(g => g.All(p => p.requires_grad)).ToArray();

        [On(Event.BeforeBatch)]
        private void Record()
        {
            if (!Training) return;
            Hypers.Add(Opt!.Hypers.Select(h => h.ToDictionary(kv => kv.Key, kv => kv.Value)).ToArray());
            PctTrains.Add(Learn!.PctTrain);
            Epochs.Add(Epoch);
            Iters.Add(Iter);
        }

    }

    /// <summary>Sequential(Linear(1,4), ReLU, Linear(4,1)) split into [0] and [2], MSELossFlat, 10 training batches of 16.</summary>
    public static Learner TwoGroupLearner(params Callback[] cbs)
    {
        manual_seed(0);
        var x = randn(176, 1);
        var y = x * 2 + 1;
        var train = new TensorDataLoader([x.narrow(0, 0, 160)], [y.narrow(0, 0, 160)], 16);
        var valid = new TensorDataLoader([x.narrow(0, 160, 16)], [y.narrow(0, 160, 16)], 16);
        var model = nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1));
        var learn = new Learner(new DataLoaders(train, valid), model, new MSELossFlat(), splitter: Splitters.ByChildren(2), cbs: cbs) { Logger = null };
        learn.RemoveCbs<ProgressCallback>();
        return learn;
    }

    [TestCase("fit_one_cycle(3, lr_max=1e-2)")]
    [TestCase("fit_flat_cos(3, lr=1e-2)")]
    [TestCase("fit(2, lr=1e-2)")]
    public void Every_groups_hyper_parameters_match_fastai_batch_by_batch(string call)
    {
        var run = FastaiReference.Load("schedules.json").GetProperty("runs").GetProperty(call);
        var log = new HyperLog();
        using var learn = TwoGroupLearner(log);
        switch (call)
        {
            case "fit_one_cycle(3, lr_max=1e-2)": learn.FitOneCycle(3, 1e-2); break;
            case "fit_flat_cos(3, lr=1e-2)": learn.FitFlatCos(3, 1e-2); break;
            default: learn.Fit(2, 1e-2); break;
        }
        Assert.That(learn.Dls.Train.Count, Is.EqualTo(run.GetProperty("n_training_batches_per_epoch").GetInt32()));
        var fit = run.GetProperty("fits")[0];
        AssertFit(learn, log, fit);
    }

    /// <summary>Compares one fit's log with one entry of schedules.json's <c>fits</c>.</summary>
    public static void AssertFit(Learner learn, HyperLog log, JsonElement fit)
    {
        Assert.That(learn.NEpoch, Is.EqualTo(fit.GetProperty("n_epoch").GetInt32()));
        Assert.That(log.Epochs, Is.EqualTo(fit.GetProperty("epoch").EnumerateArray().Select(e => e.GetInt32())));
        Assert.That(log.Iters, Is.EqualTo(fit.GetProperty("iter").EnumerateArray().Select(e => e.GetInt32())));
        FastaiReference.AssertClose(log.PctTrains, FastaiReference.Doubles(fit.GetProperty("pct_train")), Rel, "pct_train");
        var groups = learn.Opt!.GroupCount;
        foreach (var name in new[] { "lr", "mom" })
        {
            var expected = FastaiReference.PerBatch(fit.GetProperty(name));
            Assert.That(expected.All(b => b.Length == groups), $"fastai recorded {groups} groups");
            FastaiReference.AssertClose(log.Hypers.SelectMany(b => b.Select(g => g[name])).ToList(), expected.SelectMany(b => b).ToList(), Rel, $"{name} of every group");
        }
        Assert.That(log.TrainableGroups, Is.EqualTo(fit.GetProperty("trainable_groups").EnumerateArray().Select(e => e.GetBoolean())), "trainable groups at before_fit");
        var first = fit.GetProperty("hypers_first_batch").EnumerateArray().ToArray();
        for (var g = 0; g < first.Length; g++)
        {
            Assert.That(log.Hypers[0][g].Keys.Order(), Is.EqualTo(first[g].EnumerateObject().Select(p => p.Name).Order()), $"group {g}: fastai's hyper-parameter names");
            foreach (var p in first[g].EnumerateObject())
                Assert.That(log.Hypers[0][g][p.Name], Is.EqualTo(p.Value.GetDouble()).Within(Rel * Math.Abs(p.Value.GetDouble())), $"group {g} {p.Name} at the first batch");
        }
        FastaiReference.AssertClose(learn.Recorder!.Lrs, FastaiReference.Doubles(fit.GetProperty("recorder_lrs")), Rel, "Recorder.Lrs (the last group's)");
        var hps = fit.GetProperty("recorder_hps");
        Assert.That(learn.Recorder.Hps.Keys.Order(), Is.EqualTo(hps.EnumerateObject().Select(p => p.Name).Order()), "Recorder.Hps names");
        foreach (var p in hps.EnumerateObject())
            FastaiReference.AssertClose(learn.Recorder.Hps[p.Name], FastaiReference.Doubles(p.Value), Rel, $"Recorder.Hps[{p.Name}]");
    }
}
