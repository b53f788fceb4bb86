using System.Collections;
using System.Numerics;

namespace FastCallbacks;

/// <summary>An immutable set of <see cref="Event"/>s stored as a 32-bit mask.</summary>
public readonly struct EventSet : IEquatable<EventSet>, IEnumerable<Event>
{
    /// <summary>The mask: bit <c>(int)e</c> is set when the set contains <c>e</c>.</summary>
    public uint Mask { get; }

    /// <summary>Creates a set from a mask (bits above 23 are rejected).</summary>
    /// <param name="mask">Bit <c>(int)e</c> set for each event <c>e</c> in the set; only the low 24 bits may be set.</param>
    public EventSet(uint mask)
    {
        if ((mask >> Events.Count) != 0)
            throw new ArgumentOutOfRangeException(nameof(mask), mask, "Only the low 24 bits name events.");
        Mask = mask;
    }

    /// <summary>The empty set.</summary>
    public static EventSet None => default;

    /// <summary>All 24 events.</summary>
    public static EventSet AllEvents => new((1u << Events.Count) - 1);

    /// <summary>A set of the given events.</summary>
    /// <param name="events">The events in the set; repeats count once, none gives <see cref="None"/>.</param>
    public static EventSet Of(params Event[] events)
    {
        uint mask = 0;
        foreach (var e in events) mask |= Bit(e);
        return new EventSet(mask);
    }

    /// <summary>Number of events in the set.</summary>
    public int Count => BitOperations.PopCount(Mask);

    /// <summary>True when the set is empty.</summary>
    public bool IsEmpty => Mask == 0;

    /// <summary>True when <paramref name="e"/> is in the set.</summary>
    /// <param name="e">The event looked for.</param>
    public bool Contains(Event e) => (Mask & Bit(e)) != 0;

    /// <summary>The union of two sets.</summary>
    /// <param name="a">One set.</param>
    /// <param name="b">The other; the result holds the events of either.</param>
    public static EventSet operator |(EventSet a, EventSet b) => new(a.Mask | b.Mask);

    /// <summary>The intersection of two sets.</summary>
    /// <param name="a">One set.</param>
    /// <param name="b">The other; the result holds the events of both.</param>
    public static EventSet operator &(EventSet a, EventSet b) => new(a.Mask & b.Mask);

    /// <summary>Whether two sets hold the same events.</summary>
    /// <param name="a">One set.</param>
    /// <param name="b">The other.</param>
    public static bool operator ==(EventSet a, EventSet b) => a.Mask == b.Mask;

    /// <summary>Whether two sets differ in at least one event.</summary>
    /// <param name="a">One set.</param>
    /// <param name="b">The other.</param>
    public static bool operator !=(EventSet a, EventSet b) => a.Mask != b.Mask;

    /// <inheritdoc/>
    public bool Equals(EventSet other) => Mask == other.Mask;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EventSet other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)Mask;

    /// <summary>The events in fastai's order.</summary>
    public IEnumerator<Event> GetEnumerator()
    {
        for (var i = 0; i < Events.Count; i++)
            if ((Mask & (1u << i)) != 0) yield return (Event)i;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The events' fastai names, comma separated.</summary>
    public override string ToString() => string.Join(", ", this.Select(Events.Name));

    private static uint Bit(Event e) => 1u << (int)e;
}
