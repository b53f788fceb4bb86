using System.Collections.Generic;

namespace FastCallbacks.Analyzers;

/// <summary>
/// The analyzer's copy of <c>FastCallbacks.Event</c>. Members are matched to the real enum by <em>name</em>, never by
/// value, so a reordering of the runtime enum cannot shift the analysis.
/// </summary>
internal enum LoopEvent
{
    AfterCreate,
    BeforeFit,
    BeforeEpoch,
    BeforeTrain,
    BeforeBatch,
    AfterPred,
    AfterLoss,
    BeforeBackward,
    AfterCancelBackward,
    AfterBackward,
    BeforeStep,
    AfterCancelStep,
    AfterStep,
    AfterCancelBatch,
    AfterBatch,
    AfterCancelTrain,
    AfterTrain,
    BeforeValidate,
    AfterCancelValidate,
    AfterValidate,
    AfterCancelEpoch,
    AfterEpoch,
    AfterCancelFit,
    AfterFit,
}

/// <summary>Names of <see cref="LoopEvent"/>s: the C# name (<c>BeforeBatch</c>) and fastai's (<c>before_batch</c>).</summary>
internal static class LoopEvents
{
    public const int Count = 24;

    private static readonly Dictionary<string, LoopEvent> ByCSharpName = Build(snake: false);
    private static readonly Dictionary<string, LoopEvent> ByAnyName = Build(snake: true);

    /// <summary>The event whose C# enum member name is <paramref name="name"/>.</summary>
    public static bool TryFromCSharpName(string name, out LoopEvent e) => ByCSharpName.TryGetValue(name, out e);

    /// <summary>The event named <paramref name="name"/> in either spelling (<c>BeforeBatch</c> or <c>before_batch</c>).</summary>
    public static bool TryFromAnyName(string name, out LoopEvent e) => ByAnyName.TryGetValue(name, out e);

    /// <summary>fastai's snake_case name (<c>after_cancel_step</c>).</summary>
    public static string SnakeName(LoopEvent e)
    {
        var name = e.ToString();
        var chars = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) chars.Append('_');
            chars.Append(char.ToLowerInvariant(name[i]));
        }
        return chars.ToString();
    }

    private static Dictionary<string, LoopEvent> Build(bool snake)
    {
        var map = new Dictionary<string, LoopEvent>(System.StringComparer.Ordinal);
        for (var i = 0; i < Count; i++)
        {
            var e = (LoopEvent)i;
            map[e.ToString()] = e;
            if (snake) map[SnakeName(e)] = e;
        }
        return map;
    }
}
