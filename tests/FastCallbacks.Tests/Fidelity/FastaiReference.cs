using System.Text.Json;
using TorchSharp.Modules;

namespace FastCallbacks.Tests.Fidelity;

/// <summary>The recorded fastai outputs in Fidelity/Data (copied from the team's shared/fastai-reference).</summary>
public static class FastaiReference
{
    public static JsonElement Load(string file)
    {
        var path = System.IO.Path.Combine(AppContext.BaseDirectory, "Fidelity", "Data", file);
        Assert.That(File.Exists(path), Is.True, $"{path} is missing; the test project copies Fidelity/Data/*.json to its output.");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <summary>A nested list of numbers, flattened in row-major order.</summary>
    public static double[] Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array
        ? e.EnumerateArray().SelectMany(Flat).ToArray()
        : [e.GetDouble()];

    /// <summary>A per-batch list of per-group values: [batch][group].</summary>
    public static double[][] PerBatch(JsonElement e) => e.EnumerateArray().Select(Doubles).ToArray();

    /// <summary>The largest relative difference |a − b| / max(|b|, floor) (|a − b| where that is 0).</summary>
    public static double MaxRelDiff(IReadOnlyList<double> actual, IReadOnlyList<double> expected, double floor = 0)
    {
        Assert.That(actual, Has.Count.EqualTo(expected.Count), "as many values as fastai's");
        var max = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            var d = Math.Abs(actual[i] - expected[i]);
            var scale = Math.Max(Math.Abs(expected[i]), floor);
            max = Math.Max(max, scale == 0 ? d : d / scale);
        }
        return max;
    }

    /// <summary>
    /// Asserts every value is within <paramref name="rel"/> relative of fastai's, measured against
    /// max(|fastai's value|, <paramref name="floor"/>), and reports the largest difference.
    /// </summary>
    public static void AssertClose(IReadOnlyList<double> actual, IReadOnlyList<double> expected, double rel, string what, double floor = 0)
    {
        var max = MaxRelDiff(actual, expected, floor);
        TestContext.Out.WriteLine($"{what}: {expected.Count} values, max relative difference {max:G3}" +
            (floor > 0 ? $" (against max(|value|, {floor:G2}); strictly relative {MaxRelDiff(actual, expected):G3})" : ""));
        for (var i = 0; i < expected.Count; i++)
        {
            var scale = Math.Max(Math.Abs(expected[i]), floor);
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(scale == 0 ? rel : rel * scale), $"{what}[{i}]");
        }
    }

    /// <summary>parity_inputs.json's model, Sequential(Linear(3,4), ReLU, Linear(4,2)), with its recorded initial weights.</summary>
    public static Sequential ParityModel(JsonElement inputs)
    {
        var model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2));
        var weights = inputs.GetProperty("initial_weights");
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            using var value = tensor(Flat(weights.GetProperty(name)).Select(v => (float)v).ToArray()).reshape(p.shape);
            p.copy_(value);
        }
        return model;
    }

    /// <summary>parity_inputs.json's data: batches of 32, no shuffle, nothing dropped, validation batches of 32.</summary>
    public static DataLoaders ParityData(JsonElement inputs)
    {
        Tensor X(string name) => tensor(inputs.GetProperty(name).EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => (float)v.GetDouble()).ToArray())
            .reshape(-1, 3);
        Tensor Y(string name) => tensor(inputs.GetProperty(name).EnumerateArray().Select(v => v.GetInt64()).ToArray());
        var bs = inputs.GetProperty("batch_size").GetInt32();
        var train = new TensorDataLoader([X("x_train")], [Y("y_train")], bs, shuffle: false, dropLast: false);
        var valid = new TensorDataLoader([X("x_valid")], [Y("y_valid")], inputs.GetProperty("valid_batch_size").GetInt32());
        return new DataLoaders(train, valid);
    }

    /// <summary>A model's parameters by state_dict name, flattened.</summary>
    public static Dictionary<string, double[]> Weights(nn.Module model) =>
        model.named_parameters().ToDictionary(np => np.name, np => np.parameter.detach().cpu().data<float>().Select(v => (double)v).ToArray());
}
