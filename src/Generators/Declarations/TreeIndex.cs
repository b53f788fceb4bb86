using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace FastCallbacks.Generators.Declarations;

/// <summary>
/// What one syntax tree declares, read from syntax alone: a fingerprint of its declarations, its using aliases and
/// its class declarations with the names the candidate filter needs. Computed once per tree object (trees are
/// immutable) and kept by <see cref="DeclarationIndex"/>.
/// </summary>
/// <remarks>
/// The fingerprint hashes the tree's file path and its text outside member bodies (block and expression bodies of
/// methods, constructors, operators and accessors, and of expression-bodied properties and indexers), each stretch
/// between two bodies after its length (which marks where the bodies were), plus every preprocessor directive (a
/// <c>#nullable</c> inside a body still changes the declarations after it). A
/// body cannot change any symbol the generator reads: types, base types, member signatures, attributes and their
/// constant arguments, nullability and source order are all declared outside bodies. So two versions of a tree with
/// the same fingerprint have the same declarations, and an edit inside a method body leaves it unchanged.
/// </remarks>
internal sealed class TreeIndex
{
    private TreeIndex(DeclarationHash fingerprint, ImmutableArray<UsingAlias> aliases, ImmutableArray<ClassEntry> classes)
    {
        Fingerprint = fingerprint;
        Aliases = aliases;
        Classes = classes;
    }

    /// <summary>Equal for two versions of the tree that differ only inside member bodies (see the remarks).</summary>
    public DeclarationHash Fingerprint { get; }

    /// <summary>Every <c>using X = ...;</c> of the tree, global or local, at any namespace depth.</summary>
    public ImmutableArray<UsingAlias> Aliases { get; }

    /// <summary>Every class declaration (records excluded), nested ones included, in document order.</summary>
    public ImmutableArray<ClassEntry> Classes { get; }

    public static TreeIndex Build(SyntaxTree tree, CancellationToken cancellationToken)
    {
        var root = tree.GetRoot(cancellationToken);
        var walker = new Walker(cancellationToken);
        walker.VisitCompilationUnit(root as CompilationUnitSyntax);

        // Every piece goes in after its length, so no text can pass for a body marker or a boundary.
        var hash = new DeclarationHash.Builder();
        hash.Add(tree.FilePath);
        hash.Add((ulong)walker.Bodies.Count);
        HashOutsideBodies(ref hash, tree.GetText(cancellationToken), walker.Bodies, cancellationToken);
        // Directives anywhere, bodies included; those outside bodies are hashed twice, which changes nothing.
        for (var directive = root.GetFirstDirective(); directive is not null; directive = directive.GetNextDirective())
        {
            hash.Add(directive.ToFullString());
        }
        return new TreeIndex(hash.ToHash(), walker.Aliases.ToImmutable(), walker.Classes.ToImmutable());
    }

    // One per thread: indexing a thousand files must not allocate a thousand buffers.
    [ThreadStatic] private static char[]? s_buffer;

    private static void HashOutsideBodies(ref DeclarationHash.Builder hash, SourceText text, List<TextSpan> bodies, CancellationToken cancellationToken)
    {
        var buffer = s_buffer ??= new char[2048];
        var position = 0;
        foreach (var span in bodies)
        {
            HashRange(ref hash, text, position, span.Start, buffer, cancellationToken);
            position = span.End;
        }
        HashRange(ref hash, text, position, text.Length, buffer, cancellationToken);
    }

    /// <summary>The text between two bodies (or an end), after its length: the lengths mark where the bodies were.</summary>
    private static void HashRange(ref DeclarationHash.Builder hash, SourceText text, int start, int end, char[] buffer, CancellationToken cancellationToken)
    {
        hash.Add((ulong)(end - start));
        while (start < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(buffer.Length, end - start);
            text.CopyTo(start, buffer, 0, count);
            hash.Add(buffer, count);
            start += count;
        }
    }

    /// <summary>
    /// Walks declarations only (namespaces, types, members), never into bodies or expressions: collects the
    /// aliases, the class entries and, in document order, the spans of the member bodies the fingerprint skips.
    /// </summary>
    private sealed class Walker(CancellationToken cancellationToken)
    {
        public readonly ImmutableArray<UsingAlias>.Builder Aliases = ImmutableArray.CreateBuilder<UsingAlias>();
        public readonly ImmutableArray<ClassEntry>.Builder Classes = ImmutableArray.CreateBuilder<ClassEntry>();
        public readonly List<TextSpan> Bodies = [];

        public void VisitCompilationUnit(CompilationUnitSyntax? unit)
        {
            if (unit is null) return;
            VisitUsings(unit.Usings);
            VisitMembers(unit.Members);
        }

        private void VisitUsings(SyntaxList<UsingDirectiveSyntax> usings)
        {
            foreach (var directive in usings)
            {
                if (directive.Alias is not { } alias) continue;
                var target = SimpleNames.Rightmost(directive.Name);
                if (target.Name is null) continue;
                Aliases.Add(new UsingAlias(alias.Name.Identifier.ValueText, target.Name, target.IsGeneric));
            }
        }

