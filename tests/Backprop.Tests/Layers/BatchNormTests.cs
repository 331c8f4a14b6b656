using System.Globalization;
using Backprop.Tests.Serialization;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;
using static Backprop.Tests.Layers.NormalizationTestKit;

namespace Backprop.Tests.Layers;

public sealed class BatchNormTests(ITestOutputHelper output)
{
    private static double[] Values(int count, int seed, double scale = 2.0, double offset = 0.5)
    {
        var random = new DeterministicRandom(seed);
        return Enumerable.Range(0, count).Select(_ => offset + scale * (random.NextDouble() - 0.5)).ToArray();
    }

    private static BatchNorm<double> Built(TensorShape shape, double momentum = 0.1, double epsilon = 1e-5)
    {
        var layer = new BatchNorm<double>(momentum, epsilon);
        _ = new Network<double>(shape, layer);
        return layer;
    }

    [Theory]
    [InlineData(5, 1, 1, 7)]    // features: one statistic per feature over 7 rows
    [InlineData(3, 1, 1, 2)]
    [InlineData(3, 4, 5, 3)]    // channels: one per channel over 3 rows × 4 × 5 positions
    [InlineData(2, 1, 3, 1)]    // one row, a 1×3 plane: statistics over the plane
    public void Training_forward_normalises_by_the_batch_statistics_computed_by_hand(int channels, int height, int width, int rows)
    {
        var shape = height * width == 1 ? new TensorShape(channels) : TensorShape.Image(channels, height, width);
        var layer = Built(shape);
        double[] gamma = Values(channels, seed: 1, offset: 1), beta = Values(channels, seed: 2);
        gamma.CopyTo(layer.Parameters[0].ValueArray, 0);
        beta.CopyTo(layer.Parameters[1].ValueArray, 0);
        double[] x = Values(rows * shape.Size, seed: 3, scale: 6);
        var y = new double[x.Length];
        var saved = new double[rows * layer.SavedForBackwardSize];

        layer.Forward(x, saved, y, rows, training: true);

        var (expected, mean, unbiased) = BatchNormTraining(x, rows, channels, height * width, gamma, beta, 1e-5);
        for (int i = 0; i < y.Length; i++)
        {
            y[i].Should().BeApproximately(expected[i], 1e-12, $"value {i}");
        }

        for (int c = 0; c < channels; c++)
        {
            layer.RunningMean[c].Should().BeApproximately(0.1 * mean[c], 1e-14);
            layer.RunningVariance[c].Should().BeApproximately(0.9 + 0.1 * unbiased[c], 1e-14);
        }

        // The mode value after each sample's x̂ says "batch statistics".
        for (int r = 0; r < rows; r++)
        {
            saved[r * layer.SavedForBackwardSize + shape.Size].Should().Be(1);
        }
    }

    [Theory]
    [InlineData(4, 1, 1, 5, 0.1)]
    [InlineData(3, 3, 2, 4, 0.3)]
    [InlineData(2, 2, 2, 1, 1.0)]
    public void Running_statistics_after_several_steps_follow_the_momentum_rule(int channels, int height, int width, int rows, double momentum)
    {
        var shape = height * width == 1 ? new TensorShape(channels) : TensorShape.Image(channels, height, width);
        var layer = Built(shape, momentum);
        double[] runningMean = new double[channels], runningVariance = Enumerable.Repeat(1.0, channels).ToArray();
        var gamma = Enumerable.Repeat(1.0, channels).ToArray();
        var beta = new double[channels];
        for (int step = 0; step < 6; step++)
        {
            double[] x = Values(rows * shape.Size, seed: 10 + step, scale: 4, offset: step);
            layer.Forward(x, new double[rows * layer.SavedForBackwardSize], new double[x.Length], rows, training: true);
            var (_, mean, unbiased) = BatchNormTraining(x, rows, channels, height * width, gamma, beta, 1e-5);
            for (int c = 0; c < channels; c++)
            {
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c];
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased[c];
            }
        }

