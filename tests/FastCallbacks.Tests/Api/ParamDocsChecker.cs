using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml.Linq;

namespace FastCallbacks.Tests.Api;

/// <summary>One member whose XML documentation lacks something: where it is, which member, what is missing.</summary>
internal sealed record ParamDocsProblem(string? Location, string Member, string What)
{
    public override string ToString() => $"{(Location is null ? "" : Location + ": ")}{Member}: {What}";
}

/// <summary>
/// Walks the public surface of an assembly by reflection (every method, constructor, operator and indexer that code
/// outside it can call, and every delegate and generic type or method) and checks each against the compiler's XML
/// documentation: a <c>&lt;param&gt;</c> for each parameter and a <c>&lt;typeparam&gt;</c> for each type parameter,
/// each with text that is more than the parameter's name. The compiler's own check (CS1573) fires only when some but
/// not all parameters are documented, so a member that documents none, or an <c>&lt;inheritdoc/&gt;</c> whose source
/// documents none, gets past it; this does not.
/// </summary>
internal sealed class ParamDocsChecker
{
    private readonly IReadOnlyDictionary<string, XElement> _docs;
    private readonly Func<Type, bool> _isOurs;
    private readonly SourceLocator? _locator;

    /// <param name="docs">The <c>&lt;member&gt;</c> elements of the XML documentation, by their <c>name</c> (documentation id).</param>
    /// <param name="isOurs">Whether a type's documentation is in <paramref name="docs"/> (for <c>&lt;inheritdoc/&gt;</c>
    /// from a base class or interface: inheriting from one of ours is checked there, from elsewhere is taken as documented).</param>
    /// <param name="locator">Finds a member's source file and line for the report; null for none.</param>
    public ParamDocsChecker(IReadOnlyDictionary<string, XElement> docs, Func<Type, bool> isOurs, SourceLocator? locator = null)
    {
        _docs = docs;
        _isOurs = isOurs;
        _locator = locator;
    }

    /// <summary>The XML documentation file's members by documentation id.</summary>
    /// <param name="path">The <c>.xml</c> file the compiler writes beside the assembly (GenerateDocumentationFile).</param>
    public static Dictionary<string, XElement> LoadDocs(string path) =>
        XDocument.Load(path).Root!.Element("members")!.Elements("member")
            .ToDictionary(m => (string)m.Attribute("name")!, StringComparer.Ordinal);

