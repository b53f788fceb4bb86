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
/// <remarks>
/// One pipeline, one model per class. Every callback class names a base class in one of its parts, so partial
/// classes with a base list find them all, and the transform reads each class once, handlers included.
/// <c>ForAttributeWithMetadataName</c> on the <c>[On]</c> methods would find the same classes but costs more on
/// every edit: it re-binds every attributed method against the new compilation (its result step combines with
/// the compilation), which alone costs more than this whole transform; see the generator's README.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class CallbackGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var callbackClasses = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null } declaration
                    && declaration.Modifiers.Any(SyntaxKind.PartialKeyword),
                static (ctx, ct) => CallbackParser.ParseCallbackClass(ctx, ct))
            .WithTrackingName(TrackingNames.CallbackClasses)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.ValidCallbackClasses);

        context.RegisterSourceOutput(callbackClasses, static (output, model) =>
            output.AddSource(model!.Type.HintName, SourceText.From(CallbackSourceWriter.Write(model), Encoding.UTF8)));
    }
}
