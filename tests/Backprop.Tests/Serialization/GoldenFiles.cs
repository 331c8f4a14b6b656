using System.Globalization;
using Backprop.Tests.Samples;

namespace Backprop.Tests.Serialization;

/// <summary>What the golden-file tests share: where the files are (copied beside the tests, and in the repository for
/// the generators), how their expected lines are parsed, and how a network's outputs are read for comparison.</summary>
internal static class GoldenFiles
{
    /// <summary>The golden files as the test run sees them: copied to the output folder.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Serialization", "Golden");

    /// <summary>The golden files in the repository, where a generator writes them (found above the test binaries, not
    /// from [CallerFilePath]: a CI build maps source paths to /_/).</summary>
    public static string SourceFolder() =>
        Path.Combine(SamplesRunTests.RepositoryRoot(), "tests", "Backprop.Tests", "Serialization", "Golden");

    /// <summary>A line of space-separated round-trip numbers.</summary>
    public static double[] Parse(string line) => line.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The network's outputs for row-major inputs, row-major.</summary>
    public static double[] Predict(Network<double> network, double[] inputs)
    {
        int rows = inputs.Length / network.InputSize;
        var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(rows, network.InputSize, (r, c) => inputs[r * network.InputSize + c]);
        return network.Predict(x).ToRowMajorArray();
    }
}
