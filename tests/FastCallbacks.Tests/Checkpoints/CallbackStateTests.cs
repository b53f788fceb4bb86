using System.Text;
using System.Text.RegularExpressions;
using Spectre.Console.Testing;

namespace FastCallbacks.Tests.Checkpoints;

using static Library.LibraryData;

/// <summary>
/// Every standard stateful callback, one at a time: a fit stopped at a moment where the callback's state matters, and
/// resumed from the training checkpoint with a fresh instance of it, behaves as the uninterrupted fit (what the callback
/// decides, writes or records, compared exactly). Where the state decides something, the same resume without it (fastai's
/// way: <c>learn.Load</c> and <c>Fit(startEpoch:)</c>, which keep no callback state) is shown to behave otherwise, so the
/// test fails if the state is not saved or not loaded.
/// </summary>
public partial class CallbackStateTests
{
    /// <summary>A metric whose value at epoch n is values[n], by the learner's epoch (so a resumed fit sees the same numbers).</summary>
    private sealed class EpochScripted(string name, params double[] values) : Metric
    {
        private int _epoch;
        public override string Name => name;
        public override void Accumulate(Learner learn) => _epoch = learn.Epoch;
        public override double? Value => values[Math.Min(_epoch, values.Length - 1)];
    }

    private sealed class Crash() : Exception("crash");

    /// <summary>Throws at <paramref name="at"/> of <paramref name="epoch"/> (of its training batch <paramref name="batch"/>, unless it is -1).</summary>
    private sealed partial class Crasher(int epoch, int batch, Event at) : Callback
    {
        public override int Order => int.MaxValue;

        [On(Event.BeforeEpoch), On(Event.AfterBatch)]
        private void Maybe(Event e)
        {
            var learn = Attached;
            if (e != at || learn.Epoch != epoch || (batch >= 0 && (!learn.Training || learn.Iter != batch))) return;
            throw new Crash();
        }
    }

    /// <summary>
    /// One callback under test: how to make it, the fit, where to crash, and what it does that the test compares.
    /// <see cref="FastaiDiffers"/>: the fastai-style resume (no callback state) is expected to end otherwise.
    /// </summary>
    public sealed record Case(
        string Name,
        Func<Callback> Make,
        double[] Scripted,
        int Epochs,
        (int Epoch, int Batch, Event At) CrashAt,
        Func<Learner, Run, string> Observe,
        bool OneCycle = false,
        bool FastaiDiffers = true,
        bool TrainMetrics = false,
        bool Progress = false)
    {
        public override string ToString() => Name;
    }

    /// <summary>A learner's run: its folder, the messages it printed, its console.</summary>
    public sealed record Run(string Dir, List<string> Messages, TestConsole Console);

    private static string D(double d) => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static string History(Recorder r) =>
        $"values: {string.Join(";", r.Values.Select(row => string.Join(",", row.Select(v => v is { } x ? D(x) : "null"))))}\n" +
        $"losses: {string.Join(",", r.Losses.Select(D))}\nlrs: {string.Join(",", r.Lrs.Select(D))}\niters: {string.Join(",", r.Iters)}\n" +
        $"hps: {string.Join(";", r.Hps.OrderBy(kv => kv.Key).Select(kv => kv.Key + "=" + string.Join(",", kv.Value.Select(D))))}";

    private static string WeightsText(Learner learn) =>
        string.Join(";", learn.Model.parameters().Select(p => Convert.ToHexString(p.detach().contiguous().bytes.ToArray())));

    private static string WithoutTime(string csv) =>
        string.Join("\n", csv.Split('\n').Select(line => line.LastIndexOf(',') is var i and >= 0 ? line[..i] : line));

