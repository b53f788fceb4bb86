using System.Reflection;
using FastCallbacks.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using NUnit.Framework;

namespace FastCallbacks.Analyzers.Tests.Analyzers;

/// <summary>The descriptors, their documentation pages and release tracking stay in step.</summary>
public class DescriptorTests
{
    private static readonly DiagnosticDescriptor[] Descriptors = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToArray();

    private static readonly DiagnosticAnalyzer[] Analyzers =
        [new LearnerStateWriteAnalyzer(), new HandlerAnalyzer(), new CancelExceptionAnalyzer(), new ForwarderWriteAnalyzer(), new PersistAnalyzer()];

    [Test]
    public void IdsAreFCB0001ToFCB0009()
    {
        Assert.That(Descriptors.Select(d => d.Id).Distinct().Order(),
            Is.EqualTo(Enumerable.Range(1, 9).Select(i => $"FCB{i:0000}")));
    }

    [Test]
    public void EveryDescriptorLinksToItsPageAndThePageExists()
    {
        foreach (var d in Descriptors)
        {
            Assert.That(d.HelpLinkUri, Is.EqualTo($"https://github.com/fastcallbacks/fastcallbacks/blob/main/docs/diagnostics/{d.Id}.md"));
            var page = Path.Combine(RepoPaths.Root, "docs", "diagnostics", d.Id + ".md");
            Assert.That(File.Exists(page), Is.True, page);
            Assert.That(File.ReadAllText(page), Does.StartWith($"# {d.Id}: "));
        }
    }

    [Test]
    public void DescriptorsSharingAnIdAgreeOnSeverityAndCategory()
    {
        foreach (var group in Descriptors.GroupBy(d => d.Id))
        {
            Assert.That(group.Select(d => d.DefaultSeverity).Distinct().Count(), Is.EqualTo(1), group.Key);
            Assert.That(group.Select(d => d.Category).Distinct().Count(), Is.EqualTo(1), group.Key);
        }
    }

    [Test]
    public void EveryDescriptorIsReportedByAnAnalyzerAndEveryIdIsTracked()
    {
        var supported = Analyzers.SelectMany(a => a.SupportedDiagnostics).ToHashSet();
        Assert.That(Descriptors, Is.SubsetOf(supported));
        var unshipped = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Analyzers", "AnalyzerReleases.Unshipped.md"));
        foreach (var d in Descriptors)
            Assert.That(unshipped, Does.Contain($"{d.Id} | {d.Category} | {d.DefaultSeverity} |"));
    }

    [Test]
    public void CodeFixesFixTheirDiagnosticsAndOfferFixAll()
    {
        CodeFixProvider[] fixes = [new UseLearnCodeFixProvider(), new MakePartialCodeFixProvider(), new AddOnAttributeCodeFixProvider()];
        Assert.That(fixes.SelectMany(f => f.FixableDiagnosticIds), Is.EquivalentTo(new[] { "FCB0001", "FCB0008", "CS0200", "FCB0002", "FCB0009", "FCB0004" }));
        Assert.That(fixes.Select(f => f.GetFixAllProvider()), Has.None.Null);
    }
}
