using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace FastCallbacks.Generators.Declarations;

/// <summary>
/// The <see cref="TreeIndex"/> of each syntax tree, built once per tree object: after an edit only the edited tree
/// is read again, whatever the size of the application.
/// </summary>
internal sealed class DeclarationIndex
{
    // Keyed by the immutable tree; an entry goes when its tree does.
    private readonly ConditionalWeakTable<SyntaxTree, TreeIndex> _trees = new();
    private int _treesIndexed;

    /// <summary>How many trees have been read so far (one per tree object), for the incrementality tests.</summary>
    public int TreesIndexed => Volatile.Read(ref _treesIndexed);

    public TreeIndex Get(SyntaxTree tree, CancellationToken cancellationToken)
    {
        if (_trees.TryGetValue(tree, out var index)) return index;
        index = TreeIndex.Build(tree, cancellationToken);
        Interlocked.Increment(ref _treesIndexed);
        // Another thread may have built it meanwhile: keep theirs, both are equal.
        return _trees.GetValue(tree, _ => index);
    }

    /// <summary>The snapshot of <paramref name="compilation"/>'s declarations; cheap when few trees are new.</summary>
    public DeclarationSnapshot Snapshot(Compilation compilation, CancellationToken cancellationToken)
    {
        var hash = new DeclarationHash.Builder();
        var parseOptions = new List<ParseOptions>(1);
        var count = 0;
        foreach (var tree in compilation.SyntaxTrees)
        {
            hash.Add(Get(tree, cancellationToken).Fingerprint);
            var options = IndexOf(parseOptions, tree.Options);
            if (options < 0)
            {
                options = parseOptions.Count;
                parseOptions.Add(tree.Options);
            }
            hash.Add((ulong)options);
            count++;
        }
        return new DeclarationSnapshot(
            hash.ToHash(),
            count,
            parseOptions.ToImmutableArray(),
            compilation.Options,
            compilation.AssemblyName,
            compilation.ExternalReferences);
    }

    private static int IndexOf(List<ParseOptions> list, ParseOptions options)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (ReferenceEquals(list[i], options) || list[i].Equals(options)) return i;
        }
        return -1;
    }
}