    public static IEnumerable<Case> Cases() =>
    [
        // Scripted loss 5 4 4.5 4.2 3 1, patience 2: epoch 3 is the second without improvement. Resumed after epoch 2,
        // the wait of 1 and the best of epoch 1 must come back, or it stops later and names another epoch.
        new("EarlyStopping", () => new EarlyStoppingCallback("scripted_loss", patience: 2), [5, 4, 4.5, 4.2, 3, 1], 6, (3, -1, Event.BeforeEpoch),
            (l, r) => $"epochs run: {l.Recorder!.Values.Count}\nmessages: {string.Join("|", r.Messages)}"),
        // Scripted 3 1 2 5: the best is epoch 1's. Without its best the resumed tracker takes epoch 2's model as a new best.
        new("SaveModel", () => new SaveModelCallback("scripted_loss"), [3, 1, 2, 5], 4, (2, 1, Event.AfterBatch),
            (l, r) => $"best file: {Convert.ToHexString(File.ReadAllBytes(Path.Combine(r.Dir, "models", "model.pt")))}\nweights: {WeightsText(l)}"),
        // Scripted 5 4 4.5 4.6 4.7 4.8, patience 2: the rate drops after epoch 3; resumed after epoch 2 the wait of 1 must come back.
        new("ReduceLROnPlateau", () => new ReduceLROnPlateau("scripted_loss", patience: 2), [5, 4, 4.5, 4.6, 4.7, 4.8], 6, (3, -1, Event.BeforeEpoch),
            (l, r) => $"lrs: {string.Join(",", l.Recorder!.Lrs.Select(D))}\nmessages: {string.Join("|", r.Messages)}"),
        // FitOneCycle's ParamScheduler: its history of the fit (Recorder.Hps at the end) and the rates it sets after the resume.
        new("ParamScheduler", () => new NoOp(), [1], 4, (2, 2, Event.AfterBatch),
            (l, r) => $"hps: {string.Join(";", l.Recorder!.Hps.OrderBy(kv => kv.Key).Select(kv => kv.Key + "=" + string.Join(",", kv.Value.Select(D))))}\n" +
                $"weights: {WeightsText(l)}", OneCycle: true),
        new("Recorder", () => new NoOp(), [1], 4, (2, 2, Event.AfterBatch), (l, r) => History(l.Recorder!)),
        // Training metrics (an AvgMetric, an AccumMetric) accumulated over the first batches of the epoch: their state, kept by the Recorder.
        new("Metrics (training, mid-epoch)", () => new NoOp(), [1], 3, (1, 2, Event.AfterBatch), (l, r) => History(l.Recorder!), TrainMetrics: true),
        new("CsvLogger", () => new CsvLogger(), [1], 4, (2, 1, Event.AfterBatch),
            (l, r) => WithoutTime(File.ReadAllText(Path.Combine(r.Dir, "history.csv")))),
        // 3 batches of 16 per epoch and nAcc 56: a step every 4th batch, so the count spans epochs (48 at the end of
        // epoch 0), and a crash after the 2nd batch of epoch 1 is between two steps (the gradients carry over, and so must the count).
        new("GradientAccumulation", () => new GradientAccumulation(nAcc: 56), [1], 3, (1, 1, Event.AfterBatch), (l, r) => WeightsText(l)),
        // The folder and the steps: the resumed fit writes on in the same folder, from the checkpoint's step.
        new("TensorBoard", () => new TensorBoardCallback("runs/tb"), [1], 3, (1, 1, Event.AfterBatch),
            (l, r) => TensorBoardScalars(Path.Combine(r.Dir, "runs")), FastaiDiffers: false),
        // The progress table: the resumed fit shows the rows of the epochs before the crash again, then its own.
        new("Progress", () => new NoOp(), [1], 4, (2, 1, Event.AfterBatch),
            (l, r) => string.Join("\n", Regex.Split(r.Console.Output.Replace("\r", ""), "\n")
                .Select(line => Regex.Replace(line.TrimEnd(), @"\d\d:\d\d$", "")).Where(line => Regex.IsMatch(line, @"^\d+\s"))), Progress: true),
    ];

    /// <summary>A callback that does nothing, for the cases whose callback is one the learner always has.</summary>
    private sealed partial class NoOp : Callback;

