using FastCallbacks.Generators.Declarations;
using FastCallbacks.Generators.Tests.Infrastructure;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// The declaration fingerprint decides whether anything is bound after an edit: it must stay equal for edits inside
/// bodies and change for anything that can change a declaration.
/// </summary>
public class TreeIndexTests
{
    private const string Source = """
        namespace Samples;

        public partial class C : Base
        {
            private int _x = 1;

            public int P => _x;

            public int Q { get { return _x; } set { _x = value; } }

            partial void Hook();

            partial void Hook() { _x++; }

            public C() : base(1) { _x = 2; }

            [Obsolete] public int Twice(int x) => x * 2;
        }
        """;

    private static DeclarationHash Fingerprint(string source, string path = "C.cs") =>
        TreeIndex.Build(GeneratorHarness.Parse(path, source), default).Fingerprint;

    [TestCase("=> x * 2;", "=> x * 3;", TestName = "Expression body")]
    [TestCase("{ _x++; }", "{ _x += 2; /* more */ }", TestName = "Block body")]
    [TestCase("{ return _x; }", "{ var y = _x; return y; }", TestName = "Accessor body")]
    [TestCase("public int P => _x;", "public int P => _x + 0;", TestName = "Expression-bodied property")]
    [TestCase("{ _x = 2; }", "{\n        _x = 2;\n        _x = 3;\n    }", TestName = "Constructor body, lines added")]
    [TestCase("public int Twice(int x) => x * 2;", "public int Twice(int x) { return x * 2; }", TestName = "Expression body becomes a block")]
    public void EditsInsideBodiesKeepTheFingerprint(string before, string after) =>
        Assert.That(Fingerprint(Source.Replace(before, after)), Is.EqualTo(Fingerprint(Source)));

    [TestCase("[Obsolete] public int Twice", "public int Twice", TestName = "Attribute removed")]
    [TestCase("partial void Hook();", "partial void Hook() { }", TestName = "A body added to a member without one")]
    [TestCase("partial void Hook() { _x++; }", "partial void Hook() \u0002", TestName = "A body replaced by a character of no meaning")]
    [TestCase(": base(1)", ": base(2)", TestName = "Constructor initializer")]
    [TestCase("private int _x = 1;", "private int _x = 2;", TestName = "Field initializer")]
    [TestCase("{ _x = 2; }", "{ _x = 2;\n#nullable disable\n    }", TestName = "Directive inside a body")]
    [TestCase("public partial class C", "// a comment\npublic partial class C", TestName = "Comment outside bodies")]
    [TestCase("{ _x++; }\n", "{ _x++;\n", TestName = "A closing brace deleted")]
    public void EditsOutsideBodiesChangeTheFingerprint(string before, string after) =>
        Assert.That(Fingerprint(Source.Replace(before, after)), Is.Not.EqualTo(Fingerprint(Source)));

    [Test]
    public void TheFilePathIsPartOfTheFingerprint() =>
        Assert.That(Fingerprint(Source, "D.cs"), Is.Not.EqualTo(Fingerprint(Source, "C.cs")));

    [Test]
    public void ClassesAliasesAndAttributeNamesAreRead()
    {
        var index = TreeIndex.Build(GeneratorHarness.Parse("A.cs", """
            using Handler = FastCallbacks.OnAttribute;
            global using Typed = FastCallbacks.Callback<Samples.L>;
            namespace Samples
            {
                using Inner = global::Handler;
                public partial class A : global::FastCallbacks.Callback<L>, System.IDisposable
                {
                    [FastCallbacks.On(Event.BeforeFit), Obsolete] void Go() { }
                    [Handler] void Stop() { }
                    public void Dispose() { }
                    class Nested : Typed { [On] void Local() { } }
                }
                record R : Base;
            }
            """), default);

        Assert.That(index.Aliases, Is.EqualTo(new[]
        {
            new UsingAlias("Handler", "OnAttribute", false), new UsingAlias("Typed", "Callback", true), new UsingAlias("Inner", "Handler", false),
        }));
        Assert.That(index.Classes.Select(c => c.Name), Is.EqualTo(new[] { "A", "Nested" }), "records are not classes here");
        var a = index.Classes[0];
        Assert.That((a.IsPartial, a.BaseNames.ToArray(), a.MethodAttributeNames.ToArray()),
            Is.EqualTo((true, new[] { ("Callback", true), ("IDisposable", false) }, new[] { "On", "Obsolete", "Handler" })));
        Assert.That(index.Classes[1].MethodAttributeNames, Is.EqualTo(new[] { "On" }), "a nested class's methods are its own");
    }
}
