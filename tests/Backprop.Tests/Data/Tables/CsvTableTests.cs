using System.Globalization;
using System.Text;

namespace Backprop.Tests.Data.Tables;

public class CsvTableTests
{
    private static DataTable Read(string text, TableOptions? options = null) =>
        CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t.csv", options);

    private const string Penguinish = "species,island,bill,mass,sex\nA,Biscoe,39.1,3750,male\nB,Dream,,3800,\nA,Biscoe,40.3,NA,female\nC,Torgersen,36.7,3450,?\n";

    [Fact]
    public void Infers_numeric_and_categorical_columns_and_reads_text_labels()
    {
        var table = Read(Penguinish, new TableOptions { Label = "species", Missing = MissingValuePolicy.MostFrequent });
        table.RowCount.Should().Be(4);
        table.Features.Select(f => (f.Name, f.Kind)).Should().Equal(("island", ColumnKind.Categorical), ("bill", ColumnKind.Numeric), ("mass", ColumnKind.Numeric), ("sex", ColumnKind.Categorical));
        table.Label!.Texts.Should().Equal("A", "B", "A", "C");
        table.ClassNames.Should().Equal("A", "B", "C");
        table["bill"].Numbers!.Select(double.IsNaN).Should().Equal(false, true, false, false);
        table["mass"].MissingCount.Should().Be(1);
        table["sex"].Texts.Should().Equal("male", null, "female", null);
        table.LineOf(3).Should().Be(5);
    }

    [Fact]
    public void A_missing_value_is_an_error_by_default_naming_file_line_column_and_value()
    {
        var read = () => Read(Penguinish, new TableOptions { Label = "species" });
        read.Should().Throw<InvalidDataException>().WithMessage("t.csv, line 3, column 3 (\"bill\"): \"\" is missing, and the column's missing-value policy is Error*");
    }

    [Fact]
    public void Every_policy_is_per_column_and_a_configurable_set_of_texts_is_missing()
    {
        var options = new TableOptions
        {
            Label = 0,
            MissingValues = ["NA", "?", "."],
            Columns =
            [
                new ColumnOptions { Column = "bill", Missing = MissingValuePolicy.Mean },
                new ColumnOptions { Column = "mass", Missing = MissingValuePolicy.Median, AddMissingIndicator = true },
                new ColumnOptions { Column = "sex", Missing = MissingValuePolicy.MostFrequent, AddMissingIndicator = true },
            ],
        };
        var table = Read(Penguinish.Replace("?", ".", StringComparison.Ordinal), options);
        table["bill"].Missing.Should().Be(MissingValuePolicy.Mean);
        table["sex"].MissingCount.Should().Be(2);
        var pipeline = TablePipeline.Fit(table, NumericScaling.None, options);
        pipeline.Columns.Select(c => c.Name).Should().Equal("island", "bill", "mass", "sex");
        pipeline.Columns[1].FillNumber.Should().Be((39.1 + 40.3 + 36.7) / 3);
        pipeline.Columns[2].FillNumber.Should().Be(3750, "the median of 3450, 3750, 3800");
        pipeline.Columns[3].FillCategory.Should().Be("female", "female and male are equally frequent; the ordinally first wins");
        pipeline.FeatureNames.Should().Equal("island=Biscoe", "island=Dream", "island=Torgersen", "bill", "mass", "mass (missing)", "sex=female", "sex=male", "sex (missing)");
        var x = pipeline.Transform<double>(table);
        x.Row(1).ToArray().Should().Equal(0, 1, 0, (39.1 + 40.3 + 36.7) / 3, 3800, 0, 1, 0, 1);
        x.Row(2).ToArray().Should().Equal(1, 0, 0, 40.3, 3750, 1, 1, 0, 0);
    }

    [Fact]
    public void Mean_or_median_of_a_text_column_is_refused_but_a_table_default_of_mean_gives_it_the_most_frequent()
    {
        var read = () => Read(Penguinish, new TableOptions { Label = "species", Missing = MissingValuePolicy.Mean, Columns = [new ColumnOptions { Column = "sex", Missing = MissingValuePolicy.Median }] });
        read.Should().Throw<ArgumentException>().WithMessage("*\"sex\"*text categories*MostFrequent*");
        var table = Read(Penguinish, new TableOptions { Label = "species", Missing = MissingValuePolicy.Mean });
        table["sex"].Missing.Should().Be(MissingValuePolicy.MostFrequent);
        table["bill"].Missing.Should().Be(MissingValuePolicy.Mean);
    }

    [Fact]
    public void Header_names_with_spaces_and_quotes_are_names_like_any_other()
    {
        var table = Read("\"bill length (mm)\",\"the \"\"best\"\" label\", plain name \n1.5,x,2\n2.5,y,3\n", new TableOptions { Label = "the \"best\" label" });
        table.Features.Select(f => f.Name).Should().Equal("bill length (mm)", "plain name");
        table["bill length (mm)"].Numbers.Should().Equal(1.5, 2.5);
        table.ClassNames.Should().Equal("x", "y");
    }

