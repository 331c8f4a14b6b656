namespace Backprop.Tests.Training;

/// <summary>The steady-state training step and per-sample prediction allocate nothing on the calling thread.</summary>
public class AllocationTests
{
    [Theory]
    [InlineData(1, 32, 16)]
    [InlineData(2, 32, 16)]     // products too small to split: one thread
    [InlineData(2, 128, 64)]    // split products and a split optimizer update
    public void A_training_step_allocates_nothing_in_steady_state(int threads, int units, int rows)
    {
        var network = new Network<float>(784, 1, new Dense<float>(units, Activations.ReLU), new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01, momentum: 0.9));
        var random = new DeterministicRandom(3);
        var x = Enumerable.Range(0, rows * 784).Select(_ => (float)random.NextDouble()).ToArray();
        var y = new float[rows * 10];
        for (int r = 0; r < rows; r++)
        {
            y[r * 10 + r % 10] = 1;
        }

        AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(x, y)).Should().Be(0);
    }

    [Fact]
    public void Predicting_one_sample_into_a_destination_allocates_nothing()
    {
        var network = new Network<double>(20, new Dense<double>(16, Activations.GELU), new Dense<double>(4, Activations.Softmax));
        var sample = new double[20];
        var destination = new double[4];
        AllocationMeter.SteadyStateBytes(() => network.Predict(sample, destination)).Should().Be(0);
    }
}
