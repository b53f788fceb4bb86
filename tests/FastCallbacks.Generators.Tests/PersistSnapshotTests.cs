using FastCallbacks.Generators.Tests.Infrastructure;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// The SaveState/LoadState the generator writes for <c>[Persist]</c> members, compared to Snapshots/*.verified.cs:
/// every persistable kind of member, keys, an inheriting class that persists too, a sealed class, a callback with
/// [Persist] but no handler. Every case also compiles without errors, and without warnings in generated code.
/// </summary>
public class PersistSnapshotTests
{
    private static void Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        var run = GeneratorHarness.Run([source]);
        GeneratorHarness.AssertCompilesCleanly(run);
        Snapshot.Match(run.AllSources(), name);
    }

    [Test]
    public void PersistEveryKindOfMember() => Verify("""
        using System;
        using System.Collections.Generic;
        using FastCallbacks;

        namespace Samples;

        public enum Phase { Warmup, Main }

        public partial class Everything : Callback
        {
            [Persist] private int _count;
            [Persist] private double? _best;
            [Persist("phase")] private Phase _phase;
            [Persist] public string? Label { get; private set; }
            [Persist] private TimeSpan _elapsed;
            [Persist] private int[] _sizes = [];
            [Persist] private readonly List<double> _losses = [];
            [Persist] private readonly Dictionary<string, List<int?>> _seen = new();
            [Persist] private IReadOnlyList<Guid> _ids = [];
            [Persist] private StateDict? _extra;
            [Persist] private byte[]? @event;

            [On(Event.AfterBatch)]
            void Count() => _count++;
        }
        """);

    [Test]
    public void PersistWithoutHandlers() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public sealed partial class Counter : Callback
        {
            [Persist] public long Seen { get; set; }
        }
        """);

    [Test]
    public void PersistInADerivedClassOverridesTheBase() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public partial class Tracker : Callback
        {
            [Persist] protected double Best;
        }

        public sealed partial class Patience : Tracker
        {
            [Persist] private int _wait;

            [On(Event.AfterEpoch)]
            void Check() => _wait++;
        }
        """);

    [Test]
    public void PersistOverAHandWrittenVirtualBase() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public class HandWritten : Callback, IStatefulCallback
        {
            public virtual void SaveState(StateDict state) { }
            public virtual void LoadState(StateDict state) { }
        }

        public partial class Extra : HandWritten
        {
            [Persist] private bool _done;
        }
        """);
}
