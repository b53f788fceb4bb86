namespace FastCallbacks.Generators;

/// <summary>
/// Names given to the generator's pipeline steps with <c>WithTrackingName</c>, so tests can check that an
/// unrelated edit leaves every step cached.
/// </summary>
public static class TrackingNames
{
    /// <summary>Parse step: one result per <c>[On]</c> method (null when the method or its class is unusable).</summary>
    public const string HandlerSites = nameof(HandlerSites);

    /// <summary><see cref="HandlerSites"/> without the nulls.</summary>
    public const string ValidHandlerSites = nameof(ValidHandlerSites);

    /// <summary>Parse step: partial classes deriving from <c>Callback&lt;TLearner&gt;</c> that have properties to forward.</summary>
    public const string ForwardingCallbacks = nameof(ForwardingCallbacks);

    /// <summary><see cref="ForwardingCallbacks"/> without the nulls.</summary>
    public const string ValidForwardingCallbacks = nameof(ValidForwardingCallbacks);

    /// <summary>Both parse results, collected.</summary>
    public const string AllSites = nameof(AllSites);

    /// <summary>One model per generated file: handlers grouped by class, merged with the forwarding-only classes.</summary>
    public const string CallbackClasses = nameof(CallbackClasses);
}
