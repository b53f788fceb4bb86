using FastCallbacks.Analyzers.Tests.Analyzers;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.CodeFixes;

/// <summary>FCB0002's fix: adds <c>partial</c> wherever it is missing. Each test also runs fix-all.</summary>
public class MakePartialCodeFixTests
{
    [Test]
    public Task AddsPartialAfterTheOtherModifiers() => V.CodeFixAsync<MakePartialCodeFixProvider>("""
        using FastCallbacks;
        public sealed class {|#0:Cb|} : Callback
        {
            [On(Event.BeforeBatch)] void M() { }
        }
        """, """
        using FastCallbacks;
        public sealed partial class Cb : Callback
        {
            [On(Event.BeforeBatch)] void M() { }
        }
        """, FCB0002Tests.Expected(0, "Cb", "'Cb' is"));

    [Test]
    public Task KeepsCommentsAndIndentationWhenThereIsNoModifier() => V.CodeFixAsync<MakePartialCodeFixProvider>("""
        using FastCallbacks;
        namespace N
        {
            // A callback.
            class {|#0:Cb|} : Callback
            {
                [On(Event.BeforeBatch)] void M() { }
            }
        }
        """, """
        using FastCallbacks;
        namespace N
        {
            // A callback.
            partial class Cb : Callback
            {
                [On(Event.BeforeBatch)] void M() { }
            }
        }
        """, FCB0002Tests.Expected(0, "Cb", "'Cb' is"));

    [Test]
    public Task FixesTheClassAndEveryContainingType() => V.CodeFixAsync<MakePartialCodeFixProvider>("""
        using FastCallbacks;
        public static class {|#1:Outer|}
        {
            public partial class Middle
            {
                internal class {|#0:Cb|} : Callback
                {
                    [On(Event.AfterFit)] void M() { }
                }
            }
        }
        """, """
        using FastCallbacks;
        public static partial class Outer
        {
            public partial class Middle
            {
                internal partial class Cb : Callback
                {
                    [On(Event.AfterFit)] void M() { }
                }
            }
        }
        """, FCB0002Tests.Expected(0, "Cb", "'Outer', 'Cb' are").WithLocation(1));

    [Test]
    public Task FixAllHandlesSiblingsSharingAContainingType() => V.CodeFixAsync<MakePartialCodeFixProvider>("""
        using FastCallbacks;
        public class {|#2:Outer|}
        {
            public class {|#0:A|} : Callback { [On(Event.BeforeFit)] void M() { } }
            public class {|#1:B|} : Callback { [On(Event.AfterFit)] void M() { } }
        }
        public class {|#3:C|} : Callback { [On(Event.AfterFit)] void M() { } }
        """, """
        using FastCallbacks;
        public partial class Outer
        {
            public partial class A : Callback { [On(Event.BeforeFit)] void M() { } }
            public partial class B : Callback { [On(Event.AfterFit)] void M() { } }
        }
        public partial class C : Callback { [On(Event.AfterFit)] void M() { } }
        """,
        FCB0002Tests.Expected(0, "A", "'Outer', 'A' are").WithLocation(2),
        FCB0002Tests.Expected(1, "B", "'Outer', 'B' are").WithLocation(2),
        FCB0002Tests.Expected(3, "C", "'C' is"));
}
