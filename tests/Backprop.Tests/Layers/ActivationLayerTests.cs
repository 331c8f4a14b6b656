using System.Globalization;
using Backprop.Tests.Serialization;
using Xunit.Abstractions;
using static Backprop.Tests.Layers.NormalizationTestKit;

namespace Backprop.Tests.Layers;

public sealed class ActivationLayerTests(ITestOutputHelper output)
{
    public static TheoryData<string> ActivationNames => new() { "relu", "tanh", "sigmoid", "gelu", "softmax" };

    private static IActivation ByName(string name) => name switch
    {
        "relu" => Activations.ReLU,
        "tanh" => Activations.Tanh,
        "sigmoid" => Activations.Sigmoid,
        "gelu" => Activations.GELU,
        "softmax" => Activations.Softmax,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "an activation the tests know"),
    };

    // Plainly written: f applied value by value, or softmax over all of a sample's values.
    private static double[] Reference(string name, double[] x, int width)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / width; r++)
        {
            var row = x.AsSpan(r * width, width);
            if (name == "softmax")
            {
                double max = double.NegativeInfinity;
                foreach (double v in row)
                {
                    max = Math.Max(max, v);
                }

                double sum = 0;
                foreach (double v in row)
                {
                    sum += Math.Exp(v - max);
                }

                for (int i = 0; i < width; i++)
                {
                    y[r * width + i] = Math.Exp(row[i] - max) / sum;
                }

                continue;
            }

            for (int i = 0; i < width; i++)
            {
                double v = row[i];
                y[r * width + i] = name switch
                {
                    "relu" => Math.Max(0, v),
                    "tanh" => Math.Tanh(v),
                    "sigmoid" => 1 / (1 + Math.Exp(-v)),
                    _ => double.NaN,
                };
            }
        }

        return y;
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    [InlineData("softmax")]
    public void Forward_applies_the_activation_to_every_value_of_a_sample_of_any_shape(string name)
    {
        var shape = TensorShape.Image(2, 3, 5);
        var network = new Network<double>(shape, seed: 1, new ActivationLayer<double>(ByName(name)));
        var x = TestData.Random<double>(4, shape.Size, seed: 2, scale: 3);

        network.OutputShape.Should().Be(shape);
        double[] predicted = network.Predict(x).ToRowMajorArray();
        double[] expected = Reference(name, x.ToRowMajorArray(), shape.Size);
        for (int i = 0; i < expected.Length; i++)
        {
            predicted[i].Should().BeApproximately(expected[i], 1e-14, $"value {i}");
        }
    }

    [Theory]
    [InlineData("relu", 1)]
    [InlineData("tanh", 7)]
    [InlineData("sigmoid", 1)]
    [InlineData("gelu", 7)]
    [InlineData("softmax", 7)]
    public void The_gradient_check_passes_between_a_convolution_and_batch_normalisation(string name, int rows)
    {
        // The block it exists for: a convolution without activation, batch normalisation, then the non-linearity.
        var network = new Network<double>(TensorShape.Image(2, 5, 4), seed: 3,
            new Conv2D<double>(3, 3, 3, padding: Padding.Same),
            new BatchNorm<double>(),
            new ActivationLayer<double>(ByName(name)),
            new Dense<double>(3, Activations.Tanh));
        Randomize(network, seed: 4);
        var x = TestData.Random<double>(rows, network.InputSize, seed: 5, scale: 2);
        var y = TestData.Random<double>(rows, 3, seed: 6);

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);
        var (worst, where) = TrainingModeCheck(network, Losses.MeanSquaredError, x, y);

        output.WriteLine(report.ToString());
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
        worst.Should().BeLessThan(1e-6, where);
    }

    [Fact]
    public void A_softmax_layer_at_the_end_trains_exactly_as_a_dense_softmax_layer_fused_with_cross_entropy()
    {
        var x = TestData.Random<double>(24, 6, seed: 1, scale: 2);
        int[] labels = Enumerable.Range(0, 24).Select(i => i % 3).ToArray();
        var fused = new Network<double>(6, seed: 2, new Dense<double>(5, Activations.Tanh), new Dense<double>(3, Activations.Softmax));
        var split = new Network<double>(6, seed: 2, new Dense<double>(5, Activations.Tanh), new Dense<double>(3), new ActivationLayer<double>(Activations.Softmax));
        var a = new Trainer<double>(fused, Losses.CrossEntropy, new Sgd(0.1));
        var b = new Trainer<double>(split, Losses.CrossEntropy, new Sgd(0.1));

        b.IsLossFused.Should().BeTrue("the last layer's activation is softmax and the loss cross-entropy");
        a.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 3 });
        b.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 3 });

        var expected = Training.TrainerTests.Snapshot(fused);
        var actual = Training.TrainerTests.Snapshot(split);
        actual.Should().HaveCount(expected.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Training_allocates_nothing_and_is_bit_identical_with_one_or_two_threads(int threads)
    {
        Network<float> Make(int t) => new(TensorShape.Image(1, 8, 8), seed: 3,
            new Conv2D<float>(8, 3, 3, padding: Padding.Same), new BatchNorm<float>(), new ActivationLayer<float>(Activations.ReLU),
            new MaxPool2D<float>(2), new Dense<float>(4), new ActivationLayer<float>(Activations.Softmax))
        {
            MaxDegreeOfParallelism = t,
        };

        LayerTrainingChecks.AllocatesNothingAndIsBitIdentical(Make, threads, inputWidth: 64, epochs: 2);
    }

    [Fact]
    public void Save_and_load_keep_the_activation_and_predict_the_same()
    {
        var network = new Network<double>(TensorShape.Image(1, 4, 4), seed: 5,
            new Conv2D<double>(2, 3, 3), new ActivationLayer<double>(new LeakyReLU(0.2)), new Dense<double>(3), new ActivationLayer<double>(Activations.Softmax));
        Randomize(network, seed: 6);
        var x = TestData.Random<double>(5, 16, seed: 7, scale: 2);

        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        var loaded = Network<double>.Load(stream);

        loaded.ToString().Should().Be(network.ToString());
        loaded.Layers[1].Should().BeOfType<ActivationLayer<double>>().Which.Activation.Should().BeOfType<LeakyReLU>().Which.Alpha.Should().Be(0.2);
        loaded.Predict(x).Should().Be(network.Predict(x));
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void The_onnx_export_runs_in_onnx_runtime_as_predict(string name)
    {
        var network = new Network<float>(TensorShape.Image(2, 4, 4), seed: 2,
            new Conv2D<float>(3, 3, 3, padding: Padding.Same), new BatchNorm<float>(), new ActivationLayer<float>(ByName(name)),
            new Dense<float>(4), new ActivationLayer<float>(Activations.Softmax));
        Randomize(network, seed: 3);
        var x = TestData.Random<float>(6, network.InputSize, seed: 4, scale: 2);

        double difference = OnnxExportTests.CompareWithOnnxRuntime(network, x, 1e-5);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void A_null_activation_throws_naming_it() =>
        FluentActions.Invoking(() => new ActivationLayer<float>(null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("activation");

    [Fact]
    public void Describes_itself()
    {
        var layer = new ActivationLayer<float>(Activations.ReLU);
        _ = new Network<float>(TensorShape.Image(3, 2, 2), seed: 1, layer);

        layer.ToString().Should().Be("ActivationLayer(relu)");
        layer.Parameters.Should().BeEmpty();
        layer.SavedForBackwardSize.Should().Be(12);
        layer.OutputShape.Should().Be(TensorShape.Image(3, 2, 2));
        layer.TypeName.Should().Be("activation");
    }
}
