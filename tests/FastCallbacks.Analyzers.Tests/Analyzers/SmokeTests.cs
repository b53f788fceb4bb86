using FastCallbacks.Analyzers.Tests.Infrastructure;
using NUnit.Framework;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

public class SmokeTests
{
    [Test]
    public Task CleanCallbackHasNoDiagnostics() => Verify<HandlerAnalyzer>.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)] void M() { Learn!.Lr = 1; }
        }
        """);

    [Test]
    public Task NotPartial() => Verify<HandlerAnalyzer>.AnalyzerAsync("""
        using FastCallbacks;
        public class {|#0:Cb|} : Callback
        {
            [On(Event.BeforeBatch)] void M() { }
        }
        """, Verify<HandlerAnalyzer>.Diagnostic(DiagnosticDescriptors.HandlerClassNotPartial).WithLocation(0).WithArguments("Cb", "'Cb' is"));
}
