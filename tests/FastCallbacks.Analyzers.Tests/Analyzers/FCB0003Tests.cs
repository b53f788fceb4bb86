using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0003: an [On] method has a shape the generator cannot call.</summary>
public class FCB0003Tests
{
    private static DiagnosticResult Expected(int marker, string method, string problems) =>
        V.Diagnostic(DiagnosticDescriptors.InvalidHandlerShape).WithLocation(marker).WithArguments(method, problems);

    [Test]
    public Task StaticHandlerIsReportedOnItsName() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)] static void {|#0:M|}() { }
        }
        """, Expected(0, "M", "it is static"));

    [Test]
    public Task GenericHandlerIsReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)] void {|#0:M|}<T>() { }
        }
        """, Expected(0, "M", "it is generic"));

    [Test]
    public Task HandlerReturningAValueIsReported() => V.AnalyzerAsync("""
        using System.Threading.Tasks;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)] int {|#0:M|}() => 1;
            [On(Event.AfterFit)] async Task {|#1:N|}() => await Task.Yield();
        }
        """, Expected(0, "M", "it returns 'int' instead of void"), Expected(1, "N", "it returns 'Task' instead of void"));

    [Test]
    public Task WrongParametersAreReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)] void {|#0:A|}(int x) { }
            [On(Event.BeforeFit)] void {|#1:B|}(Event e, int x) { }
            [On(Event.BeforeFit)] void {|#2:C|}(ref Event e) { }
            [On(Event.BeforeFit)] void {|#3:D|}(params Event[] e) { }
        }
        """,
        Expected(0, "A", "it must take no parameters or a single 'Event' parameter"),
        Expected(1, "B", "it must take no parameters or a single 'Event' parameter"),
        Expected(2, "C", "it must take no parameters or a single 'Event' parameter"),
        Expected(3, "D", "it must take no parameters or a single 'Event' parameter"));

    [Test]
    public Task ALearnerParameterPointsAtLearn() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class MyLearner : Learner { }
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)] void {|#0:A|}(Learner learn) { }
            [On(Event.AfterBatch)] void {|#1:B|}(Event e, MyLearner l) { }
        }
        """,
        Expected(0, "A", "it must take no parameters or a single 'Event' parameter, not the learner ('learn'): a handler reaches its learner "
            + "through 'Learn' (Learn.Xb = …, as fastai's self.learn) and reads its state through the callback's own properties (Xb, Epoch, …)"),
        Expected(1, "B", "it must take no parameters or a single 'Event' parameter, not the learner ('l'): a handler reaches its learner "
            + "through 'Learn' (Learn.Xb = …, as fastai's self.learn) and reads its state through the callback's own properties (Xb, Epoch, …)"));

    [Test]
    public Task ClassNotDerivingFromCallbackIsReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class NotACallback
        {
            [On(Event.BeforeFit)] void {|#0:M|}() { }
        }
        public partial struct S
        {
            [On(Event.BeforeFit)] void {|#1:M|}() { }
        }
        """,
        Expected(0, "M", "its type 'NotACallback' does not derive from FastCallbacks.Callback"),
        Expected(1, "M", "its type 'S' does not derive from FastCallbacks.Callback"));

    [Test]
    public Task SeveralProblemsAreListedTogether() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)] static int {|#0:M|}<T>(T x) => 0;
        }
        """, Expected(0, "M", "it is static; it is generic; it returns 'int' instead of void; it must take no parameters or a single 'Event' parameter"));

    [Test]
    public Task UndefinedEventValueIsReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On((Event)99)] void {|#0:M|}() { }
        }
        """, Expected(0, "M", "[On((Event)99)] names no event"));

    [Test]
    public Task AccessorsAndLocalFunctionsAreReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            int P { [On(Event.BeforeFit)] {|#0:get|} => 1; }
            [On(Event.BeforeFit)]
            void M()
            {
                [On(Event.AfterFit)] void {|#1:Local|}() { }
                Local();
            }
        }
        """,
        Expected(0, "P.get", "only an ordinary method can be a handler, not a property accessor"),
        Expected(1, "Local", "only an ordinary method can be a handler, not a local function"));

    [Test]
    public Task ValidHandlersAreNotReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public abstract partial class Base : Callback
        {
            [On(Event.BeforeFit)] protected virtual void Setup() { }
            [On(Event.AfterFit)] public abstract void Teardown();
        }
        public partial class Cb : Base
        {
            [On(Event.BeforeBatch), On(Event.AfterBatch)] private void Both(Event e) { }
            [On(Event.AfterLoss)] internal void NoArgs() { }
            public override void Teardown() { }
        }
        public partial class Typed : Callback<Learner>
        {
            [On(Event.BeforeFit)] void M(Event e) { }
        }
        """);
}
