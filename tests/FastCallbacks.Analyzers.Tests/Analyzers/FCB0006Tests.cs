using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0006: one event handled twice in one class.</summary>
public class FCB0006Tests
{
    [Test]
    public Task SameMethodMarkedTwiceIsReportedOnTheRepeatedAttribute() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)]
            [{|#0:On(Event.BeforeBatch)|}]
            void M() { }
        }
        """, V.Diagnostic(DiagnosticDescriptors.DuplicateOnAttribute).WithLocation(0).WithArguments("M", "BeforeBatch"));

    [Test]
    public Task TwoHandlersOfOneEventNameWhichRunsFirst() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.AfterLoss)] void First() { }
            [On(Event.AfterBatch), On(Event.AfterLoss)] void {|#0:Second|}(Event e) { }
        }
        """, V.Diagnostic(DiagnosticDescriptors.SeveralHandlersForEvent).WithLocation(0).WithArguments("Second", "First", "AfterLoss", "Cb"));

    [Test]
    public Task AcrossPartialDeclarationsTheOrderIsFilePathThenPosition()
    {
        var test = new V.AnalyzerTest();
        test.TestState.Sources.Add(("/0/B.cs", """
            using FastCallbacks;
            public partial class Cb : Callback
            {
                [On(Event.AfterLoss)] void {|#0:InB|}() { }
            }
            """));
        test.TestState.Sources.Add(("/0/A.cs", """
            using FastCallbacks;
            public partial class Cb : Callback
            {
                [On(Event.AfterLoss)] void InA() { }
            }
            """));
        test.ExpectedDiagnostics.Add(
            V.Diagnostic(DiagnosticDescriptors.SeveralHandlersForEvent).WithLocation(0).WithArguments("InB", "InA", "AfterLoss", "Cb"));
        return test.RunAsync();
    }

    [Test]
    public Task DistinctEventsInvalidHandlersAndInheritedHandlersAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Base : Callback
        {
            [On(Event.BeforeFit)] protected void Setup() { }
        }
        public partial class Cb : Base
        {
            [On(Event.BeforeFit)] void Own() { }           // the base's handler is another class's
            [On(Event.BeforeBatch)] void A() { }
            [On(Event.AfterBatch)] void B() { }
        }
        """);
}
