namespace Backprop.Tests.Diagnostics;

/// <summary>A gradient check leaves the network exactly as it found it: weights, and the generators of its dropout layers.</summary>
public class GradientCheckSideEffectTests
{
    [Fact]
    public void A_loss_that_throws_mid_check_leaves_every_weight_as_it_was()
    {
        var network = new Network<double>(3, seed: 5, new Dense<double>(4, Activations.Tanh), new Dense<double>(2));
        double[][] before = Backprop.Tests.Training.TrainerTests.Snapshot(network);
        var x = TestData.Random<double>(5, 3, seed: 1);
        var y = TestData.Random<double>(5, 2, seed: 2);

        // Each compared value costs four loss evaluations: the 30th throws while a weight of the first layer is perturbed.
        var act = () => GradientCheck.Run(network, new ThrowingLoss(after: 30), x, y);

        act.Should().Throw<InvalidOperationException>().WithMessage("loss evaluation 31*");
        Backprop.Tests.Training.TrainerTests.Snapshot(network).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_check_does_not_advance_the_dropout_generators()
    {
        Network<double> Build() => new(3, seed: 5, new Dense<double>(6, Activations.Tanh), new Dropout<double>(0.5, seed: 9), new Dense<double>(2));
        var x = TestData.Random<double>(8, 3, seed: 1);
        var y = TestData.Random<double>(8, 2, seed: 2);
        var checkedFirst = Build();
        var untouched = Build();

        GradientCheck.Run(checkedFirst, Losses.MeanSquaredError, x, y).Passed.Should().BeTrue();
        new Trainer<double>(checkedFirst, Losses.MeanSquaredError, new Sgd(0.1)).TrainBatch(x, y);
        new Trainer<double>(untouched, Losses.MeanSquaredError, new Sgd(0.1)).TrainBatch(x, y);

        Backprop.Tests.Training.TrainerTests.Snapshot(checkedFirst)
            .Should().BeEquivalentTo(Backprop.Tests.Training.TrainerTests.Snapshot(untouched), o => o.WithStrictOrdering());
    }

    /// <summary>Mean squared error that throws on its (after + 1)-th evaluation.</summary>
    private sealed class ThrowingLoss(int after) : ILossFunction
    {
        private int _calls;

        public string Name => "throwing";

        public LossReduction Reduction => LossReduction.Mean;

        public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            if (++_calls > after)
            {
                throw new InvalidOperationException($"loss evaluation {_calls} fails on purpose");
            }

            return Losses.MeanSquaredError.Value(outputs, targets, width);
        }

        public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
            Losses.MeanSquaredError.Gradient(outputs, targets, outputGradients, width);

        public void ValidateTargets<T>(ReadOnlySpan<T> targets, int width, string paramName)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
        }
    }
}
