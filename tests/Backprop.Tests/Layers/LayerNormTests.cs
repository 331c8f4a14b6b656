using System.Globalization;
using Backprop.Tests.Serialization;
using Xunit.Abstractions;
using static Backprop.Tests.Layers.NormalizationTestKit;

namespace Backprop.Tests.Layers;

public sealed class LayerNormTests(ITestOutputHelper output)
{
    public static TheoryData<int[]> Shapes => new()
    {
        new[] { 5 },
        new[] { 3, 7 },
        new[] { 2, 3, 5 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_normalises_each_row_of_the_last_dimension_as_computed_by_hand_in_training_and_inference(int[] dimensions)
    {
        var shape = new TensorShape(dimensions);
        var layer = new LayerNorm<double>(epsilon: 1e-4);
        var network = new Network<double>(shape, seed: 1, layer);
        Randomize(network, seed: 2);
        const int rows = 3;
        var x = TestData.Random<double>(rows, shape.Size, seed: 3, scale: 4);
        double[] flat = x.ToRowMajorArray();
        var expected = LayerNorm(flat, dimensions[^1], layer.Parameters[0].ValueArray, layer.Parameters[1].ValueArray, 1e-4);

        var predicted = network.Predict(x).ToRowMajorArray();
        var trained = new double[flat.Length];
        layer.Forward(flat, new double[rows * layer.SavedForBackwardSize], trained, rows, training: true);

        for (int i = 0; i < flat.Length; i++)
        {
            predicted[i].Should().BeApproximately(expected[i], 1e-12, $"value {i}");
        }

        trained.Should().Equal(predicted, "layer normalisation is the same in training");
    }

    public static TheoryData<int[], int> CheckCases => new()
    {
        { new[] { 3 }, 1 },
        { new[] { 5 }, 7 },
        { new[] { 3, 5 }, 1 },
        { new[] { 5, 3 }, 7 },
        { new[] { 3, 3, 5 }, 1 },
        { new[] { 1, 5, 3 }, 7 },
    };

    [Theory]
    [MemberData(nameof(CheckCases))]
    public void The_gradient_check_passes(int[] dimensions, int rows)
    {
        var network = new Network<double>(new TensorShape(dimensions), seed: 4, new LayerNorm<double>(), new Dense<double>(3, Activations.Tanh));
        Randomize(network, seed: 5);
        var x = TestData.Random<double>(rows, network.InputSize, seed: 6, scale: 2);
        var y = TestData.Random<double>(rows, 3, seed: 7);

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);
        var (worst, where) = TrainingModeCheck(network, Losses.MeanSquaredError, x, y);

        output.WriteLine(report.ToString());
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
        worst.Should().BeLessThan(1e-6, where);
    }

    [Fact]
    public void A_dense_layer_in_front_gets_the_right_error()
    {
        var network = new Network<double>(4, seed: 6, new Dense<double>(7, Activations.Tanh), new LayerNorm<double>(), new Dense<double>(2));
        Randomize(network, seed: 7);
        var report = GradientCheck.Run(network, Losses.MeanSquaredError, TestData.Random<double>(7, 4, seed: 1, scale: 2), TestData.Random<double>(7, 2, seed: 2));
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Training_allocates_nothing_and_is_bit_identical_with_one_or_two_threads(int threads)
    {
        Network<float> Make(int t) => new(TensorShape.Sequence(6, 8), seed: 3,
            new LayerNorm<float>(), new Dense<float>(96, Activations.ReLU), new LayerNorm<float>(), new Dense<float>(4, Activations.Softmax))
        {
            MaxDegreeOfParallelism = t,
        };

        LayerTrainingChecks.AllocatesNothingAndIsBitIdentical(Make, threads, inputWidth: 48, epochs: 3);
    }

    [Fact]
    public void Save_load_and_checkpoint_resume_are_exact()
    {
        var x = TestData.Random<double>(40, 15, seed: 2, scale: 3);
        int[] labels = Enumerable.Range(0, 40).Select(i => i % 3).ToArray();
        Network<double> Make() => new(TensorShape.Sequence(3, 5), seed: 3, new LayerNorm<double>(), new Dense<double>(8, Activations.Tanh), new LayerNorm<double>(1e-3), new Dense<double>(3, Activations.Softmax));

        var uninterrupted = new Trainer<double>(Make(), Losses.CrossEntropy, new Adam(0.01));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 4, BatchSize = 8, Seed = 5 });
        var first = new Trainer<double>(Make(), Losses.CrossEntropy, new Adam(0.01));
        first.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 5 });
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<double>(checkpoint);
        resumed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 5 });
        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, "every parameter");

        using var stream = new MemoryStream();
        uninterrupted.Network.Save(stream);
        stream.Position = 0;
        var loaded = Network<double>.Load(stream);
        loaded.ToString().Should().Be(uninterrupted.Network.ToString());
        loaded.Predict(x).Should().Be(uninterrupted.Network.Predict(x));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_onnx_export_runs_in_onnx_runtime_as_predict(int[] dimensions)
    {
        var network = new Network<float>(new TensorShape(dimensions), seed: 2,
            new LayerNorm<float>(), new Dense<float>(6, Activations.ReLU), new LayerNorm<float>(epsilon: 1e-3), new Dense<float>(3, Activations.Softmax));
        Randomize(network, seed: 3);
        var x = TestData.Random<float>(9, network.InputSize, seed: 4, scale: 3);

        double difference = OnnxExportTests.CompareWithOnnxRuntime(network, x, 1e-5);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void A_last_dimension_of_one_value_fails_when_the_network_is_built() =>
        FluentActions.Invoking(() => new Network<float>(TensorShape.Sequence(4, 1), new LayerNorm<float>()))
            .Should().Throw<ArgumentException>()
            .WithMessage("layers[0] (LayerNorm(epsilon 1E-05)) cannot take its input of shape 4×1: LayerNorm normalises over the last dimension, which must hold at least 2 values, but the input shape is 4×1*");

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void An_invalid_epsilon_throws_naming_it(double epsilon) =>
        FluentActions.Invoking(() => new LayerNorm<double>(epsilon)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epsilon");

    [Fact]
    public void Describes_its_parameters()
    {
        var layer = new LayerNorm<float>();
        var network = new Network<float>(TensorShape.Image(2, 3, 4), layer);
        layer.NormalizedSize.Should().Be(4);
        layer.Parameters.Select(p => p.Name).Should().Equal("gamma", "beta");
        layer.Parameters[0].Values.ToArray().Should().Equal(1f, 1f, 1f, 1f);
        layer.Parameters[1].Values.ToArray().Should().Equal(0f, 0f, 0f, 0f);
        layer.SavedForBackwardSize.Should().Be(24 + 6);
        network.ParameterCount.Should().Be(8);
    }
}
