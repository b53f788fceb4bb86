using FastCallbacks.Analyzers.Tests.Analyzers;
using NUnit.Framework;
using V = FastCallbacks.Analyzers.Tests.Infrastructure.Verify<FastCallbacks.Analyzers.HandlerAnalyzer>;

namespace FastCallbacks.Analyzers.Tests.CodeFixes;

/// <summary>FCB0004's fix: adds <c>[On(Event.X)]</c>. Each test also runs fix-all.</summary>
public class AddOnAttributeCodeFixTests
{
    [Test]
    public Task AddsTheAttributeAboveTheMethodKeepingDocCommentsAndIndentation() => V.CodeFixAsync<AddOnAttributeCodeFixProvider>("""
        using FastCallbacks;
        public partial class Cb : Callback
        {
            /// <summary>Runs first.</summary>
            public void {|#0:BeforeBatch|}() { }

            [System.Obsolete]
            void {|#1:after_batch|}(Event e) { }
        }
        """, """
        using FastCallbacks;
        public partial class Cb : Callback
        {
            /// <summary>Runs first.</summary>
            [On(Event.BeforeBatch)]
            public void BeforeBatch() { }

            [On(Event.AfterBatch)]
            [System.Obsolete]
            void after_batch(Event e) { }
        }
        """, FCB0004Tests.Expected(0, "BeforeBatch", "BeforeBatch"), FCB0004Tests.Expected(1, "after_batch", "AfterBatch"));

    [Test]
    public Task AddsTheUsingDirectiveWhenFastCallbacksIsNotImported() => V.CodeFixAsync<AddOnAttributeCodeFixProvider>("""
        namespace App
        {
            public partial class Cb : FastCallbacks.Callback
            {
                void {|#0:AfterFit|}() { }
            }
        }
        """, """
        using FastCallbacks;

        namespace App
        {
            public partial class Cb : FastCallbacks.Callback
            {
                [On(Event.AfterFit)]
                void AfterFit() { }
            }
        }
        """, FCB0004Tests.Expected(0, "AfterFit", "AfterFit"));
}
