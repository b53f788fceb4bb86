namespace FastCallbacks.Generators;

/// <summary>
/// Names given to the generator's pipeline steps with <c>WithTrackingName</c>, so tests can check that an
/// unrelated edit leaves every step cached.
/// </summary>
public static class TrackingNames
{
    /// <summary>Parse step: one result per partial class with a base list (null unless it is a callback class with something to generate).</summary>
    public const string CallbackClasses = nameof(CallbackClasses);

    /// <summary><see cref="CallbackClasses"/> without the nulls: one model per generated file.</summary>
    public const string ValidCallbackClasses = nameof(ValidCallbackClasses);
}
