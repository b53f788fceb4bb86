// Loads TorchSharp's native library through FastCallbacks' run-time fix, then computes with it. Prints what it did as
// "key: value" lines for the tests; exits 3 with the error's message when the library cannot be loaded.
using FastCallbacks;
using static TorchSharp.torch;

try
{
    TorchNative.EnsureLoaded();
}
catch (DllNotFoundException ex)
{
    Console.WriteLine($"error: {ex.Message}");
    return 3;
}
Console.WriteLine($"library: {TorchNative.LibraryPath}");
Console.WriteLine($"patched: {TorchNative.UsesPatchedCopy}");
Console.WriteLine($"sum: {ones(3).sum().item<float>()}");
return 0;
