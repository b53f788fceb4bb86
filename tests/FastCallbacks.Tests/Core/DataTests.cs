namespace FastCallbacks.Tests.Core;

public partial class DataTests
{
    private static (Tensor X, Tensor Y) Numbered(int n)
    {
        var x = arange(n, dtype: ScalarType.Float32).unsqueeze(1);
        return (x, x.clone());
    }

    private static long[] Rows(IEnumerable<Batch> batches) =>
        batches.SelectMany(b => b.Xb[0].squeeze(1).to_type(ScalarType.Int64).data<long>().ToArray()).ToArray();

    [Test]
    public void FromTensors_holds_out_round_n_times_validPct_rows_chosen_by_the_seed()
    {
        var (x, y) = Numbered(101);
        using var a = DataLoaders.FromTensors(x, y, batchSize: 10, validPct: 0.2, shuffle: false, seed: 1);
        using var b = DataLoaders.FromTensors(x, y, batchSize: 10, validPct: 0.2, shuffle: false, seed: 1);
        using var c = DataLoaders.FromTensors(x, y, batchSize: 10, validPct: 0.2, shuffle: false, seed: 2);

        Assert.That(a.Valid!.ItemCount, Is.EqualTo(20));
        Assert.That(a.Train.ItemCount, Is.EqualTo(81));
        var trainRows = Rows(a.Train);
        var validRows = Rows(a.Valid);
        Assert.That(trainRows.Concat(validRows).Order(), Is.EqualTo(Enumerable.Range(0, 101).Select(i => (long)i)), "a partition of the rows");
        Assert.That(Rows(b.Valid!), Is.EqualTo(validRows), "same seed, same split");
        Assert.That(Rows(c.Valid!), Is.Not.EqualTo(validRows), "another seed, another split");
        Assert.That(a.Valid.Count, Is.EqualTo(2), "validation batches are the training batch size, as fastai's");
        Assert.That(a.Train.Count, Is.EqualTo(9), "not shuffled: the last incomplete training batch is kept (fastai's drop_last = shuffle)");
    }

    [Test]
    public void FromTensors_drops_the_last_training_batch_when_shuffling_and_keeps_every_validation_row()
    {
        var (x, y) = Numbered(101);
        using var dls = DataLoaders.FromTensors(x, y, batchSize: 10, validPct: 0.25, seed: 1);
        Assert.That(dls.Train.ItemCount, Is.EqualTo(76));
        Assert.That(dls.Train.Count, Is.EqualTo(7), "76 shuffled rows: 7 full batches, the 6 left over dropped");
        Assert.That(Rows(dls.Train), Has.Length.EqualTo(70));
        Assert.That(dls.Valid!.Count, Is.EqualTo(3), "25 validation rows in batches of 10: 10, 10, 5");
        Assert.That(Rows(dls.Valid), Has.Length.EqualTo(25), "validation drops nothing");

        using var kept = DataLoaders.FromTensors(x, y, batchSize: 10, validPct: 0.25, seed: 1, dropLast: false, validBatchSize: 25);
        Assert.That(kept.Train.Count, Is.EqualTo(8), "dropLast: false keeps the tail");
        Assert.That(kept.Valid!.Count, Is.EqualTo(1), "validBatchSize overrides the default");
    }

    [Test]
    public void Shuffle_reorders_the_training_set_every_epoch_reproducibly_and_dropLast_drops_the_tail()
    {
        var (x, y) = Numbered(50);
        using var dls = DataLoaders.FromTensors(x, y, batchSize: 8, validPct: 0, shuffle: true, seed: 3, dropLast: true);
        using var again = DataLoaders.FromTensors(x, y, batchSize: 8, validPct: 0, shuffle: true, seed: 3, dropLast: true);
        Assert.That(dls.Valid, Is.Null);
        Assert.That(dls.Train.Count, Is.EqualTo(6));
        var epoch1 = Rows(dls.Train);
        var epoch2 = Rows(dls.Train);
        Assert.That(epoch1, Has.Length.EqualTo(48));
        Assert.That(epoch2, Is.Not.EqualTo(epoch1), "reshuffled each epoch");
        Assert.That(Rows(again.Train), Is.EqualTo(epoch1), "same seed, same order");
        Assert.That(Rows(dls.Train.Ordered()), Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)), "Ordered() yields every row in order");
    }

    [Test]
    public void Bad_splits_fail_clearly()
    {
        var (x, y) = Numbered(10);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => DataLoaders.FromTensors(x, y, validPct: 1))!.Message, Does.Contain("validPct"));
        Assert.That(Assert.Throws<ArgumentException>(() => DataLoaders.FromTensors(x, y[..5]))!.Message, Does.Contain("same number of rows"));
        Assert.That(Assert.Throws<ArgumentException>(() => DataLoaders.FromTensors(zeros(0, 1), zeros(0, 1)))!.Message, Does.Contain("no samples"));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataLoaders.FromTensors(x, y, batchSize: 0));
    }

    private sealed class SquaresDataset(int n) : utils.data.Dataset
    {
        public override long Count => n;

        public override Dictionary<string, Tensor> GetTensor(long index) => new()
        {
            ["data"] = tensor(new float[] { index }),
            ["label"] = tensor(new float[] { index * index }),
        };
    }

    [Test]
    public void A_TorchSharp_dataset_collates_into_batches_and_trains()
    {
        using var train = new SquaresDataset(20);
        var dl = new DatasetDataLoader(train, batchSize: 6, inputKeys: ["data"], targetKeys: ["label"]);
        Assert.That(dl.Count, Is.EqualTo(4));
        var first = dl.First();
        Assert.That(first.Xb[0].shape, Is.EqualTo(new long[] { 6, 1 }));
        Assert.That(first.Yb[0].data<float>().ToArray(), Is.EqualTo(new float[] { 0, 1, 4, 9, 16, 25 }));

        var trace = new TraceCallback();
        using var learn = new Learner(new DataLoaders(dl, new DatasetDataLoader(new SquaresDataset(4), 4, ["data"], ["label"])),
            TestData.LinearModel(1, 1), TestData.Mse, cbs: [trace]);
        learn.Fit(1);
        Assert.That(trace.Trace.Count(e => e == "before_batch"), Is.EqualTo(5));

        var missing = new DatasetDataLoader(train, 4, ["image"], []);
        Assert.That(Assert.Throws<KeyNotFoundException>(() => missing.First())!.Message, Does.Contain("'image'").And.Contain("data, label"));
    }
}
