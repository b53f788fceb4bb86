using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FastCallbacks.Benchmarks.Generators;

/// <summary>
/// The compilations the generator benchmarks run every generator on, and the edits made to them. Every workload has
/// one file, <see cref="Workload.EditedPath"/>, that is not a callback nor any peer's kind; the benchmarks edit it.
/// </summary>
public static class GeneratorWorkloads
{
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.CSharp14);

    private static readonly CSharpCompilationOptions Options = new(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);

    /// <summary>The framework, FastCallbacks (and TorchSharp, which its signatures name) and the peers' libraries.</summary>
    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(Callback).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(CommunityToolkit.Mvvm.ComponentModel.ObservableObject).Assembly.Location),
    ];

    /// <summary>A compilation, the file the benchmarks edit, and its text after each kind of edit.</summary>
    public sealed class Workload
    {
        private readonly Lazy<SyntaxNode> _bodyEdit;
        private readonly Lazy<SyntaxNode> _declarationEdit;

        public Workload(string name, SyntaxTree[] trees, SyntaxTree edited)
        {
            (Name, Trees, Edited) = (name, trees, edited);
            var text = edited.ToString();
            _bodyEdit = new(() => Parse(text.Replace(EditMarker, EditMarker + " + 1"), edited.FilePath).GetRoot());
            _declarationEdit = new(() => Parse(text.Replace(DeclarationMarker, DeclarationMarker + "\n\n    public int Added(int x) => x + 1;"), edited.FilePath).GetRoot());
        }

        public string Name { get; }
        public SyntaxTree[] Trees { get; }
        public SyntaxTree Edited { get; }

        public CSharpCompilation NewCompilation() => CSharpCompilation.Create("App", Trees, References, Options);

        /// <summary>
        /// The edited file after a keystroke in one method body (<paramref name="declaration"/> false) or after a method
        /// was added to its class: a new tree object on each call, as the IDE makes one per edit (the root is cloned, not reparsed).
        /// </summary>
        public SyntaxTree EditedTree(bool declaration) =>
            CSharpSyntaxTree.Create((CSharpSyntaxNode)(declaration ? _declarationEdit : _bodyEdit).Value, ParseOptions, Edited.FilePath, Encoding.UTF8);
    }

    private const string EditMarker = "acc += _data[k] * x";
    private const string DeclarationMarker = "public static int Twice(int x) => x * 2;";

    /// <summary>
    /// An application: <paramref name="files"/> files, of which <paramref name="otherPartialClasses"/> are partial classes
    /// with a base list that are not callbacks (models, view-model bases, collections, event args), <paramref name="ofEachKind"/>
    /// callbacks, logging classes, JSON contexts and view models, and the rest ordinary classes.
    /// </summary>
    public static Workload LargeApp(int files, int otherPartialClasses, int ofEachKind)
    {
        var trees = new List<SyntaxTree>(files);
        for (var i = 0; i < ofEachKind; i++)
        {
            trees.Add(Parse(Callback(i), $"Callbacks/Cb{i:D4}.cs"));
            trees.Add(Parse(Logging(i), $"Logging/Log{i:D4}.cs"));
            trees.Add(Parse(Json(i), $"Json/Dto{i:D4}.cs"));
            trees.Add(Parse(ViewModel(i), $"ViewModels/Vm{i:D4}.cs"));
        }
        trees.Add(Parse(ModelBases, "Models/ModelBase.cs"));
        for (var i = 0; i < otherPartialClasses; i++) trees.Add(Parse(OtherPartialClass(i), $"Models/Model{i:D4}.cs"));
        var ordinary = files - trees.Count;
        SyntaxTree? edited = null;
        for (var i = 0; i < ordinary; i++)
        {
            var tree = Parse(Ordinary(i), $"Services/Service{i:D4}.cs");
            if (i == ordinary / 2) edited = tree;
            trees.Add(tree);
        }
        return new Workload($"{files} files, {otherPartialClasses} other partial classes, {ofEachKind} of each kind", [.. trees], edited!);
    }

    public enum Kind { Callbacks, Logging, Json, ViewModels }

    /// <summary><paramref name="count"/> classes of one generator's kind, one file each, and one ordinary file.</summary>
    public static Workload HomeTurf(Kind kind, int count)
    {
        Func<int, string> source = kind switch
        {
            Kind.Callbacks => Callback,
            Kind.Logging => Logging,
            Kind.Json => Json,
            _ => ViewModel,
        };
        var edited = Parse(Ordinary(0), "Services/Service0000.cs");
        SyntaxTree[] trees = [.. Enumerable.Range(0, count).Select(i => Parse(source(i), $"{kind}/{kind}{i:D4}.cs")), edited];
        return new Workload($"{count} {kind}", trees, edited);
    }

    private static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    // --- The kinds ----------------------------------------------------------------------------------------------

    /// <summary>A callback: three handlers, one taking the event.</summary>
    public static string Callback(int i) => $$"""
        using FastCallbacks;

        namespace Generated.Callbacks{{i % 10}};

        public partial class Cb{{i:D4}} : Callback
        {
            public int Calls;

            [On(Event.BeforeBatch)] private void BeforeBatch() => Calls++;
            [On(Event.AfterBatch), On(Event.AfterStep)] private void AfterBatch() => Calls += 2;
            [On(Event.AfterEpoch)] private void AfterEpoch(Event e) => Calls += (int)e;
        }
        """;

    /// <summary>LoggerMessage: three messages.</summary>
    private static string Logging(int i) => $$"""
        using System;
        using Microsoft.Extensions.Logging;

        namespace App.Logging{{i % 10}};

        public static partial class Log{{i:D4}}
        {
            [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Started {Name}")]
            public static partial void Started(ILogger logger, string name);

            [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Slow: {Elapsed} ms for {Count} items")]
            public static partial void Slow(ILogger logger, double elapsed, int count);

            [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Failed")]
            public static partial void Failed(ILogger logger, Exception error);
        }
        """;

    /// <summary>System.Text.Json: a context for one type of three properties.</summary>
    private static string Json(int i) => $$"""
        using System.Text.Json.Serialization;

        namespace App.Json{{i % 10}};

        public sealed class Dto{{i:D4}}
        {
            public int Id { get; set; }
            public string? Name { get; set; }
            public double[] Values { get; set; } = [];
        }

        [JsonSerializable(typeof(Dto{{i:D4}}))]
        public partial class Dto{{i:D4}}Context : JsonSerializerContext { }
        """;

    /// <summary>CommunityToolkit.Mvvm: two observable properties and a command.</summary>
    private static string ViewModel(int i) => $$"""
        using CommunityToolkit.Mvvm.ComponentModel;
        using CommunityToolkit.Mvvm.Input;

        namespace App.ViewModels{{i % 10}};

        public partial class Vm{{i:D4}} : ObservableObject
        {
            [ObservableProperty] private int _count;
            [ObservableProperty] private string? _name;

            [RelayCommand] private void Reset() => Count = 0;
        }
        """;

    private const string ModelBases = """
        using System;

        namespace App.Models;

        public abstract class ModelBase
        {
            public DateTime Created { get; } = DateTime.UtcNow;
            public abstract int Sum();
        }
        """;

    /// <summary>A partial class with a base list that is not a callback, with attributed methods.</summary>
    private static string OtherPartialClass(int i)
    {
        var (baseType, extra) = (i % 4) switch
        {
            0 => ("ModelBase", "public override int Sum() => Total() + Id;"),
            1 => ("IDisposable", "public void Dispose() => _values.Clear();"),
            2 => ("EventArgs", "public int Sum() => Total();"),
            _ => ("Collection<int>", "public int Sum() => Total() + Count;"),
        };
        return $$"""
            using System;
            using System.Collections.Generic;
            using System.Collections.ObjectModel;
            using System.Runtime.CompilerServices;

            namespace App.Models;

            public partial class Model{{i:D4}} : {{baseType}}
            {
                private readonly List<int> _values = new();

                public int Id { get; set; }
                public string Name { get; set; } = "";

                [MethodImpl(MethodImplOptions.NoInlining)]
                public int Total()
                {
                    var total = 0;
                    foreach (var v in _values) total += v;
                    return total;
                }

                [Obsolete("Use Total")]
                public int Old() => Total();

                {{extra}}

                public override string ToString() => $"{Name} ({Id})";
            }
            """;
    }

    /// <summary>An ordinary class and a record, neither partial.</summary>
    private static string Ordinary(int i) => $$"""
        using System;
        using System.Linq;

        namespace App.Services{{i % 20}};

        public sealed class Service{{i:D4}}
        {
            private readonly int[] _data = Enumerable.Range(0, 16).ToArray();

            public int Compute(int x)
            {
                var acc = 0;
                for (var k = 0; k < _data.Length; k++) {{EditMarker}};
                return acc;
            }

            public string Describe() => string.Join(",", _data.Where(d => d % 2 == 0));

            {{DeclarationMarker}}
        }

        public record Result{{i:D4}}(int Code, string Message);
        """;
}
