using FastCallbacks.Generators.Tests.Infrastructure;

namespace FastCallbacks.Generators.Tests;

/// <summary>Forwarding properties of callbacks deriving from <c>Callback&lt;TLearner&gt;</c>.</summary>
public class ForwardingTests
{
    private const string Learners = """
        #nullable enable
        using FastCallbacks;

        public class GanLearner : Learner
        {
            public string Generator { get; set; } = "gen";
            public string Critic { get; set; } = "critic";
            public int Steps { get; set; }
        }

        public class WGanLearner : GanLearner
        {
            public double Clip { get; set; } = 0.01;
        }
        """;

    private static string[] ForwardedNames(GeneratorRun run, string hintName) =>
        System.Text.RegularExpressions.Regex
            .Matches(run.Sources[hintName], @"public [^ ]+ (\w+) => this\.Attached\.\1;")
            .Select(m => m.Groups[1].Value)
            .ToArray();

    [Test]
    public void ForwardsLearnerPropertiesBelowLearnerAndReadsTheAttachedLearner()
    {
        var run = GeneratorHarness.Run(Learners, """
            using FastCallbacks;
            using static FastCallbacks.Testing.Harness;

            public partial class Trainer : Callback<WGanLearner>
            {
                [On(Event.BeforeBatch)] void Go() => Record($"{Generator}:{Clip}:{Epoch}");
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);
        Assert.That(ForwardedNames(run, "Trainer.g.cs"), Is.EqualTo(new[] { "Clip", "Generator", "Critic", "Steps" }));

        using var assembly = LoadedAssembly.Load(run.Output);
        var trainer = assembly.Create("Trainer");
        var learner = assembly.Create("WGanLearner");
        assembly.Attach(trainer, learner);
        assembly.Dispatch(trainer, "BeforeBatch");

        Assert.That(assembly.Calls, Is.EqualTo(new[] { "gen:0.01:0" }));
    }

    [Test]
    public void DeclaredMembersShadowLearnerProperties()
    {
        var run = GeneratorHarness.Run(Learners, """
            using FastCallbacks;

            public abstract partial class GanBase : Callback<GanLearner>
            {
                public string Critic => "declared in base";
            }

            public partial class GanChild : GanBase
            {
                public void Steps() { }
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);

        Assert.That(ForwardedNames(run, "GanBase.g.cs"), Is.EqualTo(new[] { "Generator", "Steps" }));
        // GanBase's generated part forwards Generator and Steps; the child forwards nothing twice (no CS0108).
        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "GanBase.g.cs" }));
    }

    [Test]
    public void PrivateMembersOfAncestorsDoNotShadow()
    {
        var run = GeneratorHarness.Run(Learners, """
            using FastCallbacks;

            public abstract class Base : Callback<GanLearner>
            {
                private int Steps = 0;
                protected int Peek() => Steps;
            }

            public partial class Child : Base
            {
                private readonly int Critic = 1;
                public int Read() => Critic;
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);

        // Child's own Critic clashes; Base's private Steps is invisible to Child, so no hiding.
        Assert.That(ForwardedNames(run, "Child.g.cs"), Is.EqualTo(new[] { "Generator", "Steps" }));
    }

    [Test]
    public void AncestorThatCannotBeExtendedLeavesForwardingToTheDerivedClass()
    {
        var run = GeneratorHarness.Run(Learners, """
            using FastCallbacks;

            public abstract class NotPartialBase : Callback<GanLearner> { }

            public partial class Child : NotPartialBase { }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);

        Assert.That(ForwardedNames(run, "Child.g.cs"), Is.EqualTo(new[] { "Generator", "Critic", "Steps" }));
    }

    [Test]
    public void GenericLearnerParameterForwardsItsConstraint()
    {
        var run = GeneratorHarness.Run(Learners, """
            using FastCallbacks;

            public partial class AnyGan<TLearner> : Callback<TLearner> where TLearner : GanLearner
            {
            }

            public partial class Closed : Callback<WGanLearner>
            {
            }
            """);
        GeneratorHarness.AssertCompilesCleanly(run);

        Assert.That(ForwardedNames(run, "AnyGan`1.g.cs"), Is.EqualTo(new[] { "Generator", "Critic", "Steps" }));
        Assert.That(ForwardedNames(run, "Closed.g.cs"), Is.EqualTo(new[] { "Clip", "Generator", "Critic", "Steps" }));
    }

    [Test]
    public void PlainLearnerCallbackGetsNoFile()
    {
        var run = GeneratorHarness.Run("""
            using FastCallbacks;
            public partial class Plain : Callback<Learner> { }
            public partial class Untyped : Callback { }
            """);

        Assert.That(run.Sources, Is.Empty);
    }
}