        layer.RunningMean.Should().Equal(runningMean, (a, b) => Math.Abs(a - b) < 1e-12);
        layer.RunningVariance.Should().Equal(runningVariance, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Inference_uses_the_running_statistics_and_changes_nothing()
    {
        var network = new Network<double>(TensorShape.Image(2, 2, 3), seed: 1, new BatchNorm<double>());
        var layer = (BatchNorm<double>)network.Layers[0];
        Randomize(network, seed: 4);
        double[] mean = [0.5, -1.5], variance = [2.0, 0.25];
        SetRunningStatistics(layer, mean, variance);
        var x = TestData.Random<double>(3, 12, seed: 5, scale: 3);

        var y = network.Predict(x);

        double[] gamma = layer.Parameters[0].ValueArray, beta = layer.Parameters[1].ValueArray;
        for (int r = 0; r < 3; r++)
        {
            for (int i = 0; i < 12; i++)
            {
                int c = i / 6;
                double expected = gamma[c] * (x[r, i] - mean[c]) / Math.Sqrt(variance[c] + 1e-5) + beta[c];
                y[r, i].Should().BeApproximately(expected, 1e-13);
            }
        }

        layer.RunningMean.Should().Equal(mean);
        layer.RunningVariance.Should().Equal(variance);
    }

    [Fact]
    public void One_value_per_feature_outputs_beta_passes_no_input_gradient_and_keeps_the_running_variance()
    {
        // A batch of one row before a feature batch normalisation: σ² = 0, so x̂ = 0 (ε keeps it finite).
        var layer = Built(new TensorShape(3));
        double[] beta = [0.25, -1, 2];
        beta.CopyTo(layer.Parameters[1].ValueArray, 0);
        double[] x = [3, -4, 5];
        var saved = new double[layer.SavedForBackwardSize];
        var y = new double[3];

        layer.Forward(x, saved, y, 1, training: true);

        y.Should().Equal(beta);
        layer.RunningMean.Should().Equal(x.Select(v => (0.9 * 0) + (0.1 * v)), "the running mean moves towards the one value");
        layer.RunningVariance.Should().Equal(1.0, 1.0, 1.0);
        double[] g = [1, 2, 3];
        var delta = new double[3];
        var dx = new double[3];
        layer.ComputeLocalGradients(saved, y, g, delta, 1);
        layer.Backpropagate(x, delta, dx, 1);
        dx.Should().Equal(0.0, 0.0, 0.0);
        layer.Parameters[1].GradientArray.Should().Equal(g, "∂L/∂β = Σ g");
        layer.Parameters[0].GradientArray.Should().Equal(0.0, 0.0, 0.0);
    }

    public static TheoryData<int, int, int, int> CheckCases => new()
    {
        // channels (or features when height = width = 1), height, width, rows
        { 3, 1, 1, 1 },
        { 3, 1, 1, 7 },
        { 5, 1, 1, 7 },
        { 1, 3, 3, 1 },
        { 3, 3, 5, 1 },
        { 3, 5, 3, 7 },
        { 2, 1, 5, 7 },
    };

    private static Network<double> CheckNetwork(int channels, int height, int width, int seed)
    {
        var shape = height * width == 1 ? new TensorShape(channels) : TensorShape.Image(channels, height, width);
        // A dense layer in front (features) so that the input gradient goes through a product, and one behind so that
        // the loss is not a plain function of the normalised values.
        var network = height * width == 1
            ? new Network<double>(4, seed, new Dense<double>(channels, Activations.Tanh), new BatchNorm<double>(), new Dense<double>(3, Activations.Tanh))
            : new Network<double>(shape, seed, new BatchNorm<double>(), new Dense<double>(3, Activations.Tanh));
        Randomize(network, seed + 1);
        return network;
    }

    [Theory]
    [MemberData(nameof(CheckCases))]
    public void The_inference_mode_gradient_check_passes(int channels, int height, int width, int rows)
    {
        var network = CheckNetwork(channels, height, width, seed: 3);
        var layer = network.Layers.OfType<BatchNorm<double>>().Single();
        SetRunningStatistics(layer, Values(channels, seed: 8), Values(channels, seed: 9, scale: 1, offset: 1));
        var x = TestData.Random<double>(rows, network.InputSize, seed: 6, scale: 2);
        var y = TestData.Random<double>(rows, 3, seed: 7);

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);

        output.WriteLine(report.ToString());
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    [Theory]
    [MemberData(nameof(CheckCases))]
    public void The_training_mode_gradient_through_the_batch_statistics_matches_finite_differences(int channels, int height, int width, int rows)
    {
        var network = CheckNetwork(channels, height, width, seed: 5);
        var layer = network.Layers.OfType<BatchNorm<double>>().Single();
        var before = (layer.RunningMean.ToArray(), layer.RunningVariance.ToArray());
        var x = TestData.Random<double>(rows, network.InputSize, seed: 8, scale: 2);
        var y = TestData.Random<double>(rows, 3, seed: 9);

        var (worst, where) = TrainingModeCheck(network, Losses.MeanSquaredError, x, y);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worst {worst:E2} at {where}"));
        worst.Should().BeLessThan(1e-6, where);
        (layer.RunningMean.ToArray(), layer.RunningVariance.ToArray()).Should().BeEquivalentTo(before, "the check restores the running statistics");
    }

    [Fact]
    public void The_training_mode_check_would_catch_the_inference_mode_gradient()
    {
        // Guards the check itself: the batch-statistics function differs from the inference one, so a layer that
        // back-propagated as at inference (∂L/∂x = γ·g/σ) after a training pass would fail it.
        var network = CheckNetwork(3, 1, 1, seed: 5);
        var x = TestData.Random<double>(7, network.InputSize, seed: 8, scale: 2);
        var y = TestData.Random<double>(7, 3, seed: 9);
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(1));
        var training = trainer.Forward(x);
        var outputs = training.GetActivations(2);
        var inference = network.Predict(x);
        (outputs - inference).InfinityNorm().Should().BeGreaterThan(1e-3);
    }

