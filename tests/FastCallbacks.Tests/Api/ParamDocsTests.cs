using System.Reflection;
using System.Xml.Linq;
using FastCallbacks.Distributed;
using FastCallbacks.Interactive;

namespace FastCallbacks.Tests.Api;

/// <summary>
/// Every public and protected method, constructor, operator, indexer and delegate of the shipped assemblies documents
/// each of its parameters with a <c>&lt;param&gt;</c>, and each generic one its type parameters with a
/// <c>&lt;typeparam&gt;</c>, in the XML documentation the compiler writes beside the assembly (the file users' IDEs
/// show). The compiler's CS1573 sees only members that document some parameters and not others; this sees all.
/// </summary>
public class ParamDocsTests
{
    // Every package under src/ whose assemblies users' code references (the generator and analyzers load into the
    // compiler: their public types are not API, docs/packaging.md "Public API").
    private static readonly Assembly[] Shipped =
        [typeof(Learner).Assembly, typeof(DistributedTrainer).Assembly, typeof(NotebookExtension).Assembly];

    private static IEnumerable<TestCaseData> ShippedAssemblies() =>
        Shipped.Select(a => new TestCaseData(a).SetArgDisplayNames(a.GetName().Name!));

    [TestCaseSource(nameof(ShippedAssemblies))]
    public void Every_parameter_and_type_parameter_of_the_public_API_is_documented(Assembly assembly)
    {
        // One dictionary for all: an <inheritdoc/> in FastCallbacks.Distributed or .Interactive takes its text from FastCallbacks.
        var docs = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (var shipped in Shipped)
        {
            var xml = Path.ChangeExtension(shipped.Location, ".xml");
            Assert.That(File.Exists(xml), Is.True, $"{xml} is missing: src/ builds with GenerateDocumentationFile, and the project reference copies the file beside the assembly");
            foreach (var (id, member) in ParamDocsChecker.LoadDocs(xml)) docs[id] = member;
        }
        using var locator = SourceLocator.For(assembly, RepoPaths.Root);
        var checker = new ParamDocsChecker(docs, t => Shipped.Contains(t.Assembly), locator);

        var problems = checker.Check(assembly.GetTypes());

        if (problems.Count > 0)
        {
            Assert.Fail($"{problems.Count} parameter docs missing or saying nothing in {assembly.GetName().Name}:\n  " +
                        string.Join("\n  ", problems) + "\n" +
                        "Give each parameter a <param name=\"...\"> that says what the value means (its units, its default, what null " +
                        "means) and each type parameter a <typeparam>, on the member or on the base member its <inheritdoc/> names.");
        }
    }

    [TestCaseSource(nameof(ShippedAssemblies))]
    public void The_check_sees_the_whole_public_surface(Assembly assembly)
    {
        // Every public method and constructor with parameters has its documentation found under the id the checker
        // computes (the compiler requires documentation of them all, CS1591): the ids are right, nothing is skipped.
        var docs = ParamDocsChecker.LoadDocs(Path.ChangeExtension(assembly.Location, ".xml"));
        var checkedMembers = assembly.GetExportedTypes()
            .Where(t => !typeof(Delegate).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .Where(m => !m.IsSpecialName && m.GetParameters().Length > 0 &&
                            !m.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
                .Cast<MethodBase>()
                .Concat(t.GetConstructors().Where(c => c.GetParameters().Length > 0)))
            .ToList();
        // The notebook extension's public surface is one class (NotebookExtension.Load and OnLoadAsync).
        Assert.That(checkedMembers, Has.Count.GreaterThanOrEqualTo(assembly == typeof(NotebookExtension).Assembly ? 2 : 20));
        var unknown = checkedMembers.Select(DocIds.Of).Where(id => !docs.ContainsKey(id)).ToList();
        Assert.That(unknown, Is.Empty, "documentation ids the XML file does not have");
    }

    [Test]
    public void Every_package_whose_API_is_tracked_is_checked()
    {
        // The packages whose public API is tracked (PublicAPI.*.txt beside the project, PublicApiTrackingTests) are the
        // ones users' code references: a new one must be in Shipped too, or its parameters go unchecked.
        var tracked = Directory.GetFiles(Path.Combine(RepoPaths.Root, "src"), "PublicAPI.Shipped.txt", SearchOption.AllDirectories)
            .Select(f => Directory.GetFiles(Path.GetDirectoryName(f)!, "*.csproj").Single())
            .Select(p => System.Xml.Linq.XDocument.Load(p).Descendants("AssemblyName").Select(e => e.Value).FirstOrDefault()
                         ?? Path.GetFileNameWithoutExtension(p))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.That(tracked, Has.Count.GreaterThanOrEqualTo(3), "the PublicAPI.Shipped.txt files under src/");
        Assert.That(Shipped.Select(a => a.GetName().Name).Order(StringComparer.Ordinal), Is.EqualTo(tracked),
            "ParamDocsTests.Shipped lists the assemblies of the packages under src/ whose API is tracked");
    }
}

/// <summary>The checker itself, on sample types with documentation written here: what it reports and what it accepts.</summary>
public class ParamDocsCheckerTests
{
    private const string Ns = "FastCallbacks.Tests.Api.DocSamples";