        private void VisitMembers(SyntaxList<MemberDeclarationSyntax> members)
        {
            foreach (var member in members)
            {
                cancellationToken.ThrowIfCancellationRequested();
                switch (member)
                {
                    case BaseNamespaceDeclarationSyntax ns:
                        VisitUsings(ns.Usings);
                        VisitMembers(ns.Members);
                        break;
                    case ClassDeclarationSyntax type:
                        Classes.Add(ClassEntry.Read(type));
                        VisitMembers(type.Members);
                        break;
                    case TypeDeclarationSyntax type:
                        VisitMembers(type.Members);
                        break;
                    case BaseMethodDeclarationSyntax method:
                        AddBody(method.Body, method.ExpressionBody, method.SemicolonToken);
                        break;
                    case PropertyDeclarationSyntax { ExpressionBody: { } arrow } property:
                        AddBody(null, arrow, property.SemicolonToken);
                        break;
                    case IndexerDeclarationSyntax { ExpressionBody: { } arrow } indexer:
                        AddBody(null, arrow, indexer.SemicolonToken);
                        break;
                    case BasePropertyDeclarationSyntax { AccessorList: { } accessors }:
                        foreach (var accessor in accessors.Accessors) AddBody(accessor.Body, accessor.ExpressionBody, accessor.SemicolonToken);
                        break;
                }
            }
        }

        /// <summary>
        /// A body, block or expression alike (<c>=&gt; x;</c> and <c>{ return x; }</c> declare the same member), the
        /// expression's semicolon included; a member without a body (<c>void M();</c>) keeps its semicolon in the text.
        /// </summary>
        private void AddBody(BlockSyntax? block, ArrowExpressionClauseSyntax? arrow, SyntaxToken semicolon)
        {
            if (block is not null) Bodies.Add(block.Span);
            if (arrow is not null) Bodies.Add(semicolon.IsKind(SyntaxKind.SemicolonToken) && !semicolon.IsMissing
                ? TextSpan.FromBounds(arrow.SpanStart, semicolon.Span.End)
                : arrow.Span);
        }
    }
}

/// <summary><c>using Name = ...Target;</c> or <c>using Name = ...Target&lt;...&gt;;</c>: the target's rightmost simple name.</summary>
internal readonly record struct UsingAlias(string Name, string Target, bool TargetIsGeneric);

/// <summary>One class declaration, as the candidate filter sees it.</summary>
/// <param name="Node">The declaration, to bind if it is a candidate.</param>
/// <param name="Name">The class's identifier.</param>
/// <param name="IsPartial">Whether this declaration says <c>partial</c>; only partial classes get a generated part.</param>
/// <param name="BaseNames">The rightmost simple name of each type in the base list, and whether it has type arguments.</param>
/// <param name="MethodAttributeNames">The rightmost simple names of the attributes on the class's own methods, without repeats.</param>
/// <param name="MemberAttributeNames">The rightmost simple names of the attributes on the class's own fields and properties, without repeats.</param>
internal sealed record ClassEntry(
    ClassDeclarationSyntax Node,
    string Name,
    bool IsPartial,
    ImmutableArray<(string Name, bool IsGeneric)> BaseNames,
    ImmutableArray<string> MethodAttributeNames,
    ImmutableArray<string> MemberAttributeNames)
{
    public static ClassEntry Read(ClassDeclarationSyntax declaration)
    {
        var baseNames = ImmutableArray<(string, bool)>.Empty;
        if (declaration.BaseList is { } baseList)
        {
            var builder = ImmutableArray.CreateBuilder<(string, bool)>(baseList.Types.Count);
            foreach (var type in baseList.Types)
            {
                var name = SimpleNames.Rightmost(type.Type);
                if (name.Name is not null) builder.Add((name.Name, name.IsGeneric));
            }
            baseNames = builder.ToImmutable();
        }

        List<string>? methodAttributes = null;
        List<string>? memberAttributes = null;
        foreach (var member in declaration.Members)
        {
            switch (member)
            {
                case MethodDeclarationSyntax method:
                    AddNames(ref methodAttributes, method.AttributeLists);
                    break;
                case FieldDeclarationSyntax or PropertyDeclarationSyntax:
                    AddNames(ref memberAttributes, member.AttributeLists);
                    break;
            }
        }

        return new ClassEntry(
            declaration,
            declaration.Identifier.ValueText,
            declaration.Modifiers.Any(SyntaxKind.PartialKeyword),
            baseNames,
            methodAttributes is null ? ImmutableArray<string>.Empty : methodAttributes.ToImmutableArray(),
            memberAttributes is null ? ImmutableArray<string>.Empty : memberAttributes.ToImmutableArray());
    }

    private static void AddNames(ref List<string>? names, SyntaxList<AttributeListSyntax> lists)
    {
        foreach (var list in lists)
        {
            foreach (var attribute in list.Attributes)
            {
                var name = SimpleNames.Rightmost(attribute.Name).Name;
                if (name is null) continue;
                names ??= [];
                if (!names.Contains(name)) names.Add(name);
            }
        }
    }
}

internal static class SimpleNames
{
    /// <summary>
    /// The rightmost simple name of a type or attribute name: <c>On</c> for <c>On</c>, <c>FastCallbacks.On</c>,
    /// <c>global::FastCallbacks.On</c>; <c>Callback</c> (generic) for <c>Callback&lt;TLearner&gt;</c>. Null for
    /// anything else (predefined types, arrays, tuples, pointers, missing names).
    /// </summary>
    public static (string? Name, bool IsGeneric) Rightmost(TypeSyntax? type) => type switch
    {
        IdentifierNameSyntax identifier => (identifier.Identifier.ValueText, false),
        GenericNameSyntax generic => (generic.Identifier.ValueText, true),
        QualifiedNameSyntax qualified => Rightmost(qualified.Right),
        AliasQualifiedNameSyntax aliased => Rightmost(aliased.Name),
        _ => (null, false),
    };
}
