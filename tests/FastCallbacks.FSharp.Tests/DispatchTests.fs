/// What F# callbacks get from the run-time dispatch: failures named as generated dispatch names them, no allocation
/// per event, and the learner saying once why.
module FastCallbacks.FSharp.Tests.DispatchTests

open System
open System.Collections.Generic
open NUnit.Framework
open FastCallbacks
open FastCallbacks.Tests
open FastCallbacks.FSharp.Tests.Callbacks

[<Test>]
let ``A failing F# handler is named with its callback and event, as in C#`` () =
    let failWith (cb: Callback) =
        use learn = TestData.RegressionLearner()
        let ex = Assert.Throws<CallbackException>(fun () -> learn.Fit(1, cbs = [ cb ]))
        // The learner is still usable.
        learn.Fit(1)
        ex
    let csharp = failWith (FailingCallback())
    let fsharp = failWith (FsFailing())
    Assert.That(fsharp.Message, Is.EqualTo("Exception occurred in `FsFailing` when calling event `before_fit`: boom"))
    Assert.That(fsharp.Message.Replace("FsFailing", "FailingCallback"), Is.EqualTo(csharp.Message))
    Assert.That(fsharp.CallbackType, Is.EqualTo(typeof<FsFailing>))
    Assert.That(fsharp.Event, Is.EqualTo(Event.BeforeFit))
    Assert.That(fsharp.InnerException, Is.TypeOf<InvalidOperationException>())

[<TestCase(1)>]
[<TestCase(10)>]
[<TestCase(100)>]
let ``Dispatching to F# callbacks allocates zero bytes`` (n: int) =
    use learn = TestData.RegressionLearner()
    let counters = Array.init n (fun _ -> FsCounter())
    learn.AddCbs(counters |> Seq.cast<Callback>) |> ignore
    learn.Invoke(Event.BeforeBatch)
    learn.Invoke(Event.AfterStep)
    let rounds = 10_000
    let before = GC.GetAllocatedBytesForCurrentThread()
    for _ in 1..rounds do
        learn.Invoke(Event.BeforeBatch)
        learn.Invoke(Event.AfterStep)
        learn.Invoke(Event.AfterCancelBatch)
    let allocated = GC.GetAllocatedBytesForCurrentThread() - before
    Assert.That(allocated, Is.Zero)
    Assert.That(counters[0].Calls, Is.EqualTo(2L * int64 (rounds + 1)))

[<Test>]
let ``The learner says once that an F# callback runs on run-time dispatch, and why`` () =
    let logged = List<string>()
    use learn = TestData.RegressionLearner()
    learn.MessageWriter <- Action<string>(logged.Add)
    learn.AddCbs([ FsTrace(); FsTrace() ]) |> ignore
    learn.Fit(1, cbs = [ FsTrace() ])
    Assert.That(logged, Has.Count.EqualTo(1))
    Assert.That(logged[0], Does.StartWith("`FsTrace` runs on run-time dispatch: the [On] handlers of `FsTrace` have no generated dispatch"))
    Assert.That(logged[0], Does.Contain("compiled by F# (assembly `FastCallbacks.FSharp.Tests`)"))

[<Test>]
let ``HandledEvents lists exactly the F# handlers' events`` () =
    Assert.That(FsCounter().HandledEvents, equalTo (EventSet.Of(Event.BeforeBatch, Event.AfterBatch, Event.AfterStep)))
    Assert.That(FsTrace().HandledEvents, equalTo (EventSet.AllEvents))
