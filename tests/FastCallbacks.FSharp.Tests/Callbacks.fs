/// Callbacks written in F#, each the twin of a C# callback of tests/FastCallbacks.TestCallbacks.
module FastCallbacks.FSharp.Tests.Callbacks

open System
open System.Collections.Generic
open FastCallbacks

/// Records every event it sees, by fastai name (twin of TraceCallback).
type FsTrace() =
    inherit Callback()
    member val Trace = List<string>()

    [<On(Event.AfterCreate); On(Event.BeforeFit); On(Event.BeforeEpoch); On(Event.BeforeTrain); On(Event.BeforeBatch)>]
    [<On(Event.AfterPred); On(Event.AfterLoss); On(Event.BeforeBackward); On(Event.AfterCancelBackward); On(Event.AfterBackward)>]
    [<On(Event.BeforeStep); On(Event.AfterCancelStep); On(Event.AfterStep); On(Event.AfterCancelBatch); On(Event.AfterBatch)>]
    [<On(Event.AfterCancelTrain); On(Event.AfterTrain); On(Event.BeforeValidate); On(Event.AfterCancelValidate); On(Event.AfterValidate)>]
    [<On(Event.AfterCancelEpoch); On(Event.AfterEpoch); On(Event.AfterCancelFit); On(Event.AfterFit)>]
    member this.Record(e: Event) = this.Trace.Add(Events.Name e)

/// Throws an exception the first time (or every time) it sees one event (twin of ThrowOnEvent).
type FsThrowOnEvent(target: Event, make: Func<exn>, once: bool, order: int) =
    inherit Callback()
    let mutable thrown = false
    new(target, make) = FsThrowOnEvent(target, make, true, 0)
    override _.Order = order

    [<On(Event.BeforeFit); On(Event.BeforeEpoch); On(Event.BeforeTrain); On(Event.BeforeBatch)>]
    [<On(Event.AfterPred); On(Event.AfterLoss); On(Event.BeforeBackward); On(Event.AfterCancelBackward); On(Event.AfterBackward)>]
    [<On(Event.BeforeStep); On(Event.AfterCancelStep); On(Event.AfterStep); On(Event.AfterCancelBatch); On(Event.AfterBatch)>]
    [<On(Event.AfterCancelTrain); On(Event.AfterTrain); On(Event.BeforeValidate); On(Event.AfterCancelValidate); On(Event.AfterValidate)>]
    [<On(Event.AfterCancelEpoch); On(Event.AfterEpoch); On(Event.AfterCancelFit); On(Event.AfterFit)>]
    member _.Maybe(e: Event) =
        if e = target && not (once && thrown) then
            thrown <- true
            raise (make.Invoke())

/// A base class with handlers (twin of LoggingParent); Phase is registered here and overridden below.
type FsParent(log: List<string>) =
    inherit Callback()
    member _.Log = log

    [<On(Event.BeforeFit)>]
    member _.Start() = log.Add "parent.before_fit"

    [<On(Event.AfterFit)>]
    member _.Stop() = log.Add "parent.after_fit"

    abstract Phase: unit -> unit

    // On the implementation: F# compiles `abstract` and `default` into one virtual method, with the default's attributes.
    [<On(Event.AfterTrain)>]
    default _.Phase() = log.Add "parent.after_train"

/// A derived class (twin of LoggingChild): its own events, one shared with the parent, an override, the Event parameter.
type FsChild(log: List<string>) =
    inherit FsParent(log)

    [<On(Event.BeforeEpoch); On(Event.AfterEpoch)>]
    member _.EpochEdge(e: Event) = log.Add("child." + Events.Name e)

    [<On(Event.AfterFit)>]
    member _.StopToo() = log.Add "child.after_fit"

    override _.Phase() = log.Add "child.after_train"

/// Throws from before_fit (twin of FailingCallback).
type FsFailing() =
    inherit Callback()

    [<On(Event.BeforeFit)>]
    member _.Fail() : unit = raise (InvalidOperationException "boom")

/// Counts what it handles, for the allocation test.
type FsCounter() =
    inherit Callback()
    member val Calls = 0L with get, set

    [<On(Event.BeforeBatch); On(Event.AfterBatch)>]
    member this.Count() = this.Calls <- this.Calls + 1L

    [<On(Event.AfterStep)>]
    member this.WithEvent(e: Event) = if int e > 0 then this.Calls <- this.Calls + 1L