    /// <summary>Every problem of the visible types among <paramref name="types"/>, in declaration order.</summary>
    /// <param name="types">The types to check; those not visible outside their assembly are skipped.</param>
    public List<ParamDocsProblem> Check(IEnumerable<Type> types)
    {
        var problems = new List<ParamDocsProblem>();
        // The compiler's own types (a C# 14 extension block's marker types, say) have no documentation of their own.
        foreach (var type in types.Where(t => IsVisible(t) && !t.Name.StartsWith('<') && !IsCompilerGenerated(t))
                     .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var ownTypeParameters = OwnGenericParameters(type);
            var isDelegate = typeof(MulticastDelegate).IsAssignableFrom(type.BaseType);
            if (ownTypeParameters.Length > 0 || isDelegate)
            {
                // A delegate documents its Invoke's parameters on the type.
                var parameters = isDelegate ? type.GetMethod("Invoke")!.GetParameters() : [];
                var display = isDelegate
                    ? $"delegate {DisplayName(type)}({string.Join(", ", parameters.Select(p => $"{Modifier(p)}{TypeName(p.ParameterType)} {p.Name}"))})"
                    : DisplayName(type);
                CheckEntry(problems, type, DocIds.Of(type), display, parameters, ownTypeParameters, inheritFrom: null);
            }
            if (isDelegate || type.IsEnum) continue;

            const BindingFlags declared = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static |
                                          BindingFlags.Public | BindingFlags.NonPublic;
            var members = type.GetConstructors(declared).Cast<MethodBase>()
                .Concat(type.GetMethods(declared).Where(m => !m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal)))
                .Where(m => IsVisible(m) && !IsCompilerGenerated(m) && !(m.IsConstructor && m.IsStatic));
            foreach (var method in members.OrderBy(m => m.MetadataToken))
            {
                CheckEntry(problems, method, DocIds.Of(method), DisplayName(method), method.GetParameters(),
                    method.IsGenericMethodDefinition ? method.GetGenericArguments() : [], inheritFrom: method as MethodInfo);
            }
            foreach (var indexer in type.GetProperties(declared).Where(p => p.GetIndexParameters().Length > 0))
            {
                var accessor = indexer.GetMethod ?? indexer.SetMethod!;
                if (!IsVisible(accessor) || IsCompilerGenerated(accessor)) continue;
                CheckEntry(problems, indexer, DocIds.Of(indexer), DisplayName(indexer), indexer.GetIndexParameters(), [], inheritFrom: accessor);
            }
        }
        return problems;
    }

    private void CheckEntry(List<ParamDocsProblem> problems, MemberInfo member, string id, string display,
        ParameterInfo[] parameters, Type[] typeParameters, MethodInfo? inheritFrom)
    {
        if (parameters.Length == 0 && typeParameters.Length == 0) return;
        var location = _locator?.Find(member);
        if (!_docs.TryGetValue(id, out var doc))
        {
            problems.Add(new(location, display, $"no XML documentation (no <member name=\"{id}\">)"));
            return;
        }
        // <inheritdoc/>: the member's documentation is its base's (or its interface's), parameters by position; what
        // the member writes itself beside it comes first.
        var levels = new List<(XElement Doc, string[] Names)> { (doc, parameters.Select(p => p.Name!).ToArray()) };
        var via = "";
        for (var source = doc; source.Element("inheritdoc") is { } inherit && levels.Count < 10;)
        {
            var resolved = ResolveInheritDoc(inherit, inheritFrom);
            if (resolved is null) return; // inherited from a library outside ours, documented there
            if (resolved.Value.Doc is null)
            {
                problems.Add(new(location, display, "<inheritdoc/> with nothing of ours to inherit from: document the parameters here"));
                return;
            }
            (source, inheritFrom) = (resolved.Value.Doc, resolved.Value.Next);
            var names = resolved.Value.Parameters is { } p && p.Length == parameters.Length
                ? p.Select(x => x.Name!).ToArray()
                : levels[^1].Names;
            levels.Add((source, names));
            via = $" (inherited from {resolved.Value.Display})";
        }
        for (var i = 0; i < parameters.Length; i++)
        {
            var problem = levels
                .Select(l => Judge(l.Doc.Elements("param").FirstOrDefault(e => (string?)e.Attribute("name") == l.Names[i]), l.Names[i]))
                .Aggregate((string?)"missing", (worst, next) => worst is null || next is null ? null : next == "missing" ? worst : next);
            if (problem is not null) problems.Add(new(location, display, $"<param name=\"{parameters[i].Name}\"> {problem}{via}"));
        }
        foreach (var typeParameter in typeParameters)
        {
            var problem = levels
                .Select(l => Judge(l.Doc.Elements("typeparam").FirstOrDefault(e => (string?)e.Attribute("name") == typeParameter.Name), typeParameter.Name))
                .Aggregate((string?)"missing", (worst, next) => worst is null || next is null ? null : next == "missing" ? worst : next);
            if (problem is not null) problems.Add(new(location, display, $"<typeparam name=\"{typeParameter.Name}\"> {problem}{via}"));
        }
    }

    /// <summary>Null when the entry says something; otherwise what is wrong with it.</summary>
    private static string? Judge(XElement? entry, string name)
    {
        if (entry is null) return "missing";
        var hasReference = entry.Descendants().Any(e => e.Attribute("cref") is not null || e.Attribute("langword") is not null);
        var words = Normalize(entry.Value);
        if (words.Length == 0 && !hasReference) return "is empty";
        // "The lr." for lr, "The loss func." for lossFunc: the name again, not what the value means.
        if (!hasReference && words.Replace(" ", "") == Normalize(name).Replace(" ", "")) return "only restates the parameter's name";
        return null;
    }

    private static string Normalize(string text)
    {
        var letters = new string(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : ' ').ToArray());
        var words = letters.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w is not ("the" or "a" or "an"));
        return string.Join(' ', words);
    }

    private (XElement? Doc, MethodInfo? Next, ParameterInfo[]? Parameters, string Display)? ResolveInheritDoc(XElement inherit, MethodInfo? method)
    {
        if ((string?)inherit.Attribute("cref") is { } cref)
            return _docs.TryGetValue(cref, out var target) ? (target, null, null, cref[2..]) : null;
        if (method is null) return (null, null, null, "");
        var baseMethod = method.GetBaseDefinition();
        if (baseMethod != method)
        {
            // The nearest base that declares it: the one whose documentation the compiler's <inheritdoc/> takes.
            var parent = NearestOverridden(method) ?? baseMethod;
            if (!_isOurs(parent.DeclaringType!)) return null;
            return (_docs.GetValueOrDefault(DocIds.Of(parent)), parent, parent.GetParameters(), DisplayName(parent));
        }
        foreach (var iface in method.DeclaringType!.GetInterfaces())
        {
            var map = method.DeclaringType.GetInterfaceMap(iface);
            var index = Array.IndexOf(map.TargetMethods, method);
            if (index < 0) continue;
            var target = map.InterfaceMethods[index];
            if (!_isOurs(iface)) return null;
            return (_docs.GetValueOrDefault(DocIds.Of(target)), target, target.GetParameters(), DisplayName(target));
        }
        return (null, null, null, "");
    }

    private static MethodInfo? NearestOverridden(MethodInfo method)
    {
        var signature = method.GetParameters().Select(p => p.ParameterType).ToArray();
        for (var t = method.DeclaringType!.BaseType; t is not null; t = t.BaseType)
        {
            var candidate = t.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .FirstOrDefault(m => m.Name == method.Name && m.IsVirtual && m.GetBaseDefinition() == method.GetBaseDefinition() &&
                                     m.GetParameters().Select(p => p.ParameterType).SequenceEqual(signature));
            if (candidate is not null) return candidate;
        }
        return null;
    }

    private static bool IsVisible(Type type) =>
        type.IsPublic || ((type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem) && IsVisible(type.DeclaringType!));

    private static bool IsVisible(MethodBase method) =>
        (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) &&
        // Protected members of a sealed class or a struct are not reachable from outside.
        (method.IsPublic || !method.DeclaringType!.IsSealed);

    // The compiler's own members (a record's Equals, Deconstruct, PrintMembers, copy constructor, ...).
    private static bool IsCompilerGenerated(MemberInfo member) => member.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false);

    private static Type[] OwnGenericParameters(Type type)
    {
        if (!type.IsGenericTypeDefinition) return [];
        var outer = type.IsNested ? type.DeclaringType!.GetGenericArguments().Length : 0;
        return type.GetGenericArguments()[outer..];
    }

    // ---- How a member reads in the report: C#-like, short type names. ----

    internal static string DisplayName(Type type)
    {
        var name = type.IsNested ? DisplayName(type.DeclaringType!) + "." : "";
        var simple = type.Name;
        var tick = simple.IndexOf('`');
        if (tick >= 0) simple = simple[..tick];
        var own = OwnGenericParameters(type);
        return name + simple + (own.Length > 0 ? "<" + string.Join(", ", own.Select(t => t.Name)) + ">" : "");
    }

    internal static string DisplayName(MemberInfo member)
    {
        var (name, parameters) = member switch
        {
            ConstructorInfo c => (DisplayName(c.DeclaringType!), c.GetParameters()),
            MethodInfo m => (DisplayName(m.DeclaringType!) + "." + m.Name +
                             (m.IsGenericMethodDefinition ? "<" + string.Join(", ", m.GetGenericArguments().Select(t => t.Name)) + ">" : ""),
                             m.GetParameters()),
            PropertyInfo p => (DisplayName(p.DeclaringType!) + ".this", p.GetIndexParameters()),
            _ => (member.Name, Array.Empty<ParameterInfo>()),
        };
        var (open, close) = member is PropertyInfo ? ("[", "]") : ("(", ")");
        return name + open + string.Join(", ", parameters.Select(p => $"{Modifier(p)}{TypeName(p.ParameterType)} {p.Name}")) + close;
    }

    private static string Modifier(ParameterInfo p) =>
        !p.ParameterType.IsByRef ? "" : p.IsOut ? "out " : p.IsIn ? "in " : "ref ";

    private static string TypeName(Type type)
    {
        if (type.IsByRef) return TypeName(type.GetElementType()!);
        if (type.IsArray) return TypeName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        if (type.IsGenericParameter) return type.Name;
        if (Nullable.GetUnderlyingType(type) is { } underlying) return TypeName(underlying) + "?";
        var keyword = Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool", TypeCode.Int32 => "int", TypeCode.Int64 => "long", TypeCode.Double => "double",
            TypeCode.Single => "float", TypeCode.String => "string", TypeCode.Byte => "byte", _ => null,
        };
        if (keyword is not null && !type.IsEnum) return keyword;
        if (type == typeof(object)) return "object";
        if (type == typeof(void)) return "void";
        var name = type.Name;
        var tick = name.IndexOf('`');
        if (!type.IsGenericType || tick < 0) return name;
        return name[..tick] + "<" + string.Join(", ", type.GetGenericArguments().Select(TypeName)) + ">";
    }
}

