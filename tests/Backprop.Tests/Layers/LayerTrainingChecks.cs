namespace Backprop.Tests.Layers;

/// <summary>Checks that every new layer's training must pass, shared by the layers' tests.</summary>
internal static class LayerTrainingChecks
{
    /// <summary>A classifier made by <paramref name="make"/> (given its thread count) trains on 64 random rows of
    /// <paramref name="inputWidth"/> values and 4 classes, for <paramref name="epochs"/> epochs of batches of 16, to the
    /// same bits on <paramref name="threads"/> threads as on one; then a training step allocates nothing.</summary>
    public static void AllocatesNothingAndIsBitIdentical(Func<int, Network<float>> make, int threads, int inputWidth, int epochs)
    {
        var x = TestData.Random<float>(64, inputWidth, seed: 2, scale: 3);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 4).ToArray();
        var one = make(1);
        var many = make(threads);
        new Trainer<float>(one, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9)).Fit(x, labels, new FitOptions { Epochs = epochs, BatchSize = 16, Seed = 1 });
        var trainer = new Trainer<float>(many, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9));
        trainer.Fit(x, labels, new FitOptions { Epochs = epochs, BatchSize = 16, Seed = 1 });
        Properties.BitAssert.SameParameters(one, many, "every parameter");

        float[] rowMajorX = x.ToRowMajorArray().AsSpan(0, 16 * inputWidth).ToArray();
        var y = new float[16 * 4];
        for (int r = 0; r < 16; r++)
        {
            y[r * 4 + r % 4] = 1;
        }

        AllocationMeter.SteadyStateBytes(() => trainer.TrainBatch(rowMajorX, y)).Should().Be(0);
    }
}
