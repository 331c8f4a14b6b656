using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Backprop.Tests.Samples;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Backprop.Tests.Docs;

/// <summary>
/// Compiles every <c>```csharp</c> block of README.md and docs/guide.md against the library, so that documentation
/// never goes stale.
/// </summary>
/// <remarks>
/// <para>Each block is compiled on its own as a C# program of top-level statements, with the project's implicit
/// usings plus <c>Backprop</c> and <c>MathNet.Numerics.LinearAlgebra</c> as global usings; <c>using</c> lines at the
/// top of a block are kept at the top.</para>
/// <para>A block that uses variables it does not declare (<c>trainer</c>, <c>batchX</c>, …) gets them from a hidden
/// prelude: an HTML comment <c>&lt;!-- prelude … --&gt;</c> directly above the fence (blank lines between are allowed),
/// whose text is compiled before the block. GitHub does not show such comments.</para>
/// <para>Errors are reported with the Markdown file and line, through <c>#line</c> directives.</para>
/// </remarks>
public class DocsCompileTests
{
    private static readonly string[] GlobalUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Threading", "System.Threading.Tasks",
        "Backprop", "Backprop.Data", "MathNet.Numerics.LinearAlgebra",
    ];

    private static readonly Lazy<MetadataReference[]> References = new(LoadReferences);

    public static TheoryData<string> Documents() => new(MarkdownFiles().Select(f => Path.GetRelativePath(SamplesRunTests.RepositoryRoot(), f)));

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_csharp_block_compiles(string document)
    {
        string path = Path.Combine(SamplesRunTests.RepositoryRoot(), document);
        var blocks = ExtractBlocks(File.ReadAllText(path), path);

        var failures = blocks.Select(b => (Block: b, Errors: Compile(b))).Where(r => r.Errors.Count > 0).ToList();

        failures.Should().BeEmpty(string.Join("\n\n", failures.Select(f =>
            $"{document} block at line {f.Block.Line} does not compile:\n  {string.Join("\n  ", f.Errors)}")));
    }

    [Fact]
    public void The_documents_have_blocks_to_compile()
    {
        string root = SamplesRunTests.RepositoryRoot();

        ExtractBlocks(File.ReadAllText(Path.Combine(root, "README.md")), "README.md").Should().HaveCountGreaterThanOrEqualTo(2);
        ExtractBlocks(File.ReadAllText(Path.Combine(root, "docs", "guide.md")), "guide.md").Should().HaveCountGreaterThanOrEqualTo(8);
    }

    [Fact]
    public void A_block_that_stops_compiling_is_reported_with_its_markdown_line()
    {
        string markdown = """
            Intro.

            <!-- prelude
            var network = new Network<float>(2, new Dense<float>(1));
            -->
            ```csharp
            var n = network.InputSize;
            int wrong = network.NoSuchMember;
            ```
            """;

        var blocks = ExtractBlocks(markdown, "broken.md");

        blocks.Should().ContainSingle();
        blocks[0].Prelude.Should().Contain("new Network<float>");
        Compile(blocks[0]).Should().ContainSingle().Which.Should().Match("broken.md(8,*): error CS1061:*NoSuchMember*");
    }

    [Fact]
    public void Using_lines_at_the_top_of_a_block_are_hoisted_above_the_prelude()
    {
        var block = new CodeBlock("hoist.md", 3, "using System.Globalization;\nConsole.WriteLine(CultureInfo.InvariantCulture.Name);", "int unused = 1;");

        Compile(block).Should().BeEmpty();
    }

    internal sealed record CodeBlock(string File, int Line, string Code, string Prelude);

    internal static List<CodeBlock> ExtractBlocks(string markdown, string file)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var blocks = new List<CodeBlock>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!Regex.IsMatch(lines[i], @"^\s*```\s*(csharp|cs|c#)\b", RegexOptions.IgnoreCase))
            {
                continue;
            }

            int start = i + 1;
            int end = start;
            while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                end++;
            }

            blocks.Add(new CodeBlock(file, start + 1, string.Join('\n', lines[start..end]), PreludeAbove(lines, i)));
            i = end;
        }

        return blocks;
    }

    /// <summary>The text of a <c>&lt;!-- prelude … --&gt;</c> comment ending just above the fence at <paramref name="fence"/>, or "".</summary>
    private static string PreludeAbove(string[] lines, int fence)
    {
        int last = fence - 1;
        while (last >= 0 && lines[last].Trim().Length == 0)
        {
            last--;
        }

        if (last < 0 || !lines[last].TrimEnd().EndsWith("-->", StringComparison.Ordinal))
        {
            return "";
        }

        for (int first = last; first >= 0; first--)
        {
            int open = lines[first].IndexOf("<!--", StringComparison.Ordinal);
            if (open >= 0)
            {
                string text = string.Join('\n', lines[first..(last + 1)]);
                text = text[(text.IndexOf("<!--", StringComparison.Ordinal) + 4)..text.LastIndexOf("-->", StringComparison.Ordinal)].Trim();
                return text.StartsWith("prelude", StringComparison.Ordinal) ? text["prelude".Length..].TrimStart(':', ' ', '\n') : "";
            }
        }

        return "";
    }

    internal static List<string> Compile(CodeBlock block)
    {
        var codeLines = block.Code.Split('\n');
        int usings = 0;
        while (usings < codeLines.Length && (Regex.IsMatch(codeLines[usings], @"^using\s+[\w.=\s]+;\s*$") || codeLines[usings].Trim().Length == 0))
        {
            usings++;
        }

        var source = new StringBuilder();
        for (int i = 0; i < usings; i++)
        {
            source.AppendLine(codeLines[i]);
        }

        source.AppendLine("#line hidden").AppendLine(block.Prelude);
        source.AppendLine(FormattableString.Invariant($"#line {block.Line + usings} \"{block.File}\""));
        source.AppendLine(string.Join('\n', codeLines[usings..]));

        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(string.Concat(GlobalUsings.Select(u => $"global using {u};\n")), parse, "GlobalUsings.cs"),
            CSharpSyntaxTree.ParseText(source.ToString(), parse, block.File),
        };
        var compilation = CSharpCompilation.Create("Snippet", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        return result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => d.ToString()).ToList();
    }

    /// <summary>The documents whose blocks must compile. Another document joins by being listed here (after giving
    /// its blocks the preludes they need).</summary>
    private static IEnumerable<string> MarkdownFiles()
    {
        string root = SamplesRunTests.RepositoryRoot();
        yield return Path.Combine(root, "README.md");
        yield return Path.Combine(root, "docs", "guide.md");
        yield return Path.Combine(root, "docs", "thread-safety.md");
        yield return Path.Combine(root, "docs", "layers.md");
    }

    /// <summary>The runtime's assemblies plus the library and MathNet: what the test itself runs against.</summary>
    private static MetadataReference[] LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat([typeof(Network<>).Assembly.Location, typeof(MathNet.Numerics.LinearAlgebra.Matrix<>).Assembly.Location]);
        return paths.Where(p => p.Length > 0 && File.Exists(p))
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.First())
            .Where(IsManagedAssembly)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
