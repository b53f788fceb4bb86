using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace FastCallbacks.Analyzers;

/// <summary>
/// Checks <c>[On]</c> handlers and the classes that declare them, the things the generator silently skips:
/// FCB0002 (class not partial), FCB0003 (wrong method shape), FCB0004 (event-named method without [On]),
/// FCB0006 (event handled twice in one class) and FCB0007 (async void handler).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HandlerAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property holding the event's C# name, for the FCB0004 code fix.</summary>
    public const string EventNameProperty = "Event";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.HandlerClassNotPartial,
        DiagnosticDescriptors.InvalidHandlerShape,
        DiagnosticDescriptors.EventNamedMethodWithoutOn,
        DiagnosticDescriptors.DuplicateOnAttribute,
        DiagnosticDescriptors.SeveralHandlersForEvent,
        DiagnosticDescriptors.AsyncVoidHandler);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownTypes.TryCreate(start.Compilation);
            if (known is null) return;
            start.RegisterSymbolAction(c => AnalyzeType(c, known), SymbolKind.NamedType);
            start.RegisterSymbolAction(c => AnalyzeMethod(c, known), SymbolKind.Method);
            start.RegisterOperationAction(c => AnalyzeLocalFunction(c, known), OperationKind.LocalFunction);
        });
    }

    // ---- FCB0002 and FCB0006: per class ----

    private static void AnalyzeType(SymbolAnalysisContext context, KnownTypes known)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.TypeKind != TypeKind.Class || !known.IsCallback(type)) return;

        var handlers = new List<(IMethodSymbol Method, ImmutableArray<AttributeData> Ons)>();
        foreach (var member in type.GetMembers())
        {
            if (member is IMethodSymbol method)
            {
                var ons = known.OnAttributes(method);
                if (!ons.IsEmpty) handlers.Add((method, ons));
            }
        }
        if (handlers.Count == 0) return;

        ReportNotPartial(context, type);
        ReportDuplicates(context, known, type, handlers);
    }

    private static void ReportNotPartial(SymbolAnalysisContext context, INamedTypeSymbol type)
    {
        var missing = new List<INamedTypeSymbol>();
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (!IsPartial(t, context.CancellationToken)) missing.Add(t);
        }
        if (missing.Count == 0) return;
        missing.Reverse(); // outermost first, as written

        var identifier = IdentifierLocation(type, context.CancellationToken);
        if (identifier is null) return;
        var others = missing
            .Where(t => !SymbolEqualityComparer.Default.Equals(t, type))
            .Select(t => IdentifierLocation(t, context.CancellationToken))
            .Where(l => l is not null)
            .Select(l => l!);
        var names = string.Join(", ", missing.Select(t => "'" + t.Name + "'"));
        var subject = missing.Count == 1 ? names + " is" : names + " are";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.HandlerClassNotPartial, identifier, others, type.Name, subject));
    }

    private static bool IsPartial(INamedTypeSymbol type, System.Threading.CancellationToken ct)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(ct) is TypeDeclarationSyntax declaration
                && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return false;
            }
        }
        return true;
    }

    private static Location? IdentifierLocation(INamedTypeSymbol type, System.Threading.CancellationToken ct)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(ct) is BaseTypeDeclarationSyntax declaration)
                return declaration.Identifier.GetLocation();
        }
        return null;
    }

    private static void ReportDuplicates(
        SymbolAnalysisContext context,
        KnownTypes known,
        INamedTypeSymbol type,
        List<(IMethodSymbol Method, ImmutableArray<AttributeData> Ons)> handlers)
    {
        // The generator calls one class's handlers of an event in source order: by file path, then position.
        var ordered = handlers.OrderBy(h => SourceKey(h.Method).Path, System.StringComparer.Ordinal)
            .ThenBy(h => SourceKey(h.Method).Position);
        var firstHandler = new Dictionary<LoopEvent, IMethodSymbol>();
        foreach (var (method, ons) in ordered)
        {
            var seenOnThisMethod = new HashSet<LoopEvent>();
            foreach (var on in ons)
            {
                if (!known.TryGetEvent(on, out var e, out _)) continue;
                if (!seenOnThisMethod.Add(e))
                {
                    var location = on.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation()
                        ?? method.Locations.FirstOrDefault();
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.DuplicateOnAttribute, location, method.Name, e.ToString()));
                    continue;
                }
                if (!IsCallableHandler(known, method)) continue;
                if (firstHandler.TryGetValue(e, out var first))
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.SeveralHandlersForEvent,
                        method.Locations.FirstOrDefault(),
                        method.Name,
                        first.Name,
                        e.ToString(),
                        type.Name));
                }
                else
                {
                    firstHandler[e] = method;
                }
            }
        }
    }

    private static (string Path, int Position) SourceKey(IMethodSymbol method)
    {
        var reference = method.DeclaringSyntaxReferences.FirstOrDefault();
        return reference is null ? (string.Empty, 0) : (reference.SyntaxTree.FilePath, reference.Span.Start);
    }

    private static bool IsCallableHandler(KnownTypes known, IMethodSymbol method) =>
        known.HasHandlerSignature(method) && known.IsCallback(method.ContainingType);

    // ---- FCB0003, FCB0004 and FCB0007: per method ----

    private static void AnalyzeMethod(SymbolAnalysisContext context, KnownTypes known)
    {
        var method = (IMethodSymbol)context.Symbol;
        var ons = known.OnAttributes(method);
        if (ons.IsEmpty)
        {
            CheckEventNamedMethod(context, known, method);
            return;
        }

        var problems = ShapeProblems(known, method, ons);
        var location = method.Locations.FirstOrDefault();
        if (problems.Count > 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.InvalidHandlerShape, location, DisplayName(method), string.Join("; ", problems)));
            return;
        }

        if (method.IsAsync)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.AsyncVoidHandler, location, method.Name));
        }
    }

    private static List<string> ShapeProblems(KnownTypes known, IMethodSymbol method, ImmutableArray<AttributeData> ons)
    {
        var problems = new List<string>();
        var type = method.ContainingType;
        if (type is null || type.TypeKind != TypeKind.Class || !known.IsCallback(type))
            problems.Add($"its type '{type?.Name}' does not derive from FastCallbacks.Callback");
        if (method.MethodKind != MethodKind.Ordinary)
        {
            problems.Add("only an ordinary method can be a handler, not " + DescribeKind(method.MethodKind));
            return problems;
        }
        if (method.IsStatic) problems.Add("it is static");
        if (method.IsGenericMethod) problems.Add("it is generic");
        if (!method.ReturnsVoid) problems.Add($"it returns '{method.ReturnType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)}' instead of void");
        if (method.Parameters.Length > 1 || (method.Parameters.Length == 1 && !known.IsEventParameter(method.Parameters[0])))
        {
            // fastai passes nothing either (self.learn); people coming from delegates often expect the learner.
            var learner = method.Parameters.FirstOrDefault(p => IsLearner(known, p.Type));
            problems.Add(learner is null
                ? "it must take no parameters or a single 'Event' parameter"
                : $"it must take no parameters or a single 'Event' parameter, not the learner ('{learner.Name}'): "
                    + "a handler reaches its learner through 'Learn' (Learn.Xb = …, as fastai's self.learn) "
                    + "and reads its state through the callback's own properties (Xb, Epoch, …)");
        }
        foreach (var on in ons)
        {
            if (!known.TryGetEvent(on, out _, out var undefined) && undefined)
                problems.Add($"[On((Event){on.ConstructorArguments[0].Value})] names no event");
        }
        return problems;
    }

    private static bool IsLearner(KnownTypes known, ITypeSymbol type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, known.Learner)) return true;
        }
        return false;
    }

    /// <summary>The name a person wrote: <c>P.get</c> for an accessor, <c>operator +</c> for an operator, else the name.</summary>
    private static string DisplayName(IMethodSymbol method) => method.MethodKind switch
    {
        MethodKind.Ordinary or MethodKind.LocalFunction => method.Name,
        _ => method.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat.WithMemberOptions(SymbolDisplayMemberOptions.None)),
    };

    private static string DescribeKind(MethodKind kind) => kind switch
    {
        MethodKind.PropertyGet or MethodKind.PropertySet => "a property accessor",
        MethodKind.EventAdd or MethodKind.EventRemove or MethodKind.EventRaise => "an event accessor",
        MethodKind.UserDefinedOperator or MethodKind.Conversion => "an operator",
        MethodKind.ExplicitInterfaceImplementation => "an explicit interface implementation",
        MethodKind.LocalFunction => "a local function",
        MethodKind.LambdaMethod => "a lambda",
        MethodKind.Destructor => "a finalizer",
        _ => "a " + kind,
    };

    private static void CheckEventNamedMethod(SymbolAnalysisContext context, KnownTypes known, IMethodSymbol method)
    {
        if (!LoopEvents.TryFromAnyName(method.Name, out var e)) return;
        // Only methods the generator could call as they are; overrides and virtual or abstract methods are
        // called through another declaration, and interface implementations through the interface.
        if (!known.HasHandlerSignature(method) || method.IsOverride || method.IsVirtual || method.IsAbstract) return;
        if (method.ContainingType is not { TypeKind: TypeKind.Class } type || !known.IsCallback(type)) return;
        if (ImplementsInterfaceMember(method, type)) return;

        var properties = ImmutableDictionary<string, string?>.Empty.Add(EventNameProperty, e.ToString());
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.EventNamedMethodWithoutOn,
            method.Locations.FirstOrDefault(),
            properties,
            method.Name,
            e.ToString()));
    }

    private static bool ImplementsInterfaceMember(IMethodSymbol method, INamedTypeSymbol type)
    {
        foreach (var iface in type.AllInterfaces)
        {
            foreach (var member in iface.GetMembers(method.Name))
            {
                if (SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(member), method))
                    return true;
            }
        }
        return false;
    }

    // ---- FCB0003 for local functions ----

    private static void AnalyzeLocalFunction(OperationAnalysisContext context, KnownTypes known)
    {
        var function = ((ILocalFunctionOperation)context.Operation).Symbol;
        if (known.OnAttributes(function).IsEmpty) return;
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.InvalidHandlerShape,
            function.Locations.FirstOrDefault(),
            function.Name,
            "only an ordinary method can be a handler, not a local function"));
    }
}
