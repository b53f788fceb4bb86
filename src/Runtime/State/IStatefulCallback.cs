namespace FastCallbacks;

/// <summary>
/// A callback whose state a training checkpoint keeps (see <see cref="CheckpointCallback"/> and <c>resumeFrom:</c> of
/// <see cref="Learner.Fit"/>): what it has learned during the fit that a resumed fit must not lose, such as a tracker's
/// best value, a counter, a history. Mark fields and properties <see cref="PersistAttribute">[Persist]</see> in a
/// <c>partial</c> callback and the source generator implements it; implement it by hand for anything else.
/// </summary>
/// <remarks>
/// <para>A resumed fit calls <see cref="LoadState"/> after the BeforeFit handlers have run (so a reset there does not
/// undo it) and, when the checkpoint was taken in the middle of an epoch, again after the BeforeTrain handlers of that
/// epoch: set values, do not add to them. Before the fit starts, the learner also loads every state once to check it
/// and puts the previous one back, so a state that does not fit fails the fit before anything changed.</para>
/// <para>The state is keyed by the callback's <see cref="Callback.Name"/> in the checkpoint; the fit that resumes must
/// have the same stateful callbacks.</para>
/// </remarks>
public interface IStatefulCallback
{
    /// <summary>Writes the callback's state. Called between events, never during one.</summary>
    /// <param name="state">Where to write: one entry per value, by name.</param>
    void SaveState(StateDict state);

    /// <summary>
    /// Reads a state that <see cref="SaveState"/> wrote. Read everything first, then assign, so that a state that does
    /// not fit (<see cref="StateDict.Get{T}(string, StateCodec{T})"/> throws an <see cref="InvalidDataException"/> naming
    /// the entry) changes nothing.
    /// </summary>
    /// <param name="state">What <see cref="SaveState"/> wrote.</param>
    /// <exception cref="InvalidDataException">The state does not fit this callback.</exception>
    void LoadState(StateDict state);
}

/// <summary>
/// Marks a field or property of a <c>partial</c> callback as part of its saved state: the source generator writes
/// <see cref="IStatefulCallback.SaveState"/> and <see cref="IStatefulCallback.LoadState"/> for the marked members (and
/// the class's base, when it persists too), so a training checkpoint keeps them and a resumed fit gets them back.
/// </summary>
/// <remarks>
/// <para>Persistable types: <c>bool</c>, the integer and floating-point types, <c>decimal</c>, <c>char</c>, <c>string</c>,
/// enums, <c>TimeSpan</c>, <c>DateTime</c>, <c>DateTimeOffset</c>, <c>Guid</c>, TorchSharp's <c>Tensor</c>, nullable
/// versions of these, and arrays, <c>List&lt;T&gt;</c>, <c>IReadOnlyList&lt;T&gt;</c>, <c>Dictionary&lt;string, T&gt;</c> and
/// <c>IReadOnlyDictionary&lt;string, T&gt;</c> of persistable types. The member must be assignable (a field that is not
/// <c>readonly</c>, a property with a setter that is not <c>init</c>), except a <c>readonly</c> <c>List&lt;T&gt;</c> or
/// <c>Dictionary&lt;string, T&gt;</c> field, which is filled in place. Analyzer FCB0009 reports a member it cannot save.</para>
/// <para>A class that needs more can add to the generated methods: it implements <c>partial void OnSaveState(StateDict state)</c>
/// and <c>partial void OnLoadState(StateDict state)</c>, which the generated methods call (the load before assigning the
/// members).</para>
/// </remarks>
/// <example>
/// <code>
/// public partial class CountBatches : Callback
/// {
///     [Persist] private int _seen;
///
///     [On(Event.AfterBatch)]
///     void Count() { if (Training) _seen++; }
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class PersistAttribute : Attribute
{
    /// <summary>Persists the member under its own name.</summary>
    public PersistAttribute() { }

    /// <summary>Persists the member under <paramref name="key"/> (to keep loading checkpoints after a rename, or to part two members of one name).</summary>
    /// <param name="key">The entry's name in the callback's state.</param>
    public PersistAttribute(string key) => Key = key;

    /// <summary>The entry's name in the state, or null for the member's name.</summary>
    public string? Key { get; }
}
