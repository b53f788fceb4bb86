/// The F# callbacks' traces equal the C# ones (generated dispatch) for the same fits: every event, every cancel exception.
module FastCallbacks.FSharp.Tests.TraceTests

open System
open System.Collections.Generic
open NUnit.Framework
open FastCallbacks
open FastCallbacks.Tests
open FastCallbacks.FSharp.Tests.Callbacks

/// fastai's seven cancel exceptions.
let cancels: (string * Func<exn>) list =
    [ "CancelBatchException", Func<exn>(fun () -> CancelBatchException())
      "CancelBackwardException", Func<exn>(fun () -> CancelBackwardException())
      "CancelStepException", Func<exn>(fun () -> CancelStepException())
      "CancelTrainException", Func<exn>(fun () -> CancelTrainException())
      "CancelValidException", Func<exn>(fun () -> CancelValidException())
      "CancelEpochException", Func<exn>(fun () -> CancelEpochException())
      "CancelFitException", Func<exn>(fun () -> CancelFitException()) ]

/// An after_cancel_X event is dispatched only when X's stage caught its exception: the event and cancel that lead there.
let trigger (e: Event) : (Event * Func<exn>) option =
    let cancel name = cancels |> List.find (fun (n, _) -> n = name) |> snd
    match e with
    | Event.AfterCancelBatch -> Some(Event.BeforeBatch, cancel "CancelBatchException")
    | Event.AfterCancelBackward -> Some(Event.BeforeBackward, cancel "CancelBackwardException")
    | Event.AfterCancelStep -> Some(Event.BeforeStep, cancel "CancelStepException")
    | Event.AfterCancelTrain -> Some(Event.BeforeTrain, cancel "CancelTrainException")
    | Event.AfterCancelValidate -> Some(Event.BeforeValidate, cancel "CancelValidException")
    | Event.AfterCancelEpoch -> Some(Event.BeforeEpoch, cancel "CancelEpochException")
    | Event.AfterCancelFit -> Some(Event.AfterStep, cancel "CancelFitException")
    | _ -> None

/// Fits two epochs with a tracer and throwers; the trace and the type of what escaped Fit, if anything.
let run (tracer: Callback) (trace: List<string>) (throwers: Callback list) =
    use learn = TestData.RegressionLearner([ tracer ])
    trace.Clear()
    let escaped =
        try
            learn.Fit(2, cbs = throwers)
            None
        with ex -> Some(ex.GetType())
    List.ofSeq trace, escaped

let events = Events.All |> Seq.filter (fun e -> e <> Event.AfterCreate) |> Array.ofSeq

[<TestCaseSource(nameof events)>]
let ``Every cancel exception at this event gives the C# trace`` (at: Event) =
    for name, make in cancels do
        let csharpTracer = TraceCallback()
        let csharpThrowers: Callback list =
            ThrowOnEvent(at, make, true, 1) :> Callback
            :: (trigger at |> Option.map (fun (e, m) -> ThrowOnEvent(e, m, true, 2) :> Callback) |> Option.toList)
        let fsharpTracer = FsTrace()
        let fsharpThrowers: Callback list =
            FsThrowOnEvent(at, make, true, 1) :> Callback
            :: (trigger at |> Option.map (fun (e, m) -> FsThrowOnEvent(e, m, true, 2) :> Callback) |> Option.toList)
        let expected = run csharpTracer csharpTracer.Trace csharpThrowers
        let actual = run fsharpTracer fsharpTracer.Trace fsharpThrowers
        Assert.That(fst actual, equalTo (fst expected), $"{name} at {Events.Name at}")
        Assert.That(snd actual, Is.EqualTo(snd expected), $"what escaped Fit: {name} at {Events.Name at}")
        Assert.That(fst expected, Does.Contain(Events.Name at), "the case reaches its event")

[<Test>]
let ``A plain fit gives the C# trace, from after_create on`` () =
    let csharp = TraceCallback()
    let fsharp = FsTrace()
    use learn = TestData.RegressionLearner([ csharp; fsharp ])
    learn.Fit(2)
    Assert.That(fsharp.Trace, equalTo (csharp.Trace))
    Assert.That(fsharp.Trace.Count, Is.EqualTo(1 + 2 + 2 * (6 + 3 * 8 + 4 * 1)), "after_create, before/after_fit, 2 epochs of 3 train and 1 valid batch")

[<Test>]
let ``Inherited handlers, shared events and overrides run as in C#`` () =
    let fit (make: List<string> -> Callback) =
        let log = List<string>()
        use learn = TestData.RegressionLearner([ make log ])
        learn.Fit(1)
        List.ofSeq log
    let csharp = fit (fun log -> LoggingChild(log))
    let fsharp = fit (fun log -> FsChild(log))
    Assert.That(fsharp, equalTo (csharp), $"F#: %A{fsharp}, C#: %A{csharp}")
    Assert.That(
        csharp,
        equalTo ([ "parent.before_fit"; "child.before_epoch"; "child.after_train"; "child.after_epoch"; "parent.after_fit"; "child.after_fit" ]))
