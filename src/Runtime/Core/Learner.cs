using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// fastai's <c>Learner</c>: a model, its data, loss and optimizer, and the callbacks that shape its training
/// loop. The loop itself (every event of one fit, top to bottom) lives in <c>Learner.Loop.cs</c>.
/// </summary>
/// <remarks>
/// The learner does not own <see cref="Model"/> or <see cref="Dls"/>; it owns the optimizer it creates, which
/// <see cref="Dispose()"/> frees. Derive from it to add state your callbacks share (see <see cref="Callback{TLearner}"/>).
/// </remarks>
public partial class Learner : IDisposable
{
    private readonly List<Callback> _cbs = [];
    private readonly HashSet<Type> _reportedRuntimeDispatch = [];
    private Tensor? _zeroLoss;

    /// <summary>Creates a learner.</summary>
    /// <param name="dls">The training and validation data.</param>
    /// <param name="model">The model; it receives <c>Xb[0]</c>.</param>
    /// <param name="lossFunc">The loss of (prediction, target).</param>
    /// <param name="optFunc">Makes the optimizer from the parameter groups and a learning rate (default: fastai's Adam,
    /// <see cref="Defaults.Adam"/>); a TorchSharp optimizer it returns is wrapped in an <see cref="OptimWrapper"/>.</param>
    /// <param name="lr">The default learning rate (fastai's 1e-3).</param>
    /// <param name="metrics">Metrics that <see cref="FastCallbacks.Recorder"/> computes on the validation set.</param>
    /// <param name="cbs">Callbacks to add after the default ones.</param>
    /// <param name="wd">Weight decay applied to the optimizer at every fit, when set (fastai's <c>wd</c>; otherwise the optimizer's default).</param>
    /// <param name="defaultCbs">Add the default callbacks (<see cref="TrainEvalCallback"/>, <see cref="FastCallbacks.Recorder"/>, and those registered in <see cref="Defaults.Callbacks"/>).</param>
    /// <param name="path">Folder for files the learner writes (checkpoints go to <c>path/modelDir</c>).</param>
    /// <param name="modelDir">Subfolder of <paramref name="path"/> for checkpoints.</param>
    /// <param name="splitter">Splits the model into parameter groups, the last being the head (default: one group, <see cref="Splitters.TrainableParams"/>).</param>
    /// <param name="wdBnBias">Apply weight decay to biases and normalization layers too (fastai's default: no).</param>
    /// <param name="trainBn">Keep training normalization layers in frozen groups (fastai's default: yes).</param>
    public Learner(
        DataLoaders dls,
        nn.Module<Tensor, Tensor> model,
        Func<Tensor, Tensor, Tensor> lossFunc,
        Func<ParameterGroups, double, optim.Optimizer>? optFunc = null,
        double lr = Defaults.Lr,
        IEnumerable<Metric>? metrics = null,
        IEnumerable<Callback>? cbs = null,
        double? wd = null,
        bool defaultCbs = true,
        string? path = null,
        string modelDir = "models",
        Func<nn.Module, IEnumerable<IEnumerable<Parameter>>>? splitter = null,
        bool wdBnBias = false,
        bool trainBn = true)
    {
        // Where no build ran the native fix (a notebook, a script), TorchSharp's native library is made loadable here.
        TorchNative.EnsureLoaded();
        Dls = dls ?? throw new ArgumentNullException(nameof(dls));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        LossFunc = lossFunc ?? throw new ArgumentNullException(nameof(lossFunc), "Pass a loss function, for example (pred, targ) => nn.functional.cross_entropy(pred, targ).");
        OptFunc = optFunc ?? Defaults.Adam;
        Lr = lr;
        Wd = wd;
        Splitter = splitter ?? Splitters.TrainableParams;
        WdBnBias = wdBnBias;
        TrainBn = trainBn;
        Metrics = metrics?.ToArray() ?? [];
        Path = path ?? ".";
        ModelDir = modelDir;
        _dispatch = new DispatchTables();
        RebuildDispatchTables();
        _stages = new Stages(this);
        if (defaultCbs) AddCbs(Defaults.CreateCallbacks());
        if (cbs is not null) AddCbs(cbs);
        try
        {
            Invoke(Event.AfterCreate);
        }
        catch
        {
            // No learner comes out of a throwing constructor, so it keeps no callbacks: the caller can pass the
            // same instances to the next one.
            RemoveCbs(_cbs);
            throw;
        }
    }

