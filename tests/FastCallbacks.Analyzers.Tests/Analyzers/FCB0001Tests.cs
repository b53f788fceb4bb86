using FastCallbacks.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.LearnerStateWriteAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0001: a callback writes its own member named like a settable learner member.</summary>
public class FCB0001Tests
{
    private static DiagnosticResult Expected(int marker, string cls, string member) =>
        V.Diagnostic(DiagnosticDescriptors.WriteShadowsLearnerState).WithLocation(marker).WithArguments(cls, member);

    [Test]
    public Task SimpleAssignmentToOwnFieldIsReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            private new int Epoch;
            [On(Event.BeforeEpoch)] void M() { {|#0:Epoch|} = 3; }
        }
        """, Expected(0, "Cb", "Epoch"));

    [Test]
    public Task ExplicitThisPropertyWriteIsReportedOnTheWholeTarget() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr { get; set; }
            [On(Event.BeforeBatch)] void M() { {|#0:this.Lr|} = 0.1; }
        }
        """, Expected(0, "Cb", "Lr"));

    [Test]
    public Task CompoundIncrementAndCoalescingWritesAreReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            public new int Iter;
            public new Tensor? Pred;
            [On(Event.AfterBatch)]
            void M()
            {
                {|#0:Lr|} *= 0.5;
                {|#1:Iter|}++;
                --{|#2:Iter|};
                {|#3:Pred|} ??= new Tensor();
            }
        }
        """, Expected(0, "Cb", "Lr"), Expected(1, "Cb", "Iter"), Expected(2, "Cb", "Iter"), Expected(3, "Cb", "Pred"));

    [Test]
    public Task RefOutAndDeconstructionWritesAreReported() => V.AnalyzerAsync("""
        using System.Threading;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public new int Epoch;
            public new int Iter;
            public double Lr;
            [On(Event.AfterBatch)]
            void M()
            {
                Interlocked.Increment(ref {|#0:Iter|});
                int.TryParse("1", out {|#1:Epoch|});
                ({|#2:Lr|}, ({|#3:this.Epoch|}, _)) = (0.1, (2, 3));
            }
        }
        """, Expected(0, "Cb", "Iter"), Expected(1, "Cb", "Epoch"), Expected(2, "Cb", "Lr"), Expected(3, "Cb", "Epoch"));

    [Test]
    public Task WriteInsideALambdaOrOrdinaryMethodIsReported() => V.AnalyzerAsync("""
        using System;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            [On(Event.BeforeFit)] void M() { Action a = () => {|#0:Lr|} = 1; a(); }
            void Helper() => {|#1:Lr|} = 2;
        }
        """, Expected(0, "Cb", "Lr"), Expected(1, "Cb", "Lr"));

    [Test]
    public Task MemberDeclaredByACallbackBaseClassIsReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public abstract partial class Base : Callback { protected double Lr; }
        public partial class Derived : Base
        {
            [On(Event.BeforeBatch)] void M() => {|#0:Lr|} = 2;
        }
        """, Expected(0, "Derived", "Lr"));

    [Test]
    public Task TypedLearnerMembersAreUsedForCallbackOfT() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class GanLearner : Learner { public bool GenMode { get; set; } }
        public partial class Switcher : Callback<GanLearner>
        {
            private bool GenMode;
            [On(Event.BeforeBatch)] void M() => {|#0:GenMode|} = !GenMode;
        }
        public partial class Plain : Callback
        {
            private bool GenMode;
            [On(Event.BeforeBatch)] void M() => GenMode = !GenMode;
        }
        """, Expected(0, "Switcher", "GenMode"));

    [Test]
    public Task GenericCallbackUsesTheConstraintOfItsLearnerParameter() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class GanLearner : Learner { public bool GenMode { get; set; } }
        public partial class Switcher<TL> : Callback<TL> where TL : GanLearner
        {
            private bool GenMode;
            [On(Event.BeforeBatch)] void M() => {|#0:GenMode|} = true;
        }
        """, Expected(0, "Switcher", "GenMode"));

    [Test]
    public Task ReadsAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr = 0.1;
            private new int Epoch;
            [On(Event.BeforeBatch)]
            void M()
            {
                var x = Lr + Epoch;
                Use(in Lr);
                System.Console.WriteLine(x);
            }
            static void Use(in double d) { }
        }
        """);

    [Test]
    public Task WritesThroughLearnAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            [On(Event.BeforeBatch)]
            void M()
            {
                Learn!.Lr = Lr;
                Learn.Epoch++;
                (Learn.Lr, Learn.Iter) = (1, 2);
            }
        }
        """);

    [Test]
    public Task WritesInConstructorsAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr { get; private set; }
            public Cb(double lr) { Lr = lr; this.Lr *= 2; }
        }
        """);

    [Test]
    public Task NamesTheLearnerCannotSetAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class MyLearner : Learner
        {
            public int Stage { get; internal set; }
            public int Phase { get; private set; }
            public int Step { get; init; }
            public readonly int Seed;
        }
        public partial class Cb : Callback<MyLearner>
        {
            private new Tensor? X;         // get-only on Learner
            private int Stage, Phase, Step, Seed;
            private int Count;             // no such learner member
            private static double Lr;      // static: not per-callback state
            [On(Event.BeforeBatch)] void M() { X = null; Stage = 1; Phase = 1; Step = 1; Seed = 1; Count++; Lr = 3; }
        }
        """);

    [Test]
    public Task OtherInstancesAndNonCallbacksAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            public double Lr;
            [On(Event.BeforeBatch)] void M() { var other = new Cb(); other.Lr = 1; }
        }
        public class NotACallback
        {
            public double Lr;
            void M() => Lr = 1;
        }
        """);
}
