using static TorchSharp.torch;

namespace FastCallbacks;

/// <summary>
/// One batch: the model's inputs and the loss's targets, as fastai's <c>xb</c>/<c>yb</c> tuples.
/// A batch with no targets is predicted but not trained on.
/// </summary>
/// <param name="Xb">The inputs; the model receives <c>Xb[0]</c>.</param>
/// <param name="Yb">The targets; the loss receives <c>Yb[0]</c>. Empty for unlabelled data.</param>
public readonly record struct Batch(Tensor[] Xb, Tensor[] Yb);
