using System.Collections;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// The model's parameters split into groups (fastai's <c>param_lists</c>), what a splitter returns and what
/// <see cref="Learner.OptFunc"/> receives. fastai's convention: the last group is the head, the groups before it
/// the body (<see cref="Learner.Freeze"/> freezes all but the last).
/// </summary>
/// <remarks>
/// It enumerates every parameter of every group in order, so an optimizer factory written for TorchSharp, such as
/// <c>(ps, lr) =&gt; optim.SGD(ps, lr)</c>, receives all the parameters; FastCallbacks' own optimizers (see
/// <see cref="Optimizers"/>) keep the groups.
/// </remarks>
public sealed class ParameterGroups : IEnumerable<Parameter>
{
    private readonly Parameter[][] _groups;

    /// <summary>Creates the groups.</summary>
    /// <param name="groups">The parameters of each group, first group first; at least one group.</param>
    /// <exception cref="ArgumentNullException"><paramref name="groups"/>, a group or a parameter is null.</exception>
    /// <exception cref="ArgumentException">There are no groups, or a parameter is in more than one group (or twice in one).</exception>
    public ParameterGroups(IEnumerable<IEnumerable<Parameter>> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var list = new List<Parameter[]>();
        foreach (var g in groups)
        {
            if (g is null) throw new ArgumentNullException(nameof(groups), $"Parameter group {list.Count} is null.");
            var ps = g.ToArray();
            for (var i = 0; i < ps.Length; i++)
                if (ps[i] is null) throw new ArgumentNullException(nameof(groups), $"Parameter {i} of group {list.Count} is null.");
            list.Add(ps);
        }
        if (list.Count == 0)
            throw new ArgumentException("There are no parameter groups; give at least one (for example [model.parameters()]).", nameof(groups));
        _groups = [.. list];
        var seen = new Dictionary<IntPtr, int>();
        for (var g = 0; g < _groups.Length; g++)
        {
            foreach (var p in _groups[g])
            {
                if (seen.TryGetValue(p.Handle, out var first))
                    throw new ArgumentException(
                        first == g
                            ? $"A parameter (shape [{string.Join(", ", p.shape)}]) is twice in group {g}; each parameter must be in exactly one group."
                            : $"A parameter (shape [{string.Join(", ", p.shape)}]) is in groups {first} and {g}; each parameter must be in exactly one group.",
                        nameof(groups));
                seen[p.Handle] = g;
            }
        }
        Groups = Array.AsReadOnly(_groups.Select(g => (IReadOnlyList<Parameter>)Array.AsReadOnly(g)).ToArray());
    }

    /// <summary>One group holding <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The group's parameters, in order (a model's <c>parameters()</c>, say); a
    /// <see cref="ParameterGroups"/> is returned as it is, keeping its groups.</param>
    public static ParameterGroups Single(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters as ParameterGroups ?? new ParameterGroups([parameters]);
    }

    /// <summary>The groups, first group first.</summary>
    public IReadOnlyList<IReadOnlyList<Parameter>> Groups { get; }

    /// <summary>The number of groups.</summary>
    public int Count => _groups.Length;

    /// <summary>The parameters of group <paramref name="index"/>.</summary>
    /// <param name="index">The group index.</param>
    public IReadOnlyList<Parameter> this[int index] => Groups[index];

    /// <summary>Every parameter, group by group.</summary>
    public IEnumerator<Parameter> GetEnumerator() => _groups.SelectMany(g => g).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal Parameter[][] Arrays => _groups;

    /// <summary>
    /// Runs <paramref name="splitter"/> on <paramref name="model"/> and checks what it returns against the model:
    /// every parameter that requires a gradient must be in exactly one group (a parameter left out would never be
    /// trained), and nothing else may be there.
    /// </summary>
    /// <exception cref="ArgumentException">The splitter's groups leave out a trainable parameter, repeat one, or hold
    /// one that is not the model's.</exception>
    internal static ParameterGroups Split(nn.Module model, Func<nn.Module, IEnumerable<IEnumerable<Parameter>>> splitter)
    {
        IEnumerable<IEnumerable<Parameter>> raw;
        try
        {
            raw = splitter(model) ?? throw new ArgumentException("The splitter returned null; return the model's parameters in groups.", nameof(splitter));
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new ArgumentException($"The splitter failed on the model: {e.Message}", nameof(splitter), e);
        }
        ParameterGroups groups;
        try
        {
            groups = new ParameterGroups(raw);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The splitter's groups are not valid: {e.Message}", nameof(splitter), e);
        }
        var names = new Dictionary<IntPtr, string>();
        foreach (var (name, p) in model.named_parameters()) names.TryAdd(p.Handle, name);
        var inGroups = new HashSet<IntPtr>();
        for (var g = 0; g < groups.Count; g++)
        {
            foreach (var p in groups[g])
            {
                if (!names.ContainsKey(p.Handle))
                    throw new ArgumentException(
                        $"The splitter's group {g} holds a parameter (shape [{string.Join(", ", p.shape)}]) that is not one of the model's; " +
                        "return only the model's own parameters.", nameof(splitter));
                inGroups.Add(p.Handle);
            }
        }
        var missing = model.named_parameters().Where(np => np.parameter.requires_grad && !inGroups.Contains(np.parameter.Handle))
            .Select(np => np.name).Distinct().ToList();
        if (missing.Count > 0)
            throw new ArgumentException(
                $"The splitter leaves out {missing.Count} of the model's trainable parameters ({string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}): " +
                "they would never be trained. Put every parameter in exactly one group (or set requires_grad = false on those you do not train).",
                nameof(splitter));
        return groups;
    }
}
