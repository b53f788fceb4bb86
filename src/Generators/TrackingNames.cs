namespace FastCallbacks.Generators;

/// <summary>
/// Names given to the generator's pipeline steps with <c>WithTrackingName</c>, so tests can check that an
/// unrelated edit leaves every step cached.
/// </summary>
public static class TrackingNames
{
    /// <summary>
    /// The snapshot of the compilation's declarations (fingerprints of the text outside member bodies, options,
    /// references): unchanged after an edit inside a method body, so nothing after it binds.
    /// </summary>
    public const string Declarations = nameof(Declarations);

    /// <summary>Bind step: one result per candidate class chosen from syntax (null unless it is a callback class with something to generate).</summary>
    public const string CallbackClasses = nameof(CallbackClasses);

    /// <summary><see cref="CallbackClasses"/> without the nulls: one model per generated file.</summary>
    public const string ValidCallbackClasses = nameof(ValidCallbackClasses);
}
