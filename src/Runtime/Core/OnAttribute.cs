namespace FastCallbacks;

/// <summary>
/// Marks an instance method of a <c>partial</c> class deriving from <see cref="Callback"/> as the handler of
/// <see cref="Event"/>. The method returns <c>void</c> and takes no parameters, or one <see cref="FastCallbacks.Event"/>
/// parameter that receives the event being dispatched. One method may handle several events.
/// The FastCallbacks source generator turns these attributes into a direct, allocation-free dispatch method.
/// </summary>
/// <example>
/// <code>
/// public partial class PrintLoss : Callback
/// {
///     [On(Event.AfterBatch)]
///     void Print() => Console.WriteLine(SmoothLoss);
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class OnAttribute : Attribute
{
    /// <summary>Marks the method as the handler of <paramref name="event"/>.</summary>
    /// <param name="event">The event whose dispatch calls the method; repeat the attribute for each further event.</param>
    public OnAttribute(Event @event) => Event = @event;

    /// <summary>The event this method handles.</summary>
    public Event Event { get; }
}
