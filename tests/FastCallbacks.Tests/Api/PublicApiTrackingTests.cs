using System.Text.Json;

namespace FastCallbacks.Tests.Api;

/// <summary>
/// Every package under src/ has its public API tracked (Directory.Build.targets, docs/packaging.md "Public API"): the
/// public API analyzer runs in its build with PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt, and its findings are
/// errors there, so a public member without an entry (RS0016), an entry without its member (RS0017) or a member
/// without nullable annotations (RS0041) fails the build.
/// Asked of MSBuild as it evaluates each project, so a project that stops being tracked (a moved condition, a new
/// package outside it, a NoWarn) fails here instead of passing its build silently.
/// </summary>
public class PublicApiTrackingTests
{
    private static readonly string Root = RepoPaths.Root;

    private static IEnumerable<TestCaseData> Projects() =>
        Directory.GetFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Order(StringComparer.Ordinal)
            .Select(p => new TestCaseData(Path.GetRelativePath(Root, p)).SetArgDisplayNames(Path.GetRelativePath(Root, p)));

    [TestCaseSource(nameof(Projects)), CancelAfter(120_000)]
    public async Task A_package_fails_its_build_on_an_untracked_or_stale_entry(string project, CancellationToken ct)
    {
        var kind = (await EvaluateAsync(project, ct, "-getProperty:IsRoslynComponent", "-getProperty:IsPackable",
            "-getProperty:TargetFramework", "-getProperty:TargetFrameworks")).GetProperty("Properties");
        var tracked = kind.GetProperty("IsRoslynComponent").GetString() != "true" && kind.GetProperty("IsPackable").GetString() != "false";
        var frameworks = kind.GetProperty("TargetFrameworks").GetString();
        var framework = string.IsNullOrEmpty(frameworks) ? kind.GetProperty("TargetFramework").GetString()! : frameworks.Split(';')[0];

        // The wiring's item as MSBuild evaluates the project (not the analyzers of the last restore, which would keep
        // a removed package until the next one); one target framework stands for all, as the wiring has no condition on it.
        var evaluated = await EvaluateAsync(project, ct, $"-p:TargetFramework={framework}", "-getItem:PackageReference",
            "-getItem:AdditionalFiles", "-getItem:GlobalAnalyzerConfigFiles", "-getProperty:TreatWarningsAsErrors",
            "-getProperty:NoWarn", "-getProperty:WarningsNotAsErrors");
        var props = evaluated.GetProperty("Properties");
        string Prop(string name) => props.GetProperty(name).GetString() ?? "";

        var analyzer = evaluated.GetProperty("Items").TryGetProperty("PackageReference", out var items)
            ? items.EnumerateArray().FirstOrDefault(i => i.GetProperty("Identity").GetString() == "Microsoft.CodeAnalysis.PublicApiAnalyzers")
            : default;
        if (!tracked)
        {
            // The generator and the analyzers load into the compiler; no user code references them (docs/packaging.md).
            Assert.That(analyzer.ValueKind, Is.EqualTo(JsonValueKind.Undefined),
                $"{project} is a Roslyn component (or not packable), whose API is not tracked; docs/packaging.md says why");
            return;
        }
        Assert.That(analyzer.ValueKind, Is.Not.EqualTo(JsonValueKind.Undefined), $"{project} builds without the public API analyzer");
        Assert.That(analyzer.GetProperty("PrivateAssets").GetString(), Is.EqualTo("all"), "the analyzer is for this build, not for the package's users");

        var dir = Path.GetDirectoryName(Path.Combine(Root, project))!;
        var additional = evaluated.GetProperty("Items").TryGetProperty("AdditionalFiles", out var files)
            ? files.EnumerateArray().Select(i => Path.GetFullPath(i.GetProperty("FullPath").GetString()!)).ToList()
            : [];
        foreach (var file in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" })
        {
            var path = Path.Combine(dir, file);
            Assert.That(File.Exists(path), Is.True, $"{project} has no {file}: bash tools/update-public-api.sh {Path.GetDirectoryName(project)} writes it");
            Assert.That(additional, Does.Contain(path), $"{file} is not given to the analyzer of {project}");
            Assert.That(File.ReadLines(path).FirstOrDefault(), Is.EqualTo("#nullable enable"),
                $"{project}'s {file} must begin with #nullable enable, so its entries carry nullable annotations");
        }

        var configs = evaluated.GetProperty("Items").TryGetProperty("GlobalAnalyzerConfigFiles", out var globals)
            ? globals.EnumerateArray().Select(i => Path.GetFullPath(i.GetProperty("FullPath").GetString()!)).ToList()
            : [];
        Assert.That(configs, Does.Contain(Path.Combine(Root, "src", "PublicApi.globalconfig")),
            $"{project} builds without src/PublicApi.globalconfig: a member without nullable annotations (RS0041) would pass");

        Assert.That(Prop("TreatWarningsAsErrors"), Is.EqualTo("true"), $"{project}: RS0016 would only warn");
        foreach (var list in new[] { "NoWarn", "WarningsNotAsErrors" })
        {
            var ids = Prop(list).Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.That(ids, Has.None.EqualTo("RS0016").And.None.EqualTo("RS0017"), $"{project}'s {list} lets an API change through");
        }
    }

    [Test]
    public void The_runtime_and_distributed_packages_are_among_those_checked()
    {
        var projects = Projects().Select(c => (string)c.Arguments[0]!).ToList();
        Assert.That(projects, Does.Contain(Path.Combine("src", "Runtime", "FastCallbacks.csproj")));
        Assert.That(projects, Does.Contain(Path.Combine("src", "Distributed", "FastCallbacks.Distributed.csproj")));
    }

    private static async Task<JsonElement> EvaluateAsync(string project, CancellationToken ct, params string[] args)
    {
        var run = await ChildProcess.DotnetAsync(["msbuild", project, "-nologo", .. args], Root, ct);
        Assert.That(run.ExitCode, Is.EqualTo(0), $"dotnet msbuild {project} {string.Join(' ', args)}:\n{run.Output}");
        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }
}
