namespace FastCallbacks;

/// <summary>
/// Marks a callback during whose fit trackers (early stopping, model saving, LR reduction on plateau) do not run,
/// as fastai's trackers stand down while <c>learn.lr_finder</c> or <c>learn.gather_preds</c> exists.
/// </summary>
public interface IDisablesTrackers
{
}
