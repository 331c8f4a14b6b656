using System.Text;

namespace Backprop.Tests.Data.Tables;

public class TablePredictorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-table-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Text = """
        kind,"size (cm)",color,weight,note
        small,1.5,red,10,x
        big,7.25,blue,,y
        small,2,red,12,z
        big,8,green,30,
        medium,4,blue,20,w
        small,1,,9,v
        big,9.5,red,33,u
        medium,4.5,green,19,t
        """;

    private static readonly TableOptions Options = new()
    {
        Label = "kind",
        Columns =
        [
            new ColumnOptions { Column = "weight", Missing = MissingValuePolicy.Median, AddMissingIndicator = true },
            new ColumnOptions { Column = "color", Missing = MissingValuePolicy.MostFrequent },
            new ColumnOptions { Column = "note", Kind = ColumnKind.Ignored },
        ],
    };

    private static (TablePredictor<double> Predictor, DataTable Table) Trained()
    {
        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(Text)), "t.csv", Options);
        var pipeline = TablePipeline.Fit(table, options: Options);
        pipeline.Metadata["source"] = "a test";
        var network = new Network<double>(pipeline.FeatureCount, seed: 3, new Dense<double>(6, Activations.Tanh), new Dense<double>(3, Activations.Softmax));
        new Trainer<double>(network, Losses.CrossEntropy, new Adam(0.05)).Fit(pipeline.Transform<double>(table), pipeline.Labels(table), new FitOptions { Epochs = 30, BatchSize = 4 });
        return (new TablePredictor<double>(network, pipeline), table);
    }

    [Fact]
    public void Save_load_predict_from_raw_text_equals_predict_in_memory_bit_for_bit()
    {
        var (predictor, table) = Trained();
        string path = Path.Combine(_folder, "model.bpnn");
        predictor.Save(path);
        var loaded = TablePredictor<double>.Load(path);

        loaded.Pipeline.ClassNames.Should().Equal("big", "medium", "small");
        loaded.Pipeline.FeatureNames.Should().Equal(predictor.Pipeline.FeatureNames);
        loaded.Pipeline.Metadata.Should().ContainKey("source").WhoseValue.Should().Be("a test");
        var features = predictor.Pipeline.Transform<double>(table);
        var lines = Text.Split('\n').Skip(1).ToArray();
        for (int r = 0; r < table.RowCount; r++)
        {
            var inMemory = predictor.Network.Predict(features.Row(r).ToArray());
            var fromText = loaded.Predict(lines[r]);
            fromText.Values.Should().Equal(inMemory.Select(v => v), $"row {r}, bit for bit");
            loaded.Predict(lines[r]).Probabilities.Should().Equal(predictor.Predict(lines[r]).Probabilities);
        }

        loaded.Predict("big,9,red,31,anything").ClassName.Should().Be("big");
    }

    [Fact]
    public void A_row_by_name_by_feature_fields_and_as_a_line_agree()
    {
        var (predictor, _) = Trained();
        var byLine = predictor.Predict("medium, 4.2 ,\"green\",21,note");
        var byFeatures = predictor.Predict(["4.2", "green", "21"]);
        var byName = predictor.Predict(new Dictionary<string, string?> { ["size (cm)"] = "4.2", ["color"] = "green", ["weight"] = "21" });
        byFeatures.Probabilities.Should().Equal(byLine.Probabilities);
        byName.Probabilities.Should().Equal(byLine.Probabilities);
        byLine.Probabilities.Sum().Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Missing_values_and_unknown_categories_follow_each_column_policy()
    {
        var (predictor, _) = Trained();
        var filled = predictor.Predict(["4", "NA", ""]);
        var explicitFill = predictor.Predict(["4", predictor.Pipeline.Columns[1].FillCategory, predictor.Pipeline.Columns[2].FillNumber.ToString("R", System.Globalization.CultureInfo.InvariantCulture)]);
        filled.Probabilities.Should().NotEqual(explicitFill.Probabilities, "the weight indicator is 1 for a missing weight");
        predictor.Predict(["4", "purple", "20"]).Probabilities.Should().Equal(predictor.Predict(["4", "?", "20"]).Probabilities, "an unknown category is a missing value");

        var missingSize = () => predictor.Predict(["", "red", "20"]);
        missingSize.Should().Throw<ArgumentException>().WithMessage("The row's column 2 (\"size (cm)\"): \"\" is missing, and the column's missing-value policy is Error*");
        var text = () => predictor.Predict(["big", "red", "20"]);
        text.Should().Throw<ArgumentException>().WithMessage("*\"big\" is not a number*");
        var width = () => predictor.Predict(["1", "2"]);
        width.Should().Throw<ArgumentException>().WithMessage("The row has 2 fields*5 columns*3 feature columns*");
        var name = () => predictor.Predict(new Dictionary<string, string?> { ["colour"] = "red" });
        name.Should().Throw<ArgumentException>().WithMessage("row has the column \"colour\"*");
    }

    [Fact]
    public void An_unknown_category_is_an_error_under_the_error_policy()
    {
        var options = new TableOptions { Label = "kind", Columns = [new ColumnOptions { Column = "note", Kind = ColumnKind.Ignored }, new ColumnOptions { Column = "weight", Missing = MissingValuePolicy.Mean }] };
        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(Text.Replace("small,1,,9,v", "small,1,red,9,v", StringComparison.Ordinal))), "t.csv", options);
        var pipeline = TablePipeline.Fit(table, options: options);
        var predictor = new TablePredictor<double>(new Network<double>(pipeline.FeatureCount, new Dense<double>(3, Activations.Softmax)), pipeline);
        var unknown = () => predictor.Predict(["4", "purple", "20"]);
        unknown.Should().Throw<ArgumentException>().WithMessage("The row's column 3 (\"color\"): \"purple\" is a category not seen in training (\"blue\", \"green\", \"red\")*");
    }

    [Fact]
    public void A_plain_model_file_is_not_a_predictor_and_a_predictor_file_loads_as_a_network()
    {
        var (predictor, _) = Trained();
        var stream = new MemoryStream();
        predictor.Save(stream);
        var network = ModelFile.Load<double>(new MemoryStream(stream.ToArray()));
        network.Predict([0.1, 0, 0, 1, 0.2, 0]).Should().Equal(predictor.Network.Predict([0.1, 0, 0, 1, 0.2, 0]));

        var plain = new MemoryStream();
        ModelFile.Save(predictor.Network, plain);
        var load = () => TablePredictor<double>.Load(new MemoryStream(plain.ToArray()));
        load.Should().Throw<InvalidDataException>().WithMessage("*without a table pipeline*");
    }

    [Fact]
    public void Class_names_flow_to_the_confusion_matrix()
    {
        var (predictor, table) = Trained();
        var labels = predictor.Pipeline.Labels(table);
        var predicted = predictor.Network.PredictClasses(predictor.Pipeline.Transform<double>(table));
        var matrix = new ConfusionMatrix(labels, predicted, 3).WithClassNames(predictor.Pipeline.ClassNames);
        matrix.ToString().Should().Contain("medium").And.Contain("small");
    }

    [Fact]
    public void Predictions_from_many_threads_equal_those_from_one()
    {
        var (predictor, _) = Trained();
        var lines = Text.Split('\n').Skip(1).ToArray();
        var expected = lines.Select(l => predictor.Predict(l).Probabilities.ToArray()).ToArray();
        Parallel.For(0, 400, i => predictor.Predict(lines[i % lines.Length]).Probabilities.Should().Equal(expected[i % lines.Length]));
    }
}

