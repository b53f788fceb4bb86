using FastCallbacks.Generators.Tests.Infrastructure;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// The generated text for each supported shape, compared to Snapshots/*.verified.cs. Every case also has to
/// compile without errors, and without warnings in generated code.
/// </summary>
public class SnapshotTests
{
    private static void Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string name = "") =>
        Verify([source], name);

    private static void Verify(string[] sources, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        var run = GeneratorHarness.Run(sources);
        GeneratorHarness.AssertCompilesCleanly(run);
        GeneratorHarness.AssertSameAsBindingEveryClass(run);
        Snapshot.Match(run.AllSources(), name);
    }

    [Test]
    public void SimpleClass() => Verify("""
        using FastCallbacks;

        namespace Samples
        {
            public partial class PrintEpoch : Callback
            {
                [On(Event.AfterEpoch)]
                private void Print() { }
            }
        }
        """);

    [Test]
    public void SeveralEventsAndHandlers() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public partial class Tracker : Callback
        {
            [On(Event.BeforeFit)]
            [On(Event.AfterFit)]
            void Reset() { }

            [On(Event.AfterBatch)]
            void CountBatch() { }

            [On(Event.AfterBatch)]
            [On(Event.BeforeFit)]
            void Log() { }

            [On(Event.AfterLoss)]
            public void Inspect() { }
        }
        """);

    [Test]
    public void EventParameterForm() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public partial class EventLogger : Callback
        {
            [On(Event.BeforeEpoch)]
            [On(Event.AfterEpoch)]
            void Log(Event e) { }

            [On(Event.AfterEpoch)]
            void Flush() { }
        }
        """);

    [Test]
    public void Inheritance() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public abstract partial class BaseLogger : Callback
        {
            [On(Event.BeforeFit)]
            protected virtual void Open() { }

            [On(Event.AfterBatch)]
            private void Count() { }

            [On(Event.AfterFit)]
            protected virtual void Close() { }
        }

        public partial class FileLogger : BaseLogger
        {
            // The base registers Open for BeforeFit and calls it virtually: not called again here.
            [On(Event.BeforeFit)]
            protected override void Open() { }

            // Close is overridden without [On]: the base's dispatch still reaches it.
            protected override void Close() { }

            [On(Event.AfterBatch)]
            private void Write() { }

            [On(Event.AfterEpoch)]
            private void Flush() { }
        }

        public sealed partial class VerboseFileLogger : FileLogger
        {
            [On(Event.AfterFit)]
            private void Report() { }
        }
        """);

    [Test]
    public void NestedClass() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public static partial class Callbacks
        {
            internal partial class Outer<T>
            {
                private sealed partial class Inner : Callback
                {
                    [On(Event.BeforeBatch)]
                    void Go() { }
                }
            }
        }

        public partial record Settings
        {
            public partial class Saver : Callback
            {
                [On(Event.AfterFit)]
                void Save() { }
            }
        }

        public partial struct Holder
        {
            public partial class Probe : Callback
            {
                [On(Event.AfterPred)]
                void Look() { }
            }
        }

        public partial interface IHost<T>
        {
            public partial class Marker : Callback
            {
                [On(Event.AfterStep)]
                void Mark() { }
            }
        }
        """);

    [Test]
    public void GenericClass() => Verify("""
        using System.Collections.Generic;
        using FastCallbacks;

        namespace Samples;

        public partial class Collector<TItem, TKey> : Callback
            where TItem : class, new()
            where TKey : notnull
        {
            public List<TItem> Items { get; } = new();

            [On(Event.AfterBatch)]
            void Collect() => Items.Add(new TItem());
        }

        public partial class Collector<TItem> : Callback
        {
            [On(Event.AfterBatch)]
            void Collect() { }
        }
        """);

    [Test]
    public void SealedAndAbstract() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public abstract partial class Scheduler : Callback
        {
            [On(Event.BeforeBatch)]
            protected abstract void Step();
        }

        public sealed partial class ConstantScheduler : Scheduler
        {
            protected override void Step() { }

            [On(Event.AfterFit)]
            private void Done() { }
        }
        """);

    [Test]
    public void Namespaces() => Verify(
    [
        """
        using FastCallbacks;

        namespace Samples.FileScoped;

        public partial class InFileScoped : Callback
        {
            [On(Event.BeforeFit)]
            void Go() { }
        }
        """,
        """
        using FastCallbacks;

        namespace Samples
        {
            namespace Block
            {
                public partial class InBlock : Callback
                {
                    [On(Event.BeforeFit)]
                    void Go() { }
                }
            }
        }
        """,
        """
        using FastCallbacks;

        public partial class InGlobal : Callback
        {
            [On(Event.BeforeFit)]
            void Go() { }
        }
        """,
    ]);

    [Test]
    public void TypedLearnerForwarding() => Verify("""
        #nullable enable
        using System;
        using System.Collections.Generic;
        using FastCallbacks;

        namespace Samples;

        public class GanLearner : Learner
        {
            public object Generator { get; set; } = new();
            public object Critic { get; set; } = new();
            public bool GenMode { get; set; }
            public string? Note { get; set; }
            public List<string?> Tags { get; } = new();
            public int this[int i] => i;
            public static int Instances { get; set; }
            public int WriteOnly { set { } }
            public int Hidden { private get; set; }
            [Obsolete("use GenMode")] public bool OldMode { get; set; }
            internal int Internal { get; set; }
            // Learner's own: forwarded by Callback already.
            public new int Epoch { get; set; }
        }

        public class WGanLearner : GanLearner
        {
            public double Clip { get; set; }
            public new bool GenMode { get; set; }
        }

        public partial class GanTrainer : Callback<WGanLearner>
        {
            // Declared here: shadows the learner's Critic, as a declared attribute does in fastai.
            public object Critic => "mine";

            [On(Event.BeforeBatch)]
            void Switch() { }
        }

        public partial class Clipper : GanTrainer
        {
            // No [On] methods: still gets forwarders for what GanTrainer does not forward (none here).
        }

        public partial class ForwardOnly : Callback<GanLearner>
        {
            public void Note() { }
        }
        """);

    [Test]
    public void InheritedEventsOnly() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public partial class Parent : Callback
        {
            [On(Event.BeforeFit)]
            void Start() { }

            [On(Event.AfterFit)]
            void Stop() { }
        }

        // Handles one of the parent's events and a new one: default goes to the parent for the rest.
        public partial class Child : Parent
        {
            [On(Event.AfterFit)]
            void Stop() { }

            [On(Event.AfterEpoch)]
            void Epoch(Event e) { }
        }
        """);

    [Test]
    public void HandWrittenBaseDispatch() => Verify("""
        using FastCallbacks;

        namespace Samples;

        public class Manual : Callback
        {
            protected override EventSet GetHandledEvents() => new EventSet(1u << (int)Event.AfterLoss);
            protected override void Dispatch(Event @event) { }
        }

        // The base's events are unknown to the generator: every case defers to base first.
        public partial class OnTopOfManual : Manual
        {
            [On(Event.BeforeFit)]
            void Go() { }
        }
        """);
}
