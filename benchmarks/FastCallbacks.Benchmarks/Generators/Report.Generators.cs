using System.Globalization;
using System.Text;
using FastCallbacks.Benchmarks.Generators;

namespace FastCallbacks.Benchmarks;

/// <summary>The generator's part of docs/benchmarks.md: its targets in the summary, and its table beside its peers.</summary>
internal static partial class Report
{
    private const string HomeTurfType = "GeneratorBenchmarks";
    private const string PeerType = "GeneratorPeerBenchmarks";

    /// <summary>The generators of the peer table, with the names the benchmarks give them.</summary>
    private static readonly (string Name, string Label)[] GeneratorColumns =
    [
        (GeneratorSets.FastCallbacks, "FastCallbacks"),
        (GeneratorSets.PreviousDesign, "FastCallbacks, earlier design (binds every partial class with a base list)"),
        (GeneratorSets.LoggerMessage, "LoggerMessage (Microsoft.Extensions.Logging.Abstractions 10.0.12)"),
        (GeneratorSets.SystemTextJson, "System.Text.Json 10.0.12"),
        (GeneratorSets.Mvvm, "CommunityToolkit.Mvvm 8.4.2 (its 7 generators)"),
        (GeneratorSets.AttributeFloor, "Roslyn floor: ForAttributeWithMetadataName([On]), a transform naming the method"),
        (GeneratorSets.SyntaxFloor, "Roslyn floor: CreateSyntaxProvider whose predicate selects nothing"),
    ];

    private static readonly string[] Peers = [GeneratorSets.LoggerMessage, GeneratorSets.SystemTextJson, GeneratorSets.Mvvm];

    /// <summary>A generator re-run's median in ms: a case of GeneratorPeerBenchmarks, or FastCallbacks' home turf (GeneratorBenchmarks).</summary>
    private static double? GeneratorMs(Run run, string workload, string generator)
    {
        var home = (workload, generator) switch
        {
            (GeneratorPeerBenchmarks.HomeTurf, GeneratorSets.FastCallbacks) => "CachedRerun",
            ("HomeTurfDeclarationEdit", GeneratorSets.FastCallbacks) => "DeclarationEditRerun",
            (GeneratorPeerBenchmarks.HomeTurf, GeneratorSets.PreviousDesign) => "PreviousDesignRerun",
            (GeneratorPeerBenchmarks.HomeTurf, GeneratorSets.AttributeFloor) => "AttributeFloorRerun",
            (GeneratorPeerBenchmarks.HomeTurf, GeneratorSets.SyntaxFloor) => "SyntaxFloorRerun",
            ("HomeTurfFirstRun", GeneratorSets.FastCallbacks) => "FirstRun",
            ("HomeTurfFirstRun", GeneratorSets.PreviousDesign) => "FirstRunPreviousDesign",
            _ => null,
        };
        var ns = home is not null ? run.Median(HomeTurfType, home) : run.Median(PeerType, "Rerun", $"Case={workload}/{generator}");
        return ns / 1e6;
    }

    /// <summary>The same case from <c>--generators-interleaved</c>: median CPU ms (and wall ms), or null.</summary>
    private static (double Cpu, double Wall)? InterleavedMs(string[]? lines, string workload, string generator)
    {
        foreach (var line in lines ?? [])
        {
            var parts = line.Split('\t');
            if (parts.Length == 4 && parts[0] == "generator-case" && parts[1] == $"{workload}/{generator}")
                return (double.Parse(parts[2], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture));
        }
        return null;
    }

