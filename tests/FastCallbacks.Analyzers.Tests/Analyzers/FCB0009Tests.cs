using Microsoft.CodeAnalysis.Testing;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.PersistAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>
/// FCB0009: a <c>[Persist]</c> field or property the generator cannot save (its type, its assignability, its class),
/// reported on its name with the reason, so that no marked member is silently left out of a checkpoint.
/// </summary>
public class FCB0009Tests
{
    private const string Supported =
        "bool, the number types, char, string, enums, TimeSpan, DateTime, DateTimeOffset, Guid, Tensor, StateDict, their nullable forms, " +
        "and arrays, List<T>, IReadOnlyList<T>, Dictionary<string, T> and IReadOnlyDictionary<string, T> of these";

    private static DiagnosticResult Expected(int marker, string member, string problem) =>
        V.Diagnostic(DiagnosticDescriptors.UnpersistableMember).WithLocation(marker).WithArguments(member, problem);

    private static string NotSaveable(string type) =>
        $"its type '{type}' is not one [Persist] can save ({Supported}); implement IStatefulCallback by hand to save it";

    [Test]
    public async Task TheMessageReadsAsASentence()
    {
        var message = string.Format(DiagnosticDescriptors.UnpersistableMember.MessageFormat.ToString(), "_seen", "it is static");
        Assert.That(message, Is.EqualTo("'_seen' is marked [Persist] but cannot be saved: it is static; it is not in the callback's state, so a resumed fit loses it"));
        await Task.CompletedTask;
    }

    [Test]
    public Task EverySupportedMemberIsSilent() => V.AnalyzerAsync("""
        using System;
        using System.Collections.Generic;
        using FastCallbacks;
        public enum Phase { A, B }
        public partial class Cb : Callback
        {
            [Persist] private int _a;
            [Persist] private double? _b;
            [Persist] private Phase _c;
            [Persist("d")] private string? _d;
            [Persist] private DateTimeOffset _e;
            [Persist] private Guid[] _f = [];
            [Persist] private readonly List<List<long?>> _g = [];
            [Persist] private readonly Dictionary<string, decimal> _h = new();
            [Persist] private IReadOnlyDictionary<string, TimeSpan>? _i;
            [Persist] private StateDict? _j;
            [Persist] public float Best { get; private set; }
        }
        """);

    [Test]
    public Task TypesAStateCannotHoldAreReported() => V.AnalyzerAsync("""
        using System.Collections.Generic;
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [Persist] private object? {|#0:_o|};
            [Persist] private Dictionary<int, double> {|#1:_byInt|} = new();
            [Persist] private List<Learner> {|#2:_learners|} = [];
            [Persist] private int[,] {|#3:_grid|} = new int[1, 1];
        }
        """,
        Expected(0, "_o", NotSaveable("object?")),
        Expected(1, "_byInt", NotSaveable("Dictionary<int, double>")),
        Expected(2, "_learners", NotSaveable("List<Learner>")),
        Expected(3, "_grid", NotSaveable("int[,]")));

    [Test]
    public Task MembersThatCannotBeAssignedAreReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [Persist] private readonly int {|#0:_fixed|};
            [Persist] public int {|#1:Computed|} => 1;
            [Persist] public int {|#2:Once|} { get; init; }
            [Persist] private static int {|#3:_shared|};
            [Persist] private const int {|#4:Max|} = 3;
        }
        """,
        Expected(0, "_fixed", "it is readonly (a readonly field can be persisted only when it is a List<T> or Dictionary<string, T>, which is filled in place)"),
        Expected(1, "Computed", "it has no setter (a get-only property can be persisted only when it is a List<T> or Dictionary<string, T>, which is filled in place)"),
        Expected(2, "Once", "its setter is init-only, so it cannot be set when a state is loaded"),
        Expected(3, "_shared", "it is static (a checkpoint keeps each callback's own state)"),
        Expected(4, "Max", "it is a constant"));

    [Test]
    public Task ClassesTheGeneratorCannotExtendAreReportedOnEveryMember() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class NotPartial : Callback
        {
            [Persist] private int {|#0:_a|};
            [Persist] private int {|#1:_b|};
        }
        public partial class NotACallback
        {
            [Persist] private int {|#2:_c|};
        }
        public partial class OwnState : Callback, IStatefulCallback
        {
            [Persist] private int {|#3:_d|};
            public void SaveState(StateDict state) { }
            public void LoadState(StateDict state) { }
        }
        public class Sealed : Callback, IStatefulCallback
        {
            public void SaveState(StateDict state) { }
            public void LoadState(StateDict state) { }
        }
        public partial class Below : Sealed
        {
            [Persist] private int {|#4:_e|};
        }
        """,
        Expected(0, "_a", "'NotPartial' is not partial"),
        Expected(1, "_b", "'NotPartial' is not partial"),
        Expected(2, "_c", "'NotACallback' is not a callback (it does not derive from FastCallbacks.Callback)"),
        Expected(3, "_d", "'OwnState' writes its own SaveState or LoadState; save the member there"),
        Expected(4, "_e", "its base 'Sealed' implements IStatefulCallback with a SaveState that cannot be overridden; make it virtual"));

    [Test]
    public Task TwoMembersUnderOneKeyAreReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            [Persist("best")] private double _best;
            [Persist("best")] private double {|#0:_bestToo|};
            [Persist("")] private int {|#1:_unnamed|};
        }
        """,
        Expected(0, "_bestToo", "its key 'best' is already the key of '_best'; give one of them another with [Persist(\"...\")]"),
        Expected(1, "_unnamed", "its [Persist] key is empty"));

    [Test]
    public Task ANestedCallbackInANonPartialTypeIsReported() => V.AnalyzerAsync("""
        using FastCallbacks;
        public class Outer
        {
            public partial class Cb : Callback
            {
                [Persist] private int {|#0:_n|};
            }
        }
        """,
        Expected(0, "_n", "its containing type 'Outer' is not partial"));

    [Test]
    public Task TheFixMakesTheClassAndItsContainersPartial() => V.CodeFixAsync<MakePartialCodeFixProvider>("""
        using FastCallbacks;
        public class Outer
        {
            public sealed class Cb : Callback
            {
                [Persist] private int {|#0:_n|};
                [Persist] private int {|#1:_m|};
            }
        }
        """, """
        using FastCallbacks;
        public partial class Outer
        {
            public sealed partial class Cb : Callback
            {
                [Persist] private int _n;
                [Persist] private int _m;
            }
        }
        """, Expected(0, "_n", "'Cb' is not partial"), Expected(1, "_m", "'Cb' is not partial"));

    [Test]
    public Task TheFixIsNotOfferedForOtherProblems() => V.CodeFixAsync<MakePartialCodeFixProvider>("""
        using FastCallbacks;
        public class NotACallback
        {
            [Persist] private int {|#0:_n|};
        }
        """, """
        using FastCallbacks;
        public class NotACallback
        {
            [Persist] private int {|#0:_n|};
        }
        """, Expected(0, "_n", "'NotACallback' is not a callback (it does not derive from FastCallbacks.Callback)"));
}
