using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests;

/// <summary>Small data sets shared by the tests.</summary>
internal static class TestData
{
    public static (Matrix<double> X, Matrix<double> Y) Xor() => (
        Matrix<double>.Build.DenseOfRowArrays([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]),
        Matrix<double>.Build.DenseOfRowArrays([0.0], [1.0], [1.0], [0.0]));

    /// <summary>Fisher's Iris from the project's own copy: 150 rows of 4 measurements and a class 0..2.</summary>
    public static (double[][] Features, int[] Labels) Iris()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Data", "iris.csv");
        var lines = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).ToArray();
        var features = new double[lines.Length][];
        var labels = new int[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            features[i] = cells.Take(4).Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            labels[i] = int.Parse(cells[4], CultureInfo.InvariantCulture);
        }

        return (features, labels);
    }

    public static Matrix<T> Random<T>(int rows, int columns, int seed, double scale = 1.0)
        where T : struct, IEquatable<T>, IFormattable
    {
        var random = new DeterministicRandom(seed);
        return Matrix<T>.Build.Dense(rows, columns, (_, _) => (T)Convert.ChangeType((2 * random.NextDouble() - 1) * scale, typeof(T), CultureInfo.InvariantCulture));
    }
}
