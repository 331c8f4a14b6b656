using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Layers;

public class DropoutTests
{
    /// <summary>A dropout layer built for <paramref name="width"/> inputs (the network builds it).</summary>
    private static Dropout<double> Built(double rate, long seed, int width)
    {
        var layer = new Dropout<double>(rate, seed);
        _ = new Network<double>(width, layer);
        return layer;
    }

    private static (double[] Mask, double[] Output) TrainingPass(Dropout<double> layer, double[] x, int rows)
    {
        var mask = new double[x.Length];
        var output = new double[x.Length];
        layer.Forward(x, mask, output, rows, training: true);
        return (mask, output);
    }

    [Fact]
    public void The_expected_activation_is_the_input()
    {
        // Each output is xⱼ·m with m = 0 (probability p) or 1/(1 − p): mean xⱼ, variance xⱼ²·p/(1 − p). The mean of
        // N = 20000 independent outputs has standard deviation σⱼ = |xⱼ|·√(p/((1 − p)·N)); a correct layer is
        // within 5σⱼ of xⱼ except with probability below 1e-6 per column, for any seed. The fraction dropped is
        // likewise within 5·√(p(1 − p)/n) of p.
        const double p = 0.3;
        const int rows = 20_000;
        double[] sample = [1.0, -2.0, 0.5, 3.0, 0.0];
        int width = sample.Length;
        var layer = Built(p, seed: 17, width);
        var x = Enumerable.Range(0, rows).SelectMany(_ => sample).ToArray();

        var (mask, output) = TrainingPass(layer, x, rows);

        for (int j = 0; j < width; j++)
        {
            double mean = Enumerable.Range(0, rows).Average(r => output[r * width + j]);
            double sigma = Math.Abs(sample[j]) * Math.Sqrt(p / ((1 - p) * rows));
            mean.Should().BeApproximately(sample[j], 5 * sigma + 1e-15, $"column {j}");
        }

        double dropped = mask.Count(m => m == 0) / (double)mask.Length;
        dropped.Should().BeApproximately(p, 5 * Math.Sqrt(p * (1 - p) / mask.Length));
        mask.Should().OnlyContain(m => m == 0 || m == 1 / (1 - p));
    }

    [Fact]
    public void Inference_is_the_identity()
    {
        var layer = Built(0.5, seed: 1, 3);
        double[] x = [1.5, -2.0, 0.25, 4.0, 5.0, -6.0];
        var buffer = new double[6];
        layer.Forward(x, buffer, buffer, 2, training: false);
        buffer.Should().Equal(x);

        var network = new Network<double>(3, seed: 2, new Dense<double>(4), new Dropout<double>(0.9, seed: 3));
        var inputs = Matrix<double>.Build.DenseOfRowArrays([1.0, 2.0, 3.0]);
        network.Predict(inputs).Should().Be(network.Predict(inputs), "inference draws no mask");
    }

    [Fact]
    public void The_same_seed_gives_the_same_masks_and_another_seed_others()
    {
        var x = Enumerable.Range(0, 200).Select(i => 1.0 + i).ToArray();
        var (first, _) = TrainingPass(Built(0.5, seed: 42, 20), x, 10);
        var (same, _) = TrainingPass(Built(0.5, seed: 42, 20), x, 10);
        var (other, _) = TrainingPass(Built(0.5, seed: 43, 20), x, 10);

        same.Should().Equal(first);
        other.Should().NotEqual(first);
    }

    [Fact]
    public void Each_training_pass_draws_a_new_mask()
    {
        var layer = Built(0.5, seed: 5, 50);
        var x = Enumerable.Repeat(1.0, 50).ToArray();
        var (first, _) = TrainingPass(layer, x, 1);
        var (second, _) = TrainingPass(layer, x, 1);
        second.Should().NotEqual(first);
    }