    /// <summary>
    /// Creates a learner whose loss is a loss module: one of fastai's flattened losses (<see cref="CrossEntropyLossFlat"/>,
    /// ...), whose activation <see cref="GetPreds"/> applies, or a TorchSharp loss such as <c>nn.CrossEntropyLoss()</c>.
    /// </summary>
    /// <param name="dls">The training and validation data.</param>
    /// <param name="model">The model; it receives <c>Xb[0]</c>.</param>
    /// <param name="lossModule">The loss of (prediction, target).</param>
    /// <param name="optFunc">Makes the optimizer from the parameter groups and a learning rate (default: fastai's Adam).</param>
    /// <param name="lr">The default learning rate (fastai's 1e-3).</param>
    /// <param name="metrics">Metrics that <see cref="FastCallbacks.Recorder"/> computes on the validation set.</param>
    /// <param name="cbs">Callbacks to add after the default ones.</param>
    /// <param name="wd">Weight decay applied to the optimizer at every fit, when set.</param>
    /// <param name="defaultCbs">Add the default callbacks.</param>
    /// <param name="path">Folder for files the learner writes.</param>
    /// <param name="modelDir">Subfolder of <paramref name="path"/> for checkpoints.</param>
    /// <param name="splitter">Splits the model into parameter groups, the last being the head (default: one group).</param>
    /// <param name="wdBnBias">Apply weight decay to biases and normalization layers too.</param>
    /// <param name="trainBn">Keep training normalization layers in frozen groups.</param>
    public Learner(
        DataLoaders dls,
        nn.Module<Tensor, Tensor> model,
        nn.Module<Tensor, Tensor, Tensor> lossModule,
        Func<ParameterGroups, double, optim.Optimizer>? optFunc = null,
        double lr = Defaults.Lr,
        IEnumerable<Metric>? metrics = null,
        IEnumerable<Callback>? cbs = null,
        double? wd = null,
        bool defaultCbs = true,
        string? path = null,
        string modelDir = "models",
        Func<nn.Module, IEnumerable<IEnumerable<Parameter>>>? splitter = null,
        bool wdBnBias = false,
        bool trainBn = true)
        : this(dls, model, LossOf(lossModule), optFunc, lr, metrics, cbs, wd, defaultCbs, path, modelDir, splitter, wdBnBias, trainBn) { }

    private static Func<Tensor, Tensor, Tensor> LossOf(nn.Module<Tensor, Tensor, Tensor> lossModule)
    {
        ArgumentNullException.ThrowIfNull(lossModule);
        return lossModule.call;
    }

