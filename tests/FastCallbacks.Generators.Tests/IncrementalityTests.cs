using System.Collections.Immutable;
using System.Reflection;
using FastCallbacks.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// An edit that does not touch callbacks must leave every pipeline step cached, which requires the pipeline's
/// models to be equatable values rather than symbols or syntax.
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
        Assert.That(steps.Keys, Is.SupersetOf(TrackedSteps), "every named step ran");
        var changed = Outputs(run)
            .Where(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged))
            .ToList();
        Assert.That(changed, Is.Empty, () => string.Join("\n", changed));
        Assert.That(run.Result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)
            .Select(o => o.Reason), Is.All.EqualTo(IncrementalStepRunReason.Cached));
    }

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

    /// <summary>Primitive, string, another model, or an EquatableArray of those: never a symbol, node or location.</summary>
    private static bool IsValueLike(Type type) =>
        type.IsPrimitive
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
