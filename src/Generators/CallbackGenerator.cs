using System.Text;
using FastCallbacks.Generators.Emitting;
using FastCallbacks.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace FastCallbacks.Generators;

/// <summary>
/// Generates <c>Dispatch</c> and <c>GetHandledEvents</c> overrides for every partial callback class with
/// <c>[On]</c> methods, and forwarding properties for classes deriving from <c>Callback&lt;TLearner&gt;</c>.
/// Public with a parameterless constructor so benchmarks and tests can drive it directly.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CallbackGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var handlerSites = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownSymbols.OnAttributeMetadataName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => CallbackParser.ParseHandlerSite(ctx, ct))
            .WithTrackingName(TrackingNames.HandlerSites)
            .Where(static site => site is not null)
            .WithTrackingName(TrackingNames.ValidHandlerSites);

        // Typed callbacks without [On] methods still need their learner's properties forwarded. Any part of a
        // class deriving from Callback<TLearner>, directly or not, names a base class somewhere.
        var forwardingCallbacks = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null } declaration
                    && declaration.Modifiers.Any(SyntaxKind.PartialKeyword),
                static (ctx, ct) => CallbackParser.ParseForwardingCallback(ctx, ct))
            .WithTrackingName(TrackingNames.ForwardingCallbacks)
            .Where(static type => type is not null)
            .WithTrackingName(TrackingNames.ValidForwardingCallbacks);

        var callbackClasses = handlerSites.Collect()
            .Combine(forwardingCallbacks.Collect())
            .WithTrackingName(TrackingNames.AllSites)
            .SelectMany(static (sites, _) => CallbackModelMerger.Merge(sites.Left, sites.Right))
            .WithTrackingName(TrackingNames.CallbackClasses);

        context.RegisterSourceOutput(callbackClasses, static (output, model) =>
            output.AddSource(model.Type.HintName, SourceText.From(CallbackSourceWriter.Write(model), Encoding.UTF8)));
    }
}
