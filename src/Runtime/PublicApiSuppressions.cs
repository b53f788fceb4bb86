using System.Diagnostics.CodeAnalysis;

// RS0026 ("do not add multiple overloads with optional parameters") judges only API that is not in
// PublicAPI.Shipped.txt, and before the first release that is all of it (docs/packaging.md, "Public API"). These
// overload sets are deliberate and no call can bind to two of them, because their required parameters differ:
// fastai's Learner(dls, model, loss_func, ...) takes a loss function or a loss module, and each optimizer comes as a
// factory for Learner.OptFunc (Optimizers.Adam(mom: 0.9)) and as fastai's Adam(params, lr, ...); each plot writes a
// PNG file when given its path and returns the image in memory (for a notebook) without one. Overload sets elsewhere
// still get RS0026. At the first release, when the entries move to PublicAPI.Shipped.txt, delete this file.

[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "type", Target = "~T:FastCallbacks.Optimizers",
    Justification = "Each optimizer is a factory (no required parameter) and fastai's (parameters, lr, ...) form.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Learner.#ctor(FastCallbacks.DataLoaders,TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},System.Func{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},System.Func{FastCallbacks.ParameterGroups,System.Double,TorchSharp.torch.optim.Optimizer},System.Double,System.Collections.Generic.IEnumerable{FastCallbacks.Metric},System.Collections.Generic.IEnumerable{FastCallbacks.Callback},System.Nullable{System.Double},System.Boolean,System.String,System.String,System.Func{TorchSharp.torch.nn.Module,System.Collections.Generic.IEnumerable{System.Collections.Generic.IEnumerable{TorchSharp.Modules.Parameter}}},System.Boolean,System.Boolean)",
    Justification = "The loss is a function here and a module in the other constructor: no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Learner.#ctor(FastCallbacks.DataLoaders,TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},System.Func{FastCallbacks.ParameterGroups,System.Double,TorchSharp.torch.optim.Optimizer},System.Double,System.Collections.Generic.IEnumerable{FastCallbacks.Metric},System.Collections.Generic.IEnumerable{FastCallbacks.Callback},System.Nullable{System.Double},System.Boolean,System.String,System.String,System.Func{TorchSharp.torch.nn.Module,System.Collections.Generic.IEnumerable{System.Collections.Generic.IEnumerable{TorchSharp.Modules.Parameter}}},System.Boolean,System.Boolean)",
    Justification = "The loss is a module here and a function in the other constructor: no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Recorder.PlotLoss(System.String,System.Int32,System.Boolean,System.Boolean,System.Boolean,System.Int32,System.Int32)",
    Justification = "The file form: its path is required, the in-memory form has no path, so no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Recorder.PlotLoss(System.Int32,System.Boolean,System.Boolean,System.Boolean,System.Int32,System.Int32)",
    Justification = "The in-memory form: no path, the file form requires one, so no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Recorder.PlotSched(System.String,System.Collections.Generic.IEnumerable{System.String},System.Nullable{System.Int32},System.Nullable{System.Int32})",
    Justification = "The file form: its path is required, the in-memory form has no path, so no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.Recorder.PlotSched(System.Collections.Generic.IEnumerable{System.String},System.Nullable{System.Int32},System.Nullable{System.Int32})",
    Justification = "The in-memory form: no path, the file form requires one, so no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.LrFindResult.Plot(System.String,System.Int32,System.Int32,System.Int32)",
    Justification = "The file form: its path is required, the in-memory form has no path, so no call binds to both.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "member", Target = "~M:FastCallbacks.LrFindResult.Plot(System.Int32,System.Int32,System.Int32)",
    Justification = "The in-memory form: no path, the file form requires one, so no call binds to both.")]