/// <summary>Documentation ids (C# spec, "Documentation comments", ID string format), as the compiler writes them.</summary>
internal static class DocIds
{
    public static string Of(Type type) => "T:" + TypeId(type);

    public static string Of(MethodBase method)
    {
        var name = method.IsConstructor ? "#ctor" : method.Name.Replace('.', '#');
        var id = new StringBuilder("M:").Append(TypeId(method.DeclaringType!)).Append('.').Append(name);
        if (method.IsGenericMethodDefinition) id.Append("``").Append(method.GetGenericArguments().Length);
        var parameters = method.GetParameters();
        if (parameters.Length > 0) id.Append('(').AppendJoin(',', parameters.Select(p => Encode(p.ParameterType))).Append(')');
        // Conversion operators differ only in what they return.
        if (method is MethodInfo { Name: "op_Implicit" or "op_Explicit" } conversion) id.Append('~').Append(Encode(conversion.ReturnType));
        return id.ToString();
    }

    public static string Of(PropertyInfo property)
    {
        var id = new StringBuilder("P:").Append(TypeId(property.DeclaringType!)).Append('.').Append(property.Name);
        var parameters = property.GetIndexParameters();
        if (parameters.Length > 0) id.Append('(').AppendJoin(',', parameters.Select(p => Encode(p.ParameterType))).Append(')');
        return id.ToString();
    }

