using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Robustness.Tests;

/// <summary>A mutated version of a corpus file and how it was made (to reproduce a failure by hand).</summary>
public sealed record Mutant(CorpusFile File, string Kind, string Text, string Description);

/// <summary>
/// Breaks source the way an editor buffer is broken while someone types: tokens deleted, the file cut short,
/// braces and brackets unbalanced, half-typed attributes and members, tokens duplicated or swapped. Deterministic
/// for a seed: mutant <c>i</c> of seed <c>s</c> is the same whatever else runs, so any one can be replayed alone.
/// </summary>
public sealed class Mutator
{
    private readonly Random _random;

    private Mutator(int seed, int index) => _random = new Random(unchecked(seed * 1_000_003 + index));

    /// <summary>Mutant number <paramref name="index"/> of <paramref name="seed"/>.</summary>
    public static Mutant Make(IReadOnlyList<CorpusFile> files, int seed, int index) => new Mutator(seed, index).Next(files);

    public static readonly string[] Kinds =
    [
        "delete-token", "delete-tokens", "truncate", "truncate-at-token", "unbalance", "insert-snippet",
        "duplicate-token", "swap-tokens", "delete-line", "rename-token", "compound",
    ];

    // What one types on the way to a handler, and stray pieces of C#.
    private static readonly string[] Snippets =
    [
        "[On(", "[On(Event.", "[On(Event.Before", "[On(Event.AfterFit)]", "[On(Event.AfterFit), On(", "[On(default)]", "[On((Event)99)]",
        "partial ", "override ", "static ", "abstract ", "async ", "=>", "Event.", "Event e", "(Event e)", "private void (", "void X<T>() {}",
        "class ", "partial class X : Callback {", "}", "{", ")", "(", "]", "[", "<", ">", ";", ",", ".", "?", "#if X", "#endregion",
        "\"", "'", "/*", "@", "$\"{", "\u00e9", "\0", "base.", "Learn!.", "new()", "ref ", "out ", "params ", "this ", "in ",
        "[On(Event.BeforeFit)] private void H() {}", "[On(Event.BeforeFit)] private int H(Event e, int x) => 0;",
        "[OnAttribute(Event.BeforeBatch)]", "[FastCallbacks.On(Event.AfterBatch)]", "[On(Event.AfterBatch, Event.AfterFit)]",
    ];

    private static readonly SyntaxKind[] Brackets =
    [
        SyntaxKind.OpenBraceToken, SyntaxKind.CloseBraceToken, SyntaxKind.OpenParenToken, SyntaxKind.CloseParenToken,
        SyntaxKind.OpenBracketToken, SyntaxKind.CloseBracketToken, SyntaxKind.LessThanToken, SyntaxKind.GreaterThanToken,
    ];

    private Mutant Next(IReadOnlyList<CorpusFile> files)
    {
        var file = files[_random.Next(files.Count)];
        var kind = Kinds[_random.Next(Kinds.Length)];
        var (text, description) = Apply(file, file.Text, kind);
        return new Mutant(file, kind, text, $"{file.RelativePath}: {description}");
    }

    private (string Text, string Description) Apply(CorpusFile file, string text, string kind)
    {
        var tokens = file.Tokens;
        // Mutations after the first (compound) use the original token spans, so they are clamped to the text.
        (int Start, int Length) Token(int i)
        {
            var s = tokens[i].Span;
            var start = Math.Min(s.Start, text.Length);
            return (start, Math.Min(s.Length, text.Length - start));
        }
        int Pick() => _random.Next(tokens.Count);

        switch (kind)
        {
            case "delete-token":
            {
                var i = Pick();
                var (start, length) = Token(i);
                return (text.Remove(start, length), $"delete token {i} '{Show(text, start, length)}' at {start}");
            }
            case "delete-tokens":
            {
                var i = Pick();
                var n = 2 + _random.Next(7);
                var last = Math.Min(tokens.Count - 1, i + n - 1);
                var (start, _) = Token(i);
                var (endStart, endLength) = Token(last);
                var length = Math.Max(0, endStart + endLength - start);
                return (text.Remove(start, length), $"delete tokens {i}..{last} ({length} chars) at {start}");
            }
            case "truncate":
            {
                var at = _random.Next(text.Length + 1);
                return (text[..at], $"truncate at char {at} of {text.Length}");
            }
            case "truncate-at-token":
            {
                var i = Pick();
                var (start, length) = Token(i);
                var end = _random.Next(2) == 0 ? start : start + length;
                return (text[..end], $"truncate at token {i} (char {end})");
            }
            case "unbalance":
            {
                var candidates = Enumerable.Range(0, tokens.Count).Where(i => Brackets.Contains(tokens[i].Kind)).ToArray();
                if (candidates.Length == 0 || _random.Next(2) == 0)
                {
                    var at = Token(Pick()).Start;
                    var bracket = "{}()[]<>"[_random.Next(8)].ToString();
                    return (text.Insert(at, bracket), $"insert '{bracket}' at {at}");
                }
                var j = candidates[_random.Next(candidates.Length)];
                var (start, length) = Token(j);
                return (text.Remove(start, length), $"delete bracket {j} '{Show(text, start, length)}' at {start}");
            }
            case "insert-snippet":
            {
                var snippet = Snippets[_random.Next(Snippets.Length)];
                var (start, length) = Token(Pick());
                var at = _random.Next(2) == 0 ? start : start + length;
                return (text.Insert(at, snippet), $"insert '{snippet}' at {at}");
            }
            case "duplicate-token":
            {
                var (start, length) = Token(Pick());
                var at = Token(Pick()).Start;
                var piece = text.Substring(start, length);
                return (text.Insert(at, piece + " "), $"copy '{piece}' to {at}");
            }
            case "swap-tokens":
            {
                var i = Math.Min(Pick(), tokens.Count - 2);
                var (aStart, aLength) = Token(i);
                var (bStart, bLength) = Token(i + 1);
                if (bStart < aStart + aLength) return (text, "swap (no-op)");
                var a = text.Substring(aStart, aLength);
                var b = text.Substring(bStart, bLength);
                var between = text.Substring(aStart + aLength, bStart - aStart - aLength);
                return (text[..aStart] + b + between + a + text[(bStart + bLength)..], $"swap '{a}' and '{b}' at {aStart}");
            }
            case "delete-line":
            {
                var lines = text.Split('\n').ToList();
                var l = _random.Next(lines.Count);
                lines.RemoveAt(l);
                return (string.Join('\n', lines), $"delete line {l + 1}");
            }
            case "rename-token":
            {
                var i = Pick();
                var (start, length) = Token(i);
                string[] replacements = ["Event", "On", "Callback", "partial", "class", "void", "x", "int", "Learn", "Order", "_", "default", "null", "this"];
                var r = replacements[_random.Next(replacements.Length)];
                return (text.Remove(start, length).Insert(start, r), $"replace token {i} '{Show(text, start, length)}' with '{r}'");
            }
            case "compound":
            {
                var steps = 2 + _random.Next(3);
                var parts = new List<string>();
                for (var k = 0; k < steps; k++)
                {
                    var inner = Kinds[_random.Next(Kinds.Length - 1)]; // not compound again
                    string d;
                    (text, d) = Apply(file, text, inner);
                    parts.Add(d);
                }
                return (text, "compound: " + string.Join("; ", parts));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static string Show(string text, int start, int length) =>
        text.Substring(start, Math.Min(length, 30)).ReplaceLineEndings(" ");
}
