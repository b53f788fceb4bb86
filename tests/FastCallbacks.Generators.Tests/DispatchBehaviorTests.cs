using FastCallbacks.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// Compiles user callbacks with the generated code, loads the assembly and dispatches events, checking which
/// handlers ran and in what order.
/// </summary>
public class DispatchBehaviorTests
{
    private static LoadedAssembly Build(params (string Path, string Source)[] sources)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(sources));
        GeneratorHarness.AssertCompilesCleanly(run);
        return LoadedAssembly.Load(run.Output);
    }

    private static LoadedAssembly Build(string source) => Build(("Callbacks.cs", source));

    private static uint Mask(params Event[] events) => events.Aggregate(0u, (mask, e) => mask | (1u << (int)e));

    /// <summary>Mirror of the contract's events, so tests can name them without loading the test assembly.</summary>
    private enum Event
    {
        AfterCreate, BeforeFit, BeforeEpoch, BeforeTrain, BeforeBatch, AfterPred, AfterLoss, BeforeBackward,
        AfterCancelBackward, AfterBackward, BeforeStep, AfterCancelStep, AfterStep, AfterCancelBatch, AfterBatch,
        AfterCancelTrain, AfterTrain, BeforeValidate, AfterCancelValidate, AfterValidate, AfterCancelEpoch,
        AfterEpoch, AfterCancelFit, AfterFit,
    }

    [Test]
    public void HandlersOfOneEventRunInDeclarationOrder()
    {
        using var assembly = Build("""
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            public partial class Tracker : Callback
            {
                [On(Event.AfterBatch)] void First() => Record("First");
                [On(Event.BeforeFit)] [On(Event.AfterBatch)] void Second() => Record("Second");
                [On(Event.AfterBatch)] private void Third() => Record("Third");
            }
            """);
        var tracker = assembly.Create("Tracker");

        assembly.Dispatch(tracker, "AfterBatch");
        assembly.Dispatch(tracker, "BeforeFit");
        assembly.Dispatch(tracker, "AfterEpoch");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "First", "Second", "Third", "Second" }));
        Assert.That(assembly.HandledEvents(tracker), Is.EqualTo(Mask(Event.BeforeFit, Event.AfterBatch)));
    }

    [Test]
    public void PartialFilesAreOrderedByPathThenPosition()
    {
        // b.cs comes first in the compilation; a.cs's handler still runs first.
        using var assembly = Build(
            ("b.cs", """
                using FastCallbacks;
                using static FastCallbacks.Testing.Harness;
                public partial class Split : Callback
                {
                    [On(Event.BeforeFit)] void B1() => Record("b1");
                    [On(Event.BeforeFit)] void B2() => Record("b2");
                }
                """),
            ("a.cs", """
                using FastCallbacks;
                using static FastCallbacks.Testing.Harness;
                public partial class Split : Callback
                {
                    [On(Event.BeforeFit)] void A1() => Record("a1");
                }
                """));
        var split = assembly.Create("Split");

        assembly.Dispatch(split, "BeforeFit");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "a1", "b1", "b2" }));
    }

    [Test]
    public void HandlersInAPartWithoutABaseListAreFound()
    {
        // The generator finds a class through a part naming its base class; the handlers may all sit in other
        // parts, and a partial method with [On] on both of its parts is still one handler.
        using var assembly = Build(
            ("a.cs", """
                using FastCallbacks;
                using static FastCallbacks.Testing.Harness;
                public partial class Split
                {
                    [On(Event.BeforeFit)] void A1() => Record("a1");
                    [On(Event.BeforeFit)] partial void P();
                }
                """),
            ("b.cs", """
                using FastCallbacks;
                using static FastCallbacks.Testing.Harness;
                public partial class Split : Callback
                {
                    [On(Event.BeforeFit)] partial void P() => Record("p");
                }
                """),
            ("c.cs", """
                public partial class Split : FastCallbacks.Callback { }
                """));
        var split = assembly.Create("Split");

        assembly.Dispatch(split, "BeforeFit");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "a1", "p" }));
    }

    [Test]
    public void EventParameterReceivesTheDispatchedEvent()
    {
        using var assembly = Build("""
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            public partial class Logger : Callback
            {
                [On(Event.BeforeEpoch)] [On(Event.AfterEpoch)] void Log(Event e) => Record(e.ToString());
                [On(Event.AfterEpoch)] void Log() => Record("no-arg");
            }
            """);
        var logger = assembly.Create("Logger");

        assembly.Dispatch(logger, "BeforeEpoch");
        assembly.Dispatch(logger, "AfterEpoch");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "BeforeEpoch", "AfterEpoch", "no-arg" }));
    }

    [Test]
    public void BaseHandlersRunBeforeDerivedOnesAndOverridesRunOnce()
    {
        using var assembly = Build("""
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            public partial class Grand : Callback
            {
                [On(Event.BeforeFit)] protected virtual void Open() => Record("Grand.Open");
                [On(Event.AfterEpoch)] private void Tick() => Record("Grand.Tick");
            }

            public partial class Parent : Grand
            {
                [On(Event.BeforeFit)] protected override void Open() => Record("Parent.Open");
                [On(Event.BeforeFit)] [On(Event.AfterBatch)] private void Prepare() => Record("Parent.Prepare");
            }

            public partial class Child : Parent
            {
                // Registered again by the base chain for BeforeFit; an extra event is new.
                [On(Event.BeforeFit)] [On(Event.AfterFit)] protected override void Open() => Record("Child.Open");
                [On(Event.BeforeFit)] private void Prepare() => Record("Child.Prepare");
            }
            """);
        var child = assembly.Create("Child");

        assembly.Dispatch(child, "BeforeFit");
        assembly.Dispatch(child, "AfterEpoch");
        assembly.Dispatch(child, "AfterBatch");
        assembly.Dispatch(child, "AfterFit");

        Assert.That(assembly.Calls, Is.EqualTo(new[]
        {
            "Child.Open", "Parent.Prepare", "Child.Prepare", // BeforeFit: Grand's registration reaches the override once
            "Grand.Tick",                                    // AfterEpoch: only the grandparent handles it
            "Parent.Prepare",                                // AfterBatch
            "Child.Open",                                    // AfterFit: Child's own extra registration
        }));
        Assert.That(assembly.HandledEvents(child),
            Is.EqualTo(Mask(Event.BeforeFit, Event.AfterBatch, Event.AfterEpoch, Event.AfterFit)));
    }

    [Test]
    public void OverrideWithoutOnAttributeRunsThroughTheBaseRegistration()
    {
        using var assembly = Build("""
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            public abstract partial class Scheduler : Callback
            {
                [On(Event.BeforeBatch)] protected abstract void Step();
            }

            public sealed partial class Linear : Scheduler
            {
                protected override void Step() => Record("Linear.Step");
                [On(Event.AfterFit)] void Done() => Record("Linear.Done");
            }
            """);
        var linear = assembly.Create("Linear");

        assembly.Dispatch(linear, "BeforeBatch");
        assembly.Dispatch(linear, "AfterFit");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "Linear.Step", "Linear.Done" }));
        Assert.That(assembly.HandledEvents(linear), Is.EqualTo(Mask(Event.BeforeBatch, Event.AfterFit)));
    }

    [Test]
    public void NestedAndGenericCallbacksDispatch()
    {
        using var assembly = Build("""
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            namespace Deep.Ns
            {
                public partial class Outer<T>
                {
                    public partial class Inner<U> : Callback
                    {
                        [On(Event.AfterLoss)] void Go() => Record(typeof(T).Name + "/" + typeof(U).Name);
                    }
                }
            }
            """);
        var type = assembly.Main.GetType("Deep.Ns.Outer`1+Inner`1", throwOnError: true)!.MakeGenericType(typeof(int), typeof(string));
        var inner = Activator.CreateInstance(type)!;

        assembly.Dispatch(inner, "AfterLoss");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "Int32/String" }));
    }

    [Test]
    public void BaseInAnotherAssemblyCompiledToAReferenceAssembly()
    {
        // The base library ships the contract. Its reference assembly drops the private handler, so the derived
        // class cannot see every event the base handles: it must still defer to base for them.
        var library = GeneratorHarness.Run(GeneratorHarness.Compile(
            [("Base.cs", """
                using FastCallbacks;
                using static FastCallbacks.Testing.Harness;

                namespace Lib;

                public partial class LibraryBase : Callback
                {
                    [On(Event.BeforeFit)] private void Hidden() => Record("Base.Hidden");
                    [On(Event.AfterFit)] protected virtual void Visible() => Record("Base.Visible");
                }
                """)],
            assemblyName: "BaseLibrary"));
        GeneratorHarness.AssertCompilesCleanly(library);
        var referenceImage = new MemoryStream();
        var emitted = library.Output.Emit(referenceImage, options: new EmitOptions(metadataOnly: true, includePrivateMembers: false));
        Assert.That(emitted.Success, Is.True);
        var libraryReference = MetadataReference.CreateFromImage(referenceImage.ToArray());

        var derived = GeneratorHarness.Run(GeneratorHarness.Compile(
            [("Derived.cs", """
                using FastCallbacks;
                using static FastCallbacks.Testing.Harness;

                public partial class Derived : Lib.LibraryBase
                {
                    [On(Event.BeforeFit)] private void Mine() => Record("Derived.Mine");
                    [On(Event.AfterFit)] protected override void Visible() => Record("Derived.Visible");
                }
                """)],
            [libraryReference],
            includeContract: false,
            assemblyName: "DerivedAssembly"));
        GeneratorHarness.AssertCompilesCleanly(derived);

        using var assembly = LoadedAssembly.Load(derived.Output, library.Output);
        var instance = assembly.Create("Derived");
        assembly.Dispatch(instance, "BeforeFit");
        assembly.Dispatch(instance, "AfterFit");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "Base.Hidden", "Derived.Mine", "Derived.Visible" }));
        Assert.That(assembly.HandledEvents(instance), Is.EqualTo(Mask(Event.BeforeFit, Event.AfterFit)));
    }

    [Test]
    public void HandWrittenBaseDispatchStillRuns()
    {
        using var assembly = Build("""
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            public class Manual : Callback
            {
                protected override EventSet GetHandledEvents() => new EventSet(1u << (int)Event.AfterLoss);
                protected override void Dispatch(Event @event) => Record("Manual." + @event);
            }

            public partial class Generated : Manual
            {
                [On(Event.BeforeFit)] void Go() => Record("Generated.Go");
            }
            """);
        var generated = assembly.Create("Generated");

        assembly.Dispatch(generated, "AfterLoss");
        assembly.Dispatch(generated, "BeforeFit");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "Manual.AfterLoss", "Manual.BeforeFit", "Generated.Go" }));
        Assert.That(assembly.HandledEvents(generated), Is.EqualTo(Mask(Event.AfterLoss, Event.BeforeFit)));
    }

    [Test]
    public void ClassWritingItsOwnDispatchWrapsExceptionsKeepsIt()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;
            public partial class Custom : Callback
            {
                [On(Event.BeforeFit)] void Go() { }
                protected override bool DispatchWrapsExceptions => false;
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);
        var source = run.Sources.Single().Value;
        Assert.That(source, Does.Contain("void Dispatch"));
        Assert.That(source, Does.Not.Contain("DispatchWrapsExceptions"));
    }

    [Test]
    public void ClassWritingItsOwnDispatchGetsNoGeneratedDispatch()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;
            public partial class Custom : Callback
            {
                [On(Event.BeforeFit)] void Go() { }
                protected override void Dispatch(Event @event) { }
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);
        var source = run.Sources.Single().Value;
        Assert.That(source, Does.Contain("GetHandledEvents"));
        Assert.That(source, Does.Not.Contain("void Dispatch"));
        Assert.That(source, Does.Contain("DispatchWrapsExceptions => false"), "the learner wraps a hand-written Dispatch's failures");
    }

    [Test]
    public void ClassWritingBothOverridesGetsNoFile()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;
            public partial class Custom : Callback
            {
                [On(Event.BeforeFit)] void Go() { }
                protected override void Dispatch(Event @event) { }
                protected override EventSet GetHandledEvents() => EventSet.None;
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);
        Assert.That(run.Sources, Is.Empty);
    }
}

/// <summary>Generated code adds no warning for handlers the user marked obsolete.</summary>
public class ObsoleteHandlerTests
{
    [Test]
    public void Obsolete_handler_is_called_without_a_warning_in_generated_code()
    {
        var run = GeneratorHarness.Run("""
            using System;
            using FastCallbacks;
            namespace Samples;
            public partial class Legacy : Callback
            {
                [Obsolete("use the new one")]
                [On(Event.BeforeFit)]
                public void Old() { }

                [Obsolete]
                [On(Event.AfterFit)]
                public void Older() { }
            }
            """);
        Assert.That(run.Sources, Has.Count.EqualTo(1));
        GeneratorHarness.AssertCompilesCleanly(run);
    }
}
