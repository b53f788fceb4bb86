using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.ForwarderWriteAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.CodeFixes;

/// <summary>
/// The fix for FCB0008, and for the compiler's CS0200 beside it: <c>Xb = …</c> becomes <c>Learn.Xb = …</c>. Each test
/// also runs fix-all (document, project, solution).
/// </summary>
public class ForwarderWriteCodeFixTests
{
    private static DiagnosticResult Expected(int marker, string member, string snake) =>
        V.Diagnostic(DiagnosticDescriptors.WriteToReadOnlyForwarder).WithLocation(marker).WithArguments(member, snake);

    private static DiagnosticResult ReadOnly(int marker, string property) =>
        DiagnosticResult.CompilerError("CS0200").WithLocation(marker).WithMessage($"Property or indexer '{property}' cannot be assigned to -- it is read only");

    [Test]
    public Task RewritesTheWritesFastaiUsersMake() => V.CodeFixAsync<UseLearnCodeFixProvider>("""
        #nullable enable
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)]
            void Scale() => {|#0:{|#1:Xb|}|} = new[] { X! };

            [On(Event.AfterLoss)]
            void Penalty()
            {
                {|#2:{|#3:this.LossGrad|}|} = LossGrad; // keep the comment
                ({|#4:{|#5:Pred|}|}, {|#6:{|#7:Iter|}|}) = (Pred, Iter + 1);
            }
        }
        """, """
        #nullable enable
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)]
            void Scale() => Learn!.Xb = new[] { X! };

            [On(Event.AfterLoss)]
            void Penalty()
            {
                Learn!.LossGrad = LossGrad; // keep the comment
                (Learn!.Pred, Learn!.Iter) = (Pred, Iter + 1);
            }
        }
        """,
        ReadOnly(0, "Callback.Xb"), Expected(1, "Xb", "xb"),
        ReadOnly(2, "Callback.LossGrad"), Expected(3, "LossGrad", "loss_grad"),
        ReadOnly(4, "Callback.Pred"), Expected(5, "Pred", "pred"),
        ReadOnly(6, "Callback.Iter"), Expected(7, "Iter", "iter"));

    [Test]
    public Task TheFixIsOfferedOnCS0200Alone()
    {
        // With FCB0008 turned off, the light bulb on the compiler's CS0200 still has the fix.
        var test = new V.CodeFixTest<UseLearnCodeFixProvider>
        {
            TestCode = """
                using FastCallbacks;
                public partial class Cb : Callback
                {
                    [On(Event.BeforeBatch)] void M() { {|#0:Xb|} = Yb; {|#1:Epoch|} += 1; }
                }
                """,
            FixedCode = """
                using FastCallbacks;
                public partial class Cb : Callback
                {
                    [On(Event.BeforeBatch)] void M() { Learn.Xb = Yb; Learn.Epoch += 1; }
                }
                """,
        };
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n[*.cs]\ndotnet_diagnostic.FCB0008.severity = none\n"));
        test.ExpectedDiagnostics.AddRange([ReadOnly(0, "Callback.Xb"), ReadOnly(1, "Callback.Epoch")]);
        return test.RunAsync(CancellationToken.None);
    }

    [Test]
    public Task NoFixForOtherReadOnlyProperties()
    {
        const string source = """
            using FastCallbacks;
            public class Box { public int Size => 1; }
            public partial class Cb : Callback
            {
                public int Mine => 1;
                [On(Event.BeforeBatch)] void M(Box b) { {|#0:X|} = null; {|#1:Mine|} = 2; {|#2:b.Size|} = 3; }
            }
            """;
        var test = new V.CodeFixTest<UseLearnCodeFixProvider> { TestCode = source, FixedCode = source };
        test.ExpectedDiagnostics.AddRange([ReadOnly(0, "Callback.X"), ReadOnly(1, "Cb.Mine"), ReadOnly(2, "Box.Size")]);
        return test.RunAsync(CancellationToken.None);
    }
}
