using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace FastCallbacks.Robustness.Tests;

/// <summary>
/// Half-typed callbacks an editor shows every day. The generator must neither fail nor emit a part that does not
/// parse: a generated file with its own syntax errors adds confusing errors on top of the user's.
/// </summary>
public class BrokenShapeTests
{
    private const string Usings = "using FastCallbacks;\n";

    public static IEnumerable<TestCaseData> Cases() => new (string Name, string Source)[]
    {
        ("class without a name", "partial class : Callback { [On(Event.BeforeFit)] void A() {} }"),
        ("two classes without a name", "partial class : Callback { [On(Event.BeforeFit)] void A() {} }\npartial class : Callback { [On(Event.AfterFit)] void B() {} }"),
        ("nested class in a class without a name", "partial class : Callback { partial class Inner : Callback { [On(Event.BeforeFit)] void A() {} } }"),
        ("namespace ending in a dot", "namespace A. { partial class C : Callback { [On(Event.BeforeFit)] void A() {} } }"),
        ("namespace with an empty segment", "namespace A..B { partial class C : Callback { [On(Event.BeforeFit)] void A() {} } }"),
        ("file-scoped namespace ending in a dot", "namespace A.;\npartial class C : Callback { [On(Event.BeforeFit)] void A() {} }"),
        ("handler without a name", "partial class C : Callback { [On(Event.BeforeFit)] void () {} }"),
        ("handler without a name, taking the event", "partial class C : Callback { [On(Event.BeforeFit)] void (Event e) {} }"),
        ("type parameter without a name", "partial class C< > : Callback { [On(Event.BeforeFit)] void A() {} }"),
        ("type parameter list cut short", "partial class C<T : Callback { [On(Event.BeforeFit)] void A() {} }"),
        ("attribute cut short", "partial class C : Callback { [On(Event. void A() {} }"),
        ("attribute without arguments", "partial class C : Callback { [On] void A() {} }"),
        ("class cut after the attribute", "partial class C : Callback { [On(Event.BeforeFit)]"),
        ("typed callback without a learner name", "partial class C : Callback< > { [On(Event.BeforeFit)] void A() {} }"),
        ("typed callback whose learner has a nameless property",
            "class L(DataLoaders d, TorchSharp.Modules.Linear m) : Learner(d, m, (a, b) => a) { public int { get; set; } public int Ok { get; } }\n" +
            "partial class C : Callback<L> { [On(Event.BeforeFit)] void A() {} }"),
    }.Select(c => new TestCaseData(c.Source).SetName("Broken_shape_" + c.Name.Replace(' ', '_').Replace(",", "")));

    [TestCaseSource(nameof(Cases))]
    public void Broken_shape(string source)
    {
        var host = new RoslynHost(MutationTests.Analyzers);
        var report = host.Run("Broken.cs", Usings + source, TimeSpan.FromSeconds(30));
        Assert.That(report.Failure, Is.Null);
        Assert.That(report.GeneratedFilesWithSyntaxErrors, Is.Zero, "every generated file parses");
    }
}
