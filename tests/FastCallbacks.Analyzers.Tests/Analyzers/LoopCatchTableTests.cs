using FastCallbacks.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NUnit.Framework;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>
/// The analyzer's copy of the loop's catch structure (<see cref="LoopCatchTable"/>) and of the Event enum,
/// checked against an independent statement of fastai's rules and against the runtime's source.
/// </summary>
public class LoopCatchTableTests
{
    private static readonly LoopEvent[] Batch =
    [
        LoopEvent.BeforeBatch, LoopEvent.AfterPred, LoopEvent.AfterLoss, LoopEvent.BeforeBackward,
        LoopEvent.AfterCancelBackward, LoopEvent.AfterBackward, LoopEvent.BeforeStep, LoopEvent.AfterCancelStep,
        LoopEvent.AfterStep, LoopEvent.AfterCancelBatch, LoopEvent.AfterBatch,
    ];

    private static IEnumerable<LoopEvent> Range(LoopEvent first, LoopEvent last) =>
        Enum.GetValues<LoopEvent>().Where(e => e >= first && e <= last);

    private static IEnumerable<TestCaseData> Rules() => RulesAsEnums()
        .Select(r => new TestCaseData(r.Kind.ToString(), r.Caught.Select(e => e.ToString()).ToArray()).SetArgDisplayNames(r.Kind.ToString()));

    private static IEnumerable<(CancelKind Kind, LoopEvent[] Caught)> RulesAsEnums()
    {
        yield return (CancelKind.Step, new[] { LoopEvent.BeforeStep });
        yield return (CancelKind.Backward, new[] { LoopEvent.BeforeBackward });
        yield return (CancelKind.Batch, Range(LoopEvent.BeforeBatch, LoopEvent.AfterStep).ToArray());
        yield return (CancelKind.Train, Batch.Append(LoopEvent.BeforeTrain).ToArray());
        // Backward and step events only happen while training, where nothing catches CancelValid.
        yield return (CancelKind.Valid, new[] { LoopEvent.BeforeBatch, LoopEvent.AfterPred, LoopEvent.AfterLoss,
            LoopEvent.AfterCancelBatch, LoopEvent.AfterBatch, LoopEvent.BeforeValidate });
        yield return (CancelKind.Epoch, Range(LoopEvent.BeforeEpoch, LoopEvent.AfterValidate).ToArray());
        yield return (CancelKind.Fit, Range(LoopEvent.BeforeFit, LoopEvent.AfterEpoch).ToArray());
    }

    [TestCaseSource(nameof(Rules))]
    public void EachCancelIsCaughtExactlyInsideItsStage(string kindName, string[] caughtNames)
    {
        var kind = Enum.Parse<CancelKind>(kindName);
        var caught = caughtNames.Select(Enum.Parse<LoopEvent>).ToArray();
        foreach (var e in Enum.GetValues<LoopEvent>())
            Assert.That(LoopCatchTable.IsCaught(kind, e), Is.EqualTo(caught.Contains(e)), $"{kind} thrown in {e}");
        Assert.That(LoopCatchTable.CaughtIn(kind), Is.EqualTo(caught.OrderBy(e => e)));
    }

    [Test]
    public void NoCancelIsCaughtAfterTheFitOrAtCreation()
    {
        foreach (var kind in Enum.GetValues<CancelKind>())
        {
            Assert.That(LoopCatchTable.IsCaught(kind, LoopEvent.AfterCreate), Is.False);
            Assert.That(LoopCatchTable.IsCaught(kind, LoopEvent.AfterCancelFit), Is.False);
            Assert.That(LoopCatchTable.IsCaught(kind, LoopEvent.AfterFit), Is.False);
        }
    }

    [Test]
    public void LoopEventMirrorsTheRuntimeEventEnumAndFastaiNames()
    {
        var source = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Runtime", "Core", "Event.cs"));
        var root = CSharpSyntaxTree.ParseText(source).GetRoot();
        var runtimeEnum = root.DescendantNodes().OfType<EnumDeclarationSyntax>().Single(e => e.Identifier.Text == "Event");
        var runtimeNames = runtimeEnum.Members.Select(m => m.Identifier.Text).ToArray();
        Assert.That(Enum.GetNames<LoopEvent>(), Is.EqualTo(runtimeNames));

        // fastai's names, as the runtime lists them in Events.Name.
        var snake = root.DescendantNodes().OfType<LiteralExpressionSyntax>()
            .Where(l => l.IsKind(SyntaxKind.StringLiteralExpression) && (l.Token.ValueText.StartsWith("after_") || l.Token.ValueText.StartsWith("before_")))
            .Select(l => l.Token.ValueText).ToArray();
        Assert.That(Enum.GetValues<LoopEvent>().Select(LoopEvents.SnakeName), Is.EqualTo(snake));
    }

    [Test]
    public void CancelKindsMatchTheRuntimeExceptionClasses()
    {
        var source = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Runtime", "Core", "CancelExceptions.cs"));
        var classes = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>()
            .Where(c => c.BaseList?.Types.Any(t => t.Type.ToString() == "CancelException") == true)
            .Select(c => c.Identifier.Text).Order().ToArray();
        Assert.That(Enum.GetValues<CancelKind>().Select(LoopCatchTable.ExceptionName).Order(), Is.EqualTo(classes));
    }

    [Test]
    public void TheTestContractStubDeclaresTheRuntimeEventsInOrder()
    {
        var root = CSharpSyntaxTree.ParseText(Contract.Source).GetRoot();
        var stubEnum = root.DescendantNodes().OfType<EnumDeclarationSyntax>().Single(e => e.Identifier.Text == "Event");
        Assert.That(stubEnum.Members.Select(m => m.Identifier.Text), Is.EqualTo(Enum.GetNames<LoopEvent>()));
    }
}
