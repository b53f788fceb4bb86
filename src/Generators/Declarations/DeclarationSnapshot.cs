using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace FastCallbacks.Generators.Declarations;

/// <summary>
/// Everything the callback models can depend on, as a value: the fingerprints of all syntax trees in order (see
/// <see cref="TreeIndex"/>), the distinct parse options, the compilation options, the assembly name and the
/// metadata references. Two compilations with equal snapshots declare the same symbols, so the models bound from
/// one are the models of the other; an edit inside a method body leaves the snapshot equal.
/// </summary>
/// <remarks>Holds no syntax, symbol or compilation: a pipeline value that outlives its compilation keeps nothing alive but references.</remarks>
internal sealed class DeclarationSnapshot : IEquatable<DeclarationSnapshot>
{
    private readonly DeclarationHash _trees;
    private readonly int _treeCount;
    private readonly ImmutableArray<ParseOptions> _parseOptions;
    private readonly CompilationOptions _options;
    private readonly string? _assemblyName;
    private readonly ImmutableArray<MetadataReference> _references;

    public DeclarationSnapshot(
        DeclarationHash trees,
        int treeCount,
        ImmutableArray<ParseOptions> parseOptions,
        CompilationOptions options,
        string? assemblyName,
        ImmutableArray<MetadataReference> references)
    {
        _trees = trees;
        _treeCount = treeCount;
        _parseOptions = parseOptions;
        _options = options;
        _assemblyName = assemblyName;
        _references = references;
    }

    public bool Equals(DeclarationSnapshot? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || _trees != other._trees || _treeCount != other._treeCount) return false;
        if (!string.Equals(_assemblyName, other._assemblyName, StringComparison.Ordinal) || !_options.Equals(other._options)) return false;
        if (!SameItems(_parseOptions, other._parseOptions, static (a, b) => a.Equals(b))) return false;
        // A reference is its object: the same file loaded twice may hold different metadata.
        return SameItems(_references, other._references, static (a, b) => ReferenceEquals(a, b));
    }

    public override bool Equals(object? obj) => Equals(obj as DeclarationSnapshot);

    public override int GetHashCode() => unchecked((int)_trees.Low ^ (_treeCount * 31));

    public override string ToString() => $"{_treeCount} trees, {_trees}";

    private static bool SameItems<T>(ImmutableArray<T> a, ImmutableArray<T> b, Func<T, T, bool> same)
    {
        if (a.Length != b.Length) return false;
        for (var i = 0; i < a.Length; i++)
        {
            if (!same(a[i], b[i])) return false;
        }
        return true;
    }
}
