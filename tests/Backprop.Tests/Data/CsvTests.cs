using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Backprop.Tests.Data;

public class CsvTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-csv-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string text, bool gzip = false) => TestFiles.Write(_folder, name, Encoding.UTF8.GetBytes(text), gzip);

    [Fact]
    public void Reads_features_and_labels_with_the_label_in_the_last_column_by_default()
    {
        string path = Write("plain.csv", "1.5,2,0\n-3e-1, 4 ,2\n\n5,6.25,1\n");

        var data = Csv.ReadClassification<double>(path);

        data.Features.ToRowArrays().Should().BeEquivalentTo(new[] { new[] { 1.5, 2 }, new[] { -0.3, 4 }, new[] { 5, 6.25 } }, o => o.WithStrictOrdering());
        data.Labels.Should().Equal(0, 2, 1);
        data.ClassCount.Should().Be(3);
        data.FeatureNames.Should().BeNull();
    }

    [Fact]
    public void Header_names_the_chosen_columns_and_is_not_parsed()
    {
        string path = Write("header.csv", "label,a,\"b, quoted\",c\n1,10,20,30\n0,11,21,31\n");

        var data = Csv.ReadClassification<float>(path, new CsvOptions { HasHeader = true, LabelColumn = 0, FeatureColumns = [3, 1] });

        data.FeatureNames.Should().Equal("c", "a");
        data.Features.ToRowArrays().Should().BeEquivalentTo(new[] { new[] { 30f, 10f }, new[] { 31f, 11f } }, o => o.WithStrictOrdering());
        data.Labels.Should().Equal(1, 0);
    }

    [Fact]
    public void Without_the_header_option_a_header_line_is_a_bad_value_on_line_1()
    {
        string path = Write("header.csv", "x,y,label\n1,2,0\n");

        var act = () => Csv.ReadClassification<double>(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"{path}, line 1, column 1: \"x\" is not a number*");
    }

    [Fact]
    public void A_bad_number_names_the_file_line_column_and_header()
    {
        string path = Write("bad.csv", "age,bmi,y\n1,2,3\n\n4,2l.5,6\n");

        var act = () => Csv.ReadRegression<double>(path, new CsvOptions { HasHeader = true });

        act.Should().Throw<InvalidDataException>()
            .WithMessage($"{path}, line 4, column 2 (\"bmi\"): \"2l.5\" is not a number*invariant culture*");
    }

    [Theory]
    [InlineData("1,2,x\n", "line 1, column 3: \"x\" is not a class label*")]
    [InlineData("1,2,0\n1,2,-1\n", "line 2, column 3: \"-1\" is not a class label*")]
    [InlineData("1,2,0\n1,2,1.5\n", "line 2, column 3: \"1.5\" is not a class label*")]
    [InlineData("1,,0\n", "line 1, column 2: \"\" is empty*")]
    [InlineData("1,NaN,0\n", "line 1, column 2: \"NaN\" is not a finite number*")]
    [InlineData("1,2,0\n1,2\n", "line 2: expected 3 fields*(as on line 1), but found 2*")]
    [InlineData("1,\"2,0\n", "line 1, column 2: the quote opened at character 3 is not closed*")]
    public void Bad_content_names_the_line_and_column(string text, string expected)
    {
        string path = Write("bad.csv", text);

        var act = () => Csv.ReadClassification<double>(path);

        act.Should().Throw<InvalidDataException>().WithMessage($"{path}, {expected}");
    }

    [Fact]
    public void A_value_too_large_for_float_is_reported_as_such()
    {
        string path = Write("big.csv", "1e39,0\n");

        var act = () => Csv.ReadClassification<float>(path);

        act.Should().Throw<InvalidDataException>().WithMessage("*line 1, column 1: \"1e39\" is too large for Single*");
    }

    [Fact]
    public void Gzip_is_detected_from_the_magic_bytes_not_the_name()
    {
        string plain = Write("data.csv", "1,2,3\n4,5,6\n");
        string zipped = Write("data.txt", "1,2,3\n4,5,6\n", gzip: true);

        var a = Csv.ReadMatrix<double>(plain);
        var b = Csv.ReadMatrix<double>(zipped);

        b.Should().Be(a);
        b.RowCount.Should().Be(2);
    }

    [Fact]
    public void Gzip_is_detected_on_streams_that_cannot_seek()
    {
        string zipped = Write("data.gz", "7;8\n9;10\n", gzip: true);
        using var stream = new NonSeekableStream(File.ReadAllBytes(zipped));

        var matrix = Csv.ReadMatrix<double>(stream, "piped", delimiter: ';');

        matrix.ToRowArrays().Should().BeEquivalentTo(new[] { new[] { 7.0, 8 }, new[] { 9.0, 10 } }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Parsing_ignores_the_current_culture()
    {
        string path = Write("culture.csv", "1.5,0\n");
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture.Clone() is CultureInfo c ? WithComma(c) : saved;
            Csv.ReadClassification<double>(path).Features[0, 0].Should().Be(1.5);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }

        static CultureInfo WithComma(CultureInfo culture)
        {
            culture.NumberFormat.NumberDecimalSeparator = ",";
            culture.NumberFormat.NumberGroupSeparator = ".";
            return culture;
        }
    }

    [Fact]
    public void Regression_reads_the_target_column_as_a_one_column_matrix()
    {
        string path = Write("reg.csv", "y,a,b\n10,1,2\n20,3,4\n");

        var data = Csv.ReadRegression<double>(path, new CsvOptions { HasHeader = true, LabelColumn = 0 });

        data.Targets.ToColumnMajorArray().Should().Equal(10, 20);
        data.Features.ToRowArrays().Should().BeEquivalentTo(new[] { new[] { 1.0, 2 }, new[] { 3.0, 4 } }, o => o.WithStrictOrdering());
        data.FeatureNames.Should().Equal("a", "b");
    }

    [Fact]
    public void Bad_column_options_name_the_option_and_the_width()
    {
        string path = Write("cols.csv", "1,2,0\n");

        var outside = () => Csv.ReadClassification<double>(path, new CsvOptions { LabelColumn = 3 });
        var both = () => Csv.ReadClassification<double>(path, new CsvOptions { FeatureColumns = [0, 2] });
        var twice = () => Csv.ReadClassification<double>(path, new CsvOptions { FeatureColumns = [0, 0] });

        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("options.LabelColumn must be in [-3, 2]*3 columns, but it is 3.*");
        both.Should().Throw<ArgumentException>().WithMessage("options.FeatureColumns[1] is column 2, which is also the label column*");
        twice.Should().Throw<ArgumentException>().WithMessage("options.FeatureColumns[1] names column 0 again*");
    }

    [Fact]
    public void An_empty_file_or_a_header_alone_is_rejected()
    {
        string empty = Write("empty.csv", "\n\n");
        string header = Write("header.csv", "a,b\n");

        var act1 = () => Csv.ReadMatrix<double>(empty);
        var act2 = () => Csv.ReadMatrix<double>(header, hasHeader: true);

        act1.Should().Throw<InvalidDataException>().WithMessage($"{empty}: there are no data lines*");
        act2.Should().Throw<InvalidDataException>().WithMessage($"{header}: there are no data lines after the header*");
    }

    [Fact]
    public void Reads_the_projects_iris_copy()
    {
        var data = Csv.ReadClassification<double>(Path.Combine(AppContext.BaseDirectory, "Data", "iris.csv"), new CsvOptions { HasHeader = true });

        data.Count.Should().Be(150);
        data.Features.ColumnCount.Should().Be(4);
        data.Labels.GroupBy(l => l).Select(g => g.Count()).Should().Equal(50, 50, 50);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            zip.Write(bytes);
        }

        return buffer.ToArray();
    }

    [Fact]
    public void A_truncated_gzip_file_is_refused_wherever_it_is_cut()
    {
        // GZipStream reports the end of the data wherever its input runs out, so a cut file used to read as fewer rows.
        string text = string.Concat(Enumerable.Range(0, 300).Select(i => $"{i},{i % 7},{i % 3}\n"));
        byte[] zipped = Gzip(Encoding.UTF8.GetBytes(text));
        Csv.ReadMatrix<double>(new MemoryStream(zipped), "whole.csv.gz").RowCount.Should().Be(300);

        for (int cut = 2; cut < zipped.Length; cut++)
        {
            var act = () => Csv.ReadMatrix<double>(new MemoryStream(zipped[..cut]), "cut.csv.gz");
            act.Should().Throw<InvalidDataException>($"the file cut to {cut} of {zipped.Length} bytes is incomplete").WithMessage("cut.csv.gz*");
        }

        var unseekable = () => Csv.ReadMatrix<double>(new NonSeekableStream(zipped[..^8]), "piped.gz");
        unseekable.Should().Throw<InvalidDataException>().WithMessage("piped.gz: the gzip data is*truncated*");
    }

    [Fact]
    public void Corrupt_gzip_is_reported_with_the_source_name()
    {
        byte[] zipped = Gzip(Encoding.UTF8.GetBytes("1,2,0\n3,4,1\n"));
        zipped[^6] ^= 0x20;   // the CRC-32

        var act = () => Csv.ReadClassification<float>(new MemoryStream(zipped), "data.csv.gz");

        act.Should().Throw<InvalidDataException>().WithMessage("data.csv.gz: the gzip data is corrupt or truncated (*)*");
    }

    [Fact]
    public void Gzip_members_read_as_one_file_but_bytes_after_them_are_refused()
    {
        byte[] first = Gzip(Encoding.UTF8.GetBytes("1,2\n")), second = Gzip(Encoding.UTF8.GetBytes("3,4\n"));

        Csv.ReadMatrix<double>(new MemoryStream([.. first, .. second]), "two.gz").ToRowArrays()
            .Should().BeEquivalentTo(new[] { new[] { 1.0, 2 }, new[] { 3.0, 4 } }, o => o.WithStrictOrdering());
        var padded = () => Csv.ReadMatrix<double>(new MemoryStream([.. first, 0, 0, 0, 0]), "padded.gz");
        padded.Should().Throw<InvalidDataException>().WithMessage("padded.gz: the gzip data is truncated, or followed by bytes that are not gzip*");
    }

    [Fact]
    public void A_label_of_int_MaxValue_is_refused_because_the_class_count_would_overflow()
    {
        Csv.ReadClassification<double>(new MemoryStream("1,2147483646\n"u8.ToArray()), "big").ClassCount.Should().Be(int.MaxValue);

        var act = () => Csv.ReadClassification<double>(new MemoryStream("1,0\n2,2147483647\n"u8.ToArray()), "max");

        act.Should().Throw<InvalidDataException>().WithMessage("max, line 2, column 2: \"2147483647\" is not a class label (a whole number from 0 to 2147483646*");
    }

    [Fact]
    public void A_utf32_file_reads_the_same_from_seekable_unseekable_and_gzip_streams()
    {
        // StreamReader decides the encoding from the first read; a four-byte byte-order mark split over two reads was
        // taken for UTF-16, so an unseekable stream (whose first read returned the two sniffed bytes alone) misread it.
        byte[] utf32 = [.. new UTF32Encoding(bigEndian: false, byteOrderMark: true).GetPreamble(), .. new UTF32Encoding(false, false).GetBytes("1.5,2\n3,4\n")];
        double[][] expected = [[1.5, 2], [3, 4]];

        Csv.ReadMatrix<double>(new MemoryStream(utf32), "seekable").ToRowArrays().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        Csv.ReadMatrix<double>(new NonSeekableStream(utf32), "unseekable").ToRowArrays().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        Csv.ReadMatrix<double>(new MemoryStream(Gzip(utf32)), "gzip").ToRowArrays().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
    }
}
