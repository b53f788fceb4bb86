using System.Collections.Immutable;
using System.Reflection;
using FastCallbacks.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// An edit that does not touch callbacks must leave every pipeline step cached, which requires the pipeline's
/// models to be equatable values rather than symbols or syntax. The tracked steps cannot show what a run costs (a
/// transform that re-binds every class and returns an equal model, or null, leaves them all cached), so the
/// generator's counters are checked too: an edit inside a method body must read one tree and bind nothing.
/// </summary>
public class IncrementalityTests
{
    private const string Callbacks = """
        using FastCallbacks;

        namespace Samples;

        public class GanLearner : Learner
        {
            public int Steps { get; set; }
        }

        public partial class Tracker : Callback
        {
            [On(Event.BeforeFit)] void Start() { }
            [On(Event.AfterBatch)] void Count(Event e) { }
        }

        public partial class Child : Tracker
        {
            [On(Event.AfterFit)] void Stop() { }
        }

        public partial class Forwarding : Callback<GanLearner> { }
        """;

    private const string Unrelated = """
        namespace Samples;

        public static class Maths
        {
            public static int Twice(int x) => x * 2;
        }
        """;

    /// <summary>The steps holding models; <see cref="TrackingNames.Declarations"/> changes with any edit outside bodies, by design.</summary>
    private static readonly string[] TrackedSteps =
    [
        TrackingNames.CallbackClasses, TrackingNames.ValidCallbackClasses,
    ];

    private static (GeneratorRun First, GeneratorRun Second) RunTwice(Func<CSharpCompilation, CSharpCompilation> edit)
    {
        var compilation = GeneratorHarness.Compile([("Callbacks.cs", Callbacks), ("Maths.cs", Unrelated)]);
        var first = GeneratorHarness.Run(compilation);
        var second = GeneratorHarness.Run(edit(compilation), first.Driver);
        return (first, second);
    }

