using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>A regression data set: one sample per row of <paramref name="Features"/> and its target values in the same row of <paramref name="Targets"/>.</summary>
/// <remarks>Thread safety: the record is immutable, but the matrices and arrays it holds are not: share it between
/// threads for reading only, and change the data only while nothing else uses it.</remarks>
/// <typeparam name="T">The element type.</typeparam>
/// <param name="Features">The samples, rows × features.</param>
/// <param name="Targets">The targets, rows × outputs (one column for a single target).</param>
public sealed record RegressionData<T>(Matrix<T> Features, Matrix<T> Targets)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The names of the feature columns from the file's header, or null when it has none.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>The number of samples.</summary>
    public int Count => Features.RowCount;
}
