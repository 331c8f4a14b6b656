namespace Backprop.Tests.Training;

/// <summary>The steady-state training step and per-sample prediction allocate nothing on the calling thread.</summary>
public class AllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_training_step_allocates_nothing_in_steady_state(int threads)
    {
        var network = new Network<float>(784, 1, new Dense<float>(32, Activations.ReLU), new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01, momentum: 0.9));
        var random = new DeterministicRandom(3);
        var x = Enumerable.Range(0, 16 * 784).Select(_ => (float)random.NextDouble()).ToArray();
        var y = new float[16 * 10];
        for (int r = 0; r < 16; r++)
        {
            y[r * 10 + r % 10] = 1;
        }

        for (int i = 0; i < 20; i++)
        {
            trainer.TrainBatch(x, y);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            trainer.TrainBatch(x, y);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void Predicting_one_sample_into_a_destination_allocates_nothing()
    {
        var network = new Network<double>(20, new Dense<double>(16, Activations.GELU), new Dense<double>(4, Activations.Softmax));
        var sample = new double[20];
        var destination = new double[4];
        for (int i = 0; i < 10; i++)
        {
            network.Predict(sample, destination);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            network.Predict(sample, destination);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }
}
