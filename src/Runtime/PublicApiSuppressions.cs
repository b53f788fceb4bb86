using System.Diagnostics.CodeAnalysis;

// RS0026 ("do not add multiple overloads with optional parameters") judges only API that is not in
// PublicAPI.Shipped.txt, and before the first release that is all of it (docs/packaging.md, "Public API"). These
// overload sets are deliberate and no call can bind to two of them, because their required parameters differ:
// fastai's Learner(dls, model, loss_func, ...) takes a loss function or a loss module, and each optimizer comes as a
// factory for Learner.OptFunc (Optimizers.Adam(mom: 0.9)) and as fastai's Adam(params, lr, ...). Overload sets
// elsewhere still get RS0026. At the first release, when the entries move to PublicAPI.Shipped.txt, delete this file.

[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "type", Target = "~T:FastCallbacks.Optimizers",
    Justification = "Each optimizer is a factory (no required parameter) and fastai's (parameters, lr, ...) form.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Learner.#ctor(FastCallbacks.DataLoaders,TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},System.Func{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},System.Func{FastCallbacks.ParameterGroups,System.Double,TorchSharp.torch.optim.Optimizer},System.Double,System.Collections.Generic.IEnumerable{FastCallbacks.Metric},System.Collections.Generic.IEnumerable{FastCallbacks.Callback},System.Nullable{System.Double},System.Boolean,System.String,System.String,System.Func{TorchSharp.torch.nn.Module,System.Collections.Generic.IEnumerable{System.Collections.Generic.IEnumerable{TorchSharp.Modules.Parameter}}},System.Boolean,System.Boolean)",
    Justification = "The loss is a function here and a module in the other constructor: no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Learner.#ctor(FastCallbacks.DataLoaders,TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},System.Func{FastCallbacks.ParameterGroups,System.Double,TorchSharp.torch.optim.Optimizer},System.Double,System.Collections.Generic.IEnumerable{FastCallbacks.Metric},System.Collections.Generic.IEnumerable{FastCallbacks.Callback},System.Nullable{System.Double},System.Boolean,System.String,System.String,System.Func{TorchSharp.torch.nn.Module,System.Collections.Generic.IEnumerable{System.Collections.Generic.IEnumerable{TorchSharp.Modules.Parameter}}},System.Boolean,System.Boolean)",
    Justification = "The loss is a module here and a function in the other constructor: no call binds to both.")]
