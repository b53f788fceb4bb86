using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>fastai's <c>defaults</c>: the learning rate, the optimizer and the callbacks every learner gets.</summary>
public static class Defaults
{
    /// <summary>fastai's default learning rate.</summary>
    public const double Lr = 1e-3;

    /// <summary>
    /// The default optimizer: fastai's Adam (<see cref="Optimizers.Adam(double, double, double, double, bool)"/>): mom 0.9,
    /// sqr_mom 0.99, eps 1e-5, true weight decay 0.01.
    /// </summary>
    public static Func<ParameterGroups, double, optim.Optimizer> Adam { get; } = Optimizers.Adam();

    /// <summary>
    /// fastai's <c>defaults.cpus</c>: the default number of data workers (<see cref="DatasetDataLoader"/>'s
    /// <c>numWorkers</c>). Starts at the processors this process may use (<see cref="Environment.ProcessorCount"/>,
    /// which follows CPU affinity and container limits), at most 16 as fastai; set it to change the default.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative number.</exception>
    public static int Cpus
    {
        get => Volatile.Read(ref _cpus);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _cpus, value);
        }
    }

    private static int _cpus = Math.Min(16, Environment.ProcessorCount);

    /// <summary>Writes each epoch's row to the console, as fastai's default <c>print</c> logger.</summary>
    public static Action<EpochLog> ConsoleLogger { get; } = static log => Console.WriteLine(log.ToString());

    private static readonly List<Func<Callback>> Factories = [() => new TrainEvalCallback(), () => new Recorder(), () => new ProgressCallback()];
    private static readonly object Gate = new();

    /// <summary>
    /// The factories of the callbacks every learner created with <c>defaultCbs: true</c> gets, in order.
    /// Starts with <see cref="TrainEvalCallback"/>, <see cref="Recorder"/> and <see cref="ProgressCallback"/>
    /// (fastai's list once <c>fastai.callback.progress</c> is imported).
    /// </summary>
    public static IReadOnlyList<Func<Callback>> Callbacks
    {
        get { lock (Gate) return Factories.ToArray(); }
    }

    /// <summary>Adds a callback factory to <see cref="Callbacks"/> (for example a progress display).</summary>
    /// <param name="factory">Makes a new instance for each learner created from now on (with <c>defaultCbs</c>);
    /// learners that exist already are not changed.</param>
    public static void AddCallback(Func<Callback> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (Gate) Factories.Add(factory);
    }

    /// <summary>Removes the default callbacks whose instances are <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The callback class (or a base class of it) whose factories are removed: each factory is
    /// called once to see what it makes.</typeparam>
    public static void RemoveCallback<T>() where T : Callback
    {
        lock (Gate) Factories.RemoveAll(f => f() is T);
    }

    internal static IEnumerable<Callback> CreateCallbacks() => Callbacks.Select(f => f());
}
