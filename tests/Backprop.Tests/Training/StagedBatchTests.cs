namespace Backprop.Tests.Training;

/// <summary>When a network's products stay on one thread, its idle worker copies the next shuffled batch into a staging
/// array while the current batch trains, and the staged batch is handed to the trainer's pass by exchanging the arrays
/// instead of being copied again. The rows must be exactly those a plain copy gives, in every batch of every epoch.</summary>
public class StagedBatchTests
{
    [Theory]
    [InlineData(10, 4)]     // a short last batch (4, 4, 2)
    [InlineData(12, 4)]     // whole batches only
    [InlineData(3, 4)]      // one batch, shorter than the batch size: nothing is ever staged
    public void Staged_batches_handed_over_by_exchange_hold_the_rows_a_plain_copy_gives(int rows, int batchSize)
    {
        const int Inputs = 5, Outputs = 2;
        using var context = new ComputeContext(2);
        var network = new Network<float>(Inputs, new Dense<float>(Outputs)) { Context = context, MaxDegreeOfParallelism = 2 };
        var pass = new ForwardPass<float>(network, batchSize);
        float[] x = Enumerable.Range(0, rows * Inputs).Select(i => (float)i).ToArray();
        float[] y = Enumerable.Range(0, rows * Outputs).Select(i => -(float)i).ToArray();
        using var staged = new InMemoryFeeder<float>(Inputs, Outputs, shuffle: true, seed: 3) { Gather = GatherMode.Background, Context = context, Pass = pass };
        using var plain = new InMemoryFeeder<float>(Inputs, Outputs, shuffle: true, seed: 3) { Gather = GatherMode.Caller };
        staged.SetRows(x, y, null, rows);
        plain.SetRows(x, y, null, rows);
        var expectedInputs = new float[batchSize * Inputs];
        var expectedTargets = new float[batchSize * Outputs];
        var targets = new float[batchSize * Outputs];
        int exchanges = 0, batches = 0;
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            staged.BeginEpoch(epoch).Should().Be(plain.BeginEpoch(epoch));
            while (true)
            {
                float[] before = pass.Input;
                int count = staged.NextBatch(pass.Input.AsSpan(0, batchSize * Inputs), targets, default);
                plain.NextBatch(expectedInputs, expectedTargets, default).Should().Be(count, "epoch {0}, batch {1}", epoch, batches + 1);
                if (count == 0)
                {
                    break;
                }

                batches++;
                exchanges += ReferenceEquals(before, pass.Input) ? 0 : 1;
                pass.Input.AsSpan(0, count * Inputs).ToArray().Should().Equal(expectedInputs.AsSpan(0, count * Inputs).ToArray(), "epoch {0}, batch {1}", epoch, batches);
                targets.AsSpan(0, count * Outputs).ToArray().Should().Equal(expectedTargets.AsSpan(0, count * Outputs).ToArray());
            }
        }

        // Every batch but each epoch's first is staged while the one before it trains.
        int perEpoch = (rows + batchSize - 1) / batchSize;
        exchanges.Should().Be(3 * (perEpoch - 1));
        pass.Input.Length.Should().Be(batchSize * Inputs, "the arrays exchanged are all of the pass's input length");
    }

    [Fact]
    public void A_narrow_network_whose_batches_are_staged_trains_to_the_bits_of_one_thread()
    {
        // 600-8-10 at batch 16: products far below the split threshold, so on two threads the worker stages batches.
        double[][] Train(int threads)
        {
            using var context = new ComputeContext(2);
            var network = new Network<double>(600, seed: 2, new Dense<double>(8, Activations.Tanh), new Dense<double>(10, Activations.Softmax))
            {
                Context = context,
                MaxDegreeOfParallelism = threads,
            };
            var x = TestData.Random<double>(150, 600, seed: 4);
            int[] labels = Enumerable.Range(0, 150).Select(i => (i * 3) % 10).ToArray();
            var history = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.05))
                .Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 16, Seed = 5 });
            return [.. TrainerTests.Snapshot(network), history.Epochs.Select(e => e.Loss).ToArray()];
        }

        Train(2).Should().BeEquivalentTo(Train(1), o => o.WithStrictOrdering());
    }
}
