using System.Numerics;
using Backprop.Tests.Serialization;
using Backprop.Tests.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Layers;

public class EmbeddingTests
{
    /// <summary>rows × columns of inputs: at each id column an integer id drawn in [0, its vocabulary), elsewhere a value in [−1, 1].</summary>
    internal static Matrix<T> Ids<T>(int rows, int columns, IReadOnlyDictionary<int, int> vocabularyOf, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(seed);
        return Matrix<T>.Build.Dense(rows, columns, (_, c) => vocabularyOf.TryGetValue(c, out int v)
            ? T.CreateChecked(Math.Min(v - 1, (int)(random.NextDouble() * v)))
            : T.CreateChecked(2 * random.NextDouble() - 1));
    }

    // Two tables: 5 × 3 shared by columns 0 and 2, 4 × 2 for column 3; columns 1 and 4 pass through.
    private static Embedding<T> Mixed<T>()
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new([new EmbeddingTable(5, 3, 2, 0), new EmbeddingTable(4, 2, 3)]);

    private static readonly Dictionary<int, int> MixedVocabularies = new() { [0] = 5, [2] = 5, [3] = 4 };

    [Fact]
    public void Forward_looks_up_each_id_column_in_column_order_and_passes_the_other_columns_after_the_vectors()
    {
        var layer = Mixed<double>();
        _ = new Network<double>(5, seed: 3, layer, new Dense<double>(2));
        layer.OutputShape.Should().Be(new TensorShape(3 + 3 + 2 + 2));
        var x = Ids<double>(7, 5, MixedVocabularies, seed: 4);
        double[] input = x.ToRowMajorArray();
        var output = new double[7 * 10];
        layer.Forward(input, [], output, 7, training: true);

        double[] first = layer.GetTable(0).Values.ToArray(), second = layer.GetTable(1).Values.ToArray();
        for (int r = 0; r < 7; r++)
        {
            var expected = new List<double>();
            expected.AddRange(first.Skip((int)x[r, 0] * 3).Take(3));     // column 0, table 0
            expected.AddRange(first.Skip((int)x[r, 2] * 3).Take(3));     // column 2, table 0
            expected.AddRange(second.Skip((int)x[r, 3] * 2).Take(2));    // column 3, table 1
            expected.Add(x[r, 1]);
            expected.Add(x[r, 4]);
            output.Skip(r * 10).Take(10).Should().Equal(expected, $"row {r}");
        }
    }

    [Fact]
    public void A_table_of_every_column_turns_a_sequence_of_ids_into_a_sequence_of_vectors()
    {
        var layer = new Embedding<float>(vocabularySize: 6, width: 4);
        var network = new Network<float>(TensorShape.Sequence(2, 3), seed: 1, layer);
        layer.OutputShape.Should().Be(new TensorShape(2, 3, 4));
        network.OutputSize.Should().Be(24);
        float[] ids = [5, 0, 3, 3, 1, 2];
        float[] output = network.Predict(ids);
        var table = layer.GetTable(0).Values.ToArray();
        output.Should().Equal(ids.SelectMany(id => table.Skip((int)id * 4).Take(4)));
        table.Should().OnlyContain(v => v >= -0.05f && v <= 0.05f, "the tables start uniform in [−0.05, 0.05] as Keras's");
        table.Distinct().Should().HaveCountGreaterThan(20);
    }

