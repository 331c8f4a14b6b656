namespace Backprop.Tests.Training;

/// <summary>Matrix products split work by output tiles, never inside a sum, so the thread count cannot change a bit.</summary>
public class ParallelDeterminismTests
{
    private static double[][] Train<T>(int threads, IOptimizer? optimizer = null)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var x = TestData.Random<T>(256, 200, seed: 5);
        int[] labels = Enumerable.Range(0, 256).Select(i => i % 10).ToArray();
        var network = new Network<T>(200, seed: 9,
            new Dense<T>(160, Activations.ReLU),
            new Dense<T>(96, Activations.Tanh),
            new Dense<T>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        new Trainer<T>(network, Losses.CrossEntropy, optimizer ?? new Sgd(0.05, momentum: 0.9))
            .Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 64, Seed = 1 });
        return TrainerTests.Snapshot(network);
    }

    [Fact]
    public void Float_training_is_bit_identical_with_one_or_two_threads() => AssertBitIdentical(Train<float>(1), Train<float>(2));

    [Fact]
    public void Double_training_is_bit_identical_with_one_or_two_threads() => AssertBitIdentical(Train<double>(1), Train<double>(2));

    [Theory]
    [MemberData(nameof(Backprop.Tests.Optimizers.OptimizerTestKit.AllNames), MemberType = typeof(Backprop.Tests.Optimizers.OptimizerTestKit))]
    public void Every_optimizer_trains_bit_identically_with_one_or_two_threads(string name) =>
        AssertBitIdentical(
            Train<float>(1, Backprop.Tests.Optimizers.OptimizerTestKit.Create(name)),
            Train<float>(2, Backprop.Tests.Optimizers.OptimizerTestKit.Create(name)));

    [Fact]
    public void Batches_gathered_by_two_threads_train_as_batches_gathered_by_one()
    {
        // 64 rows of 600 doubles (300 KB a batch): two threads copy the shuffled rows, a product stays on one.
        double[][] Train(int threads)
        {
            var x = TestData.Random<double>(300, 600, seed: 6);
            int[] labels = Enumerable.Range(0, 300).Select(i => i % 4).ToArray();
            var network = new Network<double>(600, seed: 2, new Dense<double>(8, Activations.Tanh), new Dense<double>(4, Activations.Softmax))
            {
                MaxDegreeOfParallelism = threads,
            };
            new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.05)).Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 64, Seed = 4 });
            return TrainerTests.Snapshot(network);
        }

        AssertBitIdentical(Train(1), Train(2));
    }

    private static void AssertBitIdentical(double[][] one, double[][] two)
    {
        one.Should().HaveSameCount(two);
        for (int i = 0; i < one.Length; i++)
        {
            one[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(two[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i} must not depend on the thread count");
        }
    }
}
