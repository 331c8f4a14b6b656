using System.Numerics;
using Backprop.Tests.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Layers;

public class Conv2DTests
{
    /// <summary>One convolution case: input C × H × W, F filters of kh × kw, stride and padding.</summary>
    public sealed record Case(int Channels, int Height, int Width, int Filters, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, string PaddingName)
    {
        public Padding Padding => PaddingName switch
        {
            "valid" => Padding.Valid,
            "same" => Padding.Same,
            "sym" => Padding.Explicit(1, 2),
            _ => Padding.Explicit(top: 2, bottom: 1, left: 0, right: 1),
        };

        public Conv2D<T> Layer<T>(IActivation? activation = null)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            new(Filters, KernelHeight, KernelWidth, StrideHeight, StrideWidth, Padding, activation);

        public TensorShape Input => TensorShape.Image(Channels, Height, Width);

        public override string ToString() =>
            $"{Channels}×{Height}×{Width} * {Filters}×{KernelHeight}×{KernelWidth} stride {StrideHeight}×{StrideWidth} {PaddingName}";
    }

    /// <summary>Odd and non-square sizes, 1–3 channels, strides 1–2, every padding mode, kernels 1×1 to 5×5.</summary>
    public static TheoryData<Case> Sweep() =>
    [
        new(1, 5, 7, 2, 3, 3, 1, 1, "valid"),
        new(2, 6, 5, 3, 3, 3, 1, 1, "same"),
        new(3, 5, 7, 2, 1, 1, 1, 1, "valid"),
        new(1, 7, 5, 2, 5, 5, 1, 1, "same"),
        new(2, 5, 7, 2, 2, 3, 2, 1, "sym"),
        new(3, 6, 5, 1, 3, 2, 1, 2, "explicit"),
        new(1, 6, 5, 3, 4, 4, 2, 2, "same"),
        new(2, 7, 6, 2, 5, 3, 2, 2, "valid"),
        new(1, 5, 5, 2, 5, 5, 1, 1, "valid"),
        new(2, 5, 6, 2, 1, 4, 2, 1, "explicit"),
        new(3, 4, 7, 2, 3, 5, 2, 2, "sym"),
        new(1, 9, 8, 2, 2, 2, 2, 2, "same"),
        new(2, 5, 7, 2, 4, 4, 1, 1, "same"),    // stride 1 keeping the width: patch rows are shifted input planes
        new(1, 6, 9, 2, 3, 5, 1, 1, "sym"),
    ];

    /// <summary>The plain seven-loop convolution: z[s, f, y, x] = b[f] + Σ_c Σ_i Σ_j W[f, c, i, j]·x[s, c, y·sh + i − top, x·sw + j − left].</summary>
    private static double[] Reference(double[] x, int rows, int c, int h, int w, double[] weights, double[] biases, int f, int kh, int kw,
        int sh, int sw, int top, int left, int outH, int outW)
    {
        var z = new double[rows * f * outH * outW];
        for (int s = 0; s < rows; s++)
        {
            for (int o = 0; o < f; o++)
            {
                for (int y = 0; y < outH; y++)
                {
                    for (int xo = 0; xo < outW; xo++)
                    {
                        double sum = biases[o];
                        for (int ch = 0; ch < c; ch++)
                        {
                            for (int i = 0; i < kh; i++)
                            {
                                for (int j = 0; j < kw; j++)
                                {
                                    int iy = y * sh + i - top, ix = xo * sw + j - left;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                    {
                                        sum += weights[((o * c + ch) * kh + i) * kw + j] * x[((s * c + ch) * h + iy) * w + ix];
                                    }
                                }
                            }
                        }

                        z[((s * f + o) * outH + y) * outW + xo] = sum;
                    }
                }
            }
        }

        return z;
    }

    private static void RandomizeBiases(Conv2D<double> layer, int seed)
    {
        var random = new DeterministicRandom(seed);
        for (int i = 0; i < layer.Biases.Length; i++)
        {
            layer.Biases.Values[i] = random.NextDouble() - 0.5;
        }
    }