    // A declared type: Namespace.Outer`1.Inner`2, arity after each generic level.
    private static string TypeId(Type type)
    {
        if (type.IsGenericType && !type.IsGenericTypeDefinition) type = type.GetGenericTypeDefinition();
        return type.IsNested ? TypeId(type.DeclaringType!) + "." + type.Name : (type.Namespace is { } ns ? ns + "." : "") + type.Name;
    }

    // A type in a signature: System.Collections.Generic.IEnumerable{System.Double}, `0 for a type's parameter, ``0
    // for a method's, @ for ref/out/in, [] for an array.
    private static string Encode(Type type)
    {
        if (type.IsByRef) return Encode(type.GetElementType()!) + "@";
        if (type.IsPointer) return Encode(type.GetElementType()!) + "*";
        if (type.IsArray)
        {
            var rank = type.GetArrayRank();
            return Encode(type.GetElementType()!) + (type.IsSZArray ? "[]" : "[" + string.Join(",", Enumerable.Repeat("0:", rank)) + "]");
        }
        if (type.IsGenericParameter) return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;
        if (!type.IsGenericType) return TypeId(type);

        // Each level of a nested generic type carries its own arguments: Outer{A}.Inner{B}.
        var arguments = type.GetGenericArguments();
        var levels = new List<Type>();
        for (var t = type.GetGenericTypeDefinition(); t is not null; t = t.IsNested ? t.DeclaringType : null) levels.Insert(0, t);
        var id = new StringBuilder(levels[0].Namespace is { } ns ? ns + "." : "");
        var used = 0;
        for (var i = 0; i < levels.Count; i++)
        {
            var level = levels[i];
            if (i > 0) id.Append('.');
            var name = level.Name;
            var tick = name.IndexOf('`');
            id.Append(tick < 0 ? name : name[..tick]);
            var count = level.GetGenericArguments().Length - used;
            if (count > 0) id.Append('{').AppendJoin(',', arguments[used..(used + count)].Select(Encode)).Append('}');
            used += count;
        }
        return id.ToString();
    }
}

