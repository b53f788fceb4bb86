using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>FCB0007: an async void handler.</summary>
public class FCB0007Tests
{
    [Test]
    public Task AsyncVoidHandlerIsReported() => V.AnalyzerAsync("""
        using System.Threading.Tasks;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.AfterEpoch)] async void {|#0:Save|}() => await Task.Delay(1);
        }
        """, V.Diagnostic(DiagnosticDescriptors.AsyncVoidHandler).WithLocation(0).WithArguments("Save"));

    [Test]
    public Task SynchronousHandlersAndAsyncNonHandlersAreNotReported() => V.AnalyzerAsync("""
        using System.Threading.Tasks;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [On(Event.AfterEpoch)] void Save() => SaveAsync().GetAwaiter().GetResult();
            async Task SaveAsync() => await Task.Delay(1);
            async void FireAndForget() => await Task.Delay(1);
        }
        """);
}
