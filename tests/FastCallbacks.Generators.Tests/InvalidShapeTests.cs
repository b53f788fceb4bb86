using FastCallbacks.Generators.Tests.Infrastructure;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// Shapes the generator must leave alone (the analyzers report them): no generated source, no exception, and no
/// compile error caused by generated code.
/// </summary>
public class InvalidShapeTests
{
    private static void AssertNothingGenerated(string source)
    {
        var run = GeneratorHarness.Run(source);
        Assert.That(run.Sources, Is.Empty, run.AllSources);
        // The user's code may itself be wrong; generated code must add no diagnostic to it.
        var before = run.Input.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).Select(d => d.Id);
        var after = run.Output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).Select(d => d.Id);
        Assert.That(after, Is.EquivalentTo(before));
    }

    [TestCase("public class NotPartial : Callback { [On(Event.BeforeFit)] void Go() { } }", TestName = "Class not partial")]
    [TestCase("public class Outer { public partial class Inner : Callback { [On(Event.BeforeFit)] void Go() { } } }", TestName = "Containing type not partial")]
    [TestCase("public partial class NotACallback { [On(Event.BeforeFit)] void Go() { } }", TestName = "Not deriving from Callback")]
    [TestCase("public partial class Static : Callback { [On(Event.BeforeFit)] static void Go() { } }", TestName = "Static handler")]
    [TestCase("public partial class Generic : Callback { [On(Event.BeforeFit)] void Go<T>() { } }", TestName = "Generic handler")]
    [TestCase("public partial class Returns : Callback { [On(Event.BeforeFit)] int Go() => 1; }", TestName = "Non-void handler")]
    [TestCase("public partial class IntParam : Callback { [On(Event.BeforeFit)] void Go(int e) { } }", TestName = "Parameter not Event")]
    [TestCase("public partial class TwoParams : Callback { [On(Event.BeforeFit)] void Go(Event e, Event f) { } }", TestName = "Two parameters")]
    [TestCase("public partial class RefParam : Callback { [On(Event.BeforeFit)] void Go(ref Event e) { } }", TestName = "ref Event parameter")]
    [TestCase("public partial class OutOfRange : Callback { [On((Event)99)] void Go() { } }", TestName = "Event out of range")]
    [TestCase("public partial class Unresolved : MissingBase { [On(Event.BeforeFit)] void Go() { } }", TestName = "Unresolved base type")]
    [TestCase("public partial class Broken : Callback { [On(Event.NoSuchEvent)] void Go() { } }", TestName = "Unknown event name")]
    [TestCase("public static partial class Holder { [On(Event.BeforeFit)] static void Go() { } }", TestName = "Static class")]
    [TestCase("public partial record R { [On(Event.BeforeFit)] void Go() { } }", TestName = "Record")]
    [TestCase("public partial struct S { [On(Event.BeforeFit)] void Go() { } }", TestName = "Struct")]
    [TestCase("public class NotPartialTyped : Callback<Learner2> { } public class Learner2 : Learner { public int Extra { get; set; } }", TestName = "Typed callback not partial")]
    public void GeneratesNothing(string declaration) =>
        AssertNothingGenerated("using FastCallbacks;\n" + declaration);

    [Test]
    public void ValidHandlersOfAClassWithAnInvalidOneAreStillGenerated()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;
            public partial class Mixed : Callback
            {
                [On(Event.BeforeFit)] void Good() { }
                [On(Event.AfterFit)] static void Bad() { }
            }
            """);

        var source = run.Sources.Single().Value;
        Assert.That(source, Does.Contain("this.Good();"));
        Assert.That(source, Does.Not.Contain("Bad"));
        Assert.That(source, Does.Not.Contain("AfterFit"));
    }

    [Test]
    public void PartialClassWithOneNonPartialPartIsLeftAlone()
    {
        // Already CS0260 in user code; generating a third part would only repeat it.
        AssertNothingGenerated("""
            using FastCallbacks;
            public partial class Split : Callback { [On(Event.BeforeFit)] void Go() { } }
            public class Split { }
            """);
    }
}
