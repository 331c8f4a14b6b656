using Backprop.Tests.Serialization;
using Backprop.Tests.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Layers;

public class ResidualTests
{
    // y = W·x + b for a dense layer's parameters (weights units × inputs, row-major), written plainly.
    private static double[] Affine(IReadOnlyList<Parameter<double>> parameters, string prefix, double[] x)
    {
        var w = parameters.Single(p => p.Name == prefix + "weights");
        var b = parameters.Single(p => p.Name == prefix + "biases").Values.ToArray();
        int units = w.Shape[0], inputs = w.Shape[1];
        var values = w.Values.ToArray();
        var y = new double[units];
        for (int u = 0; u < units; u++)
        {
            double sum = b[u];
            for (int i = 0; i < inputs; i++)
            {
                sum += values[u * inputs + i] * x[i];
            }

            y[u] = sum;
        }

        return y;
    }

    private static void RandomizeBiases(Network<double> network, int seed)
    {
        var random = new DeterministicRandom(seed);
        foreach (var parameter in network.Layers.SelectMany(l => l.Parameters).Where(p => p.Name.EndsWith("biases", StringComparison.Ordinal)))
        {
            var values = parameter.Values;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = random.NextDouble() - 0.5;
            }
        }
    }

    [Fact]
    public void Forward_adds_the_input_to_the_inner_layers_output()
    {
        var block = new Residual<double>(new Dense<double>(6, Activations.Tanh), new Dense<double>(4));
        var network = new Network<double>(4, seed: 3, block);
        RandomizeBiases(network, 1);
        block.HasProjection.Should().BeFalse();
        block.Parameters.Select(p => p.Name).Should().Equal("0.weights", "0.biases", "1.weights", "1.biases");
        var x = TestData.Random<double>(5, 4, seed: 2);

        var y = network.Predict(x);
        var kept = new double[5 * block.SavedForBackwardSize];
        var trained = new double[5 * 4];
        block.Forward(x.ToRowMajorArray(), kept, trained, 5, training: true);

        for (int r = 0; r < 5; r++)
        {
            double[] row = x.Row(r).ToArray();
            double[] hidden = Affine(block.Parameters, "0.", row).Select(Math.Tanh).ToArray();
            double[] f = Affine(block.Parameters, "1.", hidden);
            for (int j = 0; j < 4; j++)
            {
                y[r, j].Should().BeApproximately(f[j] + row[j], 1e-14);
                trained[r * 4 + j].Should().Be(y[r, j]);
            }
        }
    }

    [Fact]
    public void Forward_projects_the_shortcut_when_the_shape_changes()
    {
        var block = new Residual<double>(new Dense<double>(3, Activations.ReLU));
        var network = new Network<double>(5, seed: 4, block);
        RandomizeBiases(network, 2);
        block.HasProjection.Should().BeTrue();
        block.ToString().Should().Be("Residual(Dense(3, relu), projection)");
        block.Parameters.Select(p => p.Name).Should().Equal("0.weights", "0.biases", "projection.weights", "projection.biases");
        block.Parameters[2].Shape.Should().Be(new TensorShape(3, 5));
        var x = TestData.Random<double>(4, 5, seed: 6);

        var y = network.Predict(x);

        for (int r = 0; r < 4; r++)
        {
            double[] row = x.Row(r).ToArray();
            double[] f = Affine(block.Parameters, "0.", row).Select(v => Math.Max(v, 0)).ToArray();
            double[] s = Affine(block.Parameters, "projection.", row);
            for (int j = 0; j < 3; j++)
            {
                y[r, j].Should().BeApproximately(f[j] + s[j], 1e-14);
            }
        }
    }

    public static TheoryData<int, int, int, string> GradientCases()
    {
        var cases = new TheoryData<int, int, int, string>();
        foreach (int rows in new[] { 1, 7 })
        {
            foreach (var (n, hidden) in new[] { (1, 2), (3, 5), (5, 3) })
            {
                foreach (string kind in new[] { "identity", "projection", "always", "nested", "first" })
                {
                    cases.Add(rows, n, hidden, kind);
                }
            }
        }

        return cases;
    }

    private static Network<double> GradientNetwork(int n, int hidden, string kind) => kind switch
    {
        // In the middle of a network: ∂L/∂x of the block feeds the layer before it.
        "identity" => new Network<double>(n, seed: n + hidden,
            new Dense<double>(n, Activations.Tanh),
            new Residual<double>(new Dense<double>(hidden, Activations.Tanh), new Dropout<double>(0.5, seed: 1), new Dense<double>(n)),
            new Dense<double>(2, Activations.Sigmoid)),
        "projection" => new Network<double>(n, seed: n + hidden,
            new Residual<double>(new Dense<double>(hidden, Activations.Tanh), new Dense<double>(hidden + 1, Activations.Sigmoid)),
            new Dense<double>(2)),
        "always" => new Network<double>(n, seed: n + hidden,
            new Residual<double>(ResidualProjection.Always, new Dense<double>(n, Activations.Tanh))),
        "nested" => new Network<double>(n, seed: n + hidden,
            new Residual<double>(
                new Residual<double>(new Dense<double>(hidden, Activations.Tanh), new Dense<double>(n)),
                new Dense<double>(hidden, new Elu(1.0))),
            new Dense<double>(3, Activations.Softmax)),
        // The block first: its input gradient is checked directly.
        _ => new Network<double>(n, seed: n + hidden,
            new Residual<double>(new Dense<double>(n, Activations.Tanh) { L2 = 0.01 }),
            new Dense<double>(2, Activations.Tanh)),
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Inner_projection_and_input_gradients_match_finite_differences(int rows, int n, int hidden, string kind)
    {
        var network = GradientNetwork(n, hidden, kind);
        RandomizeBiases(network, rows);
        var x = TestData.Random<double>(rows, n, seed: rows * 10 + n, scale: 1.5);
        var y = kind == "nested"
            ? Matrix<double>.Build.Dense(rows, 3, (r, c) => c == r % 3 ? 1 : 0)
            : TestData.Random<double>(rows, network.OutputSize, seed: 3, scale: 0.5);
        var loss = kind == "nested" ? (ILossFunction)Losses.CrossEntropy : Losses.MeanSquaredError;

        var report = GradientCheck.Run(network, loss, x, y);

        report.Entries.Should().Contain(e => e.Parameter == "input");
        if (kind is "projection" or "always")
        {
            report.Entries.Should().Contain(e => e.Parameter == "projection.weights");
        }

        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    [Fact]
    public void A_training_step_allocates_nothing_in_steady_state()
    {
        var network = new Network<float>(20, seed: 1,
            new Residual<float>(new Dense<float>(32, Activations.ReLU), new Dropout<float>(0.1, seed: 2), new Dense<float>(20)),
            new Residual<float>(new Dense<float>(12, Activations.ReLU)),
            new Dense<float>(3, Activations.Softmax));
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Adam(0.01));
        float[] x = TestData.Random<float>(16, 20, seed: 3).ToRowMajorArray();
        var y = new float[16 * 3];
        for (int r = 0; r < 16; r++)
        {
            y[r * 3 + r % 3] = 1;
        }

        AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(x, y)).Should().Be(0);
    }

    private static Network<T> DeepNetwork<T>(int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => new(200, seed,
        new Residual<T>(new Dense<T>(160, Activations.ReLU), new Dropout<T>(0.2, seed: 3), new Dense<T>(200)),
        new Residual<T>(new Dense<T>(96, Activations.Tanh)),
        new Dense<T>(10, Activations.Softmax));

    private static double[][] Train(int threads)
    {
        var network = DeepNetwork<float>(9);
        network.MaxDegreeOfParallelism = threads;
        var x = TestData.Random<float>(256, 200, seed: 5);
        int[] labels = Enumerable.Range(0, 256).Select(i => i % 10).ToArray();
        new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9))
            .Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 64, Seed = 1 });
        var inner = ((Residual<float>)network.Layers[0]).Layers[0];
        inner.MaxDegreeOfParallelism.Should().Be(threads, "the block passes the network's thread settings on");
        inner.Context.Should().BeSameAs(network.Context);
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

    private static Network<double> SmallNetwork() => new(4, seed: 11,
        new Residual<double>(new Dense<double>(6, Activations.Tanh) { L2 = 1e-3 }, new Dropout<double>(0.3, seed: 4), new Dense<double>(4)),
        new Residual<double>(ResidualProjection.Always, new Dropout<double>(0.2, seed: 5), new Dense<double>(5, Activations.ReLU)),
        new Dense<double>(3, Activations.Softmax));

    [Fact]
    public void Save_and_load_predict_bit_identically_and_a_checkpoint_resumes_exactly()
    {
        var x = TestData.Random<double>(40, 4, seed: 6, scale: 2);
        int[] labels = Enumerable.Range(0, 40).Select(i => x[i, 0] > 0 ? 0 : x[i, 1] > 0 ? 1 : 2).ToArray();

        var uninterrupted = new Trainer<double>(SmallNetwork(), Losses.CrossEntropy, new Adam(0.02));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 4, BatchSize = 8, Seed = 2 });

        var first = new Trainer<double>(SmallNetwork(), Losses.CrossEntropy, new Adam(0.02));
        first.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 2 });
        using var model = new MemoryStream();
        first.Network.Save(model);
        model.Position = 0;
        var loaded = Network<double>.Load(model);
        loaded.ToString().Should().Be(first.Network.ToString());
        ((Residual<double>)loaded.Layers[1]).Projection.Should().Be(ResidualProjection.Always);
        loaded.Predict(x).Should().Be(first.Network.Predict(x));

        // The dropout generators inside the blocks resume where they were: the resumed run equals the uninterrupted one.
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<double>(checkpoint);
        resumed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 2 });

        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, "every parameter");
    }

    [Fact]
    public void Onnx_export_runs_in_onnx_runtime_as_predict()
    {
        var network = new Network<float>(6, seed: 3,
            new Residual<float>(new Dense<float>(8, Activations.ReLU), new Dropout<float>(0.5, seed: 1), new Dense<float>(6, Activations.Tanh)),
            new Residual<float>(new Dense<float>(4, Activations.GELU)),
            new Residual<float>(new Residual<float>(new Dense<float>(4, Activations.Sigmoid)), new Dense<float>(4)),
            new Dense<float>(3, Activations.Softmax));
        OnnxExportTests.CompareWithOnnxRuntime(network, TestData.Random<float>(9, 6, seed: 2, scale: 2), 1e-5);

        var embedded = new Network<float>(3, seed: 4,
            new Embedding<float>(5, 4, [0]),
            new Residual<float>(new Dense<float>(6, Activations.ReLU), new Dense<float>(6)));
        var x = EmbeddingTests.Ids<float>(7, 3, new Dictionary<int, int> { [0] = 5 }, seed: 3);
        OnnxExportTests.CompareWithOnnxRuntime(embedded, x, 1e-5);
    }

    [Fact]
    public void Bad_shapes_fail_when_the_network_is_built_naming_the_layer_and_the_inner_layer()
    {
        var never = () => new Network<float>(5, new Dense<float>(4), new Residual<float>(ResidualProjection.Never, new Dense<float>(3)));
        never.Should().Throw<ArgumentException>().WithMessage(
            "layers[1] (Residual(Dense(3, identity))) cannot take its input of shape 4: the inner layers turn the input of shape 4 into the shape 3, and without a projection (ResidualProjection.Never) the two must agree*");

        var inner = () => new Network<float>(5, new Residual<float>(new Dense<float>(5), new Embedding<float>(3, 2, [7])));
        inner.Should().Throw<ArgumentException>().WithMessage(
            "layers[0] (Residual(Dense(5, identity) → Embedding(3×2 for columns 7))) cannot take its input of shape 5: inner layer 1 (Embedding(3×2 for columns 7)) cannot take its input of shape 5: table 0 maps column 7*");
    }

    [Fact]
    public void Bad_arguments_fail_in_the_constructor()
    {
        FluentActions.Invoking(() => new Residual<float>()).Should().Throw<ArgumentException>().WithMessage("layers must contain at least one inner layer*");
        var dense = new Dense<float>(2);
        FluentActions.Invoking(() => new Residual<float>(dense, dense)).Should().Throw<ArgumentException>().WithMessage("layers[1] (Dense(2, identity)) already belongs to a network or appears twice*");
        FluentActions.Invoking(() => new Residual<float>((ResidualProjection)7, new Dense<float>(2))).Should().Throw<ArgumentOutOfRangeException>();
        var built = new Dense<float>(2);
        _ = new Network<float>(2, built);
        FluentActions.Invoking(() => new Residual<float>(built)).Should().Throw<ArgumentException>();

        var shared = new Dense<float>(3);
        var twice = () => new Network<float>(3, new Residual<float>(shared), shared);
        twice.Should().Throw<ArgumentException>().WithMessage("layers[1] (Dense(3, identity)) already belongs to a network*");
    }

    [Fact]
    public void Backpropagate_without_the_local_gradients_of_the_same_batch_throws()
    {
        var block = new Residual<double>(new Dense<double>(2));
        _ = new Network<double>(2, block);
        var act = () => block.Backpropagate(new double[4], new double[4], new double[4], 2);
        act.Should().Throw<InvalidOperationException>().WithMessage("*must follow ComputeLocalGradients*");
    }
}
