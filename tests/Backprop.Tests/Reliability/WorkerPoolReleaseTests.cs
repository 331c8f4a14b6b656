namespace Backprop.Tests.Reliability;

/// <summary>On two threads, Fit hands the copy of the next batch to a pool worker while a batch trains (when the
/// products are too small to split) or shares each copy with it (when they are split). However training ends, the
/// worker pool must be free afterwards: a pool left held would silently make every later product single-threaded.</summary>
[Collection(nameof(RunsAlone))]
public class WorkerPoolReleaseTests
{
    [Theory]
    [InlineData(8, "cancel")]      // 2·16·(784·8) flops a product: background copies
    [InlineData(8, "throw")]
    [InlineData(256, "cancel")]    // 2·64·(784·256): shared copies
    [InlineData(256, "throw")]
    public void The_pool_is_free_after_training_is_cancelled_or_fails_mid_epoch(int units, string ending)
    {
        int batch = units == 8 ? 16 : 64;
        var x = TestData.Random<float>(40 * batch, 784, seed: 3);
        int[] labels = Enumerable.Range(0, 40 * batch).Select(i => i % 10).ToArray();
        var network = new Network<float>(784, seed: 1, new Dense<float>(units, Activations.ReLU), new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = 2,
        };
        using var cancellation = new CancellationTokenSource();
        var stopper = new StopAt(3, ending == "cancel" ? cancellation.Cancel : () => throw new InvalidOperationException("stop"));
        var act = () => new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01))
            .Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = batch, Observers = [stopper] }, cancellationToken: cancellation.Token);

        if (ending == "cancel")
        {
            act.Should().Throw<OperationCanceledException>();
        }
        else
        {
            act.Should().Throw<InvalidOperationException>().WithMessage("stop");
        }

        ComputeContext.Shared.Pool.IsHeld.Should().BeFalse("nothing else runs beside this test, so no job may hold the pool");
    }

    [Fact]
    public void Training_again_after_a_cancelled_epoch_on_two_threads_equals_one_thread()
    {
        double[][] Train(int threads)
        {
            var x = TestData.Random<double>(200, 300, seed: 5);
            int[] labels = Enumerable.Range(0, 200).Select(i => i % 3).ToArray();
            var network = new Network<double>(300, seed: 2, new Dense<double>(6, Activations.Tanh), new Dense<double>(3, Activations.Softmax))
            {
                MaxDegreeOfParallelism = threads,
            };
            var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.05));
            using var cancellation = new CancellationTokenSource();
            var act = () => trainer.Fit(x, labels, new FitOptions { Epochs = 1, BatchSize = 16, Observers = [new StopAt(4, cancellation.Cancel)] }, cancellationToken: cancellation.Token);
            act.Should().Throw<OperationCanceledException>();
            trainer.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 16 });
            return Backprop.Tests.Training.TrainerTests.Snapshot(network);
        }

        Train(2).Should().BeEquivalentTo(Train(1), o => o.WithStrictOrdering());
    }

    /// <summary>Runs an action at the start of a given batch of the first epoch.</summary>
    private sealed class StopAt(int batch, Action action) : ITrainingObserver
    {
        public void OnBatchBegin(int epoch, int b)
        {
            if (epoch == 1 && b == batch)
            {
                action();
            }
        }
    }
}
