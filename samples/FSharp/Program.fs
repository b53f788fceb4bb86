// The Quickstart in F#: a small network learns the 8x8 digits with one-cycle training, and a callback class written
// in F# reports each epoch and stops the fit once the validation accuracy reaches a target (fastai's CancelFitException).
//
//   dotnet run --project samples/FSharp [-- --epochs 8]
open System
open System.Diagnostics
open System.Globalization
open System.IO
open System.IO.Compression
open FastCallbacks
open TorchSharp

/// The 8x8 digits (samples/Quickstart/data): 64 pixel values (0..16) and the label per line of a gzipped CSV.
let loadDigits (path: string) =
    let pixels = ResizeArray<float32>()
    let labels = ResizeArray<int64>()
    use reader = new StreamReader(new GZipStream(File.OpenRead path, CompressionMode.Decompress))
    let mutable line = reader.ReadLine()
    while not (isNull line) && line.Length > 0 do
        let cells = line.Split ','
        for i in 0..63 do
            pixels.Add(Single.Parse(cells[i], CultureInfo.InvariantCulture) / 16.0f)
        labels.Add(Int64.Parse(cells[64], CultureInfo.InvariantCulture))
        line <- reader.ReadLine()
    torch.tensor(pixels.ToArray()).reshape(int64 labels.Count, 1L, 8L, 8L), torch.tensor (labels.ToArray())

/// A callback written in F#: a class deriving from Callback whose members carry [<On(...)>], exactly as in C#
/// (there `partial`, for the generator; F# needs nothing). It reads the learner's state through the callback
/// (this.Epoch, this.Training) and the recorder's last row, and cancels the fit as fastai does.
type EpochReport(target: float) =
    inherit Callback()
    let clock = Stopwatch()
    let mutable trainingBatches = 0

    /// Runs after the Recorder (order 50), which logs the epoch's metrics in after_epoch.
    override _.Order = 55
    member _.TrainingBatches = trainingBatches
    member val StoppedAfterEpoch: int option = None with get, set

    [<On(Event.BeforeFit)>]
    member this.Start() =
        trainingBatches <- 0
        this.StoppedAfterEpoch <- None
        clock.Restart()

    [<On(Event.AfterBatch)>]
    member this.Count() = if this.Training then trainingBatches <- trainingBatches + 1

    [<On(Event.AfterEpoch); On(Event.AfterCancelFit)>]
    member this.Report(e: Event) =
        if e = Event.AfterEpoch then
            let row = this.Learn.Recorder.Values |> Seq.last // train_loss, valid_loss, accuracy
            let accuracy = row[2].Value
            printfn "epoch %d: accuracy %.4f after %d training batches, %.1f s" this.Epoch accuracy trainingBatches clock.Elapsed.TotalSeconds
            if accuracy >= target then
                this.StoppedAfterEpoch <- Some this.Epoch
                raise (CancelFitException())
        else
            printfn "stopped: accuracy reached %.1f%%" (100.0 * target)

[<EntryPoint>]
let main argv =
    let epochs =
        match argv with
        | [| "--epochs"; n |] -> int n
        | _ -> 8
    torch.manual_seed 0L |> ignore
    torch.set_num_threads 1
    let x, y = loadDigits (Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz"))
    use dls = DataLoaders.FromTensors(x, y, batchSize = 64, validPct = 0.2, seed = 42)
    let model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64L, 128L), torch.nn.ReLU(), torch.nn.Linear(128L, 10L))
    let report = EpochReport(0.97)
    use learn = new Learner(dls, model, torch.nn.CrossEntropyLoss(), metrics = [ Metrics.Accuracy() ])
    // The learner's message line (fastai's print; the console by default), kept here to check it too.
    let messages = ResizeArray<string>()
    learn.MessageWriter <- Action<string>(fun message -> messages.Add message; printfn "%s" message)
    // Added for this fit only, as fastai's fit(cbs=...). The learner says once that the F# class runs on run-time
    // dispatch, and why.
    learn.FitOneCycle(epochs, lrMax = 1e-2, cbs = [ report :> Callback ])

    let final = learn.Validate()
    let accuracy = final["accuracy"].Value
    printfn "validation accuracy: %.2f%%" (100.0 * accuracy)
    let expectedBatches =
        match report.StoppedAfterEpoch with
        | Some epoch -> (epoch + 1) * dls.Train.Count
        | None -> epochs * dls.Train.Count
    if report.TrainingBatches = expectedBatches && accuracy > 0.9 && messages.Count = 1 then
        printfn "FSharp sample: all checks passed"
        0
    else
        printfn "FSharp sample: FAIL (%d training batches, expected %d; accuracy %.4f)" report.TrainingBatches expectedBatches accuracy
        1
