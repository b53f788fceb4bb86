using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using FastCallbacks.Generators.Declarations;
using FastCallbacks.Generators.Emitting;
using FastCallbacks.Generators.Models;
using FastCallbacks.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace FastCallbacks.Generators;

/// <summary>
/// Generates <c>Dispatch</c> and <c>GetHandledEvents</c> overrides for every partial callback class with
/// <c>[On]</c> methods, and forwarding properties for classes deriving from <c>Callback&lt;TLearner&gt;</c>.
/// Public with a parameterless constructor so benchmarks and tests can drive it directly.
/// </summary>
/// <remarks>
/// A keystroke must cost what the callbacks need, not what the application holds. Each syntax tree is read once, from
/// syntax alone, into a <see cref="TreeIndex"/>: a fingerprint of its declarations (the text outside member bodies)
/// and the class declarations that can be callbacks needing output. The compilation's snapshot of those fingerprints
/// is the first step; binding runs only when it changes, and then binds only the candidates. An edit inside a method
/// body, the usual keystroke, re-reads that one tree and binds nothing; see the generator's README.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class CallbackGenerator : IIncrementalGenerator
{
    private readonly DeclarationIndex _declarations = new();
    // The models bound for a snapshot. The pipeline keeps the snapshot value of its last change while the snapshot
    // compares equal, so an unchanged snapshot finds its models here; equal snapshots declare the same symbols.
    private readonly ConditionalWeakTable<DeclarationSnapshot, ModelsHolder> _models = new();
    private int _bindRuns;
    private int _classesBound;

    /// <summary>Syntax trees read into a <see cref="TreeIndex"/> so far (once per tree object).</summary>
    internal int TreesIndexed => _declarations.TreesIndexed;

    /// <summary>Runs of the bind step that bound anything (once per changed declaration snapshot).</summary>
    internal int BindRuns => Volatile.Read(ref _bindRuns);

    /// <summary>Candidate classes bound so far; an unrelated body edit must not add any.</summary>
    internal int ClassesBound => Volatile.Read(ref _classesBound);

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var declarations = context.CompilationProvider
            .Select((compilation, ct) => _declarations.Snapshot(compilation, ct))
            .WithTrackingName(TrackingNames.Declarations);

        var callbackClasses = declarations
            .Combine(context.CompilationProvider)
            .SelectMany((input, ct) => Bind(input.Left, input.Right, ct))
            .WithTrackingName(TrackingNames.CallbackClasses)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.ValidCallbackClasses);

        context.RegisterSourceOutput(callbackClasses, static (output, model) =>
            output.AddSource(model!.Type.HintName, SourceText.From(CallbackSourceWriter.Write(model), Encoding.UTF8)));
    }

    private ImmutableArray<CallbackClassModel?> Bind(DeclarationSnapshot snapshot, Compilation compilation, CancellationToken cancellationToken)
    {
        if (_models.TryGetValue(snapshot, out var known)) return known.Models;

        var trees = new List<TreeIndex>();
        foreach (var tree in compilation.SyntaxTrees) trees.Add(_declarations.Get(tree, cancellationToken));
        var candidates = CandidateFilter.Candidates(trees, compilation, cancellationToken);
        var models = CallbackParser.ParseCandidates(compilation, candidates, cancellationToken);

        Interlocked.Increment(ref _bindRuns);
        Interlocked.Add(ref _classesBound, candidates.Count);
        return _models.GetValue(snapshot, _ => new ModelsHolder(models)).Models;
    }

    private sealed class ModelsHolder(ImmutableArray<CallbackClassModel?> models)
    {
        public ImmutableArray<CallbackClassModel?> Models { get; } = models;
    }
}