    [Fact]
    public void Columns_can_be_chosen_by_index_declared_and_ignored()
    {
        var table = Read("1,2,3,4\n5,6,7,8\n", new TableOptions
        {
            HasHeader = false,
            Target = -1,
            Columns = [new ColumnOptions { Column = 1, Kind = ColumnKind.Ignored }, new ColumnOptions { Column = 0, Kind = ColumnKind.Categorical }],
        });
        table.Features.Select(f => (f.Name, f.Kind)).Should().Equal(("column 1", ColumnKind.Categorical), ("column 3", ColumnKind.Numeric));
        table.Target!.Numbers.Should().Equal(4, 8);
        table.ColumnNames.Should().Equal("column 1", "column 2", "column 3", "column 4");
    }

    [Fact]
    public void A_declared_numeric_column_with_text_names_the_value()
    {
        var read = () => Read("a,b\n1,2\nx,3\n", new TableOptions { Target = "b", Columns = [new ColumnOptions { Column = "a", Kind = ColumnKind.Numeric }] });
        read.Should().Throw<InvalidDataException>().WithMessage("t.csv, line 3, column 1 (\"a\"): \"x\" is not a number*");
    }

    [Fact]
    public void Numbers_are_read_in_the_invariant_culture_whatever_the_thread_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            Read("a,b\n1.5,2\n", new TableOptions { Target = "b" })["a"].Numbers.Should().Equal(1.5);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void A_header_without_data_is_refused()
    {
        var read = () => Read("a,b,label\n\n", new TableOptions { Label = "label" });
        read.Should().Throw<InvalidDataException>().WithMessage("t.csv: there are no data lines after the header; at least one is needed.");
    }

    [Fact]
    public void Duplicate_column_names_are_refused_naming_both_columns()
    {
        var read = () => Read("a,b,a\n1,2,3\n");
        read.Should().Throw<InvalidDataException>().WithMessage("t.csv: the header names column 1 and column 3 both \"a\"*unique*");
    }

    [Fact]
    public void Mixed_line_endings_read_as_lines()
    {
        var table = Read("a,label\r\n1,x\n2,y\r3,x\r\n\r\n4,y", new TableOptions { Label = "label" });
        table["a"].Numbers.Should().Equal(1, 2, 3, 4);
        Enumerable.Range(0, 4).Select(table.LineOf).Should().Equal(2, 3, 4, 6);
    }

    [Fact]
    public void Gzip_and_streams_read_the_same()
    {
        byte[] plain = Encoding.UTF8.GetBytes(Penguinish);
        var gz = new MemoryStream();
        using (var zip = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            zip.Write(plain);
        }

        var options = new TableOptions { Label = "species", Missing = MissingValuePolicy.MostFrequent };
        var fromGzip = CsvTable.Read(new MemoryStream(gz.ToArray()), "t.csv.gz", options);
        fromGzip["bill"].Numbers.Should().Equal(Read(Penguinish, options)["bill"].Numbers);
    }

    [Fact]
    public void Bad_options_name_the_problem()
    {
        ((Action)(() => Read(Penguinish, new TableOptions { Label = "kind" }))).Should().Throw<ArgumentException>().WithMessage("*\"kind\"*no such column*\"species\"*");
        ((Action)(() => Read(Penguinish, new TableOptions { Label = 9 }))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*5 columns*");
        ((Action)(() => Read(Penguinish, new TableOptions { Label = 0, Target = 1 }))).Should().Throw<ArgumentException>().WithMessage("*both set*");
        ((Action)(() => Read("a,b\n1,2\n", new TableOptions { HasHeader = false, Label = "a" }))).Should().Throw<ArgumentException>().WithMessage("*no header*");
        ((Action)(() => Read(Penguinish, new TableOptions
        {
            Label = 0,
            Missing = MissingValuePolicy.MostFrequent,
            Columns = [new ColumnOptions { Column = "bill" }, new ColumnOptions { Column = 2 }],
        }))).Should().Throw<ArgumentException>().WithMessage("*options.Columns[1]*again*");
    }

    [Fact]
    public void A_missing_label_is_always_an_error()
    {
        var read = () => Read("a,label\n1,x\n2,NA\n", new TableOptions { Label = "label", Missing = MissingValuePolicy.MostFrequent });
        read.Should().Throw<InvalidDataException>().WithMessage("t.csv, line 3, column 2 (\"label\"): \"NA\" is missing, but the label column cannot have missing values.");
    }

    [Fact]
    public void Whole_number_labels_sort_numerically()
    {
        Read("a,label\n1,10\n2,2\n3,1\n", new TableOptions { Label = "label" }).ClassNames.Should().Equal("1", "2", "10");
    }
}
