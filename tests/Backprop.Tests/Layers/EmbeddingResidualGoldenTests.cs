using System.Globalization;
using Backprop.Tests.Serialization;

namespace Backprop.Tests.Layers;

/// <summary>
/// The compatibility promise for <see cref="Embedding{T}"/> and <see cref="Residual{T}"/>: the model file and checkpoint
/// under Serialization/Golden/golden-v2-embed-*, written by <see cref="Generate"/> with format version 2, load and predict
/// their recorded outputs bit for bit in every later version. As for <see cref="Serialization.GoldenModelTests"/>, run
/// with BACKPROP_REGENERATE_GOLDEN=2 only while version 2 is the current format, never to make this test pass.
/// </summary>
public class EmbeddingResidualGoldenTests
{
    private const int Version = 2;
    private const string NetworkFile = "golden-v2-embed-network.bpnn";
    private const string CheckpointFile = "golden-v2-embed-checkpoint.bpnn";
    private const string ExpectedFile = "golden-v2-embed-expected.txt";
    private const string Architecture =
        "Network<Double>(5 → Embedding(5×3 for columns 2, 0; 4×2 for columns 3) → Residual(Dense(8, tanh) → Dropout(0.25) → Dense(10, identity))" +
        " → Residual(Dense(4, relu), projection) → Dense(3, softmax))";

    [Fact]
    public void The_embedding_and_residual_golden_files_load_and_predict_their_recorded_outputs()
    {
        string? regenerate = Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN");
        if (regenerate == Version.ToString(CultureInfo.InvariantCulture) && ModelFile.FormatVersion == Version)
        {
            Generate(GoldenFiles.SourceFolder());
            foreach (string file in new[] { NetworkFile, CheckpointFile, ExpectedFile })
            {
                File.Copy(Path.Combine(GoldenFiles.SourceFolder(), file), Path.Combine(GoldenFiles.Folder, file), overwrite: true);
            }
        }

        BitConverter.ToUInt16(File.ReadAllBytes(Path.Combine(GoldenFiles.Folder, NetworkFile)), 8).Should().Be((ushort)Version);
        var lines = File.ReadAllLines(Path.Combine(GoldenFiles.Folder, ExpectedFile)).Where(l => !l.StartsWith('#')).ToArray();
        var inputs = GoldenFiles.Parse(lines[0]);
        var expected = GoldenFiles.Parse(lines[1]);

        var network = Network<double>.Load(Path.Combine(GoldenFiles.Folder, NetworkFile));
        network.ToString().Should().Be(Architecture);
        GoldenFiles.Predict(network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));

        var trainer = Trainer<double>.LoadCheckpoint(Path.Combine(GoldenFiles.Folder, CheckpointFile));
        trainer.EpochsCompleted.Should().Be(3);
        GoldenFiles.Predict(trainer.Network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));
    }

    private static readonly Dictionary<int, int> Vocabularies = new() { [0] = 5, [2] = 5, [3] = 4 };

    /// <summary>Writes the golden files: a trained network, its checkpoint, and inputs with the outputs it predicts.</summary>
    private static void Generate(string folder)
    {
        var x = EmbeddingTests.Ids<double>(30, 5, Vocabularies, seed: 1);
        int[] labels = Enumerable.Range(0, 30).Select(i => ((int)x[i, 0] + (int)x[i, 3]) % 3).ToArray();
        var network = new Network<double>(5, seed: 2024,
            new Embedding<double>([new EmbeddingTable(5, 3, 2, 0), new EmbeddingTable(4, 2, 3)]),
            new Residual<double>(new Dense<double>(8, Activations.Tanh) { L2 = 1e-3 }, new Dropout<double>(0.25, seed: 7), new Dense<double>(10)),
            new Residual<double>(new Dense<double>(4, Activations.ReLU)),
            new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-2));
        trainer.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 9 });
        network.Save(Path.Combine(folder, NetworkFile));
        trainer.SaveCheckpoint(Path.Combine(folder, CheckpointFile));

        double[] inputs = EmbeddingTests.Ids<double>(5, 5, Vocabularies, seed: 3).ToRowMajorArray();
        double[] outputs = GoldenFiles.Predict(network, inputs);
        File.WriteAllLines(Path.Combine(folder, ExpectedFile),
        [
            "# Inputs (5 samples of 5: ids in columns 0, 2 (of 5) and 3 (of 4), numbers in 1 and 4, row-major) and the outputs the golden network predicts for them (5 of 3), round-trip formatted.",
            string.Join(' ', inputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(' ', outputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ]);
    }
}