    [Fact]
    public void A_network_with_batch_norm_learns_a_classification()
    {
        var x = TestData.Random<float>(200, 6, seed: 3, scale: 5);
        int[] labels = Enumerable.Range(0, 200).Select(r => x[r, 0] + 0.5f * x[r, 1] > 0 ? 1 : x[r, 2] > 0 ? 2 : 0).ToArray();
        var network = new Network<float>(6, seed: 4,
            new Dense<float>(16), new BatchNorm<float>(), new Dense<float>(16, Activations.ReLU), new Dense<float>(3, Activations.Softmax));
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Adam(0.01));
        trainer.Fit(x, labels, new FitOptions { Epochs = 40, BatchSize = 20, Seed = 1 });
        // Predicted at inference, from the running statistics.
        var predictions = network.Predict(x);
        double accuracy = Enumerable.Range(0, 200).Count(r => predictions.Row(r).MaximumIndex() == labels[r]) / 200.0;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy at inference {accuracy}"));
        accuracy.Should().BeGreaterThan(0.9);
    }

    private static Network<T> TrainingNetwork<T>(int threads)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        new(TensorShape.Image(4, 6, 6), seed: 3,
            new BatchNorm<T>(momentum: 0.2),
            new Dense<T>(96, Activations.ReLU),
            new BatchNorm<T>(),
            new Dense<T>(5, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };

    private static (Matrix<T> X, int[] Labels) Data<T>()
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        (TestData.Random<T>(150, 144, seed: 2, scale: 3), Enumerable.Range(0, 150).Select(i => i * 7 % 5).ToArray());

    private static double[][] State<T>(Network<T> network)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var state = Training.TrainerTests.Snapshot(network).ToList();
        foreach (var layer in network.Layers.OfType<BatchNorm<T>>())
        {
            state.Add(layer.RunningMean.Select(v => double.CreateChecked(v)).ToArray());
            state.Add(layer.RunningVariance.Select(v => double.CreateChecked(v)).ToArray());
        }

        return [.. state];
    }

    private static void BitEqual(double[][] actual, double[][] expected, string because)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected[i].Select(BitConverter.DoubleToInt64Bits), $"{because}, array {i}");
        }
    }

    [Fact]
    public void Training_is_bit_identical_with_one_or_two_threads()
    {
        var (x, labels) = Data<float>();
        var one = TrainingNetwork<float>(1);
        var two = TrainingNetwork<float>(2);
        new Trainer<float>(one, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9)).Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 32, Seed = 1 });
        new Trainer<float>(two, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9)).Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 32, Seed = 1 });
        BitEqual(State(two), State(one), "two threads");
        ((BatchNorm<float>)one.Layers[0]).RunningMean.Should().NotEqual(new float[4], "training moved the running statistics");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_training_step_allocates_nothing_in_steady_state(int threads)
    {
        var network = TrainingNetwork<float>(threads);
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01, momentum: 0.9));
        var random = new DeterministicRandom(3);
        const int rows = 32;
        var x = Enumerable.Range(0, rows * 144).Select(_ => (float)random.NextDouble()).ToArray();
        var y = new float[rows * 5];
        for (int r = 0; r < rows; r++)
        {
            y[r * 5 + r % 5] = 1;
        }

        AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(x, y)).Should().Be(0);
    }

    [Fact]
    public void Save_and_load_restore_the_running_statistics_and_predictions_exactly()
    {
        var (x, labels) = Data<double>();
        var network = TrainingNetwork<double>(1);
        new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-3)).Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 16, Seed = 1 });
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;

        var loaded = Network<double>.Load(stream);

        loaded.ToString().Should().Be(network.ToString());
        BitEqual(State(loaded), State(network), "loaded");
        loaded.Predict(x).Should().Be(network.Predict(x));
    }

    [Theory]
    [InlineData("float")]
    [InlineData("double")]
    public void Resuming_a_checkpoint_equals_uninterrupted_training(string type)
    {
        if (type == "float")
        {
            ResumeEqualsUninterrupted<float>();
        }
        else
        {
            ResumeEqualsUninterrupted<double>();
        }
    }

    private static void ResumeEqualsUninterrupted<T>()
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var (x, labels) = Data<T>();
        var uninterrupted = new Trainer<T>(TrainingNetwork<T>(1), Losses.CrossEntropy, new Sgd(0.02, momentum: 0.9));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 4, BatchSize = 24, Seed = 5 });

        var first = new Trainer<T>(TrainingNetwork<T>(1), Losses.CrossEntropy, new Sgd(0.02, momentum: 0.9));
        first.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 24, Seed = 5 });
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<T>(checkpoint);
        resumed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 24, Seed = 5 });

        BitEqual(State(resumed.Network), State(uninterrupted.Network), "resumed");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_onnx_export_runs_in_onnx_runtime_as_predict(bool channels)
    {
        var network = channels
            ? new Network<float>(TensorShape.Image(3, 4, 5), seed: 2, new BatchNorm<float>(), new Dense<float>(6, Activations.ReLU), new BatchNorm<float>(epsilon: 1e-3), new Dense<float>(3, Activations.Softmax))
            : new Network<float>(7, seed: 2, new Dense<float>(6), new BatchNorm<float>(), new Dense<float>(3, Activations.Softmax));
        var x = TestData.Random<float>(40, network.InputSize, seed: 3, scale: 3);
        int[] labels = Enumerable.Range(0, 40).Select(i => i % 3).ToArray();
        new Trainer<float>(network, Losses.CrossEntropy, new Adam(0.01)).Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 1 });

        double difference = OnnxExportTests.CompareWithOnnxRuntime(network, x, 1e-5);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"max |onnx − predict| = {difference:E2}"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void An_input_of_another_rank_fails_when_the_network_is_built(int rank)
    {
        var shape = rank == 2 ? TensorShape.Sequence(3, 4) : new TensorShape(2, 3, 4, 5);
        FluentActions.Invoking(() => new Network<float>(shape, new Dense<float>(4), new BatchNorm<float>()))
            .Should().NotThrow("a dense layer flattens any input");
        FluentActions.Invoking(() => new Network<float>(shape, new Dense<float>(4), new LayerNorm<float>(), new BatchNorm<float>()))
            .Should().NotThrow();
        FluentActions.Invoking(() => new Network<float>(shape, new BatchNorm<float>()))
            .Should().Throw<ArgumentException>()
            .WithMessage($"layers[0] (BatchNorm(momentum 0.1, epsilon 1E-05)) cannot take its input of shape {shape}: BatchNorm normalises features (an input of rank 1*or channels (an input C×H×W of rank 3*but the input shape is {shape} (rank {rank})*");
    }

    [Theory]
    [InlineData(-0.1, 1e-5, "momentum")]
    [InlineData(1.5, 1e-5, "momentum")]
    [InlineData(double.NaN, 1e-5, "momentum")]
    [InlineData(0.1, 0, "epsilon")]
    [InlineData(0.1, -1e-5, "epsilon")]
    [InlineData(0.1, double.PositiveInfinity, "epsilon")]
    public void Invalid_settings_throw_naming_them(double momentum, double epsilon, string name) =>
        FluentActions.Invoking(() => new BatchNorm<float>(momentum, epsilon)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName(name);

    [Fact]
    public void Invalid_running_statistics_in_a_state_are_refused()
    {
        var layer = Built(new TensorShape(3));
        FluentActions.Invoking(() => SetRunningStatistics(layer, [0, 0], [1, 1, 1])).Should().Throw<ArgumentException>()
            .WithMessage("running_mean must hold 3 values (one per feature or channel), but it holds 2.*");
        FluentActions.Invoking(() => SetRunningStatistics(layer, [0, 0, 0], [1, -1, 1])).Should().Throw<ArgumentException>()
            .WithMessage("running_variance must hold finite numbers ≥ 0, but element 1 is -1.*");
        FluentActions.Invoking(() => SetRunningStatistics(layer, [0, double.NaN, 0], [1, 1, 1])).Should().Throw<ArgumentException>();
        layer.RunningVariance.Should().Equal(new[] { 1.0, 1.0, 1.0 }, "a refused state changes nothing");
    }

    [Fact]
    public void Describes_its_parameters_and_state()
    {
        var layer = new BatchNorm<float>();
        var network = new Network<float>(TensorShape.Image(3, 2, 2), layer);
        layer.Channels.Should().Be(3);
        layer.Parameters.Select(p => p.Name).Should().Equal("gamma", "beta");
        layer.Parameters[0].Values.ToArray().Should().Equal(1f, 1f, 1f);
        layer.Parameters[1].Values.ToArray().Should().Equal(0f, 0f, 0f);
        layer.Parameters.Should().OnlyContain(p => !p.IsRegularized);
        layer.RunningMean.Should().Equal(0f, 0f, 0f);
        layer.RunningVariance.Should().Equal(1f, 1f, 1f);
        layer.OutputShape.Should().Be(TensorShape.Image(3, 2, 2));
        layer.SavedForBackwardSize.Should().Be(13);
        network.ParameterCount.Should().Be(6);
    }
}
