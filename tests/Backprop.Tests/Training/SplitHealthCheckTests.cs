namespace Backprop.Tests.Training;

/// <summary>On several threads the gradients' health check runs inside the split update: each thread checks the ranges
/// it then applies. It must find every NaN and ±∞ wherever it lies, update nothing when it finds one, and name the
/// offending parameter exactly as the check on one thread does.</summary>
public class SplitHealthCheckTests
{
    // 128 inputs × 64 units: 8192 weights, a parameter the update splits (from 4096 values) once the context splits the
    // layer's products, which a threshold of 1 flop makes it do at any batch size.
    private static Network<double> SplitNetwork(ComputeContext context, IActivation hidden) =>
        new(128, seed: 3, new Dense<double>(64, hidden), new Dense<double>(2))
        {
            Context = context,
            MaxDegreeOfParallelism = 2,
        };

    [Theory]
    [InlineData(0, 0)]          // the weights' first value: the caller's range
    [InlineData(0, 4095)]       // the last value before the two ranges' boundary (4096, a multiple of 64)
    [InlineData(0, 4096)]       // the first value of the worker's range
    [InlineData(0, 8191)]       // the last value
    [InlineData(1, 63)]         // the first layer's biases: too small to split, checked by the caller
    [InlineData(2, 100)]        // the output layer's weights (128 values)
    public void A_non_finite_gradient_anywhere_stops_the_split_update_before_it_changes_anything(int parameterIndex, int position)
    {
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = SplitNetwork(context, Activations.Tanh);
        var parameters = network.Layers.SelectMany(l => l.Parameters).ToArray();
        var update = new ParallelUpdate<double>(network.Layers);
        var random = new DeterministicRandom(position + 1);
        foreach (var parameter in parameters)
        {
            for (int i = 0; i < parameter.Length; i++)
            {
                parameter.GradientArray[i] = random.NextDouble() - 0.5;
            }
        }

        var before = TrainerTests.Snapshot(network);
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            parameters[parameterIndex].GradientArray[position] = bad;

            update.Run(new Sgd(0.1), context, 2, rows: 64, checkFinite: true).Should().Be(UpdateOutcome.NonFinite, "a gradient holds {0}", bad);
            TrainerTests.Snapshot(network).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
        }

        // Finite again: the update runs, split, and gives the bits of the update of each parameter on one thread.
        parameters[parameterIndex].GradientArray[position] = 0.25;
        var expected = parameters.Select(p => p.ValueArray.Zip(p.GradientArray, (w, g) => w - (0.1 * g)).ToArray()).ToArray();
        update.Run(new Sgd(0.1), context, 2, rows: 64, checkFinite: true).Should().Be(UpdateOutcome.Updated);
        parameters.Select(p => p.ValueArray).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Finite_gradients_that_would_overflow_a_sum_pass_the_check()
    {
        // The check is exact: a finite value is healthy however large, as on one thread (where an overflowing sum is
        // rescanned value by value).
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = SplitNetwork(context, Activations.Tanh);
        foreach (var parameter in network.Layers.SelectMany(l => l.Parameters))
        {
            parameter.GradientArray.AsSpan().Fill(double.MaxValue / 4);
        }

        new ParallelUpdate<double>(network.Layers).Run(new Sgd(1e-300), context, 2, rows: 64, checkFinite: true).Should().Be(UpdateOutcome.Updated);
    }

    [Fact]
    public void Fit_on_two_threads_names_a_non_finite_gradient_as_one_thread_does_and_keeps_the_weights()
    {
        var x = TestData.Random<double>(16, 128, seed: 5);
        var y = TestData.Random<double>(16, 2, seed: 6);
        TrainingDivergedException Diverge(int threads, out double[][] before, out double[][] after)
        {
            using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
            var network = SplitNetwork(context, new NaNDerivative());
            network.MaxDegreeOfParallelism = threads;
            before = TrainerTests.Snapshot(network);
            var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));
            var thrown = FluentActions.Invoking(() => trainer.Fit(x, y, new FitOptions { Epochs = 1, BatchSize = 16 }))
                .Should().Throw<TrainingDivergedException>().Which;
            after = TrainerTests.Snapshot(network);
            return thrown;
        }

        var one = Diverge(1, out var beforeOne, out var afterOne);
        var two = Diverge(2, out var beforeTwo, out var afterTwo);

        (two.Epoch, two.Batch, two.LayerIndex, two.Parameter).Should().Be((one.Epoch, one.Batch, one.LayerIndex, one.Parameter));
        (two.LayerIndex, two.Parameter).Should().Be((0, "weights"));
        two.Message.Should().Be(one.Message);
        afterOne.Should().BeEquivalentTo(beforeOne, o => o.WithStrictOrdering());
        afterTwo.Should().BeEquivalentTo(beforeTwo, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Clipping_on_two_threads_still_gives_the_bits_of_one_thread()
    {
        // With a maximum norm the check sums every gradient on the caller (the norm needs them all); the split check
        // is for the step without clipping. Both paths must agree with one thread.
        double[][] Train(int threads, double? maxNorm)
        {
            using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
            var network = SplitNetwork(context, Activations.Tanh);
            network.MaxDegreeOfParallelism = threads;
            new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1)).Fit(
                TestData.Random<double>(48, 128, seed: 9), TestData.Random<double>(48, 2, seed: 10),
                new FitOptions { Epochs = 2, BatchSize = 16, MaxGradientNorm = maxNorm });
            return TrainerTests.Snapshot(network);
        }

        foreach (double? maxNorm in new double?[] { null, 0.05 })
        {
            Train(2, maxNorm).Should().BeEquivalentTo(Train(1, maxNorm), o => o.WithStrictOrdering());
        }
    }

    /// <summary>The identity with a derivative of NaN: every gradient of its layer's weights is NaN.</summary>
    private sealed class NaNDerivative : ElementwiseActivation
    {
        public override string Name => "nan-derivative";

        public override TValue Apply<TValue>(TValue z) => z;

        public override TValue Derivative<TValue>(TValue z) => TValue.NaN;
    }
}