    private static double? Divide(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;

    private static double? CheapestPeer(Func<string, double?> ms)
    {
        var values = Peers.Select(ms).Where(v => v is not null).Select(v => v!.Value).ToList();
        return values.Count == Peers.Length ? values.Min() : null;
    }

    private static void GeneratorRows(List<Row> rows)
    {
        const string LargeApp = GeneratorPeerBenchmarks.LargeApp, HomeTurf = GeneratorPeerBenchmarks.HomeTurf;
        const string Ours = GeneratorSets.FastCallbacks, Earlier = GeneratorSets.PreviousDesign;
        rows.Add(new("Generator: first run on 1,000 callback classes (median)", "< 1,000 ms", "ms",
            r => GeneratorMs(r, "HomeTurfFirstRun", Ours), v => v < 1000));
        rows.Add(new("Generator: first run on 1,000 callback classes / the earlier design's", "≤ 1.00 (no slower)", "x",
            r => Divide(GeneratorMs(r, "HomeTurfFirstRun", Ours), GeneratorMs(r, "HomeTurfFirstRun", Earlier)), v => v <= 1.0));
        rows.Add(new("Generator: re-run after an unrelated edit, 1,000 callback classes (median)", "< 50 ms", "ms",
            r => GeneratorMs(r, HomeTurf, Ours), v => v < 50));
        rows.Add(new("Generator: that re-run / ForAttributeWithMetadataName([On])'s own floor", "< 1", "x",
            r => Divide(GeneratorMs(r, HomeTurf, Ours), GeneratorMs(r, HomeTurf, GeneratorSets.AttributeFloor)), v => v < 1));
        rows.Add(new("Generator: re-run after an unrelated declaration edit (a method added), 1,000 callback classes", "(information)", "ms",
            r => GeneratorMs(r, "HomeTurfDeclarationEdit", Ours), _ => true));
        rows.Add(new($"Generator, large app ({GeneratorPeerBenchmarks.Files:N0} files), re-run after an unrelated body edit / the cheapest peer's", "≤ 1.00", "x",
            r => Divide(GeneratorMs(r, LargeApp, Ours), CheapestPeer(p => GeneratorMs(r, LargeApp, p))), v => v <= 1.0));
        rows.Add(new($"Generator, large app: {2 * GeneratorPeerBenchmarks.OtherPartialClasses:N0} other partial classes / {GeneratorPeerBenchmarks.OtherPartialClasses:N0}", "≤ 1.2 (flat)", "x",
            r => Divide(GeneratorMs(r, GeneratorPeerBenchmarks.LargeApp2x, Ours), GeneratorMs(r, LargeApp, Ours)), v => v <= 1.2));
        rows.Add(new("The earlier design, the same ratio", "(information)", "x",
            r => Divide(GeneratorMs(r, GeneratorPeerBenchmarks.LargeApp2x, Earlier), GeneratorMs(r, LargeApp, Earlier)), _ => true));
    }

    /// <summary>The same targets from the interleaved timing, measured once.</summary>
    private static void GeneratorInterleavedRows(StringBuilder doc, int runs, string[]? lines)
    {
        const string LargeApp = GeneratorPeerBenchmarks.LargeApp, HomeTurf = GeneratorPeerBenchmarks.HomeTurf;
        const string Ours = GeneratorSets.FastCallbacks, Earlier = GeneratorSets.PreviousDesign;
        double? Cpu(string workload, string generator) => InterleavedMs(lines, workload, generator)?.Cpu;
        void Add(string target, string required, double? value, Func<double, bool> meets) =>
            AppendRunless(doc, runs, target, required, Format(value, "x"), value is { } v ? (meets(v) ? "met" : "**missed**") : "not measured");

        Add("Generator, interleaved CPU clock: first run on 1,000 callback classes / the earlier design's", "≤ 1.00 (no slower)",
            Divide(Cpu("HomeTurfFirstRun", Ours), Cpu("HomeTurfFirstRun", Earlier)), v => v <= 1.0);
        Add("Generator, interleaved CPU clock: re-run after an unrelated edit, 1,000 callbacks / ForAttributeWithMetadataName([On])'s floor", "< 1",
            Divide(Cpu(HomeTurf, Ours), Cpu(HomeTurf, GeneratorSets.AttributeFloor)), v => v < 1);
        Add("Generator, interleaved CPU clock: large app, re-run after an unrelated body edit / the cheapest peer's", "≤ 1.00",
            Divide(Cpu(LargeApp, Ours), CheapestPeer(p => Cpu(LargeApp, p))), v => v <= 1.0);
        Add("Generator, interleaved CPU clock: large app, twice the other partial classes / once", "≤ 1.2 (flat)",
            Divide(Cpu(GeneratorPeerBenchmarks.LargeApp2x, Ours), Cpu(LargeApp, Ours)), v => v <= 1.2);
    }

    private static void GeneratorSection(StringBuilder doc, List<Run> runs, string[]? interleaved)
    {
        var workloads = new (string Name, string Label)[]
        {
            (GeneratorPeerBenchmarks.LargeApp, "Large app, body edit"),
            (GeneratorPeerBenchmarks.LargeApp2x, $"Large app, {2 * GeneratorPeerBenchmarks.OtherPartialClasses:N0} other partial classes"),
            (GeneratorPeerBenchmarks.LargeAppDeclarationEdit, "Large app, declaration edit"),
            (GeneratorPeerBenchmarks.HomeTurf, $"Home turf ({GeneratorPeerBenchmarks.HomeTurfClasses:N0} of its kind), body edit"),
            ("HomeTurfDeclarationEdit", "Home turf, declaration edit"),
        };
        doc.AppendLine("## The generator beside its peers");
        doc.AppendLine();
        doc.AppendLine("What a keystroke costs each generator (issue #17): a `CSharpGeneratorDriver` that already ran on the compilation runs again on the "
            + "compilation with one ordinary file edited, a new tree each time, as an IDE drives it. Every generator runs in the same harness, on the same "
            + "compilations, with the SDK's Roslyn (5.9); a peer is every C# generator of its package's analyzer assembly, as the compiler loads them. "
            + "Median ms of BenchmarkDotNet's iterations, each run separated by a slash, then in brackets the median CPU ms of the interleaved timing "
            + "(`--generators-interleaved`: all cases round-robin in one process, on the thread's CPU clock, which load from other processes disturbs least).");
        doc.AppendLine();
        doc.Append("| Generator |");
        foreach (var w in workloads) doc.Append($" {w.Label} |");
        doc.AppendLine();
        doc.Append("|---|");
        foreach (var _ in workloads) doc.Append("---:|");
        doc.AppendLine();
        foreach (var (generator, label) in GeneratorColumns)
        {
            var cells = workloads.Select(w =>
            {
                var measured = runs.Select(r => GeneratorMs(r, w.Name, generator)).ToList();
                var cpu = InterleavedMs(interleaved, w.Name, generator)?.Cpu;
                if (measured.All(m => m is null) && cpu is null) return "";
                var bdn = string.Join(" / ", measured.Select(m => m is { } x ? Ms(x) : "n/a"));
                return cpu is { } c ? $"{bdn} [{Ms(c)}]" : bdn;
            }).ToList();
            if (cells.All(c => c.Length == 0)) continue;
            doc.AppendLine($"| {label} | {string.Join(" | ", cells)} |");
        }
        doc.AppendLine();

        doc.AppendLine("FastCallbacks' time as a fraction of each peer's, from the same run (each run separated by a slash; interleaved CPU clock in brackets). "
            + "A peer's home turf is its own kind of class, so that column compares each generator on its own ground.");
        doc.AppendLine();
        doc.AppendLine("| Workload | / LoggerMessage | / System.Text.Json | / CommunityToolkit.Mvvm | / ForAttributeWithMetadataName([On]) floor |");
        doc.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var (workload, label) in new[] { (GeneratorPeerBenchmarks.LargeApp, "Large app, body edit"), (GeneratorPeerBenchmarks.HomeTurf, "Home turf, body edit") })
        {
            string Cell(string other) =>
                string.Join(" / ", runs.Select(r => Format(Divide(GeneratorMs(r, workload, GeneratorSets.FastCallbacks), GeneratorMs(r, workload, other)), "x")))
                + (Divide(InterleavedMs(interleaved, workload, GeneratorSets.FastCallbacks)?.Cpu, InterleavedMs(interleaved, workload, other)?.Cpu) is { } c
                    ? $" [{Format(c, "x")}]" : "");
            doc.AppendLine($"| {label} | {Cell(GeneratorSets.LoggerMessage)} | {Cell(GeneratorSets.SystemTextJson)} | {Cell(GeneratorSets.Mvvm)} | {Cell(GeneratorSets.AttributeFloor)} |");
        }
        doc.AppendLine();

        var readable = interleaved?.Where(l => !l.StartsWith("generator-case\t", StringComparison.Ordinal) && !l.StartsWith("CHECK: ", StringComparison.Ordinal)).ToList();
        if (readable is { Count: > 0 })
        {
            doc.AppendLine("The interleaved timing:");
            doc.AppendLine();
            doc.AppendLine("```");
            foreach (var line in readable) doc.AppendLine(line);
            doc.AppendLine("```");
            doc.AppendLine();
        }
    }

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);
}
