using FastCallbacks.Generators.Tests.Infrastructure;

namespace FastCallbacks.Generators.Tests;

/// <summary>Each class gets one file whose name is unique, stable and safe as a file name.</summary>
public class HintNameTests
{
    [Test]
    public void SameSimpleNamesGetDistinctFiles()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;

            namespace A { public partial class Logger : Callback { [On(Event.BeforeFit)] void Go() { } } }
            namespace B { public partial class Logger : Callback { [On(Event.BeforeFit)] void Go() { } } }
            namespace B { public partial class Logger<T> : Callback { [On(Event.BeforeFit)] void Go() { } } }
            namespace B { public partial class Outer { public partial class Logger : Callback { [On(Event.BeforeFit)] void Go() { } } } }
            public partial class Logger : Callback { [On(Event.BeforeFit)] void Go() { } }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);

        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[]
        {
            "A.Logger.g.cs", "B.Logger.g.cs", "B.Logger`1.g.cs", "B.Outer+Logger.g.cs", "Logger.g.cs",
        }));
    }

    [Test]
    public void ClassSplitOverFilesGetsOneFile()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(
        [
            ("One.cs", "using FastCallbacks; public partial class Split : Callback<Learner> { [On(Event.BeforeFit)] void A() { } }"),
            ("Two.cs", "using FastCallbacks; public partial class Split : Callback<Learner> { [On(Event.AfterFit)] void B() { } }"),
        ]));
        GeneratorHarness.AssertCompilesCleanly(run);

        Assert.That(run.Sources.Keys, Is.EqualTo(new[] { "Split.g.cs" }));
    }

    [Test]
    public void KeywordNamesAreEscaped()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;
            namespace @event.@class
            {
                public partial class @object : Callback
                {
                    [On(Event.BeforeFit)] void @return() { }
                }
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);

        Assert.That(run.Sources.Single().Value, Does.Contain("namespace @event.@class").And.Contain("partial class @object").And.Contain("this.@return();"));
    }
}
