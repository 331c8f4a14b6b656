using System.Globalization;
using System.Text;
using Backprop.Tests.Serialization;

namespace Backprop.Tests.Data.Tables;

/// <summary>
/// The promise for model files with a table pipeline (format version 2, flag bit 1): the golden file under
/// Serialization/Golden/, written by <see cref="Generate"/>, loads in every later version and predicts its recorded raw
/// rows bit for bit. Run the tests with BACKPROP_REGENERATE_GOLDEN_PIPELINE=1 to rewrite it — only for a new pipeline
/// format, never to make this test pass.
/// </summary>
public class GoldenPipelineTests
{
    private const string ModelName = "golden-v2-pipeline.bpnn";
    private const string ExpectedName = "golden-v2-pipeline-expected.txt";

    private static readonly string[] Rows =
    [
        "a,1.5,red,10,x",
        "b,7.25,blue,14,y",
        "c,2,,12,z",
        "a,8,purple,30,",
        "b,NA,blue,20,w",
    ];

    [Fact]
    public void The_golden_pipeline_file_loads_and_predicts_its_recorded_raw_rows()
    {
        if (Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN_PIPELINE") == "1")
        {
            Generate(GoldenFiles.SourceFolder());
        }

        string folder = Path.Combine(AppContext.BaseDirectory, "Serialization", "Golden");
        var predictor = TablePredictor<double>.Load(Path.Combine(folder, ModelName));
        predictor.Pipeline.ClassNames.Should().Equal("a", "b", "c");
        predictor.Pipeline.FeatureNames.Should().Equal("size (cm)", "size (cm) (missing)", "color=blue", "color=green", "color=red", "color (missing)", "weight");
        predictor.Pipeline.Metadata.Should().Equal(new Dictionary<string, string> { ["purpose"] = "golden file", ["ünïcode"] = "✓" });
        var expected = File.ReadAllLines(Path.Combine(folder, ExpectedName)).Where(l => !l.StartsWith('#')).ToArray();
        expected.Should().HaveCount(Rows.Length);
        for (int r = 0; r < Rows.Length; r++)
        {
            Format(predictor.Predict(Rows[r]).Values).Should().Be(expected[r], $"row {r}: {Rows[r]}");
        }
    }

    private static string Format(IReadOnlyList<double> values) => string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Trains a small classifier behind a pipeline with every kind of column and policy, and writes it with the
    /// outputs it predicts for <see cref="Rows"/>.</summary>
    private static void Generate(string folder)
    {
        const string Text = """
            kind,size (cm),color,weight,note
            a,1.5,red,10,x
            b,7.25,blue,11,y
            c,2,red,12,z
            a,8,green,30,
            b,4,blue,20,w
            c,1,,9,v
            a,,red,33,u
            b,4.5,green,19,t
            """;
        var options = new TableOptions
        {
            Label = "kind",
            Columns =
            [
                new ColumnOptions { Column = "size (cm)", Missing = MissingValuePolicy.Median, AddMissingIndicator = true },
                new ColumnOptions { Column = "color", Missing = MissingValuePolicy.MostFrequent, AddMissingIndicator = true },
                new ColumnOptions { Column = "note", Kind = ColumnKind.Ignored },
            ],
        };
        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(Text)), "golden.csv", options);
        var pipeline = TablePipeline.Fit(table, NumericScaling.Standardize, options);
        pipeline.Metadata["purpose"] = "golden file";
        pipeline.Metadata["ünïcode"] = "✓";
        var network = new Network<double>(pipeline.FeatureCount, seed: 11, new Dense<double>(5, Activations.Tanh), new Dense<double>(3, Activations.Softmax));
        new Trainer<double>(network, Losses.CrossEntropy, new Adam(0.05)).Fit(pipeline.Transform<double>(table), pipeline.Labels(table), new FitOptions { Epochs = 10, BatchSize = 4, Seed = 1 });
        var predictor = new TablePredictor<double>(network, pipeline);
        predictor.Save(Path.Combine(folder, ModelName));
        File.WriteAllLines(Path.Combine(folder, ExpectedName),
            ["# The outputs (round-trip formatted) the golden pipeline model predicts for GoldenPipelineTests.Rows, one row per line.", .. Rows.Select(r => Format(predictor.Predict(r).Values))]);
    }
}