    // ---- What callbacks read and write (fastai's learner attributes) ----

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model { get; set; }
    /// <summary>The training and validation data.</summary>
    public DataLoaders Dls { get; set; }
    /// <summary>The loss of (prediction, target).</summary>
    public Func<Tensor, Tensor, Tensor> LossFunc { get; set; }
    /// <summary>
    /// Makes the optimizer from the parameter groups and a learning rate (fastai's <c>opt_func</c>), such as
    /// <c>Optimizers.SGD(mom: 0.9)</c> or <c>(ps, lr) =&gt; optim.AdamW(ps, lr)</c> (a TorchSharp optimizer is
    /// wrapped in an <see cref="OptimWrapper"/>).
    /// </summary>
    public Func<ParameterGroups, double, optim.Optimizer> OptFunc { get; set; }
    /// <summary>The optimizer; created by the first <see cref="Fit"/> (or <see cref="CreateOpt"/>, <see cref="Freeze"/>).</summary>
    public Optimizer? Opt { get; set; }
    /// <summary>The learning rate every fit uses when none is passed (fastai's <c>lr</c>): <see cref="Fit"/> sets it on every group.</summary>
    public double Lr { get; set; }
    /// <summary>Weight decay set on the optimizer at every fit when none is passed; null keeps the optimizer's own (fastai's <c>wd</c>).</summary>
    public double? Wd { get; set; }
    /// <summary>The metrics <see cref="FastCallbacks.Recorder"/> computes.</summary>
    public IReadOnlyList<Metric> Metrics { get; set; }
    /// <summary>Folder for files the learner writes.</summary>
    public string Path { get; set; }
    /// <summary>Subfolder of <see cref="Path"/> for checkpoints.</summary>
    public string ModelDir { get; set; }
    /// <summary>Receives one row per epoch from <see cref="FastCallbacks.Recorder"/> (fastai's <c>learn.logger</c>); null logs nothing.</summary>
    public Action<EpochLog>? Logger { get; set; } = Defaults.ConsoleLogger;
    /// <summary>Whether a progress display creates its epoch bar (fastai's <c>create_mbar</c>).</summary>
    public bool CreateMbar { get; set; } = true;
    /// <summary>
    /// False on every process of a distributed job but rank 0 (fastai's <c>rank_distrib() == 0</c>; FastCallbacks.Distributed
    /// sets it). Only the main process writes: the progress display, <see cref="Logger"/>'s rows, <see cref="Log"/>'s
    /// messages, <see cref="CsvLogger"/>, <see cref="TensorBoardCallback"/>, plots and checkpoints (<see cref="Save"/>).
    /// </summary>
    public bool IsMainProcess { get; set; } = true;

    /// <summary>The loader being iterated (null outside a phase).</summary>
    public DataLoader? Dl { get; set; }
    /// <summary>The inputs of the current batch.</summary>
    public Tensor[] Xb { get; set; } = [];
    /// <summary>The targets of the current batch.</summary>
    public Tensor[] Yb { get; set; } = [];
    /// <summary>fastai's <c>x</c>: the single input of the batch, or null when there are several or none.</summary>
    public Tensor? X => Xb.Length == 1 ? Xb[0] : null;
    /// <summary>fastai's <c>y</c>: the single target of the batch, or null when there are several or none.</summary>
    public Tensor? Y => Yb.Length == 1 ? Yb[0] : null;
    /// <summary>The model's output for the current batch (null until the forward pass of the batch).</summary>
    public Tensor? Pred { get; set; }
    /// <summary>The loss of the current batch, attached to the graph; callbacks may replace it before backward (null until the batch computes it).</summary>
    public Tensor? LossGrad { get; set; }
    /// <summary>A detached copy of <see cref="LossGrad"/> taken before <see cref="Event.AfterLoss"/>, for logging (null until the batch computes it).</summary>
    public Tensor? Loss { get; set; }
    /// <summary>Epochs in the current fit.</summary>
    public int NEpoch { get; set; }
    /// <summary>Batches in the current phase.</summary>
    public int NIter { get; set; }
    /// <summary>The current epoch.</summary>
    public int Epoch { get; set; }
    /// <summary>The index of the current batch in its phase.</summary>
    public int Iter { get; set; }
    /// <summary>Training batches done in this fit (set by <see cref="TrainEvalCallback"/>).</summary>
    public int TrainIter { get; set; }
    /// <summary>Fraction of this fit's training done (set by <see cref="TrainEvalCallback"/>).</summary>
    public double PctTrain { get; set; }
    /// <summary>True while training, false while validating (set by <see cref="TrainEvalCallback"/>).</summary>
    public bool Training
    {
        get => _training;
        set
        {
            if (_training == value) return;
            _training = value;
            // The dispatch table is per phase (run_train/run_valid).
            RefreshPhaseTable();
        }
    }