    [Theory]
    [InlineData(2.5, "2.5")]
    [InlineData(-1.0, "-1")]
    [InlineData(5.0, "5")]
    [InlineData(1e9, "1000000000")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void An_id_that_is_not_an_integer_in_the_vocabulary_is_named_with_its_row_and_column(double bad, string shown)
    {
        var layer = Mixed<double>();
        _ = new Network<double>(5, layer);
        var x = Ids<double>(3, 5, MixedVocabularies, seed: 2).ToRowMajorArray();
        x[1 * 5 + 2] = bad;
        var output = new double[3 * 10];

        foreach (bool training in new[] { true, false })
        {
            var act = () => layer.Forward(x, [], output, 3, training);
            act.Should().Throw<ArgumentException>()
                .WithMessage($"Row 1, column 2: the id {shown} is not an integer in [0, 5) (the vocabulary of embedding table 0).*");
        }
    }

    [Fact]
    public void Predict_names_the_row_of_its_input_also_past_its_first_chunk_and_on_many_threads()
    {
        var network = new Network<float>(5, seed: 1, Mixed<float>(), new Dense<float>(3));
        var x = Ids<float>(600, 5, MixedVocabularies, seed: 8);
        x[433, 3] = 4;   // table 1 has 4 ids: 0 … 3
        Parallel.For(0, 8, _ =>
        {
            var act = () => network.Predict(x);
            act.Should().Throw<ArgumentException>().WithMessage("Row 433, column 3: the id 4 is not an integer in [0, 4) (the vocabulary of embedding table 1).*");
        });

        x[433, 3] = 3;
        network.Predict(x).RowCount.Should().Be(600);
    }

    [Fact]
    public void Predict_on_two_threads_names_the_first_invalid_row_as_one_thread_does()
    {
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = new Network<float>(5, seed: 1, Mixed<float>(), new Dense<float>(3)) { Context = context, MaxDegreeOfParallelism = 2 };
        var x = Ids<float>(1500, 5, MixedVocabularies, seed: 8);
        x[1400, 3] = 4;   // table 1 has 4 ids: 0 … 3
        x[433, 3] = 9;
        x[1100, 3] = 5;
        for (int i = 0; i < 20; i++)
        {
            var act = () => network.Predict(x);
            act.Should().Throw<ArgumentException>().WithMessage("Row 433, column 3: the id 9 is not an integer in [0, 4) (the vocabulary of embedding table 1).*");
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 3, 2)]
    [InlineData(7, 3, 2)]
    [InlineData(7, 5, 3)]
    [InlineData(7, 1, 5)]
    public void Table_gradients_match_finite_differences(int rows, int vocabulary, int width)
    {
        // Ids repeat within a row and across rows (7 rows over 1–5 ids), so the scatter-add sums several rows into one.
        var layer = new Embedding<double>([new EmbeddingTable(vocabulary, width, 0, 2), new EmbeddingTable(vocabulary + 2, width + 1, 3)]);
        var network = new Network<double>(5, seed: rows + vocabulary, layer, new Dense<double>(3, Activations.Tanh), new Dense<double>(2));
        var vocabularies = new Dictionary<int, int> { [0] = vocabulary, [2] = vocabulary, [3] = vocabulary + 2 };
        var x = Ids<double>(rows, 5, vocabularies, seed: width);
        var y = TestData.Random<double>(rows, 2, seed: 9);

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y, new GradientCheckOptions { CheckInputs = false });

        report.Entries.Where(e => e.LayerIndex == 0).Select(e => e.Parameter).Should().Equal("table0", "table1");
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    [Fact]
    public void Every_column_gradients_match_finite_differences()
    {
        var network = new Network<double>(TensorShape.Sequence(3, 2), seed: 4, new Embedding<double>(4, 3), new Dense<double>(2, Activations.Tanh));
        var x = Ids<double>(7, 6, Enumerable.Range(0, 6).ToDictionary(c => c, _ => 4), seed: 3);
        var y = TestData.Random<double>(7, 2, seed: 5);

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y, new GradientCheckOptions { CheckInputs = false });

        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    [Fact]
    public void The_input_gradient_is_zero_at_the_ids_and_the_error_at_the_pass_through_columns()
    {
        var layer = Mixed<double>();
        _ = new Network<double>(5, layer);
        var x = Ids<double>(2, 5, MixedVocabularies, seed: 2).ToRowMajorArray();
        double[] delta = Enumerable.Range(1, 20).Select(i => (double)i).ToArray();
        var dx = Enumerable.Repeat(double.NaN, 10).ToArray();

        layer.Backpropagate(x, delta, dx, 2);

        dx.Should().Equal(0, 9, 0, 0, 10, 0, 19, 0, 0, 20);
    }

    [Fact]
    public void Table_gradients_are_the_sums_of_the_errors_of_each_id()
    {
        var layer = new Embedding<double>(3, 2);
        _ = new Network<double>(2, layer);
        double[] x = [1, 1, 2, 1];
        double[] delta = [1, 2, 3, 4, 5, 6, 7, 8];

        layer.Backpropagate(x, delta, [], 2);

        // id 0: nothing; id 1: rows 0 (twice) and 1 (second column); id 2: row 1's first column.
        layer.GetTable(0).Gradients.ToArray().Should().Equal(0, 0, 1 + 3 + 7, 2 + 4 + 8, 5, 6);
    }

    [Fact]
    public void A_training_step_allocates_nothing_in_steady_state()
    {
        var network = new Network<float>(5, seed: 1, Mixed<float>(), new Dense<float>(16, Activations.ReLU), new Dense<float>(3, Activations.Softmax));
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Adam(0.01));
        float[] x = Ids<float>(16, 5, MixedVocabularies, seed: 3).ToRowMajorArray();
        var y = new float[16 * 3];
        for (int r = 0; r < 16; r++)
        {
            y[r * 3 + r % 3] = 1;
        }

        AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(x, y)).Should().Be(0);
    }

    private static double[][] Train(int threads)
    {
        var vocabularies = new Dictionary<int, int> { [0] = 50, [1] = 50, [5] = 20 };
        var network = new Network<float>(12, seed: 9,
            new Embedding<float>([new EmbeddingTable(50, 24, 0, 1), new EmbeddingTable(20, 16, 5)]),
            new Dense<float>(160, Activations.ReLU),
            new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        var x = Ids<float>(256, 12, vocabularies, seed: 5);
        int[] labels = Enumerable.Range(0, 256).Select(i => (int)x[i, 0] % 10).ToArray();
        new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9))
            .Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 64, Seed = 1 });
        return TrainerTests.Snapshot(network);
    }

    [Fact]
    public void Training_is_bit_identical_with_one_or_two_threads()
    {
        var one = Train(1);
        var two = Train(2);
        for (int i = 0; i < one.Length; i++)
        {
            two[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(one[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i}");
        }
    }

    private static Network<double> SmallNetwork() => new(5, seed: 11,
        new Embedding<double>([new EmbeddingTable(5, 3, 2, 0), new EmbeddingTable(4, 2, 3)], Initializers.Uniform(0.5)),
        new Dense<double>(6, Activations.Tanh),
        new Dropout<double>(0.2, seed: 4),
        new Dense<double>(3, Activations.Softmax));

    [Fact]
    public void Save_and_load_predict_bit_identically_and_a_checkpoint_resumes_exactly()
    {
        var x = Ids<double>(40, 5, MixedVocabularies, seed: 6);
        int[] labels = Enumerable.Range(0, 40).Select(i => (int)x[i, 3] % 3).ToArray();

        var uninterrupted = new Trainer<double>(SmallNetwork(), Losses.CrossEntropy, new Adam(0.02));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 4, BatchSize = 8, Seed = 2 });

        var first = new Trainer<double>(SmallNetwork(), Losses.CrossEntropy, new Adam(0.02));
        first.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 2 });
        using var model = new MemoryStream();
        first.Network.Save(model);
        model.Position = 0;
        var loaded = Network<double>.Load(model);
        loaded.ToString().Should().Be(first.Network.ToString());
        loaded.Predict(x).Should().Be(first.Network.Predict(x));
        ((Embedding<double>)loaded.Layers[0]).Initializer.Should().BeEquivalentTo(Initializers.Uniform(0.5));

        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<double>(checkpoint);
        resumed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 2 });

        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, "every parameter");
    }

    [Fact]
    public void Every_constructor_survives_a_save()
    {
        foreach (var layer in new Embedding<float>[]
        {
            new(7, 2),
            new(7, 2, [1, 3], shared: true),
            new(7, 2, [1, 3], shared: false),
            new([new EmbeddingTable(3, 1, 0), new EmbeddingTable(9, 4, 4, 2)]),
        })
        {
            var network = new Network<float>(5, seed: 2, layer, new Dense<float>(2));
            using var stream = new MemoryStream();
            network.Save(stream);
            stream.Position = 0;
            var loaded = Network<float>.Load(stream);
            loaded.ToString().Should().Be(network.ToString());
            var x = Ids<float>(4, 5, Enumerable.Range(0, 5).ToDictionary(c => c, _ => 3), seed: 1);
            loaded.Predict(x).Should().Be(network.Predict(x));
        }

        new Embedding<float>(7, 2, [1, 3], shared: false).ToString().Should().Be("Embedding(7×2 for columns 1; 7×2 for columns 3)");
    }

    [Fact]
    public void Onnx_export_runs_in_onnx_runtime_as_predict()
    {
        var mixed = new Network<float>(5, seed: 3, Mixed<float>(), new Dense<float>(4, Activations.ReLU));
        OnnxExportTests.CompareWithOnnxRuntime(mixed, Ids<float>(9, 5, MixedVocabularies, seed: 2), 1e-5);

        // Interleaved tables (runs of columns 0, 1 | 2 | 3, 4 by table), no pass-through column, the embedding last.
        var interleaved = new Network<float>(5, seed: 3, new Embedding<float>([new EmbeddingTable(6, 2, 0, 1, 3, 4), new EmbeddingTable(3, 5, 2)]));
        OnnxExportTests.CompareWithOnnxRuntime(interleaved, Ids<float>(9, 5, new Dictionary<int, int> { [0] = 6, [1] = 6, [2] = 3, [3] = 6, [4] = 6 }, seed: 4), 0);

        var sequence = new Network<float>(TensorShape.Sequence(2, 2), seed: 3, new Embedding<float>(8, 3), new Dense<float>(2));
        OnnxExportTests.CompareWithOnnxRuntime(sequence, Ids<float>(5, 4, Enumerable.Range(0, 4).ToDictionary(c => c, _ => 8), seed: 6), 1e-5);
    }

    [Fact]
    public void A_column_outside_the_input_fails_when_the_network_is_built()
    {
        var act = () => new Network<float>(TensorShape.Image(1, 2, 2), new Dense<float>(4), new Embedding<float>(3, 2, [1, 4]));
        act.Should().Throw<ArgumentException>().WithMessage("layers[1] (Embedding(3×2 for columns 1, 4)) cannot take its input of shape 4: table 0 maps column 4, but the input has only 4 columns*");
    }

    [Fact]
    public void Bad_settings_fail_in_the_constructor()
    {
        FluentActions.Invoking(() => new Embedding<float>(0, 2)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new Embedding<float>(3, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new Embedding<float>(3, 2, [])).Should().Throw<ArgumentException>().WithMessage("columns must name at least one*");
        FluentActions.Invoking(() => new Embedding<float>(3, 2, [1, -1])).Should().Throw<ArgumentException>().WithMessage("columns[1] must be a column index of at least 0, but it is -1.*");
        FluentActions.Invoking(() => new Embedding<float>(3, 2, [1, 1])).Should().Throw<ArgumentException>().WithMessage("columns names column 1 twice*");
        FluentActions.Invoking(() => new Embedding<float>([new EmbeddingTable(3, 2, 1), new EmbeddingTable(4, 2, 0, 1)]))
            .Should().Throw<ArgumentException>().WithMessage("Column 1 is mapped by tables[0] and tables[1]*");
        FluentActions.Invoking(() => new Embedding<float>([])).Should().Throw<ArgumentException>().WithMessage("tables must hold at least one table*");
    }
}
