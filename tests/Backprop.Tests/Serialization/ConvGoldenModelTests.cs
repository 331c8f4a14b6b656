using System.Globalization;

namespace Backprop.Tests.Serialization;

/// <summary>
/// The compatibility promise for convolutional networks: the files Golden/golden-v2-conv-* were written by
/// <see cref="Generate"/> with format version 2 and must load, and predict their recorded outputs bit for bit, in every
/// later version. As for <see cref="GoldenModelTests"/>, BACKPROP_REGENERATE_GOLDEN=N writes the files of the current
/// version N — only ever for a new format version, never to make this test pass.
/// </summary>
public class ConvGoldenModelTests
{
    private const int Version = 2;
    private const string NetworkFile = "golden-v2-conv-network.bpnn";
    private const string CheckpointFile = "golden-v2-conv-checkpoint.bpnn";
    private const string ExpectedFile = "golden-v2-conv-expected.txt";

    [Fact]
    public void The_version_2_convolutional_golden_files_load_and_predict_their_recorded_outputs()
    {
        string? regenerate = Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN");
        if (regenerate == Version.ToString(CultureInfo.InvariantCulture) && Version == ModelFile.FormatVersion)
        {
            Generate(GoldenFiles.SourceFolder());
        }

        BitConverter.ToUInt16(File.ReadAllBytes(Path.Combine(GoldenFiles.Folder, NetworkFile)), 8).Should().Be((ushort)Version);
        BitConverter.ToUInt16(File.ReadAllBytes(Path.Combine(GoldenFiles.Folder, CheckpointFile)), 8).Should().Be((ushort)Version);
        var lines = File.ReadAllLines(Path.Combine(GoldenFiles.Folder, ExpectedFile)).Where(l => !l.StartsWith('#')).ToArray();
        var inputs = GoldenFiles.Parse(lines[0]);
        var expected = GoldenFiles.Parse(lines[1]);

        var network = Network<double>.Load(Path.Combine(GoldenFiles.Folder, NetworkFile));
        network.ToString().Should().Be(
            "Network<Double>(2×7×6 → Conv2D(4, 3×3, stride 1×1, same, relu) → Conv2D(3, 2×3, stride 2×1, explicit(1, 0, 0, 2), tanh) → Dense(3, softmax))");
        GoldenFiles.Predict(network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));

        var trainer = Trainer<double>.LoadCheckpoint(Path.Combine(GoldenFiles.Folder, CheckpointFile));
        trainer.EpochsCompleted.Should().Be(3);
        trainer.Optimizer.Should().BeOfType<Sgd>();
        GoldenFiles.Predict(trainer.Network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>Writes the golden files: a trained convolutional network, its checkpoint, and inputs with the outputs it predicts.</summary>
    private static void Generate(string folder)
    {
        var network = new Network<double>(TensorShape.Image(2, 7, 6), seed: 2024,
            new Conv2D<double>(4, 3, 3, padding: Padding.Same, activation: Activations.ReLU) { L2 = 1e-3 },
            new Conv2D<double>(3, 2, 3, 2, 1, Padding.Explicit(top: 1, bottom: 0, left: 0, right: 2), Activations.Tanh, Initializers.HeUniform),
            new Dense<double>(3, Activations.Softmax));
        var x = TestData.Random<double>(30, network.InputSize, seed: 1, scale: 2);
        int[] labels = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9));
        trainer.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 9 });
        network.Save(Path.Combine(folder, NetworkFile));
        trainer.SaveCheckpoint(Path.Combine(folder, CheckpointFile));

        double[] inputs = Enumerable.Range(0, 4 * network.InputSize).Select(i => Math.Sin(i + 1) * 3).ToArray();
        double[] outputs = GoldenFiles.Predict(network, inputs);
        File.WriteAllLines(Path.Combine(folder, ExpectedFile),
        [
            "# Inputs (4 samples of 2×7×6, row-major) and the outputs the golden convolutional network predicts for them (4 of 3), round-trip formatted.",
            string.Join(' ', inputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(' ', outputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ]);
    }
}
