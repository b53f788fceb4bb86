using System.Text.RegularExpressions;
using FastCallbacks.Analyzers.Tests.Infrastructure;
using NUnit.Framework;

namespace FastCallbacks.Analyzers.Tests.Integration;

/// <summary>
/// Builds a small consumer project with <c>dotnet build</c>, the analyzer DLL passed as an <c>&lt;Analyzer&gt;</c>,
/// and reads FCB0001 from the build output with its file and line, as a user sees it.
/// </summary>
[Category("Integration")]
public class BuildIntegrationTests
{
    private const string Callbacks = """
        using FastCallbacks;

        namespace Consumer;

        public partial class LrBumper : Callback
        {
            private double Lr;

            [On(Event.BeforeBatch)]
            void Bump()
            {
                Lr = 0.5;
            }
        }
        """;

    private string _dir = "";

    [SetUp]
    public void CreateProject()
    {
        _dir = Path.Combine(Path.GetTempPath(), "fcb-integration-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var analyzer = typeof(HandlerAnalyzer).Assembly.Location;
        File.WriteAllText(Path.Combine(_dir, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <NoWarn>CS0108;CS0414;CS0169</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <Analyzer Include="{analyzer}" />
              </ItemGroup>
            </Project>
            """);
        // No package is needed: no package source, so restore never goes to the network.
        File.WriteAllText(Path.Combine(_dir, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(_dir, "FastCallbacksContract.cs"), Contract.Source);
        File.WriteAllText(Path.Combine(_dir, "Callbacks.cs"), Callbacks);
    }

    [TearDown]
    public void DeleteProject()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    [Test, CancelAfter(120_000)]
    public async Task DotnetBuildReportsFCB0001WithFileAndLine(CancellationToken ct)
    {
        var (exitCode, output) = await RunDotnetBuildAsync(ct);

        Assert.That(exitCode, Is.EqualTo(0), output);
        var expectedLine = Callbacks.Split('\n').ToList().FindIndex(l => l.Contains("Lr = 0.5;")) + 1;
        var match = Regex.Match(output, @"Callbacks\.cs\((?<line>\d+),(?<col>\d+)\): warning FCB0001: 'LrBumper' declares its own 'Lr'[^\r\n]*'Learn\.Lr'");
        Assert.That(match.Success, Is.True, "FCB0001 not found in the build output:\n" + output);
        Assert.That(int.Parse(match.Groups["line"].Value), Is.EqualTo(expectedLine));
        Assert.That(int.Parse(match.Groups["col"].Value), Is.EqualTo(9));
    }

    [Test, CancelAfter(120_000)]
    public async Task DotnetBuildReportsFCB0008BesideCS0200(CancellationToken ct)
    {
        const string source = """
            using FastCallbacks;

            namespace Consumer;

            public partial class Scale : Callback
            {
                [On(Event.BeforeBatch)]
                void M()
                {
                    Xb = Yb;
                }
            }
            """;
        File.WriteAllText(Path.Combine(_dir, "Callbacks.cs"), source);

        var (exitCode, output) = await RunDotnetBuildAsync(ct);

        Assert.That(exitCode, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Match(@"Callbacks\.cs\(10,9\): error CS0200: Property or indexer 'Callback\.Xb' cannot be assigned to"));
        Assert.That(output, Does.Match(@"Callbacks\.cs\(10,9\): error FCB0008: 'Xb' in a callback only reads the learner's 'Xb'[^\r\n]*write 'Learn\.Xb'"));
    }

    /// <summary>
    /// FCB0006 is an info: the IDE lists it, MSBuild never prints infos (at any verbosity); raised to a warning in
    /// .editorconfig it shows in the build. docs/diagnostics/FCB0006.md says so.
    /// </summary>
    [Test, CancelAfter(240_000)]
    public async Task FCB0006ShowsInDotnetBuildOnlyWhenRaisedToAWarning(CancellationToken ct)
    {
        const string source = """
            using FastCallbacks;

            namespace Consumer;

            public partial class Logger : Callback
            {
                [On(Event.AfterBatch)] void Count() { }
                [On(Event.AfterBatch)] void Print() { }
            }
            """;
        File.WriteAllText(Path.Combine(_dir, "Callbacks.cs"), source);

        var (exitCode, output) = await RunDotnetBuildAsync(ct);
        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Not.Contain("FCB0006"));

        File.WriteAllText(Path.Combine(_dir, ".editorconfig"), "root = true\n[*.cs]\ndotnet_diagnostic.FCB0006.severity = warning\n");
        (exitCode, output) = await RunDotnetBuildAsync(ct);
        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Match(@"Callbacks\.cs\(8,33\): warning FCB0006: 'Print' handles AfterBatch as 'Count' does in 'Logger'"));
    }

    private async Task<(int ExitCode, string Output)> RunDotnetBuildAsync(CancellationToken ct)
    {
        // Hermetic: ignore the repository's Directory.*.props; leave no build servers behind.
        var run = await ChildProcess.DotnetAsync(
            ["build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false",
             "-p:ImportDirectoryBuildProps=false", "-p:ImportDirectoryBuildTargets=false",
             "-p:ImportDirectoryPackagesProps=false", "-clp:NoSummary"],
            _dir, ct, new Dictionary<string, string> { ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1" });
        return (run.ExitCode, run.Output);
    }
}
