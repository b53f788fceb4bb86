using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0004: a method named after an event has no [On].</summary>
public class FCB0004Tests
{
    internal static DiagnosticResult Expected(int marker, string method, string e) =>
        V.Diagnostic(DiagnosticDescriptors.EventNamedMethodWithoutOn).WithLocation(marker).WithArguments(method, e);

    [Test]
    public Task BothSpellingsAreReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            void {|#0:BeforeBatch|}() { }
            public void {|#1:after_cancel_step|}(Event e) { }
            private void {|#2:AfterFit|}() { }
        }
        """, Expected(0, "BeforeBatch", "BeforeBatch"), Expected(1, "after_cancel_step", "AfterCancelStep"), Expected(2, "AfterFit", "AfterFit"));

    [Test]
    public Task MethodsWithOnAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)] void BeforeBatch() { }
            [On(Event.AfterBatch)] void before_fit() { } // named oddly, but handled
        }
        """);

    [Test]
    public Task OtherNamesShapesAndTypesAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public interface IHooks { void BeforeFit(); }
        public abstract partial class Cb : Callback, IHooks
        {
            void beforeBatch() { }                   // neither spelling
            void Before_Batch() { }                  // neither spelling
            int AfterBatch() => 0;                   // not a handler shape
            void AfterLoss(int x) { }                // not a handler shape
            static void AfterStep() { }              // static
            protected virtual void AfterEpoch() { }  // an extension point, called through an override
            protected abstract void AfterPred();
            public void BeforeFit() { }              // implements an interface
        }
        public partial class Derived : Cb
        {
            [On(Event.AfterEpoch)] protected override void AfterEpoch() { }
            protected override void AfterPred() { }
        }
        public class NotACallback { void BeforeBatch() { } }
        """);
}
