using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.CancelExceptionAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0005: a cancel exception thrown from a handler of an event where the loop does not catch it.</summary>
public class FCB0005Tests
{
    private static DiagnosticResult Expected(int marker, string exception, string events, string cls, string where) =>
        V.Diagnostic(DiagnosticDescriptors.UncaughtCancelException).WithLocation(marker).WithArguments(exception, events, cls, where);

    [Test]
    public Task CancelBatchFromBeforeFitIsReportedOnTheThrownExpression() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)] void M() => throw {|#0:new CancelBatchException()|};
        }
        """, Expected(0, "CancelBatchException", "BeforeFit", "Cb", "BeforeBatch through AfterStep"));

    [Test]
    public Task OnlyTheEscapingEventsOfAMultiEventHandlerAreNamed() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.AfterBatch), On(Event.BeforeBatch), On(Event.AfterCancelBatch)]
            void M()
            {
                if (Iter > 3) throw {|#0:new CancelBatchException()|};
            }
        }
        """, Expected(0, "CancelBatchException", "AfterCancelBatch, AfterBatch", "Cb", "BeforeBatch through AfterStep"));

    [TestCase("CancelStepException", "BeforeStep", "AfterStep", "BeforeStep")]
    [TestCase("CancelBackwardException", "BeforeBackward", "AfterBackward", "BeforeBackward")]
    [TestCase("CancelTrainException", "AfterBatch", "AfterTrain", "BeforeTrain and the batch events (BeforeBatch through AfterBatch)")]
    [TestCase("CancelValidException", "BeforeValidate", "AfterValidate", "BeforeValidate and the validation batch events (BeforeBatch, AfterPred, AfterLoss, AfterCancelBatch, AfterBatch)")]
    [TestCase("CancelValidException", "AfterBatch", "BeforeStep", "BeforeValidate and the validation batch events (BeforeBatch, AfterPred, AfterLoss, AfterCancelBatch, AfterBatch)")]
    [TestCase("CancelEpochException", "AfterValidate", "AfterEpoch", "BeforeEpoch through AfterValidate")]
    [TestCase("CancelFitException", "AfterCancelEpoch", "AfterCancelFit", "BeforeFit through AfterEpoch")]
    [TestCase("CancelFitException", "AfterEpoch", "AfterCreate", "BeforeFit through AfterEpoch")]
    public Task EachExceptionIsCaughtInsideItsStageOnly(string exception, string caughtIn, string escapesFrom, string where) =>
        V.AnalyzerAsync($$"""
            using FastCallbacks;
            public partial class Cb : Callback
            {
                [On(Event.{{caughtIn}})] void Ok() => throw new {{exception}}();
                [On(Event.{{escapesFrom}})] void Bad() { throw {|#0:new {{exception}}()|}; }
            }
            """, Expected(0, exception, escapesFrom, "Cb", where));

    [Test]
    public Task ThrowExpressionsAndVariablesAreChecked() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.AfterFit)]
            void M()
            {
                var t = Pred ?? throw {|#0:new CancelFitException()|};
                var ex = new CancelEpochException();
                throw {|#1:ex|};
            }
        }
        """,
        Expected(0, "CancelFitException", "AfterFit", "Cb", "BeforeFit through AfterEpoch"),
        Expected(1, "CancelEpochException", "AfterFit", "Cb", "BeforeEpoch through AfterValidate"));

    [Test]
    public Task CaughtThrowsAreNotReported() => V.AnalyzerAsync("""
        using System;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeBatch)] void A() => throw new CancelBatchException();
            [On(Event.AfterLoss)] void B() => throw new CancelEpochException();
            [On(Event.BeforeFit)] void C() => throw new CancelFitException();
            [On(Event.BeforeTrain)] void D() => throw new CancelTrainException();
        }
        """);

    [Test]
    public Task ThrowsTheAnalyzerCannotPlaceAreNotReported() => V.AnalyzerAsync("""
        using System;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.BeforeFit)]
            void InLambda()
            {
                Action later = () => throw new CancelBatchException();
                void Local() => throw new CancelBatchException();
            }

            [On(Event.BeforeFit)]
            void InTry()
            {
                try { throw new CancelBatchException(); }
                catch (CancelException) { }
                try { throw new CancelBatchException(); }
                catch { }
            }

            [On(Event.BeforeFit), On(Event.BeforeBatch)]
            void Branching(Event e)
            {
                if (e == Event.BeforeBatch) throw new CancelBatchException();
                switch (e) { case Event.BeforeBatch: throw new CancelBatchException(); }
                var x = e is Event.BeforeBatch ? throw new CancelBatchException() : 1;
            }

            void NotAHandler() => throw new CancelBatchException();
            [On(Event.AfterFit)] void Rethrow() { try { } catch (CancelFitException) { throw; } }
            [On(Event.AfterFit)] void OtherException() => throw new InvalidOperationException();
        }
        """);

    [Test]
    public Task ThrowInACatchOfAnotherTypeIsStillReported() => V.AnalyzerAsync("""
        using System;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.AfterFit)]
            void M()
            {
                try { throw {|#0:new CancelFitException()|}; }
                catch (ArgumentException) { }
            }
        }
        """, Expected(0, "CancelFitException", "AfterFit", "Cb", "BeforeFit through AfterEpoch"));
}