/// <summary>A member's source file and line, from the portable PDB beside its assembly, for the report.</summary>
internal sealed class SourceLocator : IDisposable
{
    private readonly MetadataReaderProvider _provider;
    private readonly MetadataReader _pdb;
    private readonly string _root;

    private SourceLocator(MetadataReaderProvider provider, string root)
    {
        _provider = provider;
        _pdb = provider.GetMetadataReader();
        _root = root;
    }

    /// <summary>The locator for an assembly, or null when it has no portable PDB beside it.</summary>
    /// <param name="assembly">The assembly whose members are to be found.</param>
    /// <param name="root">Paths are shown relative to this folder (the repository's root).</param>
    public static SourceLocator? For(Assembly assembly, string root)
    {
        var path = Path.ChangeExtension(assembly.Location, ".pdb");
        if (!File.Exists(path)) return null;
        try
        {
            return new SourceLocator(MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(path)), root);
        }
        catch (BadImageFormatException)
        {
            return null; // a Windows PDB
        }
    }

    /// <summary><c>file:line</c> of the member's first statement; the type's file for a member without a body; null if unknown.</summary>
    /// <param name="member">A method, constructor or indexer (its accessors are looked at), or a type.</param>
    public string? Find(MemberInfo member)
    {
        IEnumerable<MethodBase> bodies = member switch
        {
            MethodBase m => [m],
            PropertyInfo p => new[] { p.GetMethod, p.SetMethod }.OfType<MethodBase>(),
            _ => [],
        };
        foreach (var body in bodies)
            if (First(body) is { } here) return $"{here.File}:{here.Line}";
        // No body (abstract, interface, a delegate): any method of the type tells its file.
        var type = member as Type ?? member.DeclaringType!;
        const BindingFlags all = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        return type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all))
            .Select(First).FirstOrDefault(p => p is not null)?.File;
    }

    private (string File, int Line)? First(MethodBase method)
    {
        var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken).ToDebugInformationHandle();
        var info = _pdb.GetMethodDebugInformation(handle);
        foreach (var point in info.GetSequencePoints())
        {
            if (point.IsHidden) continue;
            var file = _pdb.GetString(_pdb.GetDocument(point.Document).Name);
            var relative = Path.GetRelativePath(_root, file);
            return (relative.StartsWith("..", StringComparison.Ordinal) ? file : relative.Replace('\\', '/'), point.StartLine);
        }
        return null;
    }

    public void Dispose() => _provider.Dispose();
}