    private static Learner NewLearner(Case c, string dir, Run run, int modelSeed, params Callback[] extra)
    {
        Callback[] cbs = [c.Make(), new CheckpointCallback(everyNBatches: 1), .. extra];
        var learn = new Learner(TestData.RegressionDls(n: 64, shuffle: false), TestData.LinearModel(seed: modelSeed), TestData.Mse, lr: 0.05,
            metrics: c.TrainMetrics ? [new EpochScripted("scripted_loss", c.Scripted), Metrics.Mae(), Metrics.R2()] : [new EpochScripted("scripted_loss", c.Scripted)], path: dir, cbs: cbs, defaultCbs: false)
        {
            MessageWriter = run.Messages.Add,
        };
        learn.AddCbs([new TrainEvalCallback(), new Recorder(trainMetrics: c.TrainMetrics)]);
        if (c.Progress) learn.AddCb(new ProgressCallback(run.Console));
        else learn.Logger = null;
        return learn;
    }

    private static void Fit(Case c, Learner learn, string? resumeFrom = null, int startEpoch = 0)
    {
        if (c.OneCycle) learn.FitOneCycle(c.Epochs, lrMax: 0.05, resumeFrom: resumeFrom, startEpoch: startEpoch);
        else learn.Fit(c.Epochs, resumeFrom: resumeFrom, startEpoch: startEpoch);
    }

    private static Run NewRun(string dir) => new(dir, [], new TestConsole { EmitAnsiSequences = false }.Width(200));

    [TestCaseSource(nameof(Cases))]
    public void A_fresh_instance_given_the_saved_state_behaves_as_the_uninterrupted_one(Case c)
    {
        using var a = NewTempDir();
        using var b = NewTempDir();
        using var f = NewTempDir();

        var whole = NewRun(a.Path);
        string expected;
        using (var learn = NewLearner(c, a.Path, whole, modelSeed: 1))
        {
            Fit(c, learn);
            expected = c.Observe(learn, whole);
        }

        // Crashed: the callbacks of this learner die with it.
        using (var crashed = NewLearner(c, b.Path, NewRun(b.Path), modelSeed: 1, new Crasher(c.CrashAt.Epoch, c.CrashAt.Batch, c.CrashAt.At)))
        {
            var ex = Assert.Throws<CallbackException>(() => Fit(c, crashed));
            Assert.That(ex!.InnerException, Is.InstanceOf<Crash>());
        }
        var resumedRun = NewRun(b.Path);
        using (var resumed = NewLearner(c, b.Path, resumedRun, modelSeed: 7))
        {
            Fit(c, resumed, resumeFrom: "checkpoint");
            Assert.That(c.Observe(resumed, resumedRun), Is.EqualTo(expected));
        }

        if (!c.FastaiDiffers) return;
        // fastai's resume: the model and optimizer from the file, the fit from the crashed epoch, every callback fresh.
        // (A mid-epoch crash resumes from the start of its epoch.)
        using (var crashed = NewLearner(c, f.Path, NewRun(f.Path), modelSeed: 1, new Crasher(c.CrashAt.Epoch, -1, Event.BeforeEpoch)))
        {
            Assert.Throws<CallbackException>(() => Fit(c, crashed));
        }
        var fastaiRun = NewRun(f.Path);
        using var fastai = NewLearner(c, f.Path, fastaiRun, modelSeed: 7);
        fastai.Load("checkpoint");
        Fit(c, fastai, startEpoch: c.CrashAt.Epoch);
        Assert.That(c.Observe(fastai, fastaiRun), Is.Not.EqualTo(expected), "without the callback's state the resumed fit behaves otherwise");
    }

