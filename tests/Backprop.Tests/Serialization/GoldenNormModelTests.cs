using System.Globalization;

namespace Backprop.Tests.Serialization;

/// <summary>
/// The compatibility promise for the normalisation layers: golden-v2-norm-* under Golden/ (a network with
/// <see cref="BatchNorm{T}"/> over channels and over features and <see cref="LayerNorm{T}"/>, trained, and its checkpoint)
/// load and predict their recorded outputs bit for bit. Written by <see cref="Generate"/>; run the tests with
/// BACKPROP_REGENERATE_GOLDEN=2 to write them — only when they are first made, never to make this test pass.
/// </summary>
public class GoldenNormModelTests
{
    private const int Version = 2;
    private const string NetworkFile = "golden-v2-norm-network.bpnn";
    private const string CheckpointFile = "golden-v2-norm-checkpoint.bpnn";
    private const string ExpectedFile = "golden-v2-norm-expected.txt";

    [Fact]
    public void The_normalisation_golden_files_load_and_predict_their_recorded_outputs()
    {
        string? regenerate = Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN");
        if (regenerate == Version.ToString(CultureInfo.InvariantCulture) && Version == ModelFile.FormatVersion)
        {
            Generate(GoldenFiles.SourceFolder());
        }

        var lines = File.ReadAllLines(Path.Combine(GoldenFiles.Folder, ExpectedFile)).Where(l => !l.StartsWith('#')).ToArray();
        var inputs = GoldenFiles.Parse(lines[0]);
        var expected = GoldenFiles.Parse(lines[1]);

        var network = Network<double>.Load(Path.Combine(GoldenFiles.Folder, NetworkFile));
        network.ToString().Should().Be("Network<Double>(2×3×3 → BatchNorm(momentum 0.2, epsilon 0.001) → Dense(5, tanh) → BatchNorm(momentum 0.1, epsilon 1E-05) → LayerNorm(epsilon 1E-05) → Dense(3, softmax))");
        var batchNorm = (BatchNorm<double>)network.Layers[0];
        batchNorm.RunningMean.Should().NotEqual(new double[2], "the running statistics were saved after training");
        GoldenFiles.Predict(network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));

        var trainer = Trainer<double>.LoadCheckpoint(Path.Combine(GoldenFiles.Folder, CheckpointFile));
        trainer.EpochsCompleted.Should().Be(3);
        GoldenFiles.Predict(trainer.Network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>Writes the golden files: a trained network, its checkpoint, and inputs with the outputs it predicts.</summary>
    private static void Generate(string folder)
    {
        var x = TestData.Random<double>(30, 18, seed: 1, scale: 2);
        int[] labels = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        var network = new Network<double>(TensorShape.Image(2, 3, 3), seed: 2025,
            new BatchNorm<double>(momentum: 0.2, epsilon: 1e-3),
            new Dense<double>(5, Activations.Tanh),
            new BatchNorm<double>(),
            new LayerNorm<double>(),
            new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-2));
        trainer.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 9 });
        network.Save(Path.Combine(folder, NetworkFile));
        trainer.SaveCheckpoint(Path.Combine(folder, CheckpointFile));

        double[] inputs = Enumerable.Range(0, 4 * 18).Select(i => Math.Sin(i + 1) * 3).ToArray();
        double[] outputs = GoldenFiles.Predict(network, inputs);
        File.WriteAllLines(Path.Combine(folder, ExpectedFile),
        [
            "# Inputs (4 samples of 2×3×3, row-major) and the outputs the golden network predicts for them (4 of 3), round-trip formatted.",
            string.Join(' ', inputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(' ', outputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ]);
    }
}
