using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// General matrix multiplication on row-major spans: the kernel under every dense layer's forward and backward pass.
/// </summary>
/// <remarks>
/// <para>Computes C ← op(A)·op(B) (+ C when accumulating) (+ a bias broadcast to every row), where op(A) is m×k and op(B) is k×n.
/// Every matrix is row-major with an explicit leading dimension (the distance between the starts of two rows).
/// When <c>transposeA</c> is set, A is stored k×m and op(A) = Aᵀ; likewise for B.
/// The result does not depend on the degree of parallelism: each element's sum is always taken in the same order.</para>
/// <para>Thread safety: thread-safe: a call keeps nothing between calls. A call runs on the worker threads of the
/// <see cref="ComputeContext"/> it is given (<see cref="ComputeContext.Shared"/> when none), which concurrent calls and
/// the networks given that context share: one call holds a context's workers at a time, and a call that finds them busy
/// runs alone on its caller's thread, with the same, bit-identical result. No other thread may write the operands, or
/// touch <c>c</c>, during a call.</para>
/// </remarks>
public static class Gemm
{
    /// <summary>Computes C ← op(A)·op(B) [+ C] [+ bias], with every matrix row-major.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="a">The elements of A: m×k row-major, or k×m when <paramref name="transposeA"/> is set.</param>
    /// <param name="lda">The leading dimension of A: at least its stored column count.</param>
    /// <param name="transposeA">Whether op(A) = Aᵀ.</param>
    /// <param name="b">The elements of B: k×n row-major, or n×k when <paramref name="transposeB"/> is set.</param>
    /// <param name="ldb">The leading dimension of B: at least its stored column count.</param>
    /// <param name="transposeB">Whether op(B) = Bᵀ.</param>
    /// <param name="c">The elements of C, m×n row-major: overwritten, or added to when <paramref name="accumulate"/> is set.</param>
    /// <param name="ldc">The leading dimension of C: at least n.</param>
    /// <param name="m">The number of rows of op(A) and C.</param>
    /// <param name="n">The number of columns of op(B) and C.</param>
    /// <param name="k">The inner dimension: columns of op(A), rows of op(B).</param>
    /// <param name="accumulate">Whether to add the product to C's current contents instead of overwriting them.</param>
    /// <param name="bias">Empty, or n values added to every row of C.</param>
    /// <param name="maxDegreeOfParallelism">The most threads the call may use (and at most the context's
    /// <see cref="ComputeContext.MaxDegreeOfParallelism"/>); 1 runs on the calling thread only.</param>
    /// <param name="context">Where the call's worker threads and its split threshold come from; null for <see cref="ComputeContext.Shared"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, a leading dimension is too small, or <paramref name="maxDegreeOfParallelism"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A span is shorter than its matrix needs, or <paramref name="bias"/> is neither empty nor of length n.</exception>
    public static void Multiply<T>(
        ReadOnlySpan<T> a, int lda, bool transposeA,
        ReadOnlySpan<T> b, int ldb, bool transposeB,
        Span<T> c, int ldc,
        int m, int n, int k,
        bool accumulate = false,
        ReadOnlySpan<T> bias = default,
        int maxDegreeOfParallelism = 1,
        ComputeContext? context = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        CheckOperand(a.Length, lda, transposeA ? k : m, transposeA ? m : k, nameof(a), nameof(lda));
        CheckOperand(b.Length, ldb, transposeB ? n : k, transposeB ? k : n, nameof(b), nameof(ldb));
        CheckOperand(c.Length, ldc, m, n, nameof(c), nameof(ldc));
        if (!bias.IsEmpty && bias.Length != n)
        {
            throw new ArgumentException($"The bias must be empty or have n = {n} elements, but it has {bias.Length}.", nameof(bias));
        }

        MultiplyUnchecked(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, maxDegreeOfParallelism, context ?? ComputeContext.Shared);
    }

    private static void CheckOperand(int length, int leadingDimension, int rows, int columns, string name, string ldName)
    {
        if (leadingDimension < Math.Max(1, columns))
        {
            throw new ArgumentOutOfRangeException(ldName, leadingDimension, $"The leading dimension of {name} must be at least {Math.Max(1, columns)} (its stored column count), but it is {leadingDimension}.");
        }

        long needed = rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * leadingDimension + columns;
        if (length < needed)
        {
            throw new ArgumentException($"{name} must hold at least {needed} elements for a {rows}×{columns} matrix with leading dimension {leadingDimension}, but it has {length}.", name);
        }
    }

    // Multiply without validation (the layers call it with shapes they own), on the calling thread only.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyUnchecked<T>(
        ReadOnlySpan<T> a, int lda, bool transposeA,
        ReadOnlySpan<T> b, int ldb, bool transposeB,
        Span<T> c, int ldc,
        int m, int n, int k,
        bool accumulate, ReadOnlySpan<T> bias)
        where T : unmanaged, IFloatingPointIeee754<T>
        => MultiplyUnchecked(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, 1, ComputeContext.Shared);

    // Multiply without validation, on up to maxDegreeOfParallelism threads (the caller and the context's workers); the
    // result is bit-identical for every degree of parallelism and context. Picks the widest hardware-accelerated vector width.
    // preferRowSplit: share the work out by contiguous rows of C where possible (see GemmDriver.PartCount).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyUnchecked<T>(
        ReadOnlySpan<T> a, int lda, bool transposeA,
        ReadOnlySpan<T> b, int ldb, bool transposeB,
        Span<T> c, int ldc,
        int m, int n, int k,
        bool accumulate, ReadOnlySpan<T> bias, int maxDegreeOfParallelism, ComputeContext context, bool preferRowSplit = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            GemmDriver<GemmScalar<T>, T, T>.Multiply(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, maxDegreeOfParallelism, context, preferRowSplit);
        }
        else if (GemmSimd512<T>.IsPreferred)
        {
            GemmDriver<GemmSimd512<T>, Vector512<T>, T>.Multiply(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, maxDegreeOfParallelism, context, preferRowSplit);
        }
        else if (GemmSimd256<T>.IsPreferred)
        {
            GemmDriver<GemmSimd256<T>, Vector256<T>, T>.Multiply(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, maxDegreeOfParallelism, context, preferRowSplit);
        }
        else if (GemmSimd128<T>.IsPreferred)
        {
            GemmDriver<GemmSimd128<T>, Vector128<T>, T>.Multiply(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, maxDegreeOfParallelism, context, preferRowSplit);
        }
        else
        {
            GemmDriver<GemmScalar<T>, T, T>.Multiply(a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, maxDegreeOfParallelism, context, preferRowSplit);
        }
    }
}
