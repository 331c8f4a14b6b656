using System.Globalization;
using Backprop.Tests.Serialization;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace Backprop.Tests.Layers;

/// <summary>MaxPool2D, AveragePool2D and GlobalAveragePool2D against plain loops, gradient checks over sizes, strides and
/// paddings, the network-level promises (no allocation, thread-count independence, save/load/resume), ONNX Runtime and
/// bad shapes.</summary>
public class PoolingTests(ITestOutputHelper output)
{
    public enum Kind
    {
        Max,
        Average,
        AverageExcludingPad,
    }

    // ----- A plain reference, written independently of the layers -----

    /// <summary>Padding before, after and the output count along one axis, from the formulas of the padding modes.</summary>
    private static (int Before, int After, int Output) Axis(string mode, int n, int k, int s, int before, int after)
    {
        switch (mode)
        {
            case "valid":
                return (0, 0, (n - k) / s + 1);
            case "same":
                int o = (n + s - 1) / s;
                int total = Math.Max((o - 1) * s + k - n, 0);
                return (total / 2, total - total / 2, o);
            default:
                return (before, after, (n + before + after - k) / s + 1);
        }
    }

    /// <summary>Pools one batch by building each padded plane explicitly (padding marked as missing) and scanning every
    /// window; also returns, for max pooling, the flat input index of each output's winner.</summary>
    private static (double[] Output, int[] Winners, int OutputHeight, int OutputWidth) Reference(Kind kind, double[] x, int rows, int channels, int height, int width,
        int kh, int kw, int sh, int sw, string mode, int[] pads)
    {
        var (top, bottom, oh) = Axis(mode, height, kh, sh, pads[0], pads[1]);
        var (left, right, ow) = Axis(mode, width, kw, sw, pads[2], pads[3]);
        int paddedHeight = height + top + bottom, paddedWidth = width + left + right;
        var y = new double[rows * channels * oh * ow];
        var winners = new int[y.Length];
        for (int n = 0; n < rows; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                // The padded plane: null where there is padding, else the input's flat index.
                var plane = new int?[paddedHeight, paddedWidth];
                for (int r = 0; r < height; r++)
                {
                    for (int q = 0; q < width; q++)
                    {
                        plane[r + top, q + left] = ((n * channels + c) * height + r) * width + q;
                    }
                }

                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double best = double.NegativeInfinity, sum = 0;
                        int winner = -1, inside = 0;
                        for (int u = 0; u < kh; u++)
                        {
                            for (int v = 0; v < kw; v++)
                            {
                                int? index = plane[i * sh + u, j * sw + v];
                                if (index is int at)
                                {
                                    inside++;
                                    sum += x[at];
                                    if (winner < 0 || x[at] > best)
                                    {
                                        (best, winner) = (x[at], at);
                                    }
                                }
                            }
                        }

                        int o = ((n * channels + c) * oh + i) * ow + j;
                        winners[o] = winner;
                        y[o] = kind switch
                        {
                            Kind.Max => best,
                            Kind.Average => sum / (kh * kw),
                            _ => sum / inside,
                        };
                    }
                }
            }
        }

        return (y, winners, oh, ow);
    }

    private static Padding ToPadding(string mode, int[] pads) => mode switch
    {
        "valid" => Padding.Valid,
        "same" => Padding.Same,
        _ => Padding.Explicit(pads[0], pads[1], pads[2], pads[3]),
    };

    private static Layer<T> Make<T>(Kind kind, int kh, int kw, int sh, int sw, Padding padding)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => kind switch
        {
            Kind.Max => new MaxPool2D<T>(kh, kw, sh, sw, padding),
            Kind.Average => new AveragePool2D<T>(kh, kw, sh, sw, padding),
            _ => new AveragePool2D<T>(kh, kw, sh, sw, padding) { CountIncludePad = false },
        };

    /// <summary>Inputs with no two values closer than 0.01 (a shuffled ramp), so that no window has a tie or a near tie
    /// that a gradient check's steps of ±2e-3 could reorder: the max is differentiable at every point checked.</summary>
    private static double[] DistinctValues(int count, int seed)
    {
        var random = new DeterministicRandom(seed);
        var values = Enumerable.Range(0, count).Select(i => 0.01 * (i - count / 2.0)).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)(random.NextDouble() * (i + 1));
            (values[i], values[j]) = (values[j], values[i]);
        }

        return values;
    }

    /// <summary>Window × stride × padding cases over odd and non-square inputs: windows 1×1 to 3×3 (square and not),
    /// strides 1 and 2, and every padding mode (explicit ones less than the window).</summary>
    public static TheoryData<Kind, int, int, int, int, int, int, int, string, int[]> Cases()
    {
        var data = new TheoryData<Kind, int, int, int, int, int, int, int, string, int[]>();
        (int C, int H, int W)[] inputs = [(1, 5, 7), (2, 7, 5), (3, 3, 4)];
        (int Kh, int Kw)[] windows = [(1, 1), (2, 2), (3, 3), (2, 3), (3, 1)];
        (int Sh, int Sw)[] strides = [(1, 1), (2, 2), (1, 2)];
        int n = 0;
        foreach (var kind in new[] { Kind.Max, Kind.Average, Kind.AverageExcludingPad })
        {
            foreach (var (kh, kw) in windows)
            {
                foreach (var (sh, sw) in strides)
                {
                    foreach (string mode in new[] { "valid", "same", "explicit" })
                    {
                        var (c, h, w) = inputs[n++ % inputs.Length];
                        int[] pads = mode == "explicit" ? [Math.Min(1, kh - 1), kh - 1, kw - 1, Math.Min(1, kw - 1)] : [0, 0, 0, 0];
                        data.Add(kind, c, h, w, kh, kw, sh, sw, mode, pads);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_a_plain_loop(Kind kind, int c, int h, int w, int kh, int kw, int sh, int sw, string mode, int[] pads)
    {
        const int rows = 3;
        var layer = Make<double>(kind, kh, kw, sh, sw, ToPadding(mode, pads));
        _ = new Network<double>(TensorShape.Image(c, h, w), layer);
        var x = TestData.Random<double>(rows, c * h * w, seed: 3, scale: 2).ToRowMajorArray();
        var (expected, winners, oh, ow) = Reference(kind, x, rows, c, h, w, kh, kw, sh, sw, mode, pads);
        layer.OutputShape.Should().Be(TensorShape.Image(c, oh, ow));

        var actual = new double[expected.Length];
        layer.Forward(x, default, actual, rows, training: true);
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 1e-14, $"output {i}");
        }

        // Backward against the reference's own scatter: δ to each winner, or δ / d to each position of the window.
        var delta = TestData.Random<double>(rows, expected.Length / rows, seed: 4).ToRowMajorArray();
        var local = new double[delta.Length];
        var dx = Enumerable.Repeat(double.NaN, x.Length).ToArray();
        layer.ComputeLocalGradients(default, actual, delta, local, rows);
        local.Should().Equal(delta, "the layer has no activation");
        layer.Backpropagate(x, local, dx, rows);
        var expectedDx = new double[x.Length];
        if (kind == Kind.Max)
        {
            for (int o = 0; o < delta.Length; o++)
            {
                expectedDx[winners[o]] += delta[o];
            }
        }
        else
        {
            // Perturbing one input by 1 moves each output that averages it by 1/d: a finite difference of the
            // reference, exact for this linear map.
            for (int i = 0; i < x.Length; i++)
            {
                var shifted = (double[])x.Clone();
                shifted[i] += 1;
                var (moved, _, _, _) = Reference(kind, shifted, rows, c, h, w, kh, kw, sh, sw, mode, pads);
                for (int o = 0; o < delta.Length; o++)
                {
                    expectedDx[i] += (moved[o] - expected[o]) * delta[o];
                }
            }
        }

        for (int i = 0; i < x.Length; i++)
        {
            dx[i].Should().BeApproximately(expectedDx[i], 1e-12, $"∂L/∂x[{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_check_in_double_at_batch_1_and_7(Kind kind, int c, int h, int w, int kh, int kw, int sh, int sw, string mode, int[] pads)
    {
        foreach (int rows in new[] { 1, 7 })
        {
            // The pooling, a second pooling fed by it (so that ∂L/∂x passes through one), and a dense layer.
            var network = new Network<double>(TensorShape.Image(c, h, w), seed: 5,
                Make<double>(kind, kh, kw, sh, sw, ToPadding(mode, pads)),
                Make<double>(kind == Kind.Max ? Kind.Average : Kind.Max, 1, 1, 1, 1, Padding.Valid),
                new Dense<double>(3, Activations.Tanh));
            var x = Matrix<double>.Build.Dense(rows, c * h * w, DistinctValues(rows * c * h * w, seed: 7));
            var y = TestData.Random<double>(rows, 3, seed: 8);

            var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);

            report.Compared.Should().Be((int)network.ParameterCount + rows * c * h * w);
            report.MaxRelativeError.Should().BeLessThan(1e-6, $"batch {rows}: {report}");
        }
    }

    [Fact]
    public void Max_pooling_of_a_known_image_picks_the_first_of_ties_and_never_the_padding()
    {
        // 1×4×4, 2×2 windows, stride 2: the maxima of the four quadrants.
        var layer = new MaxPool2D<double>(2);
        _ = new Network<double>(TensorShape.Image(1, 4, 4), layer);
        double[] x =
        [
            1, 2, 0, -1,
            4, 3, 5, 5,
            -7, -8, 2, 2,
            -9, -6, 2, 2,
        ];
        var y = new double[4];
        layer.Forward(x, default, y, 1, training: false);
        y.Should().Equal(4, 5, -6, 2);

        // The gradient goes to the first of equal maxima in row-major order (5 at (1, 2); 2 at (2, 2)), as PyTorch.
        var dx = new double[16];
        layer.Backpropagate(x, [1, 10, 100, 1000], dx, 1);
        dx.Should().Equal(0, 0, 0, 0, 1, 0, 10, 0, 0, 0, 1000, 0, 0, 100, 0, 0);

        // All-negative input with "same" padding: the windows that overlap the padding still take an input value.
        var padded = new MaxPool2D<double>(3, stride: 1, Padding.Same);
        _ = new Network<double>(TensorShape.Image(1, 2, 2), padded);
        var z = new double[4];
        padded.Forward([-1, -2, -3, -4], default, z, 1, training: false);
        z.Should().Equal(-1, -1, -1, -1);
    }

    [Fact]
    public void Average_pooling_counts_the_padding_by_default_and_not_when_asked()
    {
        double[] x = [1, 2, 3, 4];
        var including = new AveragePool2D<double>(2, stride: 1, Padding.Same);
        var excluding = new AveragePool2D<double>(2, stride: 1, Padding.Same) { CountIncludePad = false };
        _ = new Network<double>(TensorShape.Image(1, 2, 2), including);
        _ = new Network<double>(TensorShape.Image(1, 2, 2), excluding);
        var a = new double[4];
        var b = new double[4];
        including.Forward(x, default, a, 1, training: false);
        excluding.Forward(x, default, b, 1, training: false);

        // Same padding adds one row below and one column right (SAME_UPPER).
        a.Should().Equal(10 / 4.0, 6 / 4.0, 7 / 4.0, 4 / 4.0);
        b.Should().Equal(10 / 4.0, 6 / 2.0, 7 / 2.0, 4 / 1.0);
        including.CountIncludePad.Should().BeTrue("PyTorch's count_include_pad=True is the default");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 7)]
    [InlineData(2, 6, 1)]
    public void Global_average_pooling_is_the_mean_of_each_channel(int c, int h, int w)
    {
        const int rows = 7;
        var layer = new GlobalAveragePool2D<double>();
        _ = new Network<double>(TensorShape.Image(c, h, w), layer);
        layer.OutputShape.Should().Be(new TensorShape(c));
        var x = TestData.Random<double>(rows, c * h * w, seed: 2).ToRowMajorArray();
        var y = new double[rows * c];
        layer.Forward(x, default, y, rows, training: true);
        for (int p = 0; p < rows * c; p++)
        {
            double sum = 0;
            for (int i = 0; i < h * w; i++)
            {
                sum += x[p * h * w + i];
            }

            y[p].Should().BeApproximately(sum / (h * w), 1e-14);
        }

        var network = new Network<double>(TensorShape.Image(c, h, w), seed: 3, new GlobalAveragePool2D<double>(), new Dense<double>(2, Activations.Tanh));
        foreach (int batch in new[] { 1, rows })
        {
            var report = GradientCheck.Run(network, Losses.MeanSquaredError, TestData.Random<double>(batch, c * h * w, seed: 4), TestData.Random<double>(batch, 2, seed: 5));
            report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
        }
    }

    [Fact]
    public void Settings_cost_and_saved_values_are_as_documented()
    {
        var max = new MaxPool2D<float>(3, stride: 2, Padding.Same);
        var average = new AveragePool2D<float>(2, 3, 1, 2, Padding.Explicit(1, 0, 2, 1)) { CountIncludePad = false };
        var global = new GlobalAveragePool2D<float>();
        var network = new Network<float>(TensorShape.Image(4, 9, 11), max, average, global, new Dense<float>(3));

        max.OutputShape.Should().Be(TensorShape.Image(4, 5, 6));
        average.OutputShape.Should().Be(TensorShape.Image(4, 5, 4));
        global.OutputShape.Should().Be(new TensorShape(4));
        max.FlopsPerSample.Should().Be(4 * 5 * 6 * 9);
        average.FlopsPerSample.Should().Be(4 * 5 * 4 * 6);
        global.FlopsPerSample.Should().Be(4 * 5 * 4);
        foreach (var layer in new Layer<float>[] { max, average, global })
        {
            layer.SavedForBackwardSize.Should().Be(0);
            layer.SavedForBackwardName.Should().Be("none");
            layer.Parameters.Should().BeEmpty();
        }

        max.ToString().Should().Be("MaxPool2D(3×3, stride 2×2, same)");
        average.ToString().Should().Be("AveragePool2D(2×3, stride 1×2, explicit(1, 0, 2, 1), excluding padding)");
        new MaxPool2D<float>(2).ToString().Should().Be("MaxPool2D(2×2, stride 2×2, valid)");
        network.ParameterCount.Should().Be(4 * 3 + 3);
        Padding.Explicit(1, 2).Should().Be(Padding.Explicit(1, 1, 2, 2));
        default(Padding).Should().Be(Padding.Valid);
        Padding.Same.Should().NotBe(Padding.Valid);
    }

    // ----- Network-level promises -----

    private static Network<T> CnnLike<T>(int threads = 1)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        new(TensorShape.Image(4, 16, 15), seed: 9,
            new MaxPool2D<T>(2, stride: null, Padding.Same),
            new AveragePool2D<T>(3, stride: 1, Padding.Explicit(1, 1)) { CountIncludePad = false },
            new MaxPool2D<T>(2, 3, 1, 2),
            new Dense<T>(96, Activations.ReLU),
            new Dense<T>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_training_step_allocates_nothing_in_steady_state(int threads)
    {
        foreach (var network in new[]
        {
            CnnLike<float>(threads),
            new Network<float>(TensorShape.Image(3, 8, 8), seed: 1, new GlobalAveragePool2D<float>(), new Dense<float>(10, Activations.Softmax)),
        })
        {
            var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01, momentum: 0.9));
            const int rows = 32;
            var x = TestData.Random<float>(rows, network.InputSize, seed: 3).ToRowMajorArray();
            var y = new float[rows * 10];
            for (int r = 0; r < rows; r++)
            {
                y[r * 10 + r % 10] = 1;
            }

            AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(x, y), calls: 20).Should().Be(0, network.ToString());
        }
    }

    private static (Matrix<T> X, int[] Labels) Data<T>(int rows = 96)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        (TestData.Random<T>(rows, 4 * 16 * 15, seed: 21), Enumerable.Range(0, rows).Select(i => i % 10).ToArray());

    [Fact]
    public void Training_is_bit_identical_with_one_or_two_threads()
    {
        double[][] Train(int threads)
        {
            var network = CnnLike<float>(threads);
            var (x, labels) = Data<float>();
            new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9)).Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 64, Seed = 1 });
            return Training.TrainerTests.Snapshot(network);
        }

        var one = Train(1);
        var two = Train(2);
        for (int i = 0; i < one.Length; i++)
        {
            two[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(one[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i}");
        }
    }

    [Fact]
    public void Save_load_and_checkpoint_resume_are_exact()
    {
        var (x, labels) = Data<double>(48);
        var network = CnnLike<double>();
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-3));
        trainer.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 16, Seed = 3 });

        using var file = new MemoryStream();
        network.Save(file);
        file.Position = 0;
        var loaded = Network<double>.Load(file);
        loaded.ToString().Should().Be(network.ToString());
        loaded.InputShape.Should().Be(network.InputShape);
        loaded.Layers[1].Should().BeOfType<AveragePool2D<double>>().Which.CountIncludePad.Should().BeFalse();
        loaded.Layers[1].Should().BeOfType<AveragePool2D<double>>().Which.Padding.Should().Be(Padding.Explicit(1, 1));
        loaded.Predict(x).ToRowMajorArray().Select(BitConverter.DoubleToInt64Bits)
            .Should().Equal(network.Predict(x).ToRowMajorArray().Select(BitConverter.DoubleToInt64Bits));

        var uninterrupted = new Trainer<double>(CnnLike<double>(), Losses.CrossEntropy, new Adam(1e-3));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 4, BatchSize = 16, Seed = 3 });
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(trainer, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<double>(checkpoint);
        resumed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 16, Seed = 3 });
        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, "every parameter");
    }

    // ----- ONNX -----

    public static TheoryData<string> OnnxCases() => new(["max-valid", "max-same", "max-explicit", "average-same", "average-same-excluding", "average-explicit", "global", "chain"]);

    [Theory]
    [MemberData(nameof(OnnxCases))]
    public void Onnx_runtime_predicts_what_predict_does(string name)
    {
        var shape = TensorShape.Image(3, 9, 8);
        Layer<float>[] pooling = name switch
        {
            "max-valid" => [new MaxPool2D<float>(2)],
            "max-same" => [new MaxPool2D<float>(3, stride: 2, Padding.Same)],
            "max-explicit" => [new MaxPool2D<float>(3, 2, 2, 1, Padding.Explicit(2, 1, 0, 1))],
            "average-same" => [new AveragePool2D<float>(3, stride: 2, Padding.Same)],
            "average-same-excluding" => [new AveragePool2D<float>(3, stride: 2, Padding.Same) { CountIncludePad = false }],
            "average-explicit" => [new AveragePool2D<float>(2, 3, 1, 2, Padding.Explicit(1, 0, 2, 1))],
            "global" => [new GlobalAveragePool2D<float>()],
            _ => [new MaxPool2D<float>(2, stride: 1, Padding.Same), new AveragePool2D<float>(2) { CountIncludePad = false }, new GlobalAveragePool2D<float>()],
        };
        var network = new Network<float>(shape, seed: 4, [.. pooling, new Dense<float>(5, Activations.Softmax)]);
        var x = TestData.Random<float>(6, shape.Size, seed: 5, scale: 3);

        double difference = OnnxExportTests.CompareWithOnnxRuntime(network, x, 1e-5);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void A_network_that_ends_in_a_pooling_exports_its_flat_output()
    {
        var network = new Network<float>(TensorShape.Image(2, 5, 5), new MaxPool2D<float>(2, stride: 1, Padding.Same));
        OnnxExportTests.CompareWithOnnxRuntime(network, TestData.Random<float>(3, 50, seed: 1), 0).Should().Be(0);
    }

    // ----- Bad shapes and settings -----

    [Fact]
    public void Bad_shapes_fail_when_the_network_is_built_naming_the_layer_and_shapes()
    {
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 2, 5), new Dense<float>(4), new MaxPool2D<float>(3)))
            .Should().Throw<ArgumentException>().WithMessage("layers[1] (MaxPool2D(3×3, stride 3×3, valid)) cannot take its input of shape 4*rank 3*");
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 2, 5), new MaxPool2D<float>(3)))
            .Should().Throw<ArgumentException>().WithMessage("layers[0] (MaxPool2D(3×3, stride 3×3, valid)) cannot take its input of shape 1×2×5*3×3 window is larger than*1×2×5*");
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 5, 2), new Dense<float>(4), new AveragePool2D<float>(2)))
            .Should().Throw<ArgumentException>().WithMessage("layers[1]*4*rank 3*");
        FluentActions.Invoking(() => new Network<float>(new TensorShape(3, 5), new GlobalAveragePool2D<float>()))
            .Should().Throw<ArgumentException>().WithMessage("layers[0] (GlobalAveragePool2D) cannot take its input of shape 3×5*rank 3*");
        FluentActions.Invoking(() => new Network<float>(TensorShape.Image(1, 5, 5), new MaxPool2D<float>(2, stride: 1, Padding.Explicit(2, 0))))
            .Should().Throw<ArgumentException>().WithMessage("layers[0]*padding explicit(2, 2, 0, 0)*less than the 2×2 window*");
        // "same" always fits: a 3×3 window over 1×1 gives 1×1.
        new Network<float>(TensorShape.Image(1, 1, 1), new MaxPool2D<float>(3, stride: 1, Padding.Same)).OutputShape.Should().Be(TensorShape.Image(1, 1, 1));
    }

    [Fact]
    public void A_zero_size_or_stride_fails_naming_it()
    {
        FluentActions.Invoking(() => new MaxPool2D<float>(2, stride: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("strideHeight");
        FluentActions.Invoking(() => new AveragePool2D<float>(2, 2, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("strideWidth");
        FluentActions.Invoking(() => new MaxPool2D<float>(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("height");
        FluentActions.Invoking(() => Padding.Explicit(-1, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
