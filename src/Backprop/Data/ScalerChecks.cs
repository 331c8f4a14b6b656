using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>The checks and the element-wise driver the scalers share.</summary>
internal static class ScalerChecks
{
    /// <summary>Checks training data and returns it row-major in double.</summary>
    public static double[] FitData<T>(Matrix<T> data, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data, paramName);
        if (data.RowCount == 0 || data.ColumnCount == 0)
        {
            throw new ArgumentException($"{paramName} must have at least one row and one column to fit on, but it is {data.RowCount} × {data.ColumnCount}.", paramName);
        }

        T[] values = data.ToRowMajorArray();
        Guard.FiniteValues<T>(values, data.ColumnCount, paramName);
        return Array.ConvertAll(values, double.CreateChecked);
    }

    /// <summary>Maps every value per column: result = (x − offset[c]) · factor[c] + shift[c].</summary>
    public static Matrix<T> Apply<T>(Matrix<T> data, string scaler, bool isFitted, double[] offset, double[] factor, double[] shift, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data, paramName);
        if (!isFitted)
        {
            throw new InvalidOperationException($"This {scaler} has not been fitted: call Fit (or FitTransform) on the training data first.");
        }

        if (data.ColumnCount != offset.Length)
        {
            throw new ArgumentException($"{paramName} has {data.ColumnCount} columns, but this {scaler} was fitted on {offset.Length}.", paramName);
        }

        int width = offset.Length;
        T[] values = data.ToRowMajorArray();
        for (int i = 0; i < values.Length; i++)
        {
            int c = i % width;
            values[i] = T.CreateChecked((double.CreateChecked(values[i]) - offset[c]) * factor[c] + shift[c]);
        }

        return Matrix<T>.Build.DenseOfRowMajor(data.RowCount, width, values);
    }

    public static double[] CheckStatistics(double[] values, string paramName, bool positive)
    {
        ArgumentNullException.ThrowIfNull(values, paramName);
        if (values.Length == 0)
        {
            throw new ArgumentException($"{paramName} must have one value per feature, but it is empty.", paramName);
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]) || (positive && values[i] < 0))
            {
                throw new ArgumentOutOfRangeException(paramName, values[i],
                    FormattableString.Invariant($"{paramName}[{i}] must be a finite number{(positive ? " ≥ 0" : "")}, but it is {values[i]}."));
            }
        }

        return (double[])values.Clone();
    }
}