    [Theory]
    [MemberData(nameof(Sweep))]
    public void Forward_matches_a_plain_loop_convolution(Case c)
    {
        var layer = c.Layer<double>();
        _ = new Network<double>(c.Input, 3, layer);
        RandomizeBiases(layer, 4);
        var (top, left) = (layer.PaddingTop, layer.PaddingLeft);
        int outH = layer.OutputShape![1], outW = layer.OutputShape[2];

        // Expected output size from the padding the case asks for, worked out by hand.
        int padH = c.PaddingName switch { "valid" => 0, "sym" => 2, "explicit" => 3, _ => -1 };
        int padW = c.PaddingName switch { "valid" => 0, "sym" => 4, "explicit" => 1, _ => -1 };
        if (padH >= 0)
        {
            outH.Should().Be((c.Height + padH - c.KernelHeight) / c.StrideHeight + 1);
            outW.Should().Be((c.Width + padW - c.KernelWidth) / c.StrideWidth + 1);
        }
        else
        {
            outH.Should().Be((c.Height + c.StrideHeight - 1) / c.StrideHeight, "same padding keeps ⌈H / sh⌉");
            outW.Should().Be((c.Width + c.StrideWidth - 1) / c.StrideWidth);
        }

        layer.OutputShape.Should().Be(TensorShape.Image(c.Filters, outH, outW));
        layer.FlopsPerSample.Should().Be(2L * c.Filters * c.Channels * c.KernelHeight * c.KernelWidth * outH * outW);

        foreach (int rows in new[] { 1, 7 })
        {
            var x = TestData.Random<double>(rows, layer.InputSize, seed: rows, scale: 2).ToRowMajorArray();
            var expected = Reference(x, rows, c.Channels, c.Height, c.Width, layer.Weights.Values.ToArray(), layer.Biases.Values.ToArray(),
                c.Filters, c.KernelHeight, c.KernelWidth, c.StrideHeight, c.StrideWidth, top, left, outH, outW);
            foreach (bool training in new[] { false, true })
            {
                var actual = new double[rows * layer.OutputSize];
                layer.Forward(x, default, actual, rows, training);
                for (int i = 0; i < actual.Length; i++)
                {
                    actual[i].Should().BeApproximately(expected[i], 1e-12, $"output {i} of {rows} rows, training {training}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sweep))]
    public void Gradients_pass_the_gradient_check_at_batch_1_and_7(Case c)
    {
        foreach (int rows in new[] { 1, 7 })
        {
            foreach (var activation in new IActivation?[] { null, Activations.Tanh })
            {
                var conv = c.Layer<double>(activation);
                var network = new Network<double>(c.Input, 11, conv, new Dense<double>(3, Activations.Softmax));
                RandomizeBiases(conv, 5);
                var x = TestData.Random<double>(rows, network.InputSize, seed: 3 + rows, scale: 1.5);
                var y = Matrix<double>.Build.Dense(rows, 3, (r, k) => (r + k) % 3 == 0 ? 1 : 0);

                var report = GradientCheck.Run(network, Losses.CrossEntropy, x, y);

                report.Entries.Should().Contain(e => e.LayerIndex == 0 && e.Parameter == "weights" && e.Count == conv.Weights.Length);
                report.Entries.Should().Contain(e => e.LayerIndex == 0 && e.Parameter == "biases" && e.Count == c.Filters);
                report.Entries.Should().Contain(e => e.Parameter == "input" && e.Count == rows * network.InputSize);
                report.MaxRelativeError.Should().BeLessThan(1e-6, $"{c}, {rows} rows, activation {activation?.Name ?? "none"}: {report}");
            }
        }
    }

    [Fact]
    public void A_stack_of_convolutions_passes_the_gradient_check()
    {
        var network = new Network<double>(TensorShape.Image(2, 7, 6), 8,
            new Conv2D<double>(3, 3, 3, padding: Padding.Same, activation: Activations.Tanh),
            new Conv2D<double>(2, 3, 2, strideHeight: 2, padding: Padding.Explicit(1, 0), activation: Activations.Sigmoid),
            new Dense<double>(2));
        var x = TestData.Random<double>(7, network.InputSize, seed: 9);
        var y = TestData.Random<double>(7, 2, seed: 10);
        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);
        report.Entries.Count(e => e.Parameter == "weights").Should().Be(3);
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    [Fact]
    public void The_weights_are_filters_by_channels_by_kernel_with_PyTorch_fans()
    {
        var layer = new Conv2D<double>(6, 3, 5, padding: Padding.Same, activation: Activations.ReLU);
        _ = new Network<double>(TensorShape.Image(4, 9, 9), 1, layer);
        layer.Parameters.Select(p => p.Name).Should().Equal("weights", "biases");
        layer.Weights.Shape.Should().Be(new TensorShape(6, 4, 3, 5));
        layer.Biases.Shape.Should().Be(new TensorShape(6));
        layer.Biases.Values.ToArray().Should().OnlyContain(b => b == 0);
        // Glorot uniform with fan-in C·kh·kw = 60 and fan-out F·kh·kw = 90.
        double limit = Math.Sqrt(6.0 / (60 + 90));
        layer.Weights.Values.ToArray().Should().OnlyContain(w => Math.Abs(w) <= limit);
        layer.Weights.Values.ToArray().Max(Math.Abs).Should().BeGreaterThan(0.9 * limit);
        layer.OutputShape.Should().Be(TensorShape.Image(6, 9, 9));
        layer.SavedForBackwardSize.Should().Be(layer.OutputSize);
        layer.ToString().Should().Be("Conv2D(6, 3×5, stride 1×1, same, relu)");

        var plain = new Conv2D<float>(2, 2, 2);
        _ = new Network<float>(TensorShape.Image(1, 3, 3), 1, plain);
        plain.Activation.Should().BeNull();
        plain.SavedForBackwardSize.Should().Be(0, "without an activation the patches are recomputed and nothing is kept");
        plain.SavedForBackwardName.Should().Be("none");
    }

    [Fact]
    public void Same_padding_puts_the_odd_row_and_column_at_the_bottom_and_right()
    {
        var layer = new Conv2D<double>(1, 4, 4, 2, 2, Padding.Same);
        _ = new Network<double>(TensorShape.Image(1, 7, 8), 1, layer);
        // H = 7: out 4, total (4 − 1)·2 + 4 − 7 = 3 → 1 above, 2 below. W = 8: out 4, total 2 → 1 and 1.
        (layer.PaddingTop, layer.PaddingLeft, layer.PaddingBottom, layer.PaddingRight).Should().Be((1, 1, 2, 1));
        layer.OutputShape.Should().Be(TensorShape.Image(1, 4, 4));
    }

    [Fact]
    public void Bad_settings_throw_naming_the_argument()
    {
        FluentActions.Invoking(() => new Conv2D<float>(0, 3, 3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("filters");
        FluentActions.Invoking(() => new Conv2D<float>(4, 3, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("kernelWidth");
        FluentActions.Invoking(() => new Conv2D<float>(4, 3, 3, strideHeight: 0)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("strideHeight").WithMessage("strideHeight must be positive, but it is 0.*");
        FluentActions.Invoking(() => new Conv2D<float>(4, 3, 3, strideWidth: -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("strideWidth");
        FluentActions.Invoking(() => Padding.Explicit(0, 0, -1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("left");
        FluentActions.Invoking(() => Padding.Explicit(-2, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("top");
    }

    [Fact]
    public void Bad_shapes_fail_when_the_network_is_built_naming_the_layer_and_the_shapes()
    {
        FluentActions.Invoking(() => new Network<float>(784, 1, new Conv2D<float>(4, 3, 3)))
            .Should().Throw<ArgumentException>().WithMessage("layers[0] (Conv2D(4, 3×3*) cannot take its input of shape 784:*rank-3*C×H×W*784 (rank 1)*");
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 28, 28), 1, new Dense<float>(10), new Conv2D<float>(4, 3, 3)))
            .Should().Throw<ArgumentException>().WithMessage("layers[1] (Conv2D*) cannot take its input of shape 10:*rank-3*");
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(2, 4, 6), 1, new Conv2D<float>(4, 5, 3)))
            .Should().Throw<ArgumentException>().WithMessage("layers[0] (Conv2D(4, 5×3*) cannot take its input of shape 2×4×6:*5×3 kernel is larger than the padded input of 4×6*");
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 4, 4), 1, new Conv2D<float>(4, 3, 3, padding: Padding.Valid), new Conv2D<float>(4, 3, 3)))
            .Should().Throw<ArgumentException>().WithMessage("layers[1] * cannot take its input of shape 4×2×2:*3×3 kernel is larger than the padded input of 2×2*");
        // Padding makes room for a kernel larger than the input.
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 2, 2), 1, new Conv2D<float>(1, 3, 3, padding: Padding.Explicit(1, 1))))
            .Should().NotThrow();
    }

    [Fact]
    public void Weights_saved_for_a_network_of_another_channel_count_do_not_load()
    {
        var network = new Network<float>(TensorShape.Image(3, 5, 5), 1, new Conv2D<float>(2, 3, 3));
        using var stream = new MemoryStream();
        network.Save(stream);
        var bytes = stream.ToArray();
        // The file holds the input shape, so the channel count is part of the model; loading rebuilds the same layer.
        Network<float>.Load(new MemoryStream(bytes)).Layers[0].Parameters[0].Shape.Should().Be(new TensorShape(2, 3, 3, 3));
    }

    private static (float[] X, float[] Y) ImageBatch(int rows, int inputSize, int classes, int seed)
    {
        var random = new DeterministicRandom(seed);
        var x = Enumerable.Range(0, rows * inputSize).Select(_ => (float)random.NextDouble()).ToArray();
        var y = new float[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            y[r * classes + r % classes] = 1;
        }

        return (x, y);
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(2, 64)]     // products large enough to split across both threads
    public void A_training_step_allocates_nothing_in_steady_state(int threads, int rows)
    {
        var network = new Network<float>(TensorShape.Image(1, 28, 28), 1,
            new Conv2D<float>(8, 3, 3, padding: Padding.Same, activation: Activations.ReLU),
            new Conv2D<float>(4, 3, 3, 2, 2),
            new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01, momentum: 0.9));
        var (x, y) = ImageBatch(rows, network.InputSize, 10, 3);
        AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(x, y), calls: 10).Should().Be(0);

        var sample = x.AsSpan(0, network.InputSize).ToArray();
        var destination = new float[10];
        AllocationMeter.SteadyStateBytes(() => network.Predict(sample, destination), calls: 10).Should().Be(0);
    }

    private static double[][] Train<T>(int threads, ComputeContext? context = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = TestData.Random<T>(96, 2 * 14 * 13, seed: 5);
        int[] labels = Enumerable.Range(0, 96).Select(i => i % 4).ToArray();
        var network = new Network<T>(TensorShape.Image(2, 14, 13), 9,
            new Conv2D<T>(8, 3, 3, padding: Padding.Same, activation: Activations.ReLU),
            new Conv2D<T>(6, 3, 2, 2, 1, Padding.Explicit(1, 0), Activations.Tanh),
            new Dense<T>(4, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        if (context is not null)
        {
            network.Context = context;
        }

        new Trainer<T>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9))
            .Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 32, Seed = 1 });
        return Training.TrainerTests.Snapshot(network);
    }

    [Fact]
    public void Training_is_bit_identical_with_one_or_two_threads()
    {
        // The first layer's forward product at 32 rows is 2·8·18·182·32 ≈ 1.7 MFLOP: with a low threshold every product splits.
        using var eager = new ComputeContext(2) { ParallelThresholdFlops = 10_000 };
        var one = Train<float>(1);
        foreach (var two in new[] { Train<float>(2), Train<float>(2, eager) })
        {
            for (int i = 0; i < one.Length; i++)
            {
                two[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(one[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i}");
            }
        }

        var oneDouble = Train<double>(1, eager);
        var twoDouble = Train<double>(2, eager);
        for (int i = 0; i < oneDouble.Length; i++)
        {
            twoDouble[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(oneDouble[i].Select(BitConverter.DoubleToInt64Bits), $"double parameter {i}");
        }
    }

    private static Network<T> SmallNetwork<T>(int seed)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(TensorShape.Image(2, 6, 7), seed,
            new Conv2D<T>(3, 3, 3, padding: Padding.Same, activation: Activations.ReLU) { L2 = 1e-3 },
            new Conv2D<T>(2, 2, 3, 2, 1, Padding.Explicit(top: 1, bottom: 0, left: 0, right: 2), initializer: Initializers.HeUniform) { L1 = 1e-4 },
            new Dense<T>(3, Activations.Softmax));

    [Fact]
    public void Save_and_load_round_trip_bit_for_bit()
    {
        var network = SmallNetwork<double>(4);
        new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-2))
            .Fit(TestData.Random<double>(20, network.InputSize, seed: 2), Enumerable.Range(0, 20).Select(i => i % 3).ToArray(), new FitOptions { Epochs = 2, BatchSize = 8, Seed = 3 });
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        var loaded = Network<double>.Load(stream);

        loaded.ToString().Should().Be(network.ToString());
        var conv = (Conv2D<double>)loaded.Layers[1];
        (conv.StrideHeight, conv.StrideWidth, conv.Padding, conv.L1).Should().Be((2, 1, Padding.Explicit(top: 1, bottom: 0, left: 0, right: 2), 1e-4));
        ((Conv2D<double>)loaded.Layers[0]).L2.Should().Be(1e-3);
        var x = TestData.Random<double>(9, network.InputSize, seed: 17, scale: 3);
        loaded.Predict(x).Enumerate().Select(BitConverter.DoubleToInt64Bits).Should().Equal(network.Predict(x).Enumerate().Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Resuming_a_checkpoint_equals_uninterrupted_training()
    {
        var x = TestData.Random<float>(40, 2 * 6 * 7, seed: 21);
        int[] labels = Enumerable.Range(0, 40).Select(i => i * 7 % 3).ToArray();
        var uninterrupted = new Trainer<float>(SmallNetwork<float>(6), Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 4, BatchSize = 16, Seed = 5 });

        var first = new Trainer<float>(SmallNetwork<float>(6), Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9));
        first.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 16, Seed = 5 });
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<float>(checkpoint);
        resumed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 16, Seed = 5 });

        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, "every parameter");
    }

    public static TheoryData<Case, string> OnnxCases()
    {
        var data = new TheoryData<Case, string>();
        string[] activations = ["none", "relu", "tanh", "softmax"];
        int a = 0;
        foreach (var c in Sweep())
        {
            data.Add(c, activations[a++ % activations.Length]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OnnxCases))]
    public void The_onnx_export_matches_predict_in_onnx_runtime(Case c, string activation)
    {
        var act = activation switch
        {
            "relu" => Activations.ReLU,
            "tanh" => Activations.Tanh,
            "softmax" => Activations.Softmax,
            _ => (IActivation?)null,
        };
        var conv = c.Layer<float>(act);
        var network = new Network<float>(c.Input, 2, conv, new Conv2D<float>(2, 1, 1, activation: Activations.ReLU), new Dense<float>(3));
        var random = new DeterministicRandom(3);
        for (int i = 0; i < conv.Biases.Length; i++)
        {
            conv.Biases.Values[i] = (float)(random.NextDouble() - 0.5);
        }

        var x = TestData.Random<float>(5, network.InputSize, seed: 4, scale: 2);
        OnnxExportTests.CompareWithOnnxRuntime(network, x, 1e-5).Should().BeLessThan(1e-5);
    }
}