    private bool _training;
    /// <summary>The smoothed training loss (set by <see cref="FastCallbacks.Recorder"/>).</summary>
    public double SmoothLoss { get; set; }
    /// <summary>The last epoch's row of values (train_loss, valid_loss, metrics), set by <see cref="FastCallbacks.Recorder"/>.</summary>
    public IReadOnlyList<double?>? FinalRecord { get; set; }

    /// <summary>The recorder (fastai's <c>learn.recorder</c>), or null when removed.</summary>
    public Recorder? Recorder => Cb<Recorder>();

    /// <summary>A scalar zero owned by the learner: the loss before the first batch (fastai's <c>tensor(0.)</c>).</summary>
    internal Tensor ZeroLoss => _zeroLoss ??= zeros([]).DetachFromDisposeScope();

    // ---- Callbacks ----

    /// <summary>The callbacks, in the order they were added (dispatch follows <see cref="Callback.Order"/>).</summary>
    public IReadOnlyList<Callback> Cbs => _cbs;

    /// <summary>The last added callback of type <typeparamref name="T"/> (fastai's <c>learn.recorder</c>), or null.</summary>
    /// <typeparam name="T">The callback class looked for; an instance of a subclass of it counts.</typeparam>
    public T? Cb<T>() where T : Callback
    {
        for (var i = _cbs.Count - 1; i >= 0; i--)
            if (_cbs[i] is T t) return t;
        return null;
    }

    /// <summary>The last added callback whose <see cref="Callback.Name"/> is <paramref name="name"/>, or null.</summary>
    /// <param name="name">fastai's attribute name of the callback: its class in snake_case without <c>Callback</c>
    /// (<c>"recorder"</c>, <c>"early_stopping"</c>), unless the class overrides <see cref="Callback.Name"/>.</param>
    public Callback? Cb(string name)
    {
        for (var i = _cbs.Count - 1; i >= 0; i--)
            if (_cbs[i].Name == name) return _cbs[i];
        return null;
    }

    /// <summary>Adds a callback.</summary>
    /// <param name="cb">A callback attached to no learner; it is dispatched by its <see cref="Callback.Order"/> from
    /// the next event on.</param>
    /// <returns>This learner.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="cb"/> is null.</exception>
    /// <exception cref="ArgumentException">It is already attached, here or to another learner.</exception>
    /// <exception cref="InvalidOperationException">Its RunBefore/RunAfter declarations form a cycle with the others.</exception>
    public Learner AddCb(Callback cb) => AddCbs([cb]);

    /// <summary>Adds callbacks, all or none: the dispatch tables are rebuilt once.</summary>
    /// <param name="cbs">Callbacks attached to no learner, each once; if one is refused (null, attached, or in a
    /// RunBefore/RunAfter cycle) none is added.</param>
    /// <returns>This learner.</returns>
    public Learner AddCbs(IEnumerable<Callback> cbs)
    {
        ArgumentNullException.ThrowIfNull(cbs);
        var adding = cbs.ToList();
        for (var i = 0; i < adding.Count; i++)
        {
            var cb = adding[i] ?? throw new ArgumentNullException(nameof(cbs), $"Callback number {i} in the list is null.");
            var here = cb.Learn == this || adding.IndexOf(cb) != i;
            if (cb.Learn is not null || here)
                throw new ArgumentException(
                    $"`{cb}` is already attached to {(here ? "this" : "another")} learner; a callback instance can be added once. " +
                    "Create a new instance, or remove it first.", nameof(cbs));
            // A class compiled without the generator gets its dispatch built here, once per class; one that cannot
            // have one says why before anything changes.
            try
            {
                _ = cb.HandledEvents;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException(ex.Message, nameof(cbs), ex);
            }
        }
        // Nothing to add (every Fit without cbs comes here): keep the order and the dispatch tables.
        if (adding.Count == 0) return this;
        // Check the ordering before changing anything, so a cycle leaves the learner as it was.
        CallbackOrder.Sort([.. _cbs, .. adding]);
        foreach (var cb in adding)
        {
            cb.Learn = this;
            _cbs.Add(cb);
        }
        RebuildDispatchTables();
        foreach (var cb in adding)
        {
            // Said once per class, on the learner's message line (fastai's print).
            if (cb.RuntimeDispatch is { } runtime && _reportedRuntimeDispatch.Add(cb.GetType())) Log(runtime.Describe(cb.GetType()));
        }
        return this;
    }

