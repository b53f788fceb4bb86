using System.Runtime.CompilerServices;

namespace FastCallbacks.Benchmarks;

// The callbacks of the dispatch benchmarks. Every strategy does the same work per handler call: one counter
// increment in a method of the callback. Four distinct classes per design, assigned round-robin, so that no
// loop sees a single receiver type (a real learner's callbacks are of different classes).

/// <summary>FastCallbacks callbacks: [On] handlers, dispatch generated. Reflection strategies call the same methods.</summary>
public abstract class Counted : Callback
{
    public long Calls;
}

public sealed partial class CountA : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }
public sealed partial class CountB : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }
public sealed partial class CountC : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }
public sealed partial class CountD : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }

/// <summary>A callback that handles other events only (the mixed case's other half).</summary>
public sealed partial class Idle : Counted
{
    [On(Event.AfterFit)] public void AfterFit() => Calls++;
    [On(Event.AfterEpoch)] public void AfterEpoch() => Calls++;
}

/// <summary>
/// The same handlers compiled without the generator (these classes are not partial), as a notebook cell or F# compiles
/// them: the learner builds their dispatch at run time.
/// </summary>
public sealed class RuntimeA : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }
public sealed class RuntimeB : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }
public sealed class RuntimeC : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }
public sealed class RuntimeD : Counted { [On(Event.BeforeBatch)] public void BeforeBatch() => Calls++; }

/// <summary><see cref="Idle"/> without generated dispatch.</summary>
public sealed class RuntimeIdle : Counted
{
    [On(Event.AfterFit)] public void AfterFit() => Calls++;
    [On(Event.AfterEpoch)] public void AfterEpoch() => Calls++;
}

/// <summary>The classic design: one virtual method per event, overridden where handled (the physical limit).</summary>
public abstract class ClassicCallback
{
    public long Calls;
    public virtual void BeforeFit() { }
    public virtual void BeforeBatch() { }
    public virtual void AfterBatch() { }
    public virtual void AfterEpoch() { }
    public virtual void AfterFit() { }
}

public sealed class ClassicA : ClassicCallback { public override void BeforeBatch() => Calls++; }
public sealed class ClassicB : ClassicCallback { public override void BeforeBatch() => Calls++; }
public sealed class ClassicC : ClassicCallback { public override void BeforeBatch() => Calls++; }
public sealed class ClassicD : ClassicCallback { public override void BeforeBatch() => Calls++; }

/// <summary>Handles other events only: in the classic design BeforeBatch is still called (the empty base method).</summary>
public sealed class ClassicIdle : ClassicCallback
{
    public override void AfterFit() => Calls++;
    public override void AfterEpoch() => Calls++;
}

internal static class Make
{
    public static Counted Counted(int i) => (i % 4) switch { 0 => new CountA(), 1 => new CountB(), 2 => new CountC(), _ => new CountD() };

    public static Counted Runtime(int i) => (i % 4) switch { 0 => new RuntimeA(), 1 => new RuntimeB(), 2 => new RuntimeC(), _ => new RuntimeD() };

    public static ClassicCallback Classic(int i) => (i % 4) switch { 0 => new ClassicA(), 1 => new ClassicB(), 2 => new ClassicC(), _ => new ClassicD() };

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Consume(long value) { }
}
