using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>Operations on one row of a batch (softmax's and cross-entropy's rows of classes): vectorised calls for long
/// rows, plain loops for the short rows of a classifier's few classes, whose vectorised set-up would cost more than the
/// work.</summary>
internal static class RowKernels
{
    /// <summary>destination = row − value, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Subtract<T>(ReadOnlySpan<T> row, T value, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= 32)
        {
            SpanKernels.Subtract(row, value, destination);
            return;
        }

        for (int j = 0; j < row.Length; j++)
        {
            destination[j] = row[j] - value;
        }
    }

    /// <summary>The largest value of a row; NaN if the row has one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Max<T>(ReadOnlySpan<T> row)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length >= 32)
        {
            return SpanKernels.Max(row);
        }

        T max = row[0];
        for (int j = 1; j < row.Length; j++)
        {
            T v = row[j];
            if (T.IsNaN(v))
            {
                return v;
            }

            if (v > max)
            {
                max = v;
            }
        }

        return max;
    }
}