    /// <summary>Removes a callback (no-op when it is not attached here).</summary>
    /// <param name="cb">The instance to detach; it can then be added to this or another learner.</param>
    /// <returns>This learner.</returns>
    public Learner RemoveCb(Callback cb) => RemoveCbs([cb]);

    /// <summary>Removes callbacks.</summary>
    /// <param name="cbs">The instances to detach; nulls and those not attached here are skipped.</param>
    /// <returns>This learner.</returns>
    public Learner RemoveCbs(IEnumerable<Callback> cbs)
    {
        ArgumentNullException.ThrowIfNull(cbs);
        var removed = false;
        foreach (var cb in cbs.ToList())
        {
            if (cb is null || !_cbs.Remove(cb)) continue;
            cb.Learn = null;
            removed = true;
        }
        if (removed) RebuildDispatchTables();
        return this;
    }

    /// <summary>Removes every callback of type <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The callback class whose instances, and those of its subclasses, are removed.</typeparam>
    /// <returns>This learner.</returns>
    public Learner RemoveCbs<T>() where T : Callback => RemoveCbs(_cbs.OfType<T>());

    /// <summary>Adds <paramref name="cbs"/> until the returned scope is disposed (fastai's <c>added_cbs</c>).</summary>
    /// <param name="cbs">Callbacks attached to no learner, added now and removed on dispose; null adds none.</param>
    public IDisposable AddedCbs(IEnumerable<Callback>? cbs)
    {
        var list = cbs?.ToList() ?? [];
        AddCbs(list);
        return new Scope(() => RemoveCbs(list));
    }

    /// <summary>Removes <paramref name="cbs"/> until the returned scope is disposed; they are then added back at the end (fastai's <c>removed_cbs</c>).</summary>
    /// <param name="cbs">Callbacks of this learner; those not attached here are ignored, and are not added on dispose.</param>
    public IDisposable RemovedCbs(IEnumerable<Callback> cbs)
    {
        ArgumentNullException.ThrowIfNull(cbs);
        var list = cbs.Where(_cbs.Contains).ToList();
        RemoveCbs(list);
        return new Scope(() => AddCbs(list));
    }

    /// <summary>Turns <see cref="Logger"/> off until the scope is disposed (fastai's <c>no_logging</c>).</summary>
    public IDisposable NoLogging()
    {
        var old = Logger;
        Logger = null;
        return new Scope(() => Logger = old);
    }

    /// <summary>Turns the progress display's epoch bar off until the scope is disposed (fastai's <c>no_mbar</c>).</summary>
    public IDisposable NoMbar()
    {
        var old = CreateMbar;
        CreateMbar = false;
        return new Scope(() => CreateMbar = old);
    }

    /// <summary>Frees the optimizer and the learner's own tensors.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees resources; override to free what a subclass owns.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>: free the tensors and other disposable
    /// state. False from a finalizer (the learner has none; a subclass's), where managed objects must not be touched.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        Opt?.Dispose();
        Opt = null;
        _zeroLoss?.Dispose();
        _zeroLoss = null;
    }

    /// <summary>A tiny IDisposable that runs an action once.</summary>
    private sealed class Scope(Action onDispose) : IDisposable
    {
        private Action? _onDispose = onDispose;

        public void Dispose() => Interlocked.Exchange(ref _onDispose, null)?.Invoke();
    }
}
