using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.LearnerStateWriteAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.CodeFixes;

/// <summary>FCB0001's fix: the write target becomes <c>Learn.X</c>. Each test also runs fix-all (document, project, solution).</summary>
public class UseLearnCodeFixTests
{
    private static DiagnosticResult Expected(int marker, string member, string cls = "Cb") =>
        V.Diagnostic(DiagnosticDescriptors.WriteShadowsLearnerState).WithLocation(marker).WithArguments(cls, member);

    [Test]
    public Task RewritesEveryKindOfWrite() => V.CodeFixAsync<UseLearnCodeFixProvider>("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            private new int Epoch;
            private new Tensor? Pred;
            [On(Event.AfterBatch)]
            void M()
            {
                {|#0:Lr|} = 0.1;
                {|#1:this.Lr|} *= 2; // halve it
                {|#2:Epoch|}++;
                ({|#3:Lr|}, {|#4:Epoch|}) = (Lr, Epoch);
                {|#5:Pred|} ??= new Tensor();
            }
        }
        """, """
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            private new int Epoch;
            private new Tensor? Pred;
            [On(Event.AfterBatch)]
            void M()
            {
                Learn.Lr = 0.1;
                Learn.Lr *= 2; // halve it
                Learn.Epoch++;
                (Learn.Lr, Learn.Epoch) = (Lr, Epoch);
                Learn.Pred ??= new Tensor();
            }
        }
        """,
        Expected(0, "Lr"), Expected(1, "Lr"), Expected(2, "Epoch"), Expected(3, "Lr"), Expected(4, "Epoch"), Expected(5, "Pred"));

    [Test]
    public Task WritesLearnWithNullForgivingWhereNullableWarningsAreOn() => V.CodeFixAsync<UseLearnCodeFixProvider>("""
        #nullable enable
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            [On(Event.BeforeBatch)] void M() => {|#0:Lr|} = 1;
        }
        """, """
        #nullable enable
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            [On(Event.BeforeBatch)] void M() => Learn!.Lr = 1;
        }
        """, Expected(0, "Lr"));

    [Test]
    public Task UsesTheTypedLearnOfCallbackOfT() => V.CodeFixAsync<UseLearnCodeFixProvider>("""
        #nullable enable
        using FastCallbacks;
        public class GanLearner : Learner { public bool GenMode { get; set; } }
        public partial class Switcher : Callback<GanLearner>
        {
            private bool GenMode;
            [On(Event.BeforeBatch)] void M() => {|#0:GenMode|} = !GenMode;
        }
        """, """
        #nullable enable
        using FastCallbacks;
        public class GanLearner : Learner { public bool GenMode { get; set; } }
        public partial class Switcher : Callback<GanLearner>
        {
            private bool GenMode;
            [On(Event.BeforeBatch)] void M() => Learn!.GenMode = !GenMode;
        }
        """, Expected(0, "GenMode", "Switcher"));

    [Test]
    public Task RefArgumentToALearnerPropertyHasNoFix() => V.CodeFixAsync<UseLearnCodeFixProvider>("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public new int Iter;
            [On(Event.AfterBatch)] void M() { System.Threading.Interlocked.Increment(ref {|#0:Iter|}); {|#1:Iter|} += 1; }
        }
        """, """
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public new int Iter;
            [On(Event.AfterBatch)] void M() { System.Threading.Interlocked.Increment(ref {|#0:Iter|}); Learn.Iter += 1; }
        }
        """, [Expected(0, "Iter"), Expected(1, "Iter")], [Expected(0, "Iter")]);
}
