using System.Collections.Generic;
using System.Linq;

namespace FastCallbacks.Analyzers;

/// <summary>The seven cancel exceptions of the training loop.</summary>
internal enum CancelKind
{
    Step,
    Batch,
    Backward,
    Train,
    Valid,
    Epoch,
    Fit,
}

/// <summary>
/// Which cancel exception the training loop catches when it is thrown from a handler of which event.
/// </summary>
/// <remarks>
/// This table mirrors the loop in <c>src/Runtime/Core/Learner.Loop.cs</c> (fastai's <c>Learner._with_events</c>
/// nesting: fit ⊃ epoch ⊃ train/validate ⊃ batch ⊃ backward/step). If the loop changes, change it here too;
/// the runtime's tests check this table against the real loop. A cancel exception thrown from a handler of an
/// event outside its row escapes <c>Fit</c> as an unhandled error.
/// <para>Batch events also run during validation, where a <see cref="CancelKind.Train"/> would escape; they
/// are treated as catching it because they may be in the training phase (and symmetrically for
/// <see cref="CancelKind.Valid"/>).</para>
/// </remarks>
internal static class LoopCatchTable
{
    private static readonly LoopEvent[] BatchEvents =
    {
        LoopEvent.BeforeBatch, LoopEvent.AfterPred, LoopEvent.AfterLoss, LoopEvent.BeforeBackward,
        LoopEvent.AfterCancelBackward, LoopEvent.AfterBackward, LoopEvent.BeforeStep, LoopEvent.AfterCancelStep,
        LoopEvent.AfterStep, LoopEvent.AfterCancelBatch, LoopEvent.AfterBatch,
    };

    private static readonly Dictionary<CancelKind, (HashSet<LoopEvent> Events, string Description)> Table = new()
    {
        // Caught around the optimizer step: `try { before_step; step } catch (CancelStep) { after_cancel_step }`.
        [CancelKind.Step] = (Set(LoopEvent.BeforeStep), "BeforeStep"),

        // Caught around the backward pass.
        [CancelKind.Backward] = (Set(LoopEvent.BeforeBackward), "BeforeBackward"),

        // Caught around one batch: everything from BeforeBatch to AfterStep, but not AfterCancelBatch (it runs in
        // the catch) nor AfterBatch (it runs after the try).
        [CancelKind.Batch] = (Set(
            LoopEvent.BeforeBatch, LoopEvent.AfterPred, LoopEvent.AfterLoss, LoopEvent.BeforeBackward,
            LoopEvent.AfterCancelBackward, LoopEvent.AfterBackward, LoopEvent.BeforeStep, LoopEvent.AfterCancelStep,
            LoopEvent.AfterStep), "BeforeBatch through AfterStep"),

        // Caught around the training phase: BeforeTrain and every batch event.
        [CancelKind.Train] = (Set(BatchEvents.Concat(new[] { LoopEvent.BeforeTrain }).ToArray()),
            "BeforeTrain and the batch events (BeforeBatch through AfterBatch)"),

        // Caught around the validation phase: BeforeValidate and the batch events that happen while validating
        // (backward and step events only happen while training, where nothing catches CancelValid).
        [CancelKind.Valid] = (Set(
            LoopEvent.BeforeValidate, LoopEvent.BeforeBatch, LoopEvent.AfterPred, LoopEvent.AfterLoss,
            LoopEvent.AfterCancelBatch, LoopEvent.AfterBatch),
            "BeforeValidate and the validation batch events (BeforeBatch, AfterPred, AfterLoss, AfterCancelBatch, AfterBatch)"),

        // Caught around one epoch: BeforeEpoch and everything inside it, up to AfterValidate.
        [CancelKind.Epoch] = (Set(
            LoopEvent.BeforeEpoch, LoopEvent.BeforeTrain, LoopEvent.BeforeBatch, LoopEvent.AfterPred,
            LoopEvent.AfterLoss, LoopEvent.BeforeBackward, LoopEvent.AfterCancelBackward, LoopEvent.AfterBackward,
            LoopEvent.BeforeStep, LoopEvent.AfterCancelStep, LoopEvent.AfterStep, LoopEvent.AfterCancelBatch,
            LoopEvent.AfterBatch, LoopEvent.AfterCancelTrain, LoopEvent.AfterTrain, LoopEvent.BeforeValidate,
            LoopEvent.AfterCancelValidate, LoopEvent.AfterValidate), "BeforeEpoch through AfterValidate"),

        // Caught around the whole fit: BeforeFit and everything inside it, up to AfterEpoch.
        [CancelKind.Fit] = (Set(
            LoopEvent.BeforeFit, LoopEvent.BeforeEpoch, LoopEvent.BeforeTrain, LoopEvent.BeforeBatch,
            LoopEvent.AfterPred, LoopEvent.AfterLoss, LoopEvent.BeforeBackward, LoopEvent.AfterCancelBackward,
            LoopEvent.AfterBackward, LoopEvent.BeforeStep, LoopEvent.AfterCancelStep, LoopEvent.AfterStep,
            LoopEvent.AfterCancelBatch, LoopEvent.AfterBatch, LoopEvent.AfterCancelTrain, LoopEvent.AfterTrain,
            LoopEvent.BeforeValidate, LoopEvent.AfterCancelValidate, LoopEvent.AfterValidate,
            LoopEvent.AfterCancelEpoch, LoopEvent.AfterEpoch), "BeforeFit through AfterEpoch"),
    };

    /// <summary>True when the loop catches <paramref name="kind"/> thrown from a handler of <paramref name="e"/>.</summary>
    public static bool IsCaught(CancelKind kind, LoopEvent e) => Table[kind].Events.Contains(e);

    /// <summary>The events around whose handlers <paramref name="kind"/> is caught, in loop order.</summary>
    public static IEnumerable<LoopEvent> CaughtIn(CancelKind kind) => Table[kind].Events.OrderBy(e => e);

    /// <summary>Where <paramref name="kind"/> is caught, in words, for messages.</summary>
    public static string Describe(CancelKind kind) => Table[kind].Description;

    /// <summary>The runtime's class name of <paramref name="kind"/>'s exception (<c>CancelBatchException</c>).</summary>
    public static string ExceptionName(CancelKind kind) => "Cancel" + kind + "Exception";

    private static HashSet<LoopEvent> Set(params LoopEvent[] events) => new(events);
}
