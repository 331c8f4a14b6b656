using System.Globalization;
using System.Runtime.CompilerServices;

namespace Backprop.Tests.Serialization;

/// <summary>
/// The compatibility promise: model files written by format version 1 load, and predict their recorded outputs bit
/// for bit, in every later version. The files under Golden/ were written by <see cref="Generate"/> (run the tests with
/// BACKPROP_REGENERATE_GOLDEN=1 to rewrite them — only ever for a new format version, never to make this test pass).
/// </summary>
public class GoldenModelTests
{
    private const string NetworkFile = "golden-v1-network.bpnn";
    private const string CheckpointFile = "golden-v1-checkpoint.bpnn";
    private const string ExpectedFile = "golden-v1-expected.txt";

    private static string GoldenFolder => Path.Combine(AppContext.BaseDirectory, "Serialization", "Golden");

    [Fact]
    public void The_version_1_golden_files_load_and_predict_their_recorded_outputs()
    {
        if (Environment.GetEnvironmentVariable("BACKPROP_REGENERATE_GOLDEN") == "1")
        {
            Generate(SourceFolder());
        }

        var lines = File.ReadAllLines(Path.Combine(GoldenFolder, ExpectedFile)).Where(l => !l.StartsWith('#')).ToArray();
        var inputs = Parse(lines[0]);
        var expected = Parse(lines[1]);

        var network = Network<double>.Load(Path.Combine(GoldenFolder, NetworkFile));
        network.ToString().Should().Be("Network<Double>(4 → Dense(6, tanh) → Dropout(0.25) → Dense(3, softmax))");
        Predict(network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));

        var trainer = Trainer<double>.LoadCheckpoint(Path.Combine(GoldenFolder, CheckpointFile));
        trainer.EpochsCompleted.Should().Be(3);
        trainer.Optimizer.Should().BeOfType<Adam>();
        Predict(trainer.Network, inputs).Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits));
    }

    private static double[] Predict(Network<double> network, double[] inputs)
    {
        int rows = inputs.Length / network.InputSize;
        var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(rows, network.InputSize, (r, c) => inputs[r * network.InputSize + c]);
        var y = network.Predict(x);
        return Enumerable.Range(0, rows).SelectMany(r => y.Row(r).ToArray()).ToArray();
    }

    private static double[] Parse(string line) => line.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Writes the golden files: a trained network, its checkpoint, and the inputs with the outputs it predicts.</summary>
    private static void Generate(string folder)
    {
        var x = TestData.Random<double>(30, 4, seed: 1, scale: 2);
        int[] labels = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        var network = new Network<double>(4, seed: 2024,
            new Dense<double>(6, Activations.Tanh) { L2 = 1e-3 },
            new Dropout<double>(0.25, seed: 7),
            new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(1e-2));
        trainer.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 9 });
        network.Save(Path.Combine(folder, NetworkFile));
        trainer.SaveCheckpoint(Path.Combine(folder, CheckpointFile));

        double[] inputs = Enumerable.Range(0, 5 * 4).Select(i => Math.Sin(i + 1) * 3).ToArray();
        double[] outputs = Predict(network, inputs);
        File.WriteAllLines(Path.Combine(folder, ExpectedFile),
        [
            "# Inputs (5 samples of 4, row-major) and the outputs the golden network predicts for them (5 of 3), round-trip formatted.",
            string.Join(' ', inputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(' ', outputs.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        ]);
    }

    private static string SourceFolder([CallerFilePath] string path = "") => Path.Combine(Path.GetDirectoryName(path)!, "Golden");
}
