using System.Globalization;

namespace Backprop.Tests.Serialization;

/// <summary>
/// The compatibility promise: model files written by every format version load, and predict their recorded outputs bit
/// for bit, in every later version. The files under Golden/ were written by <see cref="Generate"/> with the library of
/// their format version (golden-v1-* when <see cref="ModelFile.FormatVersion"/> was 1, golden-v2-* with version 2). Run
/// the tests with BACKPROP_REGENERATE_GOLDEN=N to write the files of the current version N — only ever for a new format
/// version, never to make this test pass; the files of older versions can no longer be written and stay as they are.
/// </summary>
public class GoldenModelTests
{

    [Fact]
    public void The_version_1_golden_files_load_and_predict_their_recorded_outputs() => LoadsAndPredicts(1);

    [Fact]
    public void The_version_2_golden_files_load_and_predict_their_recorded_outputs() => LoadsAndPredicts(2);

    private static string NetworkFile(int version) => $"golden-v{version}-network.bpnn";

    private static string CheckpointFile(int version) => $"golden-v{version}-checkpoint.bpnn";

    private static string ExpectedFile(int version) => $"golden-v{version}-expected.txt";

    private static void LoadsAndPredicts(int version)
    {
        string? regenerate = Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN");
        if (regenerate is not null && regenerate == version.ToString(CultureInfo.InvariantCulture) && version == ModelFile.FormatVersion)
        {
            Generate(GoldenFiles.SourceFolder(), version);
        }

        BitConverter.ToUInt16(File.ReadAllBytes(Path.Combine(GoldenFiles.Folder, NetworkFile(version))), 8).Should().Be((ushort)version);
        BitConverter.ToUInt16(File.ReadAllBytes(Path.Combine(GoldenFiles.Folder, CheckpointFile(version))), 8).Should().Be((ushort)version);
        string expectedFile = ExpectedFile(version);
        string networkFile = NetworkFile(version);
        string checkpointFile = CheckpointFile(version);
        var lines = File.ReadAllLines(Path.Combine(GoldenFiles.Folder, expectedFile)).Where(l => !l.StartsWith('#')).ToArray();
        var inputs = GoldenFiles.Parse(lines[0]);
        var expected = GoldenFiles.Parse(lines[1]);

        var network = Network<double>.Load(Path.Combine(GoldenFiles.Folder, networkFile));
        network.ToString().Should().Be("Network<Double>(4 → Dense(6, tanh) → Dropout(0.25) → Dense(3, softmax))");
        GoldenFiles.Predict(network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));

        var trainer = Trainer<double>.LoadCheckpoint(Path.Combine(GoldenFiles.Folder, checkpointFile));
        trainer.EpochsCompleted.Should().Be(3);
        trainer.Optimizer.Should().BeOfType<Adam>();
        GoldenFiles.Predict(trainer.Network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>Writes the golden files: a trained network, its checkpoint, and the inputs with the outputs it predicts.</summary>
    private static void Generate(string folder, int version)
    {
        string networkFile = NetworkFile(version);
        string checkpointFile = CheckpointFile(version);
        string expectedFile = ExpectedFile(version);
        var x = TestData.Random<double>(30, 4, seed: 1, scale: 2);
        int[] labels = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        var network = new Network<double>(4, seed: 2024,
            new Dense<double>(6, Activations.Tanh) { L2 = 1e-3 },
            new Dropout<double>(0.25, seed: 7),
            new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-2));
        trainer.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 9 });
        network.Save(Path.Combine(folder, networkFile));
        trainer.SaveCheckpoint(Path.Combine(folder, checkpointFile));

        double[] inputs = Enumerable.Range(0, 5 * 4).Select(i => Math.Sin(i + 1) * 3).ToArray();
        double[] outputs = GoldenFiles.Predict(network, inputs);
        File.WriteAllLines(Path.Combine(folder, expectedFile),
        [
            "# Inputs (5 samples of 4, row-major) and the outputs the golden network predicts for them (5 of 3), round-trip formatted.",
            string.Join(' ', inputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(' ', outputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ]);
    }
}
