using FastCallbacks.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FastCallbacks.Generators.Tests;

/// <summary>
/// Keeps Stubs/FastCallbacksContract.cs in step with the real runtime (src/Runtime), whose source is parsed, not
/// compiled: the generator's output depends on the Event names, on the virtual signatures it overrides and on the
/// member names Callback declares (learner properties with those names are not forwarded). When one of these fails
/// after a runtime change, update the stub to match.
/// </summary>
public class ContractStubTests
{
    private static readonly Lazy<IReadOnlyList<SyntaxTree>> RuntimeTrees = new(() =>
        Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src", "Runtime"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), GeneratorHarness.ParseOptions, path))
            .ToList());

    private static readonly IReadOnlyList<SyntaxTree> StubTrees =
        [CSharpSyntaxTree.ParseText(GeneratorHarness.ContractSource, GeneratorHarness.ParseOptions)];

    [Test]
    public void EventValuesMatch() =>
        Assert.That(EventNames(StubTrees), Is.EqualTo(EventNames(RuntimeTrees.Value)));

    [TestCase("Callback", 0)]
    [TestCase("Callback", 1)]
    public void CallbackMemberNamesMatch(string name, int arity) =>
        Assert.That(NonPrivateMemberNames(StubTrees, name, arity), Is.EquivalentTo(NonPrivateMemberNames(RuntimeTrees.Value, name, arity)));

    [TestCase("Callback", "Dispatch")]
    [TestCase("Callback", "GetHandledEvents")]
    [TestCase("Callback", "DispatchUnchecked")]
    [TestCase("Callback", "ShouldWrapHandlerException")]
    [TestCase("CallbackException", "CallbackException")]
    [TestCase("OnAttribute", "OnAttribute")]
    [TestCase("EventSet", "EventSet")]
    [TestCase("EventSet", "op_BitwiseOr")]
    public void SignaturesMatch(string type, string member) =>
        Assert.That(Signatures(StubTrees, type, member), Is.EquivalentTo(Signatures(RuntimeTrees.Value, type, member)).And.Not.Empty);

    [TestCase("Callback", "Learn")]
    [TestCase("Callback", "Attached")]
    [TestCase("Callback", "DispatchWrapsExceptions")]
    [TestCase("EventSet", "None")]
    [TestCase("EventSet", "Mask")]
    public void PropertyShapesMatch(string type, string property) =>
        Assert.That(Signatures(StubTrees, type, property), Is.EquivalentTo(Signatures(RuntimeTrees.Value, type, property)).And.Not.Empty);

    [Test]
    public void OnAttributeUsageMatches() =>
        Assert.That(AttributeLists(StubTrees, "OnAttribute"), Is.EqualTo(AttributeLists(RuntimeTrees.Value, "OnAttribute")));

    private static IEnumerable<T> Declarations<T>(IEnumerable<SyntaxTree> trees) where T : SyntaxNode =>
        trees.SelectMany(t => t.GetRoot().DescendantNodes().OfType<T>());

    private static IEnumerable<TypeDeclarationSyntax> Types(IEnumerable<SyntaxTree> trees, string name, int? arity = null) =>
        Declarations<TypeDeclarationSyntax>(trees)
            .Where(t => t.Identifier.Text == name && (arity is null || (t.TypeParameterList?.Parameters.Count ?? 0) == arity));

    private static IEnumerable<string> EventNames(IEnumerable<SyntaxTree> trees) =>
        Declarations<EnumDeclarationSyntax>(trees).Single(e => e.Identifier.Text == "Event").Members.Select(m => m.Identifier.Text);

    private static IEnumerable<string> NonPrivateMemberNames(IEnumerable<SyntaxTree> trees, string type, int arity) =>
        Types(trees, type, arity)
            .SelectMany(t => t.Members)
            .Where(m => m.Modifiers.Any(k => k.Kind() is SyntaxKind.PublicKeyword or SyntaxKind.ProtectedKeyword or SyntaxKind.InternalKeyword))
            .Select(MemberName)
            .Distinct();

    private static string MemberName(MemberDeclarationSyntax member) => member switch
    {
        MethodDeclarationSyntax m => m.Identifier.Text,
        PropertyDeclarationSyntax p => p.Identifier.Text,
        ConstructorDeclarationSyntax => ".ctor",
        FieldDeclarationSyntax f => f.Declaration.Variables.First().Identifier.Text,
        BaseTypeDeclarationSyntax t => t.Identifier.Text,
        OperatorDeclarationSyntax o => "op " + o.OperatorToken.Text,
        _ => member.Kind().ToString(),
    };

    /// <summary>A member's header (attributes, modifiers, type, name, parameters) without its body, whitespace normalized.</summary>
    private static IEnumerable<string> Signatures(IEnumerable<SyntaxTree> trees, string type, string member) =>
        Types(trees, type)
            .SelectMany(t => t.Members)
            .Select(m => m switch
            {
                MethodDeclarationSyntax method when method.Identifier.Text == member =>
                    method.WithBody(null).WithExpressionBody(null).WithSemicolonToken(default).WithAttributeLists(default),
                ConstructorDeclarationSyntax ctor when ((TypeDeclarationSyntax)ctor.Parent!).Identifier.Text == member =>
                    ctor.WithBody(null).WithExpressionBody(null).WithSemicolonToken(default).WithAttributeLists(default),
                OperatorDeclarationSyntax op when member == "op_BitwiseOr" && op.OperatorToken.IsKind(SyntaxKind.BarToken) =>
                    op.WithBody(null).WithExpressionBody(null).WithSemicolonToken(default).WithAttributeLists(default),
                PropertyDeclarationSyntax property when property.Identifier.Text == member =>
                    (SyntaxNode)property.WithExpressionBody(null).WithInitializer(null).WithSemicolonToken(default)
                        .WithAccessorList(property.AccessorList?.WithAccessors(SyntaxFactory.List(
                            property.AccessorList.Accessors.Select(a => a.WithBody(null).WithExpressionBody(null).WithSemicolonToken(default)))))
                        .WithAttributeLists(default),
                _ => null,
            })
            .OfType<SyntaxNode>()
            .Select(node => node.WithoutTrivia().NormalizeWhitespace().ToFullString());

    private static IEnumerable<string> AttributeLists(IEnumerable<SyntaxTree> trees, string type) =>
        Types(trees, type).SelectMany(t => t.AttributeLists).Select(a => a.WithoutTrivia().NormalizeWhitespace().ToFullString());
}
