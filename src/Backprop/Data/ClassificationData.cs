using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>A classification data set: one sample per row of <paramref name="Features"/> and its class in <paramref name="Labels"/>.</summary>
/// <remarks>Thread safety: the record is immutable, but the matrices and arrays it holds are not: share it between
/// threads for reading only, and change the data only while nothing else uses it.</remarks>
/// <typeparam name="T">The element type.</typeparam>
/// <param name="Features">The samples, rows × features.</param>
/// <param name="Labels">One class index per row, each at least 0.</param>
public sealed record ClassificationData<T>(Matrix<T> Features, int[] Labels)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The names of the feature columns from the file's header, or null when it has none.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>The number of samples.</summary>
    public int Count => Features.RowCount;

    /// <summary>The number of classes: the largest label plus one (0 for no samples).</summary>
    public int ClassCount => Labels.Length == 0 ? 0 : Labels.Max() + 1;
}
