using System.Globalization;
using Backprop.Tests.Serialization;

namespace Backprop.Tests.Layers;

/// <summary>
/// The compatibility promise for the pooling layers: a model file and a checkpoint written with format version 2 by
/// <see cref="Generate"/> (committed beside the other golden files, as golden-v2-pool-*) load and predict their recorded
/// outputs bit for bit. Run with BACKPROP_REGENERATE_GOLDEN=2 to write them — only when they do not exist yet or for a
/// new format version, never to make this test pass.
/// </summary>
public class PoolingGoldenTests
{
    private const string NetworkFile = "golden-v2-pool-network.bpnn";
    private const string CheckpointFile = "golden-v2-pool-checkpoint.bpnn";
    private const string ExpectedFile = "golden-v2-pool-expected.txt";
    private const string Description =
        "Network<Double>(2×7×6 → MaxPool2D(2×2, stride 2×2, same) → AveragePool2D(3×2, stride 1×1, explicit(1, 1, 0, 1), excluding padding) → " +
        "MaxPool2D(2×2, stride 1×1, valid) → GlobalAveragePool2D → Dense(3, softmax))";

    [Fact]
    public void The_pooling_golden_files_load_and_predict_their_recorded_outputs()
    {
        if (Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN") == "2" && ModelFile.FormatVersion == 2)
        {
            Generate(GoldenFiles.SourceFolder());
        }

        var lines = File.ReadAllLines(Path.Combine(GoldenFiles.Folder, ExpectedFile)).Where(l => !l.StartsWith('#')).ToArray();
        var inputs = GoldenFiles.Parse(lines[0]);
        var expected = GoldenFiles.Parse(lines[1]);

        var network = Network<double>.Load(Path.Combine(GoldenFiles.Folder, NetworkFile));
        network.ToString().Should().Be(Description);
        network.InputShape.Should().Be(TensorShape.Image(2, 7, 6));
        GoldenFiles.Predict(network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));

        var trainer = Trainer<double>.LoadCheckpoint(Path.Combine(GoldenFiles.Folder, CheckpointFile));
        trainer.EpochsCompleted.Should().Be(2);
        GoldenFiles.Predict(trainer.Network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>Writes the golden files: a trained network with every pooling layer and padding mode, its checkpoint,
    /// and inputs with the outputs it predicts.</summary>
    private static void Generate(string folder)
    {
        var shape = TensorShape.Image(2, 7, 6);
        var x = TestData.Random<double>(24, shape.Size, seed: 1, scale: 2);
        int[] labels = Enumerable.Range(0, 24).Select(i => i % 3).ToArray();
        var network = new Network<double>(shape, seed: 2024,
            new MaxPool2D<double>(2, stride: null, Padding.Same),
            new AveragePool2D<double>(3, 2, 1, 1, Padding.Explicit(1, 1, 0, 1)) { CountIncludePad = false },
            new MaxPool2D<double>(2, stride: 1),
            new GlobalAveragePool2D<double>(),
            new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-2));
        trainer.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 9 });
        network.Save(Path.Combine(folder, NetworkFile));
        trainer.SaveCheckpoint(Path.Combine(folder, CheckpointFile));

        double[] inputs = Enumerable.Range(0, 3 * shape.Size).Select(i => Math.Sin(i + 1) * 3).ToArray();
        double[] outputs = GoldenFiles.Predict(network, inputs);
        File.WriteAllLines(Path.Combine(folder, ExpectedFile),
        [
            "# Inputs (3 samples of 2×7×6, row-major) and the outputs the golden pooling network predicts for them (3 of 3), round-trip formatted.",
            string.Join(' ', inputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(' ', outputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ]);
    }
}