    [Fact]
    public void Rate_zero_is_the_identity_in_training_too()
    {
        var layer = Built(0, seed: 9, 4);
        double[] x = [1.0, -1.0, 0.5, 2.0];
        var (mask, output) = TrainingPass(layer, x, 1);
        output.Should().Equal(x);
        mask.Should().OnlyContain(m => m == 1);
    }

    [Fact]
    public void Backward_uses_the_mask_of_the_forward_pass()
    {
        var layer = Built(0.5, seed: 11, 8);
        var x = Enumerable.Range(1, 24).Select(i => (double)i).ToArray();
        var (mask, output) = TrainingPass(layer, x, 3);
        var outputGradients = Enumerable.Range(0, 24).Select(i => 0.1 * (i - 12)).ToArray();
        var local = new double[24];
        var inputGradients = new double[24];

        layer.ComputeLocalGradients(mask, output, outputGradients, local, 3);
        layer.Backpropagate(x, local, inputGradients, 3);

        for (int i = 0; i < 24; i++)
        {
            // a = x ⊙ m, so ∂L/∂x = m ⊙ ∂L/∂a, and m is a / x for these non-zero inputs.
            local[i].Should().Be(outputGradients[i] * (output[i] / x[i]));
        }

        inputGradients.Should().Equal(local);
        mask.Should().Contain(0).And.Contain(2.0, "the test needs both dropped and kept values");
        layer.Invoking(l => l.Backpropagate(x, local, default, 3)).Should().NotThrow("the first layer skips ∂L/∂x");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void An_invalid_rate_throws_naming_it(double rate)
    {
        FluentActions.Invoking(() => new Dropout<double>(rate, seed: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rate")
            .WithMessage("rate must be in [0, 1), but it is *");
    }

    [Fact]
    public void Has_no_parameters_and_keeps_the_width()
    {
        var layer = new Dropout<float>(0.25, seed: 1);
        layer.OutputSize.Should().Be(0);
        var network = new Network<float>(6, new Dense<float>(10), layer, new Dense<float>(2));
        layer.InputSize.Should().Be(10);
        layer.OutputSize.Should().Be(10);
        layer.Parameters.Should().BeEmpty();
        layer.ToString().Should().Be("Dropout(0.25)");
        network.ParameterCount.Should().Be(6 * 10 + 10 + 10 * 2 + 2);
        FluentActions.Invoking(() => new Dropout<double>(0.5, 1).Forward([1.0], new double[1], new double[1], 1, true))
            .Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void A_network_with_dropout_trains_and_is_reproducible()
    {
        var random = new DeterministicRandom(8);
        var x = Matrix<double>.Build.Dense(120, 4, (_, _) => 2 * random.NextDouble() - 1);
        int[] labels = Enumerable.Range(0, 120).Select(r => x[r, 0] + x[r, 1] * x[r, 2] > 0 ? 1 : 0).ToArray();
        var targets = Matrix<double>.Build.Dense(120, 2, (r, c) => labels[r] == c ? 1 : 0);

        (double Initial, double Final, double[] Weights, int[] Predicted) Train()
        {
            var network = new Network<double>(4, seed: 3,
                new Dense<double>(32, Activations.ReLU), new Dropout<double>(0.2, seed: 4), new Dense<double>(2, Activations.Softmax));
            var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(0.01));
            double initial = trainer.Evaluate(x, targets);
            trainer.Fit(x, labels, new FitOptions { Epochs = 150, BatchSize = 16, Seed = 1 });
            return (initial, trainer.Evaluate(x, targets), network.Layers[2].Parameters[0].Values.ToArray(), network.PredictClasses(x));
        }

        var run = Train();
        run.Final.Should().BeLessThan(run.Initial / 3);
        Metrics.Accuracy(labels, run.Predicted).Should().BeGreaterThan(0.9);
        Train().Weights.Should().Equal(run.Weights, "the same seeds give the same masks and weights");
    }
}
