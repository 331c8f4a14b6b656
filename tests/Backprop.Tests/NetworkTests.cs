using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests;

public class NetworkTests
{
    [Fact]
    public void Builds_layers_from_the_input_width_and_reports_sizes()
    {
        var network = new Network<float>(inputs: 4, new Dense<float>(16, Activations.ReLU), new Dense<float>(3, Activations.Softmax));

        network.InputSize.Should().Be(4);
        network.OutputSize.Should().Be(3);
        network.Layers.Should().HaveCount(2);
        network.Layers[0].InputSize.Should().Be(4);
        network.Layers[1].InputSize.Should().Be(16);
        ((Dense<float>)network.Layers[0]).Weights.RowCount.Should().Be(4);
        ((Dense<float>)network.Layers[0]).Weights.ColumnCount.Should().Be(16);
        network.ParameterCount.Should().Be(4 * 16 + 16 + 16 * 3 + 3);
        network.ToString().Should().Be("Network<Single>(4 → Dense(16, relu) → Dense(3, softmax))");
    }

    [Fact]
    public void An_empty_network_is_rejected()
    {
        var act = () => new Network<double>(3);
        act.Should().Throw<ArgumentException>().WithParameterName("layers").WithMessage("*at least one layer*empty*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void A_non_positive_input_width_is_rejected(int inputs)
    {
        var act = () => new Network<double>(inputs, new Dense<double>(1));
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("inputs").WithMessage($"*positive*{inputs}*");
    }

    [Fact]
    public void A_layer_cannot_be_used_twice()
    {
        var shared = new Dense<double>(2);
        var twice = () => new Network<double>(2, shared, shared);
        twice.Should().Throw<ArgumentException>().WithMessage("*layers[1]*already belongs*");

        var layer = new Dense<double>(2);
        _ = new Network<double>(2, layer);
        var again = () => new Network<double>(2, layer);
        again.Should().Throw<ArgumentException>().WithMessage("*layers[0]*already belongs*");
    }

    [Fact]
    public void A_null_layer_is_rejected() =>
        FluentActions.Invoking(() => new Network<double>(2, new Dense<double>(2), null!))
            .Should().Throw<ArgumentException>().WithMessage("*layers[1] is null*");

    [Fact]
    public void Unsupported_element_types_are_rejected() =>
        FluentActions.Invoking(() => new Dense<Half>(2)).Should().Throw<NotSupportedException>().WithMessage("*float or double*Half*");

    [Fact]
    public void A_dense_layer_needs_at_least_one_unit() =>
        FluentActions.Invoking(() => new Dense<float>(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("units");

    [Fact]
    public void An_unbuilt_layer_says_how_to_build_it() =>
        FluentActions.Invoking(() => new Dense<float>(3).Weights).Should().Throw<InvalidOperationException>().WithMessage("*not built*Network*");

    [Fact]
    public void A_wrong_input_width_names_the_layer_and_both_sizes()
    {
        var network = new Network<double>(3, new Dense<double>(2));

        FluentActions.Invoking(() => network.Predict(new double[4])).Should().Throw<ArgumentException>()
            .WithParameterName("sample").WithMessage("*4 values per sample*layer 0*expects 3*");
        FluentActions.Invoking(() => network.Predict(Matrix<double>.Build.Dense(5, 2))).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*2 values per sample*layer 0*expects 3*");
    }

    [Fact]
    public void Predict_rejects_non_finite_inputs_naming_the_position()
    {
        var network = new Network<float>(3, new Dense<float>(2));
        FluentActions.Invoking(() => network.Predict([1f, float.NaN, 0f])).Should().Throw<ArgumentException>()
            .WithParameterName("sample").WithMessage("*finite*column 1*NaN*");

        var batch = Matrix<float>.Build.Dense(2, 3);
        batch[1, 2] = float.PositiveInfinity;
        FluentActions.Invoking(() => network.Predict(batch)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*finite*row 1, column 2*");
    }

    [Fact]
    public void Predict_rejects_a_destination_of_the_wrong_length()
    {
        var network = new Network<float>(3, new Dense<float>(2));
        FluentActions.Invoking(() => network.Predict(new float[3], new float[3])).Should().Throw<ArgumentException>()
            .WithParameterName("destination").WithMessage("*2 elements*has 3*");
    }

    [Fact]
    public void Predicting_a_batch_equals_predicting_its_rows_one_by_one()
    {
        var network = new Network<double>(5, seed: 3, new Dense<double>(7, Activations.Tanh), new Dense<double>(4, Activations.Softmax));
        var batch = TestData.Random<double>(300, 5, seed: 11);

        var predicted = network.Predict(batch);

        for (int r = 0; r < batch.RowCount; r++)
        {
            double[] single = network.Predict(batch.Row(r).ToArray());
            for (int j = 0; j < 4; j++)
            {
                predicted[r, j].Should().Be(single[j]);
            }
        }
    }

    [Fact]
    public void Forward_matches_a_plainly_written_dense_computation()
    {
        var network = new Network<double>(3, seed: 5, new Dense<double>(4, Activations.Tanh), new Dense<double>(2));
        var first = (Dense<double>)network.Layers[0];
        var second = (Dense<double>)network.Layers[1];
        first.Biases[2] = 0.25;
        second.Biases[1] = -0.5;
        double[] x = [0.3, -1.2, 2.0];

        double[] h = new double[4];
        for (int j = 0; j < 4; j++)
        {
            double z = first.Biases[j];
            for (int i = 0; i < 3; i++)
            {
                z += x[i] * first.Weights[i, j];
            }

            h[j] = Math.Tanh(z);
        }

        double[] expected = new double[2];
        for (int j = 0; j < 2; j++)
        {
            expected[j] = second.Biases[j];
            for (int i = 0; i < 4; i++)
            {
                expected[j] += h[i] * second.Weights[i, j];
            }
        }

        network.Predict(x).Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-14);
    }

    [Fact]
    public void Weights_are_live_storage()
    {
        var network = new Network<double>(2, new Dense<double>(1));
        var dense = (Dense<double>)network.Layers[0];
        dense.Weights.Clear();
        dense.Biases[0] = 3;
        dense.Weights[1, 0] = 2;

        network.Predict([10.0, 1.0]).Should().Equal(5.0);
        dense.Parameters[0].Values.ToArray().Should().Equal(dense.Weights.AsColumnMajorArray());
    }

    [Fact]
    public void PredictClasses_returns_the_index_of_the_largest_output()
    {
        var network = new Network<double>(2, new Dense<double>(3));
        var dense = (Dense<double>)network.Layers[0];
        dense.Weights.SetRow(0, new[] { 1.0, 0.0, -1.0 });
        dense.Weights.SetRow(1, new[] { 0.0, 1.0, 0.0 });

        var inputs = Matrix<double>.Build.DenseOfRowArrays([2.0, 1.0], [0.0, 1.0], [-3.0, 0.0]);
        network.PredictClasses(inputs).Should().Equal(0, 1, 2);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_different_ones()
    {
        static double[] Weights(int seed) => ((Dense<double>)new Network<double>(8, seed, new Dense<double>(5)).Layers[0]).Weights.AsColumnMajorArray();

        Weights(42).Should().Equal(Weights(42));
        Weights(42).Should().NotEqual(Weights(43));
    }

    [Fact]
    public void Initializers_respect_their_limits_and_spread()
    {
        var glorot = new Network<double>(30, seed: 1, new Dense<double>(20, initializer: Initializers.GlorotUniform));
        double limit = Math.Sqrt(6.0 / 50);
        var w = ((Dense<double>)glorot.Layers[0]).Weights.AsColumnMajorArray();
        w.Should().OnlyContain(v => Math.Abs(v) <= limit);
        w.Max().Should().BeGreaterThan(0.8 * limit);
        ((Dense<double>)glorot.Layers[0]).Biases.Should().OnlyContain(b => b == 0);

        var he = new Network<double>(200, seed: 2, new Dense<double>(100, Activations.ReLU, Initializers.HeNormal));
        var hw = ((Dense<double>)he.Layers[0]).Weights.AsColumnMajorArray();
        double variance = hw.Select(v => v * v).Average();
        variance.Should().BeApproximately(2.0 / 200, 0.05 * 2.0 / 200);

        var uniform = new Network<double>(10, seed: 3, new Dense<double>(10, initializer: Initializers.Uniform(0.1)));
        ((Dense<double>)uniform.Layers[0]).Weights.AsColumnMajorArray().Should().OnlyContain(v => Math.Abs(v) <= 0.1);
    }
}
