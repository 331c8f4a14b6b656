using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>One-hot encoding of class labels: label k becomes a row of zeros with a 1 in column k.</summary>
/// <remarks>
/// <para>Training with <c>Fit(inputs, labels)</c> does this itself; encode explicitly to pass target matrices, for
/// example to <see cref="Trainer{T}.TrainBatch(Matrix{T}, Matrix{T})"/> or to <see cref="GradientCheck"/>.</para>
/// <para>Thread safety: stateless: every method may be called from any number of threads at once. It only reads its
/// arguments (which no other thread may change during the call) and returns new results.</para>
/// </remarks>
public static class OneHot
{
    /// <summary>Encodes class labels as one-hot rows.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="labels">One class per row, each in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">The number of classes: the width of the result; at least 1.</param>
    /// <returns>A labels.Length × <paramref name="classCount"/> matrix with Y[i, labels[i]] = 1 and every other element 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is less than 1, or a label is outside [0, <paramref name="classCount"/>).</exception>
    public static Matrix<T> Encode<T>(ReadOnlySpan<int> labels, int classCount)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Positive(classCount, nameof(classCount));
        var values = new T[labels.Length * classCount];
        int bad = EncodeRows<T>(labels, classCount, values);
        if (bad >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(labels), labels[bad],
                $"labels[{bad}] must be in [0, {classCount - 1}] (classCount is {classCount}), but it is {labels[bad]}.");
        }

        return Matrix<T>.Build.DenseOfRowMajor(labels.Length, classCount, values);
    }

    /// <summary>Writes the one-hot rows of <paramref name="labels"/> into <paramref name="destination"/> (labels.Length ×
    /// <paramref name="classCount"/> zeros), for callers that report a bad label in their own terms.</summary>
    /// <returns>The index of the first label outside [0, <paramref name="classCount"/>), or −1 when every label is in range.</returns>
    internal static int EncodeRows<T>(ReadOnlySpan<int> labels, int classCount, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                return i;
            }

            destination[i * classCount + labels[i]] = T.One;
        }

        return -1;
    }

    /// <summary>Encodes class labels as one-hot rows, with as many columns as the largest label plus one.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="labels">One class per row, each at least 0; at least one label.</param>
    /// <returns>A labels.Length × (max label + 1) matrix.</returns>
    /// <exception cref="ArgumentException"><paramref name="labels"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is negative.</exception>
    public static Matrix<T> Encode<T>(ReadOnlySpan<int> labels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (labels.IsEmpty)
        {
            throw new ArgumentException("labels must contain at least one label to infer the number of classes, but it is empty; pass classCount instead.", nameof(labels));
        }

        int max = 0;
        foreach (int label in labels)
        {
            max = Math.Max(max, label);
        }

        return Encode<T>(labels, max + 1);
    }

    /// <summary>The class of every row when each row is one-hot (one 1, the rest 0) and there are at least two columns; else null.</summary>
    internal static int[]? ClassesOfOneHotRows<T>(ReadOnlySpan<T> y, int rows, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (width < 2)
        {
            return null;
        }

        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int hot = -1;
            for (int j = 0; j < width; j++)
            {
                T v = y[r * width + j];
                if (v == T.One && hot < 0)
                {
                    hot = j;
                }
                else if (v != T.Zero)
                {
                    return null;
                }
            }

            if (hot < 0)
            {
                return null;
            }

            classes[r] = hot;
        }

        return classes;
    }

    /// <summary>Decodes rows back into classes: the column of each row's largest value (the first one on a tie).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="rows">One-hot rows, or scores such as predicted probabilities; at least one column.</param>
    /// <returns>One class index per row.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> is null.</exception>
    public static int[] Decode<T>(Matrix<T> rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rows);
        var classes = new int[rows.RowCount];
        for (int r = 0; r < classes.Length; r++)
        {
            int best = 0;
            for (int c = 1; c < rows.ColumnCount; c++)
            {
                if (rows[r, c] > rows[r, best])
                {
                    best = c;
                }
            }

            classes[r] = best;
        }

        return classes;
    }
}
