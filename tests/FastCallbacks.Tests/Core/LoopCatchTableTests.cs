using System.Reflection;

namespace FastCallbacks.Tests.Core;

/// <summary>
/// The analyzers' FCB0005 table (where the loop catches each cancel exception) agrees with the real loop: for every
/// event and cancel exception, a handler throws it and we observe whether Fit catches it or it escapes.
/// </summary>
public partial class LoopCatchTableTests
{
    private static readonly Func<Exception>[] Cancels =
    [
        () => new CancelStepException(), () => new CancelBatchException(), () => new CancelBackwardException(),
        () => new CancelTrainException(), () => new CancelValidException(), () => new CancelEpochException(),
        () => new CancelFitException(),
    ];

    // Backward and step events happen only while training.
    private static readonly HashSet<Event> TrainOnly =
        [Event.BeforeBackward, Event.AfterCancelBackward, Event.AfterBackward, Event.BeforeStep, Event.AfterCancelStep, Event.AfterStep];

    // What makes each AfterCancel event fire at all: an earlier handler cancels its stage.
    private static readonly Dictionary<Event, (Event At, Func<Exception> Cancel)> Preludes = new()
    {
        [Event.AfterCancelBackward] = (Event.BeforeBackward, () => new CancelBackwardException()),
        [Event.AfterCancelStep] = (Event.BeforeStep, () => new CancelStepException()),
        [Event.AfterCancelBatch] = (Event.BeforeBatch, () => new CancelBatchException()),
        [Event.AfterCancelTrain] = (Event.BeforeTrain, () => new CancelTrainException()),
        [Event.AfterCancelValidate] = (Event.BeforeValidate, () => new CancelValidException()),
        [Event.AfterCancelEpoch] = (Event.BeforeEpoch, () => new CancelEpochException()),
        [Event.AfterCancelFit] = (Event.BeforeFit, () => new CancelFitException()),
    };

    public static IEnumerable<TestCaseData> Cases() =>
        from e in Events.All.Where(e => e != Event.AfterCreate)
        from make in Cancels
        let name = make().GetType().Name
        select new TestCaseData(e, name).SetName($"{Events.Name(e)} throws {name}");

    [TestCaseSource(nameof(Cases))]
    public void Analyzer_table_matches_the_loop(Event at, string exceptionName)
    {
        var make = Cancels.First(m => m().GetType().Name == exceptionName);
        var kind = exceptionName["Cancel".Length..^"Exception".Length];
        var tableSaysCaught = AnalyzerTable.IsCaught(kind, at.ToString());

        // Batch events happen in both phases; the table counts them as caught when either phase catches, so throw
        // in the phase whose stage catches this exception (validation for CancelValid, training otherwise).
        var inValidation = kind == "Valid" && !TrainOnly.Contains(at);
        var thrower = new PhaseThrower(at, make, inValidation);
        var cbs = new List<Callback> { thrower };
        if (Preludes.TryGetValue(at, out var prelude)) cbs.Insert(0, new PhaseThrower(prelude.At, prelude.Cancel, inValidation && Events.IsInnerLoop(prelude.At), order: -1));
        using var learn = TestData.RegressionLearner(cbs, n: 8, batchSize: 4, validPct: 0.5);

        CancelException? escaped = null;
        try { learn.Fit(1); }
        catch (CancelException ex) { escaped = ex; }

        Assert.That(thrower.Threw, Is.True, "the handler was reached");
        Assert.That(escaped is null, Is.EqualTo(tableSaysCaught),
            $"the loop {(escaped is not null ? "lets it escape" : "catches it")}; the analyzer table says {(tableSaysCaught ? "caught" : "not caught")}");
        if (escaped is null) return;
        // It keeps its type, and its message says who threw it where, and that nothing catches it there.
        Assert.That(escaped.GetType().Name, Is.EqualTo(exceptionName));
        var phase = Events.IsInnerLoop(at) ? (inValidation ? " while validating" : " while training") : "";
        Assert.That(escaped.Message, Does.StartWith(
            $"{exceptionName} thrown from the {at} handler of `PhaseThrower`{phase} was not caught: nothing in the training loop catches it at {at}, so it ended Fit."));
    }

    private sealed partial class PhaseThrower(Event at, Func<Exception> make, bool inValidation, int order = 0) : Callback
    {
        public bool Threw { get; private set; }

        public override int Order => order;

        [On(Event.BeforeFit), On(Event.BeforeEpoch), On(Event.BeforeTrain), On(Event.BeforeBatch)]
        [On(Event.AfterPred), On(Event.AfterLoss), On(Event.BeforeBackward), On(Event.AfterCancelBackward), On(Event.AfterBackward)]
        [On(Event.BeforeStep), On(Event.AfterCancelStep), On(Event.AfterStep), On(Event.AfterCancelBatch), On(Event.AfterBatch)]
        [On(Event.AfterCancelTrain), On(Event.AfterTrain), On(Event.BeforeValidate), On(Event.AfterCancelValidate), On(Event.AfterValidate)]
        [On(Event.AfterCancelEpoch), On(Event.AfterEpoch), On(Event.AfterCancelFit), On(Event.AfterFit)]
        private void Maybe(Event e)
        {
            if (e != at || Threw) return;
            if (Events.IsInnerLoop(e) && Learn!.Training == inValidation) return;
            Threw = true;
            throw make();
        }
    }

    /// <summary>Reads FastCallbacks.Analyzers' internal LoopCatchTable from the built analyzer assembly.</summary>
    private static class AnalyzerTable
    {
        private static readonly Lazy<MethodInfo> IsCaughtMethod = new(() =>
        {
            var path = typeof(AnalyzerTable).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "AnalyzersAssembly").Value!;
            var assembly = Assembly.LoadFrom(path);
            return assembly.GetType("FastCallbacks.Analyzers.LoopCatchTable", throwOnError: true)!
                .GetMethod("IsCaught", BindingFlags.Public | BindingFlags.Static)!;
        });

        public static bool IsCaught(string kind, string eventName)
        {
            var method = IsCaughtMethod.Value;
            var parameters = method.GetParameters();
            var kindValue = Enum.Parse(parameters[0].ParameterType, kind);
            var eventValue = Enum.Parse(parameters[1].ParameterType, eventName);
            return (bool)method.Invoke(null, [kindValue, eventValue])!;
        }
    }
}