    private static CSharpCompilation ReplaceTree(CSharpCompilation compilation, string path, string newSource)
    {
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, GeneratorHarness.Parse(path, newSource));
    }

    private static IEnumerable<(string Step, IncrementalStepRunReason Reason)> Outputs(GeneratorRun run) =>
        run.Result.Results.Single().TrackedSteps
            .Where(step => TrackedSteps.Contains(step.Key))
            .SelectMany(step => step.Value.SelectMany(s => s.Outputs.Select(o => (step.Key, o.Reason))));

    private static void AssertAllCached(GeneratorRun run)
    {
        var steps = run.Result.Results.Single().TrackedSteps;
        Assert.That(steps.Keys, Is.SupersetOf(TrackedSteps.Append(TrackingNames.Declarations)), "every named step ran");
        var changed = Outputs(run)
            .Where(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
            .ToList();
        Assert.That(changed, Is.Empty, () => string.Join("\n", changed));
        Assert.That(run.Result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)
            .Select(o => o.Reason), Is.All.EqualTo(IncrementalStepRunReason.Cached));
    }

    private static void AssertDeclarationsUnchanged(GeneratorRun run) =>
        Assert.That(run.Result.Results.Single().TrackedSteps[TrackingNames.Declarations].SelectMany(s => s.Outputs).Select(o => o.Reason),
            Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged), "the declarations' snapshot");

    [Test]
    public void AddingAnUnrelatedFileKeepsEveryStepCached()
    {
        var (first, second) = RunTwice(c => c.AddSyntaxTrees(GeneratorHarness.Parse("Extra.cs", "namespace Samples; public class Extra { }")));

        Assert.That(first.Sources, Has.Count.EqualTo(3));
        AssertAllCached(second);
    }

    [Test]
    public void EditingAnUnrelatedMethodBodyKeepsEveryStepCached()
    {
        var (_, second) = RunTwice(c => ReplaceTree(c, "Maths.cs", Unrelated.Replace("x * 2", "x + x")));

        AssertAllCached(second);
    }

    [Test]
    public void EditingAHandlerBodyOrMovingLinesKeepsEveryStepCached()
    {
        // A handler's body and its line are not part of the model: only its rank among handlers is.
        var edited = Callbacks
            .Replace("void Start() { }", "void Start() { System.Console.WriteLine(); }")
            .Replace("namespace Samples;", "namespace Samples;\n\n// a comment moving every line\n");
        var (_, second) = RunTwice(c => ReplaceTree(c, "Callbacks.cs", edited));

        AssertAllCached(second);
    }

    [Test]
    public void AddingAHandlerRegeneratesOnlyThatClass()
    {
        var edited = Callbacks.Replace("[On(Event.AfterFit)] void Stop() { }", "[On(Event.AfterFit)] void Stop() { }\n    [On(Event.AfterLoss)] void Loss() { }");
        var (_, second) = RunTwice(c => ReplaceTree(c, "Callbacks.cs", edited));

        var classes = second.Result.Results.Single().TrackedSteps[TrackingNames.CallbackClasses]
            .SelectMany(s => s.Outputs)
            .ToList();
        Assert.That(classes.Count(o => o.Reason == IncrementalStepRunReason.Modified), Is.EqualTo(1), "Child changed");
        Assert.That(classes.Count(o => o.Reason is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached), Is.EqualTo(2));
        Assert.That(second.Sources["Samples.Child.g.cs"], Does.Contain("this.Loss();"));
    }

    [Test]
    public void AddingAPersistedMemberRegeneratesOnlyThatClassAndEditingItsBodiesDoesNot()
    {
        var persisting = Callbacks.Replace("[On(Event.AfterFit)] void Stop() { }", "[On(Event.AfterFit)] void Stop() { }\n    [Persist] private int _stops;");
        var (_, second) = RunTwice(c => ReplaceTree(c, "Callbacks.cs", persisting));
        var classes = second.Result.Results.Single().TrackedSteps[TrackingNames.CallbackClasses].SelectMany(s => s.Outputs).ToList();
        Assert.That(classes.Count(o => o.Reason == IncrementalStepRunReason.Modified), Is.EqualTo(1), "Child changed");
        Assert.That(second.Sources["Samples.Child.g.cs"], Does.Contain("state.Set(\"_stops\", this._stops, global::FastCallbacks.StateCodecs.Int32);"));
        GeneratorHarness.AssertSameAsFreshRun(second);

        // With the member there, editing a handler body or moving lines changes no model.
        var compilation = GeneratorHarness.Compile([("Callbacks.cs", persisting), ("Maths.cs", Unrelated)]);
        var first = GeneratorHarness.Run(compilation);
        var edited = persisting.Replace("void Start() { }", "void Start() { _ = 1; }").Replace("namespace Samples;", "namespace Samples;\n\n// moved\n");
        var third = GeneratorHarness.Run(ReplaceTree(compilation, "Callbacks.cs", edited), first.Driver);
        AssertAllCached(third);
    }

    /// <summary>A generator, its first run over Callbacks.cs and Maths.cs, and the counters after it.</summary>
    private sealed class Counted
    {
        public CallbackGenerator Generator { get; } = new();
        public GeneratorRun First { get; }
        public CSharpCompilation Compilation { get; }
        private (int Trees, int Binds, int Classes) _mark;

        public Counted(params (string Path, string Source)[] extra)
        {
            Compilation = GeneratorHarness.Compile([("Callbacks.cs", Callbacks), ("Maths.cs", Unrelated), .. extra]);
            First = GeneratorHarness.Run(Compilation, GeneratorHarness.CreateDriver(Generator));
            Mark();
        }

        public void Mark() => _mark = (Generator.TreesIndexed, Generator.BindRuns, Generator.ClassesBound);

        /// <summary>Trees read, bind runs and classes bound since the last <see cref="Mark"/>.</summary>
        public (int Trees, int Binds, int Classes) Since() =>
            (Generator.TreesIndexed - _mark.Trees, Generator.BindRuns - _mark.Binds, Generator.ClassesBound - _mark.Classes);

        public GeneratorRun Rerun(string path, string newSource, GeneratorRun? after = null)
        {
            Mark();
            return GeneratorHarness.Run(ReplaceTree(after?.Input ?? Compilation, path, newSource), (after ?? First).Driver);
        }
    }

    [Test]
    public void TheFirstRunReadsEveryTreeOnceAndBindsOnlyTheCandidates()
    {
        var counted = new Counted();

        // The contract stub, the test harness, Callbacks.cs, Maths.cs; one bind run; Tracker, Child and Forwarding
        // (GanLearner is not partial, Maths has no base list).
        Assert.That((counted.Generator.TreesIndexed, counted.Generator.BindRuns, counted.Generator.ClassesBound), Is.EqualTo((4, 1, 3)));
    }

    [TestCase("x * 2", "x + x", TestName = "Edit in an unrelated method body")]
    [TestCase("x * 2", "/* twice */ x * 2", TestName = "Comment in an unrelated method body")]
    [TestCase("public static int Twice(int x) => x * 2;", "public static int Twice(int x) { var y = x; return y * 2; }", TestName = "Expression body becomes a block")]
    public void AnEditInsideAnUnrelatedBodyReadsOneTreeAndBindsNothing(string before, string after)
    {
        var counted = new Counted();
        var second = counted.Rerun("Maths.cs", Unrelated.Replace(before, after));

        Assert.That(counted.Since(), Is.EqualTo((1, 0, 0)), "(trees read, bind runs, classes bound)");
        AssertDeclarationsUnchanged(second);
        AssertAllCached(second);
        GeneratorHarness.AssertSameAsFreshRun(second);
    }

    [Test]
    public void AnEditInsideAHandlerBodyBindsNothing()
    {
        // A body is not part of any model: the handler's class is not even re-bound.
        var counted = new Counted();
        var second = counted.Rerun("Callbacks.cs", Callbacks.Replace("void Start() { }", "void Start() { System.Console.WriteLine(\"started\"); }"));

        Assert.That(counted.Since(), Is.EqualTo((1, 0, 0)));
        AssertAllCached(second);
        GeneratorHarness.AssertSameAsFreshRun(second);
    }

    [Test]
    public void ManyEditsInABodyKeepBindingNothing()
    {
        // As typing goes on: each keystroke is a new tree of the same file, and each run starts from the last one.
        var counted = new Counted();
        var run = counted.First;
        var text = Unrelated;
        for (var i = 0; i < 5; i++)
        {
            text = text.Replace("x * 2", $"x * 2 + {i} - {i}");
            run = counted.Rerun("Maths.cs", text, run);
            Assert.That(counted.Since(), Is.EqualTo((1, 0, 0)), $"keystroke {i}");
            AssertAllCached(run);
        }
    }

    [TestCase("public static int Twice(int x) => x * 2;", "public static int Twice(int x) => x * 2;\n    public static int Thrice(int x) => x * 3;", TestName = "Method added to an unrelated class")]
    [TestCase("public static class Maths", "// a comment between declarations\npublic static class Maths", TestName = "Comment outside bodies")]
    [TestCase("=> x * 2;", "{\n#nullable disable\n        return x * 2;\n    }", TestName = "Directive inside a body")]
    public void AnEditOutsideBodiesBindsTheCandidatesAgainAndKeepsTheOutputsCached(string before, string after)
    {
        // The declarations may have changed, so the candidates are bound again; their models compare equal.
        var counted = new Counted();
        var second = counted.Rerun("Maths.cs", Unrelated.Replace(before, after));

        Assert.That(counted.Since(), Is.EqualTo((1, 1, 3)), "(trees read, bind runs, classes bound)");
        AssertAllCached(second);
    }

    [Test]
    public void ABodyEditThatSwallowsTheNextMemberIsSeen()
    {
        // Deleting a closing brace makes the parser take Stop for a local function of Start: the declarations
        // changed even though only a body's text was edited, so the class must be bound again.
        var counted = new Counted();
        var second = counted.Rerun("Callbacks.cs", Callbacks.Replace("[On(Event.AfterFit)] void Stop() { }", "[On(Event.AfterFit)] void Stop() {"));

        Assert.That(counted.Since().Binds, Is.EqualTo(1));
        GeneratorHarness.AssertSameAsFreshRun(second);
    }

    [Test]
    public void ANewHandlerInABodyFreeClassIsBoundAndGenerated()
    {
        var counted = new Counted();
        var second = counted.Rerun("Maths.cs", """
            using FastCallbacks;
            namespace Samples;

            public static class Maths
            {
                public static int Twice(int x) => x * 2;
            }

            public partial class Late : Callback
            {
                [On(Event.AfterEpoch)] void Epoch() { }
            }
            """);

        Assert.That(counted.Since(), Is.EqualTo((1, 1, 4)));
        Assert.That(second.Sources.Keys, Does.Contain("Samples.Late.g.cs"));
        GeneratorHarness.AssertSameAsFreshRun(second);
    }

    [Test]
    public void TheCounterSeesTheCostThatTrackedStepsHide()
    {
        // The earlier design (binding every partial class with a base list on every run) keeps every output cached
        // after an unrelated edit too, so only the counter tells the two apart: this is the check the tests above make.
        var baseline = new Baseline.BindEveryClassGenerator();
        var compilation = GeneratorHarness.Compile([("Callbacks.cs", Callbacks), ("Maths.cs", Unrelated)]);
        var first = GeneratorHarness.Run(compilation, GeneratorHarness.CreateDriver(baseline));
        var before = baseline.ClassesBound;
        var second = GeneratorHarness.Run(ReplaceTree(compilation, "Maths.cs", Unrelated.Replace("x * 2", "x + x")), first.Driver);

        Assert.That(second.Result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason),
            Is.All.EqualTo(IncrementalStepRunReason.Cached));
        Assert.That(baseline.ClassesBound - before, Is.EqualTo(3), "Tracker, Child and Forwarding bound again");
    }

    [Test]
    public void OtherPartialClassesAreNeitherBoundNorCounted()
    {
        // A large application's partial classes with base lists that are not callbacks (view models, controllers,
        // collections, ...): doubling them changes nothing the generator binds.
        static (string, string)[] Others(int count) => Enumerable.Range(0, count).Select(i => ($"Other{i}.cs", $$"""
            using System;
            using System.Collections.Generic;
            namespace Samples.App;

            public partial class Model{{i}} : {{(i % 3) switch { 0 => "List<int>", 1 => "IDisposable", _ => "EventArgs" }}}
            {
                [Obsolete] public void Old() { }
                [System.Diagnostics.Conditional("DEBUG")] public void Trace() { }
                public void Dispose() { }
            }
            """)).ToArray();

        var small = new Counted(Others(100));
        var large = new Counted(Others(200));

        Assert.That(small.Generator.ClassesBound, Is.EqualTo(3));
        Assert.That(large.Generator.ClassesBound, Is.EqualTo(3));
        Assert.That(large.First.Sources.Keys, Is.EquivalentTo(small.First.Sources.Keys));
        GeneratorHarness.AssertSameAsBindingEveryClass(large.First);
    }

    [Test]
    public void PipelineModelsAreEquatableValues()
    {
        var modelTypes = typeof(CallbackGenerator).Assembly.GetTypes()
            .Where(t => t.Namespace == "FastCallbacks.Generators.Models" && !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
            .ToList();
        Assert.That(modelTypes.Select(t => t.Name), Does.Contain("CallbackClassModel").And.Contain("HandlerModel"));

        foreach (var type in modelTypes)
        {
            Assert.That(typeof(IEquatable<>).MakeGenericType(type).IsAssignableFrom(type), Is.True, $"{type.Name} is IEquatable");
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                Assert.That(IsValueLike(field.FieldType), Is.True, $"{type.Name}.{field.Name} is {field.FieldType}");
            }
        }
    }

    /// <summary>Primitive, enum, string, another model, or an EquatableArray of those: never a symbol, node or location.</summary>
    private static bool IsValueLike(Type type) =>
        type.IsPrimitive
        || type.IsEnum
        || type == typeof(string)
        || type.Namespace == "FastCallbacks.Generators.Models"
        || (type.IsGenericType && type.GetGenericTypeDefinition().Name == "EquatableArray`1" && IsValueLike(type.GetGenericArguments()[0]));

    [Test]
    public void EqualModelsFromSeparateRunsAreEqual()
    {
        // Two independent runs over the same text must produce equal (not merely equivalent-looking) models.
        var first = GeneratorHarness.Run(Callbacks);
        var second = GeneratorHarness.Run(Callbacks);
        var models = (GeneratorRun run) => run.Result.Results.Single().TrackedSteps[TrackingNames.CallbackClasses]
            .SelectMany(s => s.Outputs).Select(o => o.Value).ToList();

        Assert.That(models(second), Is.EqualTo(models(first)));
        Assert.That(models(first).Select(m => m.GetHashCode()), Is.EqualTo(models(second).Select(m => m.GetHashCode())));
    }
}