    // The documentation ids are written out by hand, as the compiler writes them, to check the checker's own.
    private static readonly string Xml = $$"""
        <doc><members>
          <member name="T:{{Ns}}.Sample"><summary>s</summary></member>
          <member name="M:{{Ns}}.Sample.#ctor(System.Int32,System.String)"><summary>s</summary>
            <param name="count">How many, at least 1.</param><param name="name">The label to show; null for none.</param></member>
          <member name="M:{{Ns}}.Sample.Undocumented(System.Int32)"><summary>s</summary></member>
          <member name="M:{{Ns}}.Sample.Partly(System.Double,System.Boolean)"><summary>s</summary>
            <param name="lr">The learning rate of every group (fastai's 1e-3).</param></member>
          <member name="M:{{Ns}}.Sample.Restated(System.Double)"><summary>s</summary><param name="learningRate">The learning rate.</param></member>
          <member name="M:{{Ns}}.Sample.Empty(System.Int32)"><summary>s</summary><param name="x"> </param></member>
          <member name="M:{{Ns}}.Sample.Reference(FastCallbacks.Learner)"><summary>s</summary><param name="learn"><see cref="T:FastCallbacks.Learner"/></param></member>
          <member name="M:{{Ns}}.Sample.Pick``1(``0[],System.Collections.Generic.IReadOnlyList{``0})"><summary>s</summary>
            <param name="items">Candidates, in order.</param><param name="fallback">Used when there are none.</param></member>
          <member name="M:{{Ns}}.Sample.TryGet(System.String,System.Nullable{System.Int32}@)"><summary>s</summary>
            <param name="key">The name looked up.</param><param name="value">Set to the value found, or null.</param></member>
          <member name="P:{{Ns}}.Sample.Item(System.Int32)"><summary>s</summary></member>
          <member name="M:{{Ns}}.Sample.op_Addition({{Ns}}.Sample,{{Ns}}.Sample)"><summary>s</summary><param name="a">The left operand.</param></member>
          <member name="M:{{Ns}}.Sample.op_Implicit(System.Int32)~{{Ns}}.Sample"><summary>s</summary><param name="count">How many.</param></member>
          <member name="M:{{Ns}}.Sample.Protected(System.Int32)"><summary>s</summary></member>
          <member name="T:{{Ns}}.Box`1"><summary>s</summary><typeparam name="T">What the box holds.</typeparam></member>
          <member name="M:{{Ns}}.Box`1.Put(`0,System.Int32)"><summary>s</summary><param name="item">Kept until taken.</param><param name="slot">0-based.</param></member>
          <member name="T:{{Ns}}.Handler"><summary>s</summary></member>
          <member name="T:{{Ns}}.BaseStep"><summary>s</summary></member>
          <member name="M:{{Ns}}.BaseStep.Run(System.Int32)"><summary>s</summary><param name="steps">How many steps, 0 for none.</param></member>
          <member name="M:{{Ns}}.BaseStep.Skip(System.Int32)"><summary>s</summary></member>
          <member name="T:{{Ns}}.Step"><summary>s</summary></member>
          <member name="M:{{Ns}}.Step.Run(System.Int32)"><inheritdoc/></member>
          <member name="M:{{Ns}}.Step.Skip(System.Int32)"><inheritdoc/></member>
          <member name="M:{{Ns}}.Step.ToString"><inheritdoc/></member>
          <member name="M:{{Ns}}.Step.Equals(System.Object)"><inheritdoc/></member>
        </members></doc>
        """;

    private static List<string> Check(params Type[] types)
    {
        var docs = XDocument.Parse(Xml).Root!.Element("members")!.Elements("member")
            .ToDictionary(m => (string)m.Attribute("name")!, StringComparer.Ordinal);
        return new ParamDocsChecker(docs, t => t.Namespace == Ns).Check(types).Select(p => p.ToString()).ToList();
    }

    [Test]
    public void It_names_each_parameter_without_docs_and_says_what_is_wrong()
    {
        var problems = Check(typeof(DocSamples.Sample));

        Assert.That(problems, Is.EquivalentTo(new[]
        {
            "Sample.Undocumented(int count): <param name=\"count\"> missing",
            "Sample.Partly(double lr, bool flatten): <param name=\"flatten\"> missing",
            "Sample.Restated(double learningRate): <param name=\"learningRate\"> only restates the parameter's name",
            "Sample.Empty(int x): <param name=\"x\"> is empty",
            "Sample.op_Addition(Sample a, Sample b): <param name=\"b\"> missing",
            "Sample.this[int index]: <param name=\"index\"> missing",
            "Sample.Protected(int steps): <param name=\"steps\"> missing",
            "Sample.Pick<T>(T[] items, IReadOnlyList<T> fallback): <typeparam name=\"T\"> missing",
            "Sample.Missing(int count): no XML documentation (no <member name=\"M:FastCallbacks.Tests.Api.DocSamples.Sample.Missing(System.Int32)\">)",
        }));
    }

    [Test]
    public void Generic_types_delegates_and_inherited_docs_are_checked_too()
    {
        var problems = Check(typeof(DocSamples.Box<>), typeof(DocSamples.Handler), typeof(DocSamples.BaseStep), typeof(DocSamples.Step));

        Assert.That(problems, Is.EquivalentTo(new[]
        {
            "delegate Handler(int code): <param name=\"code\"> missing",
            "BaseStep.Skip(int count): <param name=\"count\"> missing",
            // Step.Run's <inheritdoc/> takes BaseStep.Run's <param name="steps"> for its n: fine. Step.Skip's finds nothing.
            "Step.Skip(int n): <param name=\"n\"> missing (inherited from BaseStep.Skip(int count))",
            // Step.Equals(object)'s <inheritdoc/> is object's, documented outside: fine.
        }));
    }
}
