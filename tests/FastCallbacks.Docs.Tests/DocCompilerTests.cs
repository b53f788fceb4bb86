namespace FastCallbacks.Docs.Tests;

/// <summary>The docs test itself: a broken block fails with the Markdown file, line and compiler error; markers work.</summary>
public class DocCompilerTests
{
    private static DocCheck CheckOnly(string markdown)
    {
        var blocks = DocBlocks.Parse("docs/example.md", markdown).ToList();
        Assert.That(blocks, Has.Count.EqualTo(1));
        return DocCompiler.Check(blocks[0], RepoPaths.Root);
    }

    [Test]
    public void A_broken_block_fails_with_the_file_the_line_and_the_compiler_error()
    {
        var check = CheckOnly("""
            # Example

            ```csharp
            using FastCallbacks;

            var (x, y) = LoadMyData();
            ```
            """);

        Assert.That(check.Failures[0], Is.EqualTo("docs/example.md:3: the ```csharp block does not compile cleanly as written:"));
        Assert.That(check.Failures, Has.Some.StartsWith("  docs/example.md(6,14): error CS0103: The name 'LoadMyData' does not exist in the current context"));
        Assert.That(check.Ran, Is.False);
    }

    [Test]
    public void A_program_runs_and_a_throwing_one_fails()
    {
        var ok = CheckOnly("""
            ```csharp
            using FastCallbacks;
            Console.WriteLine($"fastai's name: {Events.Name(Event.BeforeBatch)}");
            ```
            """);
        Assert.That(ok.Failures, Is.Empty);
        Assert.That(ok.Ran, Is.True);
        Assert.That(ok.Output, Does.Contain("fastai's name: before_batch"));

        var throwing = CheckOnly("""
            ```cs
            throw new InvalidOperationException("boom");
            ```
            """);
        Assert.That(throwing.Failures.Single(), Does.StartWith("docs/example.md:1: the program compiles but fails when run: it threw System.InvalidOperationException: boom"));
        Assert.That(throwing.Failures.Single(), Does.Contain("docs/example.md:line 2"), "the stack trace points into the Markdown");
    }

    [Test]
    public void The_generator_and_the_analyzers_run_and_expect_names_their_diagnostics()
    {
        var check = CheckOnly("""
            <!-- doctest: expect=FCB0002 -->
            ```csharp
            using FastCallbacks;

            public class NotPartial : Callback
            {
                [On(Event.AfterEpoch)] void Print() => Console.WriteLine(Epoch);
            }
            ```
            """);
        Assert.That(check.Failures, Is.Empty);

        var generated = CheckOnly("""
            ```csharp
            using FastCallbacks;

            var cb = new Printer();
            Console.WriteLine(cb.HandledEvents.Contains(Event.AfterEpoch) ? "generated" : "missing");

            public partial class Printer : Callback
            {
                [On(Event.AfterEpoch)] void Print() => Console.WriteLine(Epoch);
            }
            ```
            """);
        Assert.That(generated.Failures, Is.Empty);
        Assert.That(generated.Output, Does.Contain("generated"));

        var missing = CheckOnly("""
            <!-- doctest: expect=FCB0004 -->
            ```csharp
            using FastCallbacks;
            public partial class Fine : Callback { [On(Event.AfterEpoch)] void Print() { } }
            ```
            """);
        Assert.That(missing.Failures.Single(), Does.StartWith("docs/example.md:2: its marker expects FCB0004, which the block does not produce"));
    }

    [Test]
    public void A_fragment_is_compiled_in_its_context_and_reported_at_its_own_lines()
    {
        var check = CheckOnly("""
            Some text.
            <!-- doctest: context=CallbackMembers -->
            ```csharp
            [On(Event.AfterBatch)]
            void Count() => _batches += Undefined;
            ```
            """);
        Assert.That(check.Failures, Has.Some.StartsWith("  docs/example.md(5,29): error CS0103: The name 'Undefined' does not exist"));
        Assert.That(check.Failures[0], Does.Contain("(a fragment of Contexts/CallbackMembers.cs)"));
    }

    [Test]
    public void Markdown_mistakes_are_reported()
    {
        Assert.That(DocBlocks.Parse("a.md", "<!-- doctest: context=CallbackMembers -->\n\nText.\n").Single().Problem,
            Is.EqualTo("the doctest marker on line 1 is not directly above a ```csharp block"));
        Assert.That(DocBlocks.Parse("a.md", "<!-- doctest: expect=FCB0001 -->\n```bash\nls\n```\n").Single().Problem,
            Is.EqualTo("the doctest marker on line 1 is above a ```bash block, not a ```csharp one"));
        Assert.That(DocBlocks.Parse("a.md", "<!-- doctest: run=false -->\n```csharp\nint x;\n```\n").Single().Problem,
            Does.StartWith("the doctest marker on line 1: unknown option 'run=false'"));
        Assert.That(DocBlocks.Parse("a.md", "```csharp\nint x;\n").Single().Problem, Is.EqualTo("the ```csharp block on line 1 is never closed"));
        var unknown = DocCompiler.Check(DocBlocks.Parse("a.md", "<!-- doctest: context=Nope -->\n```csharp\nint x;\n```\n").Single(), RepoPaths.Root);
        Assert.That(unknown.Failures.Single(), Does.StartWith("a.md:2: its marker names context=Nope, but there is no tests/FastCallbacks.Docs.Tests/Contexts/Nope.cs; the contexts are: "));
    }

    [Test]
    public void Fences_in_lists_and_other_languages()
    {
        var blocks = DocBlocks.Parse("a.md", "1. Step:\n\n   ```csharp\n   int x = 1;\n   ```\n\n```python\nx = 1\n```\n~~~C#\nint y;\n~~~\n").ToList();
        Assert.That(blocks.Select(b => (b.FenceLine, b.Code)), Is.EqualTo(new[] { (3, "int x = 1;"), (10, "int y;") }));
    }
}
