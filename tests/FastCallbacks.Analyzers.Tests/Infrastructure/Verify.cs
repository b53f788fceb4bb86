using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace FastCallbacks.Analyzers.Tests.Infrastructure;

/// <summary>Runs an analyzer over test code compiled against .NET 10 and the stub FastCallbacks contract.</summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new(descriptor);

    /// <summary>Checks that <paramref name="source"/> (with <c>{|#0:…|}</c> markup) yields exactly <paramref name="expected"/>.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>Checks the diagnostics of <paramref name="source"/>, then that the fix (and fix-all) gives <paramref name="fixedSource"/>.</summary>
    public static Task CodeFixAsync<TCodeFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix> { TestCode = source, FixedCode = fixedSource };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>Like <see cref="CodeFixAsync"/>, where <paramref name="remaining"/> diagnostics have no fix and stay.</summary>
    public static Task CodeFixAsync<TCodeFix>(string source, string fixedSource, DiagnosticResult[] expected, DiagnosticResult[] remaining)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix> { TestCode = source, FixedCode = fixedSource };
        test.ExpectedDiagnostics.AddRange(expected);
        test.FixedState.ExpectedDiagnostics.AddRange(remaining);
        // Fix-all leaves the unfixable diagnostics too.
        test.BatchFixedState.ExpectedDiagnostics.AddRange(remaining);
        return test.RunAsync(CancellationToken.None);
    }

    internal sealed class AnalyzerTest : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    {
        public AnalyzerTest() => Configure(this, TestState);
    }

    internal sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        where TCodeFix : CodeFixProvider, new()
    {
        public CodeFixTest() => Configure(this, TestState);
    }

    private static void Configure(AnalyzerTest<DefaultVerifier> test, SolutionState state)
    {
        // No reference-assembly package is downloaded: .NET 10's reference assemblies come from
        // Basic.Reference.Assemblies.Net100, the FastCallbacks contract from the stub.
        test.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(Contract.Framework);
        state.AdditionalReferences.Add(Contract.Reference);
    }
}
