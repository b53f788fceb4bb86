using FastCallbacks.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// The generator binds only classes it chose from syntax. Each shape below is one the filter must let through
/// although it cannot bind: the file must be written, and exactly as binding every partial class writes it.
/// </summary>
public class CandidateFilterTests
{
    private const string Learners = """
        #nullable enable
        using FastCallbacks;

        public class GanLearner : Learner
        {
            public string Generator { get; set; } = "gen";
            public int Steps { get; set; }
        }

        public class WGanLearner : GanLearner
        {
            public double Clip { get; set; }
        }
        """;

    private static GeneratorRun RunAndCompare(IEnumerable<(string Path, string Source)> sources, IEnumerable<MetadataReference>? references = null, bool includeContract = true)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(sources, references, includeContract));
        GeneratorHarness.AssertCompilesCleanly(run);
        GeneratorHarness.AssertSameAsBindingEveryClass(run);
        return run;
    }

    private static GeneratorRun RunAndCompare(params string[] sources) =>
        RunAndCompare(sources.Select((s, i) => ($"Source{i}.cs", s)));

    [TestCase("[On(Event.BeforeFit)]", TestName = "Attribute named On")]
    [TestCase("[OnAttribute(Event.BeforeFit)]", TestName = "Attribute named OnAttribute")]
    [TestCase("[FastCallbacks.On(Event.BeforeFit)]", TestName = "Qualified attribute name")]
    [TestCase("[global::FastCallbacks.OnAttribute(Event.BeforeFit)]", TestName = "Globally qualified attribute name")]
    [TestCase("[System.Obsolete, On(Event.BeforeFit)]", TestName = "Second attribute of a list")]
    [TestCase("[method: On(Event.BeforeFit)]", TestName = "Attribute with a target")]
    public void AttributeSpellings(string attribute)
    {
        var run = RunAndCompare($$"""
            using FastCallbacks;
            public partial class Spelled : Callback
            {
                {{attribute}} void Go() { }
            }
            """);

        Assert.That(run.Sources["Spelled.g.cs"], Does.Contain("this.Go();"));
    }

    [Test]
    public void LocalAliasOfTheAttribute()
    {
        var run = RunAndCompare("""
            using FastCallbacks;
            using Handler = FastCallbacks.OnAttribute;
            using WhenAttribute = FastCallbacks.OnAttribute;

            public partial class Aliased : Callback
            {
                [Handler(Event.BeforeFit)] void Go() { }
                [When(Event.AfterFit)] void Stop() { }
            }
            """);

        Assert.That(run.Sources["Aliased.g.cs"], Does.Contain("this.Go();").And.Contain("this.Stop();"));
    }

    [Test]
    public void GlobalAliasInAnotherFileAndAnAliasOfAnAlias()
    {
        var run = RunAndCompare(
            "global using Handler = FastCallbacks.OnAttribute;",
            """
            using FastCallbacks;
            namespace Inner
            {
                using Again = Handler;

                public partial class ViaGlobal : Callback
                {
                    [Handler(Event.BeforeFit)] void Go() { }
                }

                public partial class ViaChain : Callback
                {
                    [Again(Event.AfterFit)] void Stop() { }
                }
            }
            """);

        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "Inner.ViaGlobal.g.cs", "Inner.ViaChain.g.cs" }));
    }

    [Test]
    public void HandlersInAPartWithoutABaseListAndTheBaseInAPartWithoutHandlers()
    {
        var run = RunAndCompare(
            "using FastCallbacks; public partial class Split : Callback { }",
            "using FastCallbacks; public partial class Split { [On(Event.BeforeFit)] void A() { } }",
            "using FastCallbacks; public partial class Split { [On(Event.AfterFit)] void B() { } }");

        Assert.That(run.Sources.Keys, Is.EqualTo(new[] { "Split.g.cs" }));
        Assert.That(run.Sources["Split.g.cs"], Does.Contain("this.A();").And.Contain("this.B();"));
    }

    [Test]
    public void SubclassesOfTypedCallbacksWithoutHandlers()
    {
        // None of these names Callback<...> or has an [On] method: the filter follows base names to a typed callback,
        // through classes that are not partial and through an alias of a constructed Callback<...>.
        var run = RunAndCompare(Learners, """
            using FastCallbacks;
            using GanCallback = FastCallbacks.Callback<GanLearner>;

            public abstract class Root : Callback<WGanLearner> { }
            public abstract class Middle : Root { }
            public partial class Leaf : Middle { }

            public partial class ThroughAlias : GanCallback { }

            namespace Deep.Er { public partial class Qualified : global::Middle { } }
            """);

        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "Leaf.g.cs", "ThroughAlias.g.cs", "Deep.Er.Qualified.g.cs" }));
        Assert.That(run.Sources["Leaf.g.cs"], Does.Contain("Clip => this.Attached.Clip"));
    }

    [Test]
    public void SubclassesOfTypedCallbacksCompiledInAnotherAssembly()
    {
        // The library's typed callbacks are not partial, so they have no forwarders of their own: the application's
        // subclasses, which name only the library's classes, must get them.
        var library = GeneratorHarness.Compile(
            [("Learners.cs", Learners), ("Lib.cs", """
                using FastCallbacks;
                namespace Lib;
                public class GanBase : Callback<GanLearner> { }
                public class AnyGan<TLearner> : Callback<TLearner> where TLearner : GanLearner { }
                """)],
            assemblyName: "TypedLibrary");
        var image = new MemoryStream();
        Assert.That(library.Emit(image).Success, Is.True);

        var run = RunAndCompare(
            [("App.cs", """
                using FastCallbacks;
                public partial class FromPlain : Lib.GanBase { }
                public partial class FromGeneric : Lib.AnyGan<WGanLearner> { }
                """)],
            [MetadataReference.CreateFromImage(image.ToArray())],
            includeContract: false);

        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "FromPlain.g.cs", "FromGeneric.g.cs" }));
        Assert.That(run.Sources["FromGeneric.g.cs"], Does.Contain("Clip => this.Attached.Clip"));
    }

    [Test]
    public void LookalikesAreBoundAndLeftAlone()
    {
        // Another On attribute, a non-generic Callback base without handlers, a generic base that is not Callback:
        // the filter may let some through; binding writes nothing for any of them.
        var generator = new CallbackGenerator();
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(
            [("Lookalikes.cs", """
                using System;
                using System.Collections.Generic;
                namespace Other { [AttributeUsage(AttributeTargets.Method)] public sealed class OnAttribute(int value) : Attribute { } }

                public partial class OtherOn : FastCallbacks.Callback { [Other.On(1)] void Go() { } }
                public partial class NoHandlers : FastCallbacks.Callback { void Go() { } }
                public partial class Items : List<int> { [Obsolete] void Go() { } }
                public partial class Callback<T> { }
                public partial class NotOurs : Callback<int> { }
                """)]),
            GeneratorHarness.CreateDriver(generator));

        Assert.That(run.Sources, Is.Empty);
        GeneratorHarness.AssertSameAsBindingEveryClass(run);
        // OtherOn has an attribute named On; NotOurs names a generic Callback; Callback<T> has no base; the rest have no such names.
        Assert.That(generator.ClassesBound, Is.EqualTo(2));
    }

    [Test]
    public void NestedAndGenericClasses()
    {
        var run = RunAndCompare(Learners, """
            using FastCallbacks;
            namespace Samples;

            public partial class Outer<T>
            {
                public partial class Inner<U> : Callback { [On(Event.BeforeBatch)] void Go() { } }
                public partial class Typed : Callback<GanLearner> { }
                public partial class Deeper { public partial class Leaf : Typed { } }
            }
            """);

        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "Samples.Outer`1+Inner`1.g.cs", "Samples.Outer`1+Typed.g.cs" }));
    }
}
