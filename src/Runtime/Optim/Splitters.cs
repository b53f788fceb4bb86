using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// Splitters: functions from a model to its parameter groups (fastai's <c>splitter</c>), for
/// <c>new Learner(..., splitter: ...)</c>. The last group is the head: <see cref="Learner.Freeze"/> trains only it,
/// and <see cref="PerGroup.Slice(double, double)"/> gives it the highest rate.
/// </summary>
public static class Splitters
{
    /// <summary>fastai's default, <c>trainable_params</c>: one group of every parameter that requires a gradient.</summary>
    public static Func<nn.Module, IEnumerable<IEnumerable<Parameter>>> TrainableParams { get; } =
        static model => [model.parameters().Where(p => p.requires_grad).ToArray()];

    /// <summary>
    /// Splits the model's direct children (the layers of a <c>Sequential</c>) into groups that start at the given
    /// child indices: <c>ByChildren(3)</c> makes children 0–2 the body and the rest the head; <c>ByChildren(2, 5)</c>
    /// makes three groups. A group's parameters are those of its children.
    /// </summary>
    /// <param name="groupStarts">The index of the first child of every group but the first, increasing, each
    /// between 1 and the number of children − 1.</param>
    /// <exception cref="ArgumentException">No index is given, or they do not increase.</exception>
    public static Func<nn.Module, IEnumerable<IEnumerable<Parameter>>> ByChildren(params int[] groupStarts)
    {
        ArgumentNullException.ThrowIfNull(groupStarts);
        if (groupStarts.Length == 0)
            throw new ArgumentException("Give the index of the first child of each group after the first, for example ByChildren(3).", nameof(groupStarts));
        for (var i = 0; i < groupStarts.Length; i++)
        {
            if (groupStarts[i] < 1 || (i > 0 && groupStarts[i] <= groupStarts[i - 1]))
                throw new ArgumentException(
                    $"ByChildren: the group starts must increase from 1 on; got [{string.Join(", ", groupStarts)}].", nameof(groupStarts));
        }
        var starts = (int[])groupStarts.Clone();
        return model =>
        {
            var children = model.children().ToArray();
            if (starts[^1] >= children.Length)
                throw new ArgumentException(
                    $"ByChildren({string.Join(", ", starts)}): the model has {children.Length} children, so the last group would be empty. " +
                    $"Use starts below {children.Length}.");
            var bounds = new[] { 0 }.Concat(starts).Append(children.Length).ToArray();
            return Enumerable.Range(0, bounds.Length - 1)
                .Select(g => (IEnumerable<Parameter>)children[bounds[g]..bounds[g + 1]].SelectMany(c => c.parameters()).ToArray())
                .ToArray();
        };
    }

    /// <summary>
    /// fastai's <c>norm_bias_params</c>: the parameters of normalization layers (BatchNorm, InstanceNorm,
    /// LayerNorm) and, with <paramref name="withBias"/>, every module's own <c>bias</c>.
    /// </summary>
    /// <param name="model">The model whose modules are searched, all the way down (a normalization layer gives all its parameters).</param>
    /// <param name="withBias">Include the biases of the other layers.</param>
    public static IReadOnlyList<Parameter> NormBiasParams(nn.Module model, bool withBias = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<Parameter>();
        Collect(model, withBias, result);
        return result;
    }

    private static void Collect(nn.Module m, bool withBias, List<Parameter> into)
    {
        if (IsNorm(m))
        {
            into.AddRange(m.parameters());
            return;
        }
        foreach (var child in m.children()) Collect(child, withBias, into);
        if (!withBias) return;
        foreach (var (name, p) in m.named_parameters(recurse: false))
        {
            if (name == "bias") into.Add(p);
        }
    }

    /// <summary>fastai's <c>norm_types</c>.</summary>
    private static bool IsNorm(nn.Module m) =>
        m is BatchNorm1d or BatchNorm2d or BatchNorm3d or InstanceNorm1d or InstanceNorm2d or InstanceNorm3d or LayerNorm;
}
