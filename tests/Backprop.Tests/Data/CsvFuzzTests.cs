using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace Backprop.Tests.Data;

/// <summary>Ten thousand seeded mutants of small valid CSV files, plain and gzip, through every <see cref="Csv"/> reader:
/// each is either read into a self-consistent result or refused with an exception the reader documents, in bounded time
/// and memory; and neither gzip nor an unseekable stream changes what a mutant reads as.</summary>
public class CsvFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Mutants = 10_000;
    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-csv-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private enum Reader
    {
        MatrixOfDouble,
        MatrixOfSingle,
        ClassificationOfDouble,
        ClassificationOfSingle,
        RegressionOfDouble,
        RegressionOfSingle,
    }

    private sealed record Seed(string Text, CsvOptions Options);

    private static readonly Seed[] Seeds =
    [
        new("1.5,2,0\n-3e-1, 4 ,2\n\n5,6.25,1\n", new CsvOptions()),
        new("label,a,\"b, quoted\",c\n1,10,20,30\n0,11,21,31\n", new CsvOptions { HasHeader = true, LabelColumn = 0 }),
        new("\uFEFFx;y;t\r\n0.25;1e3;1\r\n-7;+8;0\r\n", new CsvOptions { HasHeader = true, Delimiter = ';' }),
        new("\"1\",\" 2 \",3\n\t4 ,5,\"6\"", new CsvOptions { FeatureColumns = [1, 0] }),
        new("a\tb\tc\td\n0.1\t0.2\t0.3\t2\n1E-5\t-0\t7\t0\n", new CsvOptions { HasHeader = true, Delimiter = '\t', FeatureColumns = [2, -4] }),
    ];

    // Cells at and past the limits of numbers and labels, non-numbers, stray quotes and delimiters, blanks.
    private static readonly string[] Cells =
    [
        "", " ", "\"\"", "\"", "\"1\"\"\"", "\"1\" x", "\"2\"", "NaN", "-Infinity", "∞", "1e39", "1e309", "-1e400", "1e-400",
        "4.9e-324", "3.4028235e38", "1.7976931348623157e308", "2147483647", "2147483646", "2147483648", "-1", "+0", "-0",
        "0x10", "1,5", "1;5", "1\t5", "1 2", "\u00A01", "١", "\0", "\uFEFF1", "1.", ".5", "e5", "1e", "--1", "99999999999999999999",
    ];

    private static readonly string[] Insertions = [",", ";", "\t", "\"", "\"\"", "\r", "\n", "\r\n", "\uFEFF", " ", "\0", "e", "-", ".", "x", "\uD800"];

    [Fact]
    public void Ten_thousand_mutants_read_consistently_or_throw_the_documented_exceptions()
    {
        var random = new DeterministicRandom(1797);
        string path = Path.Combine(_folder, "mutant.csv");
        var outcomes = new Dictionary<string, int>();
        long worstAllocation = 0, worstTicks = 0, plainMutants = 0, gzipMutants = 0, crossChecked = 0, gzipChecked = 0;
        var clock = Stopwatch.StartNew();

        for (int i = 0; i < Mutants; i++)
        {
            var seed = FuzzMutations.Pick(random, Seeds);
            var (bytes, plain) = Mutate(seed, random);
            bool gzip = bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;
            gzipMutants += gzip ? 1 : 0;
            plainMutants += gzip ? 0 : 1;
            var reader = (Reader)random.NextInt32(6);
            bool fromFile = i % 16 == 0;
            if (fromFile)
            {
                File.WriteAllBytes(path, bytes);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            object? result = null;
            Exception? error = null;
            try
            {
                result = fromFile ? ReadPath(reader, path, seed.Options) : Read(reader, new MemoryStream(bytes), path, seed.Options);
            }
            catch (Exception e)
            {
                error = e;
            }

            worstTicks = Math.Max(worstTicks, Stopwatch.GetTimestamp() - started);
            worstAllocation = Math.Max(worstAllocation, GC.GetAllocatedBytesForCurrentThread() - before);
            string context = $"mutant {i} ({reader}, {(fromFile ? "file" : "stream")}, options {Describe(seed.Options)}): {Escape(bytes)}";
            string outcome = error is null ? Check(result!, reader, seed.Options, bytes, path, context) : Allowed(error, reader, path, context);
            string kind = error is null ? "read" : error.GetType().Name;
            outcomes[kind] = outcomes.GetValueOrDefault(kind) + 1;

            if (gzip && plain is not null && !(plain.Length >= 2 && plain[0] == 0x1F && plain[1] == 0x8B))
            {
                // Gzip, damaged or not, reads exactly as the text it was made from, or is refused as gzip: a truncated
                // or corrupt file must never read as other (say, fewer) rows.
                gzipChecked++;
                string expected = Outcome(reader, new MemoryStream(plain), path, seed.Options);
                if (outcome != expected)
                {
                    outcome.Should().StartWith($"{nameof(InvalidDataException)}: {path}: the gzip data is", $"damaged gzip is refused, or read as the data it holds ({expected}); {context}");
                }
            }

            if (i % 4 == 1)
            {
                // Neither the way the bytes arrive nor compression may change what they read as.
                crossChecked++;
                using var unseekable = new NonSeekableStream(bytes);
                Outcome(reader, unseekable, path, seed.Options).Should().Be(outcome, $"an unseekable stream reads like a seekable one; {context}");
                if (!gzip)
                {
                    Outcome(reader, new MemoryStream(FuzzMutations.Gzip(bytes)), path, seed.Options).Should().Be(outcome, $"gzip reads like plain text; {context}");
                }
            }
        }

        var elapsed = clock.Elapsed;
        output.WriteLine($"{Mutants} mutants ({plainMutants} plain, {gzipMutants} gzip) in {elapsed.TotalSeconds:F2} s: {string.Join(", ", outcomes.OrderBy(o => o.Key))}; " +
            $"slowest {Stopwatch.GetElapsedTime(0, worstTicks).TotalMilliseconds:F1} ms, most allocated {worstAllocation / 1024} KiB");
        outcomes.Values.Sum().Should().Be(Mutants);
        outcomes.GetValueOrDefault("read").Should().BeGreaterThan(1_000, "the mutants must also exercise the reading path");
        outcomes.GetValueOrDefault(nameof(InvalidDataException)).Should().BeGreaterThan(3_000);
        gzipMutants.Should().BeGreaterThan(2_000);
        gzipChecked.Should().BeGreaterThan(2_000);
        plainMutants.Should().BeGreaterThan(5_000);
        crossChecked.Should().Be(Mutants / 4);
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
        Stopwatch.GetElapsedTime(0, worstTicks).Should().BeLessThan(TimeSpan.FromSeconds(1), "no input may take long to read or refuse");
        worstAllocation.Should().BeLessThan(1L << 20, "a mutant of a few hundred bytes must not make the reader allocate much more");
    }

    /// <summary>Text-level damage where the format is fragile, then perhaps byte-level damage, gzip, or damage to the
    /// gzip; with the plain bytes that were compressed, for gzip.</summary>
    private static (byte[] Bytes, byte[]? Plain) Mutate(Seed seed, DeterministicRandom random)
    {
        string text = seed.Text;
        for (int k = random.NextInt32(3); k >= 0; k--)
        {
            text = MutateText(text, seed.Options.Delimiter, random);
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text);
        switch (random.NextInt32(8))
        {
            case 0:
                bytes = [0xEF, 0xBB, 0xBF, .. bytes];   // a (second) UTF-8 byte-order mark
                break;
            case 1:
                bytes = [0xFF, 0xFE, .. bytes];         // a UTF-16 byte-order mark before UTF-8 text
                break;
            case 2:
            case 3:
                bytes = FuzzMutations.Bytes(bytes, random);
                break;
        }

        return random.NextInt32(6) switch
        {
            0 or 1 => (FuzzMutations.Gzip(bytes), bytes),
            2 => (FuzzMutations.Bytes(FuzzMutations.Gzip(bytes), random), bytes),
            _ => (bytes, null),
        };
    }

    private static string MutateText(string text, char delimiter, DeterministicRandom random)
    {
        var lines = text.Split('\n').ToList();
        int line = random.NextInt32(lines.Count);
        switch (random.NextInt32(6))
        {
            case 0:
            case 1:
                // Replace a cell with an awkward value.
                var cells = lines[line].Split(delimiter);
                cells[random.NextInt32(cells.Length)] = FuzzMutations.Pick(random, Cells);
                lines[line] = string.Join(delimiter, cells);
                break;
            case 2:
                // Insert a delimiter, quote, line break, byte-order mark or other character anywhere.
                int at = random.NextInt32(text.Length + 1);
                return text[..at] + FuzzMutations.Pick(random, Insertions) + text[at..];
            case 3:
                // Change the line endings: all or one to CRLF or CR, or CRLF back to LF.
                return random.NextInt32(4) switch
                {
                    0 => text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal),
                    1 => text.Replace("\r\n", "\n", StringComparison.Ordinal),
                    2 => text.Replace('\n', '\r'),
                    _ => string.Join(random.NextInt32(2) == 0 ? "\r" : "\r\n", lines[..(line + 1)]) + "\n" + string.Join('\n', lines[(line + 1)..]),
                };
            case 4:
                // Duplicate or drop a line.
                if (random.NextInt32(2) == 0)
                {
                    lines.Insert(line, lines[line]);
                }
                else
                {
                    lines.RemoveAt(line);
                }

                break;
            default:
                // One field more or fewer on a line.
                int first = lines[line].IndexOf(delimiter, StringComparison.Ordinal);
                lines[line] = random.NextInt32(2) == 0 || first < 0 ? lines[line] + delimiter + "1" : lines[line].Remove(first, 1);
                break;
        }

        return string.Join('\n', lines);
    }

    private static object Read(Reader reader, Stream stream, string name, CsvOptions options) => reader switch
    {
        Reader.MatrixOfDouble => Csv.ReadMatrix<double>(stream, name, options.HasHeader, options.Delimiter),
        Reader.MatrixOfSingle => Csv.ReadMatrix<float>(stream, name, options.HasHeader, options.Delimiter),
        Reader.ClassificationOfDouble => Csv.ReadClassification<double>(stream, name, options),
        Reader.ClassificationOfSingle => Csv.ReadClassification<float>(stream, name, options),
        Reader.RegressionOfDouble => Csv.ReadRegression<double>(stream, name, options),
        _ => Csv.ReadRegression<float>(stream, name, options),
    };

    private static object ReadPath(Reader reader, string path, CsvOptions options) => reader switch
    {
        Reader.MatrixOfDouble => Csv.ReadMatrix<double>(path, options.HasHeader, options.Delimiter),
        Reader.MatrixOfSingle => Csv.ReadMatrix<float>(path, options.HasHeader, options.Delimiter),
        Reader.ClassificationOfDouble => Csv.ReadClassification<double>(path, options),
        Reader.ClassificationOfSingle => Csv.ReadClassification<float>(path, options),
        Reader.RegressionOfDouble => Csv.ReadRegression<double>(path, options),
        _ => Csv.ReadRegression<float>(path, options),
    };

    /// <summary>The result's fingerprint, or the exception's type and message, for comparing two reads of one mutant.</summary>
    private static string Outcome(Reader reader, Stream stream, string name, CsvOptions options)
    {
        try
        {
            return Fingerprint(Read(reader, stream, name, options));
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Passes the exceptions the readers document (content problems naming the source; column options that do
    /// not fit the data, naming the options) and fails on any other, showing the mutant.</summary>
    private static string Allowed(Exception error, Reader reader, string source, string context)
    {
        bool documented = error switch
        {
            InvalidDataException => error.Message.StartsWith(source, StringComparison.Ordinal),
            ArgumentException argument => reader is not (Reader.MatrixOfDouble or Reader.MatrixOfSingle) && argument.ParamName == "options",
            _ => false,
        };
        if (!documented)
        {
            Assert.Fail($"{context} threw an exception the reader does not document, or without naming the source:{Environment.NewLine}{error}");
        }

        return $"{error.GetType().Name}: {error.Message}";
    }

    /// <summary>Checks that a result is self-consistent and agrees with <see cref="Csv.ReadMatrix{T}(Stream, string, bool, char)"/>
    /// of the same bytes, column by column; returns its fingerprint.</summary>
    private static string Check(object result, Reader reader, CsvOptions options, byte[] bytes, string source, string context)
    {
        switch (result)
        {
            case Matrix<double> matrix:
                CheckMatrix(matrix, context);
                break;
            case Matrix<float> matrix:
                CheckMatrix(matrix, context);
                break;
            case ClassificationData<double> data:
                CheckClassification(data, options, bytes, source, context);
                break;
            case ClassificationData<float> data:
                CheckClassification(data, options, bytes, source, context);
                break;
            case RegressionData<double> data:
                CheckRegression(data, options, bytes, source, context);
                break;
            case RegressionData<float> data:
                CheckRegression(data, options, bytes, source, context);
                break;
            default:
                Assert.Fail($"{context}: {reader} returned a {result.GetType()}");
                break;
        }

        return Fingerprint(result);
    }

    private static void CheckMatrix<T>(Matrix<T> matrix, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        matrix.RowCount.Should().BePositive(context);
        matrix.ColumnCount.Should().BePositive(context);
        matrix.Enumerate().All(T.IsFinite).Should().BeTrue($"every value must be finite; {context}");
    }

    private static void CheckClassification<T>(ClassificationData<T> data, CsvOptions options, byte[] bytes, string source, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix(data.Features, context);
        data.Labels.Should().HaveCount(data.Features.RowCount, context).And.OnlyContain(l => l >= 0, context);
        data.ClassCount.Should().Be(data.Labels.Max() + 1, context).And.BePositive(context);
        CheckNames(data.FeatureNames, data.Features.ColumnCount, options, context);
        if (Columns<T>(options, bytes, source) is var (all, features, label))
        {
            for (int r = 0; r < all.RowCount; r++)
            {
                all[r, label].Should().Be(T.CreateChecked(data.Labels[r]), context);
            }

            CheckColumns(data.Features, all, features, context);
        }
    }

    private static void CheckRegression<T>(RegressionData<T> data, CsvOptions options, byte[] bytes, string source, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckMatrix(data.Features, context);
        CheckMatrix(data.Targets, context);
        data.Targets.RowCount.Should().Be(data.Features.RowCount, context);
        data.Targets.ColumnCount.Should().Be(1, context);
        CheckNames(data.FeatureNames, data.Features.ColumnCount, options, context);
        if (Columns<T>(options, bytes, source) is var (all, features, target))
        {
            CheckColumns(data.Features, all, features, context);
            CheckColumns(data.Targets, all, [target], context);
        }
    }

    private static void CheckNames(IReadOnlyList<string>? names, int columns, CsvOptions options, string context)
    {
        if (options.HasHeader)
        {
            names.Should().NotBeNull(context).And.HaveCount(columns, context);
        }
        else
        {
            names.Should().BeNull(context);
        }
    }

    /// <summary>Every column of the same bytes, and which of them the options make features and label; null when chosen
    /// feature columns leave out one that does not read as numbers.</summary>
    private static (Matrix<T> All, int[] Features, int Label)? Columns<T>(CsvOptions options, byte[] bytes, string source)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Matrix<T> all;
        try
        {
            all = Csv.ReadMatrix<T>(new MemoryStream(bytes), source, options.HasHeader, options.Delimiter);
        }
        catch (InvalidDataException) when (options.FeatureColumns is not null)
        {
            // Chosen feature columns may leave out one that is not a number; the reader only parses the columns it uses.
            return null;
        }

        int width = all.ColumnCount;
        int label = (options.LabelColumn + width) % width;
        int[] features = options.FeatureColumns?.Select(c => (c + width) % width).ToArray()
            ?? Enumerable.Range(0, width).Where(c => c != label).ToArray();
        return (all, features, label);
    }

    private static void CheckColumns<T>(Matrix<T> actual, Matrix<T> all, int[] columns, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        actual.RowCount.Should().Be(all.RowCount, context);
        actual.ColumnCount.Should().Be(columns.Length, context);
        for (int c = 0; c < columns.Length; c++)
        {
            actual.Column(c).Should().Equal(all.Column(columns[c]), context);
        }
    }

    private static string Fingerprint(object result) => result switch
    {
        Matrix<double> m => Fingerprint(m),
        Matrix<float> m => Fingerprint(m),
        ClassificationData<double> d => $"{Fingerprint(d.Features)} labels {string.Join(' ', d.Labels)} names {Names(d.FeatureNames)}",
        ClassificationData<float> d => $"{Fingerprint(d.Features)} labels {string.Join(' ', d.Labels)} names {Names(d.FeatureNames)}",
        RegressionData<double> d => $"{Fingerprint(d.Features)} targets {Fingerprint(d.Targets)} names {Names(d.FeatureNames)}",
        RegressionData<float> d => $"{Fingerprint(d.Features)} targets {Fingerprint(d.Targets)} names {Names(d.FeatureNames)}",
        _ => result.GetType().Name,
    };

    private static string Fingerprint<T>(Matrix<T> matrix)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        $"{matrix.RowCount}×{matrix.ColumnCount}: {string.Join(' ', matrix.ToRowMajorArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}";

    private static string Names(IReadOnlyList<string>? names) => names is null ? "none" : string.Join('|', names);

    private static string Describe(CsvOptions options) =>
        $"header {options.HasHeader}, delimiter U+{(int)options.Delimiter:X4}, label {options.LabelColumn}, features [{string.Join(", ", options.FeatureColumns ?? [])}]";

    /// <summary>The bytes as a C# byte-array literal, to paste into a regression test.</summary>
    private static string Escape(byte[] bytes) => $"[{string.Join(", ", bytes.Select(b => $"0x{b:X2}"))}]";
}
