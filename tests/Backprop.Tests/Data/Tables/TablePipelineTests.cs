using System.Text;

namespace Backprop.Tests.Data.Tables;

public class TablePipelineTests
{
    private static DataTable Read(string text, TableOptions options) =>
        CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t.csv", options);

    [Fact]
    public void Standardises_with_the_population_deviation_and_min_max_scales_from_the_training_rows()
    {
        var table = Read("x,y\n1,a\n2,b\n3,a\n6,b\n", new TableOptions { Label = "y" });
        var standard = TablePipeline.Fit(table);
        double mean = 3, sd = Math.Sqrt((4 + 1 + 0 + 9) / 4.0);
        standard.Transform<double>(table).Column(0).ToArray().Should().Equal((1 - mean) / sd, (2 - mean) / sd, (3 - mean) / sd, (6 - mean) / sd);
        TablePipeline.Fit(table, NumericScaling.MinMax).Transform<double>(table).Column(0).ToArray().Should().Equal(0, 0.2, 0.4, 1);
        standard.Labels(table).Should().Equal(0, 1, 0, 1);
        standard.ClassNames.Should().Equal("a", "b");
    }

    [Fact]
    public void Test_rows_do_not_shift_the_scaler_no_leakage()
    {
        var table = Read("x,c,y\n1,p,a\n2,q,b\n3,p,a\n4,q,b\n100,r,a\n200,r,b\n", new TableOptions { Label = "y" });
        var train = table.SelectRows([0, 1, 2, 3]);
        var test = table.SelectRows([4, 5]);
        var pipeline = TablePipeline.Fit(train);
        pipeline.Columns[0].Center.Should().Be(2.5, "the mean of the training rows alone");
        pipeline.Columns[0].Scale.Should().Be(Math.Sqrt(1.25));
        pipeline.Columns[1].Categories.Should().Equal("p", "q");

        // Fitting on everything would move the centre; transforming test rows must not.
        var before = pipeline.Transform<double>(train);
        var onTest = () => pipeline.Transform<double>(test);
        onTest.Should().Throw<InvalidDataException>().WithMessage("t.csv, line 6, column 2 (\"c\"): \"r\" is a category not seen in training*");
        pipeline.Columns[0].Center.Should().Be(2.5);
        pipeline.Transform<double>(train).Should().Be(before);
        TablePipeline.Fit(table).Columns[0].Center.Should().NotBe(2.5, "the check above could fail");
    }

    [Fact]
    public void An_unknown_category_follows_the_column_policy()
    {
        var options = new TableOptions { Label = "y", Columns = [new ColumnOptions { Column = "c", Missing = MissingValuePolicy.MostFrequent, AddMissingIndicator = true }] };
        var table = Read("c,y\np,a\nq,b\nq,a\nzz,b\n", options);
        var pipeline = TablePipeline.Fit(table.SelectRows([0, 1, 2]), options: options);
        pipeline.Transform<double>(table.SelectRows([3])).Row(0).ToArray().Should().Equal(0, 1, 1);
    }

    [Fact]
    public void A_label_never_seen_in_training_is_named_with_its_line()
    {
        var table = Read("x,y\n1,a\n2,b\n3,c\n", new TableOptions { Label = "y" });
        var pipeline = TablePipeline.Fit(table.SelectRows([0, 1]));
        var labels = () => pipeline.Labels(table);
        labels.Should().Throw<InvalidDataException>().WithMessage("t.csv, line 4, column 2 (\"y\"): \"c\" is a class not seen in training (the classes are \"a\", \"b\").");
    }

    [Fact]
    public void Split_is_stratified_by_label()
    {
        var text = new StringBuilder("x,y\n");
        for (int i = 0; i < 40; i++)
        {
            text.Append(i).Append(',').Append(i % 4 == 0 ? "rare" : "common").Append('\n');
        }

        var split = Read(text.ToString(), new TableOptions { Label = "y" }).Split(0.25, seed: 3);
        split.Test.RowCount.Should().Be(10);
        split.Test.Label!.Texts!.Count(t => t == "rare").Should().BeInRange(2, 3, "a quarter of the 10 rare rows");
        split.Train.RowCount.Should().Be(30);
    }
}
