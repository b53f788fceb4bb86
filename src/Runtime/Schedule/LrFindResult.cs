namespace FastCallbacks;

/// <summary>
/// What <see cref="Learner.LrFind"/> found: the learning rate and smoothed loss of every batch of the run, and the
/// suggested learning rates (fastai's <c>SuggestedLRs</c>).
/// </summary>
public sealed partial class LrFindResult
{
    internal LrFindResult(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, IReadOnlyList<Suggestion> suggestions)
    {
        Lrs = lrs;
        Losses = losses;
        Suggestions = suggestions;
    }

    /// <summary>The learning rate of each batch of the run.</summary>
    public IReadOnlyList<double> Lrs { get; }

    /// <summary>The smoothed training loss after each batch of the run.</summary>
    public IReadOnlyList<double> Losses { get; }

    /// <summary>The suggestions, in the order the methods were given.</summary>
    public IReadOnlyList<Suggestion> Suggestions { get; }

    /// <summary>The learning rate suggested by the method named <paramref name="name"/> (<c>"valley"</c>, …).</summary>
    /// <param name="name">A method's <see cref="SuggestionMethod.Name"/>: <c>"valley"</c>, <c>"slide"</c>,
    /// <c>"minimum"</c> or <c>"steep"</c>, among those passed to <c>LrFind</c>.</param>
    /// <exception cref="KeyNotFoundException">No method of that name was run.</exception>
    public double this[string name] => Suggestions.FirstOrDefault(s => s.Name == name)?.Lr
        ?? throw new KeyNotFoundException(
            $"LrFind ran no suggestion method named `{name}`; it ran {string.Join(", ", Suggestions.Select(s => $"`{s.Name}`"))}. " +
            "Pass the method to LrFind(suggestions: [SuggestionMethod.Valley, SuggestionMethod.Steep, ...]).");

    /// <summary>The first suggestion's learning rate (the valley by default).</summary>
    /// <exception cref="InvalidOperationException">LrFind was asked for no suggestions.</exception>
    public double Lr => Suggestions.Count > 0
        ? Suggestions[0].Lr
        : throw new InvalidOperationException("LrFind was run with no suggestion methods; pass suggestions: [SuggestionMethod.Valley].");

    /// <inheritdoc/>
    public override string ToString() =>
        "SuggestedLRs(" + string.Join(", ", Suggestions) + ")";
}
