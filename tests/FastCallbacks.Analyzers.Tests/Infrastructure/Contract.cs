using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Analyzers.Tests.Infrastructure;

/// <summary>The stub FastCallbacks contract (Contract/FastCallbacksContract.cs), as source and as a compiled reference.</summary>
internal static class Contract
{
    private static readonly Lazy<MetadataReference> LazyReference = new(Compile);

    /// <summary>The stub's C# source.</summary>
    public static string Source { get; } = ReadSource();

    /// <summary>An assembly named FastCallbacks compiled from <see cref="Source"/>.</summary>
    public static MetadataReference Reference => LazyReference.Value;

    /// <summary>.NET 10 reference assemblies.</summary>
    public static ImmutableArray<MetadataReference> Framework { get; } = [.. Net100.References.All];

    private static string ReadSource()
    {
        using var stream = typeof(Contract).Assembly.GetManifestResourceStream("Contract.FastCallbacksContract.cs")
            ?? throw new InvalidOperationException("The contract stub is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static MetadataReference Compile()
    {
        var compilation = CSharpCompilation.Create(
            "FastCallbacks",
            [CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.Latest))],
            Framework,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
            throw new InvalidOperationException("The contract stub does not compile:\n" + string.Join("\n", result.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }
}
