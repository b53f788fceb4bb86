using Microsoft.CodeAnalysis;

namespace FastCallbacks.Analyzers;

/// <summary>
/// Every diagnostic the FastCallbacks analyzers report. Ids are stable: never renumber or reuse one; add new ids
/// to <c>AnalyzerReleases.Unshipped.md</c> and give each a page under <c>docs/diagnostics/</c>.
/// </summary>
public static class DiagnosticDescriptors
{
    /// <summary>The category of every FastCallbacks diagnostic.</summary>
    public const string Category = "FastCallbacks";

    private const string HelpBase = "https://github.com/fastcallbacks/fastcallbacks/blob/main/docs/diagnostics/";

    /// <summary>FCB0001: a callback writes its own member that shadows a settable learner member.</summary>
    public static readonly DiagnosticDescriptor WriteShadowsLearnerState = new(
        id: "FCB0001",
        title: "Callback writes its own member instead of the learner's",
        messageFormat: "'{0}' declares its own '{1}', so this write does not change the learner's '{1}'; write 'Learn.{1}' instead",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The learner's state is read through the callback but written through Learn, as in fastai (self.learn.xb = ...). "
            + "A callback member with the same name as a settable learner member takes the write, and the training loop never sees it.",
        helpLinkUri: HelpBase + "FCB0001.md");

    /// <summary>FCB0002: a class with [On] handlers (or a type containing it) is not partial.</summary>
    public static readonly DiagnosticDescriptor HandlerClassNotPartial = new(
        id: "FCB0002",
        title: "Callback with [On] handlers must be partial",
        messageFormat: "'{0}' has [On] handlers but {1} not 'partial', so no dispatch is generated and the handlers run only on the slower dispatch built at run time",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The FastCallbacks generator adds the dispatch to the callback class in a second partial declaration. "
            + "The class and every type that contains it must be declared 'partial'.",
        helpLinkUri: HelpBase + "FCB0002.md");

    /// <summary>FCB0003: an [On] method has a shape the generator cannot call.</summary>
    public static readonly DiagnosticDescriptor InvalidHandlerShape = new(
        id: "FCB0003",
        title: "[On] method cannot be an event handler",
        messageFormat: "'{0}' cannot handle events: {1}; the generator skips it and it never runs",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "An [On] handler is an ordinary, non-generic instance method of a class deriving from FastCallbacks.Callback. "
            + "It returns void and takes no parameters or a single Event parameter.",
        helpLinkUri: HelpBase + "FCB0003.md");

    /// <summary>FCB0004: a method named like an event has no [On] attribute.</summary>
    public static readonly DiagnosticDescriptor EventNamedMethodWithoutOn = new(
        id: "FCB0004",
        title: "Method named after an event has no [On] attribute",
        messageFormat: "'{0}' is named after the event {1} but has no [On(Event.{1})], so it is never called",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Unlike fastai, FastCallbacks does not find handlers by name: a handler is marked with [On(Event.X)].",
        helpLinkUri: HelpBase + "FCB0004.md");

    /// <summary>FCB0005: a cancel exception thrown where no stage of the loop catches it.</summary>
    public static readonly DiagnosticDescriptor UncaughtCancelException = new(
        id: "FCB0005",
        title: "Cancel exception thrown where the training loop cannot catch it",
        messageFormat: "{0} thrown from the {1} handler of '{2}' is not caught by the training loop and ends Fit with an error; it is caught only in handlers of {3}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Each cancel exception is caught by one stage of the training loop. Thrown from a handler of an event outside "
            + "that stage, it escapes Fit as an ordinary exception.",
        helpLinkUri: HelpBase + "FCB0005.md");

    /// <summary>FCB0006: the same method marked twice for one event.</summary>
    public static readonly DiagnosticDescriptor DuplicateOnAttribute = new(
        id: "FCB0006",
        title: "Event handled more than once in one class",
        messageFormat: "'{0}' is marked [On(Event.{1})] more than once; it still runs once per event, so the repeated attribute has no effect",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "A method needs one [On] attribute per event; a repeated one usually means another event was meant.",
        helpLinkUri: HelpBase + "FCB0006.md");

    /// <summary>FCB0006: two handlers of one class for one event.</summary>
    public static readonly DiagnosticDescriptor SeveralHandlersForEvent = new(
        id: "FCB0006",
        title: "Event handled more than once in one class",
        messageFormat: "'{0}' handles {2} as '{1}' does in '{3}'; both run, in declaration order: '{1}' first, then '{0}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "Several handlers of one class for the same event all run, in declaration order (for a partial class "
            + "declared in several files: by file path, then position). Merge them, or keep them if the order is the one intended.",
        helpLinkUri: HelpBase + "FCB0006.md");

    /// <summary>FCB0007: an async void handler.</summary>
    public static readonly DiagnosticDescriptor AsyncVoidHandler = new(
        id: "FCB0007",
        title: "[On] handler is async void",
        messageFormat: "'{0}' is an async void handler: the loop does not wait for it, and an exception it throws after its first await (a cancel exception too) escapes the loop and can crash the process",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The training loop calls handlers synchronously. An async void handler returns at its first incomplete await; "
            + "the rest runs later, concurrently with the loop, and its exceptions are raised on the thread pool.",
        helpLinkUri: HelpBase + "FCB0007.md");

    /// <summary>FCB0008: a callback assigns one of its read-only forwarding properties (CS0200), meaning the learner's.</summary>
    public static readonly DiagnosticDescriptor WriteToReadOnlyForwarder = new(
        id: "FCB0008",
        title: "Callback assigns the learner's state through a read-only forwarding property",
        messageFormat: "'{0}' in a callback only reads the learner's '{0}', so it cannot be assigned; write 'Learn.{0}' to change the learner's (fastai's self.learn.{1})",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A callback reads the learner's state through read-only forwarding properties (Xb, Loss, Epoch, ...) and writes it "
            + "through Learn, as fastai callbacks read self.xb and write self.learn.xb. Assigning the forwarding property is "
            + "compiler error CS0200; this diagnostic, reported beside it, says where the write goes.",
        helpLinkUri: HelpBase + "FCB0008.md");
}