public class TablePredictorFileDamageTests
{
    [Fact]
    public void Damaged_pipeline_blocks_re_signed_load_or_are_refused_as_invalid_data()
    {
        var options = new TableOptions { Label = "k", Missing = MissingValuePolicy.MostFrequent, Columns = [new ColumnOptions { Column = "c", AddMissingIndicator = true }] };
        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes("k,x,c\na,1,p\nb,2,q\na,,r\n")), "t.csv", options);
        var pipeline = TablePipeline.Fit(table, options: options);
        pipeline.Metadata["m"] = "v";
        var stream = new MemoryStream();
        new TablePredictor<double>(new Network<double>(pipeline.FeatureCount, new Dense<double>(2, Activations.Softmax)), pipeline).Save(stream);
        byte[] valid = stream.ToArray();
        var plain = new MemoryStream();
        ModelFile.Save(new Network<double>(pipeline.FeatureCount, new Dense<double>(2, Activations.Softmax)), plain);
        int pipelineStart = (int)plain.Length - 32;   // the same network's bytes come first
        var random = new DeterministicRandom(15);
        int loaded = 0, refused = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutant = (byte[])valid.Clone();
            for (int k = random.NextInt32(3); k >= 0; k--)
            {
                int at = pipelineStart + random.NextInt32(valid.Length - 32 - pipelineStart);
                mutant[at] = (byte)random.NextInt32(256);
            }

            System.Security.Cryptography.SHA256.HashData(mutant.AsSpan(0, mutant.Length - 32), mutant.AsSpan(mutant.Length - 32));
            try
            {
                var predictor = TablePredictor<double>.Load(new MemoryStream(mutant));
                predictor.Pipeline.FeatureCount.Should().Be(predictor.Network.InputSize);
                loaded++;
            }
            catch (InvalidDataException e)
            {
                e.Message.Should().NotBeNullOrWhiteSpace();
                refused++;
            }
        }

        refused.Should().BeGreaterThan(1000);
        (loaded + refused).Should().Be(2000);
    }
}
