using System.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Storage;

namespace Backprop.Numerics;

/// <summary>Row-major copies of MathNet matrices, which keep their dense values column by column.</summary>
internal static class RowMajorCopy
{
    private const int Block = 32;

    /// <summary>The values of <paramref name="matrix"/> row after row, as <see cref="Matrix{T}.ToRowMajorArray"/> gives
    /// them, transposed from a dense matrix's column-major array in cache-sized blocks.</summary>
    /// <remarks>MathNet's own copy walks the column-major array with a stride of a whole column for every value: on
    /// 60,000 × 784 images it spent ≈ 0.4 s of the 0.7 s before the first batch of a <c>Fit</c>.</remarks>
    public static T[] Of<T>(Matrix<T> matrix)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (matrix.Storage is not DenseColumnMajorMatrixStorage<T> dense || (long)dense.RowCount * dense.ColumnCount < Block * Block)
        {
            return matrix.ToRowMajorArray();
        }

        int rows = dense.RowCount, columns = dense.ColumnCount;
        T[] source = dense.Data;
        var result = LargeArrays.Uninitialized<T>(rows * columns);
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(rows, r0 + Block);
            for (int c0 = 0; c0 < columns; c0 += Block)
            {
                int c1 = Math.Min(columns, c0 + Block);
                for (int r = r0; r < r1; r++)
                {
                    var row = result.AsSpan(r * columns, columns);
                    for (int c = c0; c < c1; c++)
                    {
                        row[c] = source[(long)c * rows + r];
                    }
                }
            }
        }

        return result;
    }
}
