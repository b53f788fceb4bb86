namespace FastCallbacks;

/// <summary>
/// Replaces <see cref="Learner.Logger"/> for the length of a fit, as fastai's ProgressCallback and CSVLogger do
/// (<c>old_logger, learn.logger = learn.logger, self._write</c>), but safe when several hooks are removed in the
/// same order they were installed: a hook that cannot restore the logger because another one was installed on top
/// of it stays in the chain as a pass-through to what it replaced, and is unwrapped the next time it is installed.
/// </summary>
internal sealed class LoggerHook
{
    private readonly Action<EpochLog> _whileActive;
    private readonly Func<Action<EpochLog>?, bool> _chainTo;
    private bool _chain;
    private Action<EpochLog>? _previous;
    private Learner? _learn;
    private bool _active;
    private bool _inside;

    /// <param name="whileActive">What a row does while the hook is active.</param>
    /// <param name="chainTo">Given the logger being replaced, whether rows are also passed on to it while the hook
    /// is active (CSVLogger: always; ProgressCallback: unless it is the default console logger).</param>
    public LoggerHook(Action<EpochLog> whileActive, Func<Action<EpochLog>?, bool> chainTo)
    {
        _whileActive = whileActive;
        _chainTo = chainTo;
        Entry = Dispatch;
    }

    /// <summary>The delegate installed as the learner's logger.</summary>
    public Action<EpochLog> Entry { get; }

    /// <summary>Whether the hook is installed and active.</summary>
    public bool IsActive => _active;

    /// <summary>Installs the hook; the replaced logger is kept to restore and, when chaining, to forward to.</summary>
    public void Install(Learner learn)
    {
        Remove();
        // A pass-through left from an earlier fit on top of the chain is unwrapped first.
        if (learn.Logger == Entry) learn.Logger = _previous;
        _previous = learn.Logger;
        _chain = _chainTo(_previous);
        learn.Logger = Entry;
        _learn = learn;
        _active = true;
    }

    /// <summary>Restores the replaced logger when this hook is still the learner's logger; otherwise becomes a pass-through.</summary>
    public void Remove()
    {
        if (_learn is not { } learn) return;
        _active = false;
        _learn = null;
        if (learn.Logger == Entry)
        {
            learn.Logger = _previous;
            _previous = null;
        }
    }

    private void Dispatch(EpochLog log)
    {
        if (_inside) return; // a logger that wraps this one and is wrapped by it: stop the cycle
        _inside = true;
        try
        {
            if (!_active)
            {
                _previous?.Invoke(log);
                return;
            }
            _whileActive(log);
            if (_chain) _previous?.Invoke(log);
        }
        finally
        {
            _inside = false;
        }
    }
}
