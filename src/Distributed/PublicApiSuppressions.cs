using System.Diagnostics.CodeAnalysis;

// RS0026 ("do not add multiple overloads with optional parameters") judges only API that is not in
// PublicAPI.Shipped.txt, and before the first release that is all of it (docs/packaging.md, "Public API"). Each
// collective comes for a tensor and for a span, each with an optional label for the deadline's message: the required
// parameters differ in type, so no call can bind to two of them. Overload sets elsewhere still get RS0026. At the
// first release, when the entries move to PublicAPI.Shipped.txt, delete this file.

[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "type", Target = "~T:FastCallbacks.Distributed.ICommunicator",
    Justification = "Every collective for a tensor and for a span; the required parameters differ in type.")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
    Scope = "type", Target = "~T:FastCallbacks.Distributed.LocalCommunicator",
    Justification = "ICommunicator's overloads, implemented.")]