    [TestCaseSource(nameof(Cases))]
    public void The_saved_state_round_trips_through_a_fresh_instance(Case c)
    {
        // Every stateful callback of a finished fit (the case's, and the learner's own): saved, loaded into a fresh
        // instance (of a learner that has not trained), saved again, byte for byte the same; and not a fresh one's state.
        using var dir = NewTempDir();
        using var other = NewTempDir();
        using var learn = NewLearner(c, dir.Path, NewRun(dir.Path), modelSeed: 1);
        Fit(c, learn);
        using var freshLearner = NewLearner(c, other.Path, NewRun(other.Path), modelSeed: 1);
        var fresh = TrainingCheckpoint.StatefulCallbacks(freshLearner).ToDictionary(s => s.Key, s => (IStatefulCallback)s.Callback);
        var stateful = TrainingCheckpoint.StatefulCallbacks(learn).Where(s => s.Callback is not CheckpointCallback).ToList();
        Assert.That(stateful.Select(s => s.Key), Is.SubsetOf(fresh.Keys).And.Not.Empty);
        foreach (var (key, cb) in stateful)
        {
            var saved = new StateDict();
            ((IStatefulCallback)cb).SaveState(saved);
            var untrained = new StateDict();
            fresh[key].SaveState(untrained);
            fresh[key].LoadState(saved);
            var again = new StateDict();
            fresh[key].SaveState(again);
            Assert.That(again.ToBytes(), Is.EqualTo(saved.ToBytes()), $"{key}: {saved} against {again}");
            Assert.That(saved.ToBytes(), Is.Not.EqualTo(untrained.ToBytes()), $"{key}'s state after a fit is not a fresh one's");
        }
    }

    /// <summary>Every scalar of the event files under <paramref name="runs"/>: folder, tag, step and value, one per line, sorted.</summary>
    private static string TensorBoardScalars(string runs)
    {
        var points = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(runs, "events.out.tfevents.*", SearchOption.AllDirectories))
        {
            var folder = Path.GetRelativePath(runs, Path.GetDirectoryName(file)!);
            foreach (var (tag, step, value) in TfEvents.Scalars(File.ReadAllBytes(file))) points.Add($"{folder} {tag} {step} {D(value)}");
        }
        return string.Join("\n", points);
    }

    /// <summary>Reads the scalars of a TensorBoard event file (TFRecord frames of Event protobufs).</summary>
    private static class TfEvents
    {
        public static IEnumerable<(string Tag, long Step, float Value)> Scalars(byte[] file)
        {
            var list = new List<(string, long, float)>();
            for (var pos = 0; pos + 12 <= file.Length;)
            {
                var length = (int)BitConverter.ToUInt64(file, pos);
                var data = file.AsSpan(pos + 12, length).ToArray();
                pos += 12 + length + 4;
                long step = 0;
                var values = new List<(string, float)>();
                foreach (var (field, wire, v, bytes) in Fields(data))
                {
                    if (field == 2 && wire == 0) step = (long)v;
                    if (field != 5 || wire != 2) continue;
                    foreach (var (vf, vw, _, value) in Fields(bytes!))
                    {
                        if (vf != 1 || vw != 2) continue;
                        string? tag = null;
                        float? simple = null;
                        foreach (var (f, w, raw, b) in Fields(value!))
                        {
                            if (f == 1 && w == 2) tag = Encoding.UTF8.GetString(b!);
                            if (f == 2 && w == 5) simple = BitConverter.Int32BitsToSingle((int)raw);
                        }
                        if (tag is not null && simple is { } s) values.Add((tag, s));
                    }
                }
                foreach (var (tag, value) in values) list.Add((tag, step, value));
            }
            return list;
        }

        private static List<(int Field, int Wire, ulong Value, byte[]? Bytes)> Fields(byte[] data)
        {
            var fields = new List<(int, int, ulong, byte[]?)>();
            var i = 0;
            while (i < data.Length)
            {
                var key = Varint(data, ref i);
                var (field, wire) = ((int)(key >> 3), (int)(key & 7));
                switch (wire)
                {
                    case 0: fields.Add((field, wire, Varint(data, ref i), null)); break;
                    case 1: fields.Add((field, wire, BitConverter.ToUInt64(data, i), null)); i += 8; break;
                    case 5: fields.Add((field, wire, BitConverter.ToUInt32(data, i), null)); i += 4; break;
                    case 2:
                        var n = (int)Varint(data, ref i);
                        fields.Add((field, wire, 0, data[i..(i + n)]));
                        i += n;
                        break;
                    default: throw new InvalidDataException($"wire type {wire}");
                }
            }
            return fields;
        }

        private static ulong Varint(byte[] data, ref int i)
        {
            ulong v = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[i++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }
    }
}
