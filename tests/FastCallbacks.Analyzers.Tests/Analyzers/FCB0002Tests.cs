using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0002: a callback class with [On] handlers, or a type containing it, is not partial.</summary>
public class FCB0002Tests
{
    internal static DiagnosticResult Expected(int marker, string cls, string subject) =>
        V.Diagnostic(DiagnosticDescriptors.HandlerClassNotPartial).WithLocation(marker).WithArguments(cls, subject);

    [Test]
    public Task NonPartialClassIsReportedOnItsName() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class {|#0:Cb|} : Callback
        {
            [On(Event.BeforeBatch)] void M() { }
        }
        """, Expected(0, "Cb", "'Cb' is"));

    [Test]
    public Task NonPartialContainingTypeIsNamedAndLocated() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class {|#1:Outer|}
        {
            public partial class {|#0:Cb|} : Callback
            {
                [On(Event.BeforeBatch)] void M() { }
            }
        }
        """, Expected(0, "Cb", "'Outer' is").WithLocation(1));

    [Test]
    public Task EveryMissingPartialIsListed() => V.AnalyzerAsync("""
        using FastCallbacks;
        public static class {|#1:Outer|}
        {
            public partial class Middle
            {
                internal sealed class {|#0:Cb|} : Callback<Learner>
                {
                    [On(Event.AfterFit)] void M(Event e) { }
                }
            }
        }
        """, Expected(0, "Cb", "'Outer', 'Cb' are").WithLocation(1));

    [Test]
    public Task PartialClassesAndClassesWithoutHandlersAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Ok : Callback
        {
            [On(Event.BeforeBatch)] void M() { }
        }
        public partial class Outer
        {
            public partial class Nested : Callback { [On(Event.AfterBatch)] void M() { } }
        }
        public class NoHandlers : Callback { void BeforeSomething() { } }
        public class Derived : Ok { }
        """);
}
