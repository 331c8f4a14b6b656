using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

// C ← A·Bᵀ [+ C] [+ bias] for narrow products (n ≤ one vector: the output layer's forward product, 64×10×128) as dot
// products along k: rows of A and rows of B are both contiguous in k, so neither is packed, and every lane of every
// FMA does useful work, where the row-broadcast kernels would fill 10 of 16 lanes and pack B on every call.
// A 4×4 tile of C keeps 16 vector accumulators (lane l holds the terms p ≡ l mod lanes); a transposing tree of
// unpacks, 128-bit shuffles and adds turns them into one vector of the 16 sums (two for double). Each element's sum
// depends on k alone, never on the part of the rows a thread takes.
internal static class GemmDot<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Whether the dot-product kernel takes a product of this shape: AVX-512, A as stored, op(B) = Bᵀ, n within one
    // vector, and k long enough (four vectors) that the reduction is paid back.
    internal static bool Applies(bool transposeA, bool transposeB, int m, int n, int k) =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        && !transposeA && transposeB && m >= 4 && n <= Vector512<T>.Count && k >= 4 * Vector512<T>.Count;

    // Rows [firstRow, endRow) of C, every column; element (i, p) of A at a + i·lda + p, (j, p) of op(B)ᵀ at b + j·ldb + p.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows(
        ref T a, nint lda, ref T b, nint ldb, ref T c, nint ldc, int firstRow, int endRow, int n, int k, bool accumulate, ref T bias, bool hasBias)
    {
        Unsafe.SkipInit(out Sums sums);
        ref T s = ref Unsafe.As<Sums, T>(ref sums);
        for (int i = firstRow; i < endRow; i += 4)
        {
            int rows = Math.Min(4, endRow - i);
            for (int j = 0; j < n; j += 4)
            {
                int cols = Math.Min(4, n - j);
                Tile(ref a, lda, ref b, ldb, i, endRow - 1, j, n - 1, k, ref s);
                for (int r = 0; r < rows; r++)
                {
                    ref T cRow = ref Unsafe.Add(ref c, ((i + r) * ldc) + j);
                    for (int q = 0; q < cols; q++)
                    {
                        T value = Unsafe.Add(ref s, (r * 4) + q);
                        if (accumulate)
                        {
                            value += Unsafe.Add(ref cRow, q);
                        }

                        if (hasBias)
                        {
                            value += Unsafe.Add(ref bias, j + q);
                        }

                        Unsafe.Add(ref cRow, q) = value;
                    }
                }
            }
        }
    }

    // The 16 sums of rows i..i+3 (clamped to lastRow) of A against rows j..j+3 (clamped to lastCol) of B, written to
    // sums[r·4 + q].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(ref T a, nint lda, ref T b, nint ldb, int i, int lastRow, int j, int lastCol, int k, ref T sums)
    {
        ref T a0 = ref Unsafe.Add(ref a, i * lda);
        ref T a1 = ref Unsafe.Add(ref a, Math.Min(i + 1, lastRow) * lda);
        ref T a2 = ref Unsafe.Add(ref a, Math.Min(i + 2, lastRow) * lda);
        ref T a3 = ref Unsafe.Add(ref a, Math.Min(i + 3, lastRow) * lda);
        ref T b0 = ref Unsafe.Add(ref b, j * ldb);
        ref T b1 = ref Unsafe.Add(ref b, Math.Min(j + 1, lastCol) * ldb);
        ref T b2 = ref Unsafe.Add(ref b, Math.Min(j + 2, lastCol) * ldb);
        ref T b3 = ref Unsafe.Add(ref b, Math.Min(j + 3, lastCol) * ldb);
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default,
            c10 = default, c11 = default, c12 = default, c13 = default,
            c20 = default, c21 = default, c22 = default, c23 = default,
            c30 = default, c31 = default, c32 = default, c33 = default;
        int lanes = Vector512<T>.Count;
        int p = 0;
        for (; p <= k - lanes; p += lanes)
        {
            Step(
                Vector512.LoadUnsafe(ref a0, (nuint)p), Vector512.LoadUnsafe(ref a1, (nuint)p), Vector512.LoadUnsafe(ref a2, (nuint)p), Vector512.LoadUnsafe(ref a3, (nuint)p),
                Vector512.LoadUnsafe(ref b0, (nuint)p), Vector512.LoadUnsafe(ref b1, (nuint)p), Vector512.LoadUnsafe(ref b2, (nuint)p), Vector512.LoadUnsafe(ref b3, (nuint)p),
                ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13,
                ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
        }

        if (p < k)
        {
            // The last steps: the lanes past k read as zeros in B, so they add nothing.
            int rest = k - p;
            Vector512<T> x0 = GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref a0, p), rest);
            Vector512<T> x1 = GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref a1, p), rest);
            Vector512<T> x2 = GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref a2, p), rest);
            Vector512<T> x3 = GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref a3, p), rest);
            Step(
                x0, x1, x2, x3,
                GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref b0, p), rest), GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref b1, p), rest),
                GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref b2, p), rest), GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref b3, p), rest),
                ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13,
                ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33);
        }

        if (typeof(T) == typeof(float))
        {
            Reduce16(
                c00.AsSingle(), c01.AsSingle(), c02.AsSingle(), c03.AsSingle(), c10.AsSingle(), c11.AsSingle(), c12.AsSingle(), c13.AsSingle(),
                c20.AsSingle(), c21.AsSingle(), c22.AsSingle(), c23.AsSingle(), c30.AsSingle(), c31.AsSingle(), c32.AsSingle(), c33.AsSingle())
                .StoreUnsafe(ref Unsafe.As<T, float>(ref sums));
        }
        else
        {
            Reduce8(c00.AsDouble(), c01.AsDouble(), c02.AsDouble(), c03.AsDouble(), c10.AsDouble(), c11.AsDouble(), c12.AsDouble(), c13.AsDouble())
                .StoreUnsafe(ref Unsafe.As<T, double>(ref sums));
            Reduce8(c20.AsDouble(), c21.AsDouble(), c22.AsDouble(), c23.AsDouble(), c30.AsDouble(), c31.AsDouble(), c32.AsDouble(), c33.AsDouble())
                .StoreUnsafe(ref Unsafe.As<T, double>(ref Unsafe.Add(ref sums, 8)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(
        Vector512<T> x0, Vector512<T> x1, Vector512<T> x2, Vector512<T> x3,
        Vector512<T> y0, Vector512<T> y1, Vector512<T> y2, Vector512<T> y3,
        ref Vector512<T> c00, ref Vector512<T> c01, ref Vector512<T> c02, ref Vector512<T> c03,
        ref Vector512<T> c10, ref Vector512<T> c11, ref Vector512<T> c12, ref Vector512<T> c13,
        ref Vector512<T> c20, ref Vector512<T> c21, ref Vector512<T> c22, ref Vector512<T> c23,
        ref Vector512<T> c30, ref Vector512<T> c31, ref Vector512<T> c32, ref Vector512<T> c33)
    {
        c00 = GemmSimd512<T>.MultiplyAdd(x0, y0, c00);
        c01 = GemmSimd512<T>.MultiplyAdd(x0, y1, c01);
        c02 = GemmSimd512<T>.MultiplyAdd(x0, y2, c02);
        c03 = GemmSimd512<T>.MultiplyAdd(x0, y3, c03);
        c10 = GemmSimd512<T>.MultiplyAdd(x1, y0, c10);
        c11 = GemmSimd512<T>.MultiplyAdd(x1, y1, c11);
        c12 = GemmSimd512<T>.MultiplyAdd(x1, y2, c12);
        c13 = GemmSimd512<T>.MultiplyAdd(x1, y3, c13);
        c20 = GemmSimd512<T>.MultiplyAdd(x2, y0, c20);
        c21 = GemmSimd512<T>.MultiplyAdd(x2, y1, c21);
        c22 = GemmSimd512<T>.MultiplyAdd(x2, y2, c22);
        c23 = GemmSimd512<T>.MultiplyAdd(x2, y3, c23);
        c30 = GemmSimd512<T>.MultiplyAdd(x3, y0, c30);
        c31 = GemmSimd512<T>.MultiplyAdd(x3, y1, c31);
        c32 = GemmSimd512<T>.MultiplyAdd(x3, y2, c32);
        c33 = GemmSimd512<T>.MultiplyAdd(x3, y3, c33);
    }

    // Lane l of the result = the sum of the 16 lanes of v_l. Within each 128-bit chunk: 32-bit unpacks pair v_2t with
    // v_2t+1, 64-bit unpacks gather four vectors' chunk sums; then 128-bit shuffles add the four chunks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce16(
        Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7,
        Vector512<float> v8, Vector512<float> v9, Vector512<float> v10, Vector512<float> v11,
        Vector512<float> v12, Vector512<float> v13, Vector512<float> v14, Vector512<float> v15)
    {
        Vector512<float> w01 = Avx512F.UnpackLow(v0, v1) + Avx512F.UnpackHigh(v0, v1);
        Vector512<float> w23 = Avx512F.UnpackLow(v2, v3) + Avx512F.UnpackHigh(v2, v3);
        Vector512<float> w45 = Avx512F.UnpackLow(v4, v5) + Avx512F.UnpackHigh(v4, v5);
        Vector512<float> w67 = Avx512F.UnpackLow(v6, v7) + Avx512F.UnpackHigh(v6, v7);
        Vector512<float> w89 = Avx512F.UnpackLow(v8, v9) + Avx512F.UnpackHigh(v8, v9);
        Vector512<float> wab = Avx512F.UnpackLow(v10, v11) + Avx512F.UnpackHigh(v10, v11);
        Vector512<float> wcd = Avx512F.UnpackLow(v12, v13) + Avx512F.UnpackHigh(v12, v13);
        Vector512<float> wef = Avx512F.UnpackLow(v14, v15) + Avx512F.UnpackHigh(v14, v15);
        Vector512<float> y0 = Pairs(w01, w23);
        Vector512<float> y1 = Pairs(w45, w67);
        Vector512<float> y2 = Pairs(w89, wab);
        Vector512<float> y3 = Pairs(wcd, wef);
        Vector512<float> z0 = Avx512F.Shuffle4x128(y0, y1, 0x88) + Avx512F.Shuffle4x128(y0, y1, 0xDD);
        Vector512<float> z1 = Avx512F.Shuffle4x128(y2, y3, 0x88) + Avx512F.Shuffle4x128(y2, y3, 0xDD);
        return Avx512F.Shuffle4x128(z0, z1, 0x88) + Avx512F.Shuffle4x128(z0, z1, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pairs(Vector512<float> left, Vector512<float> right) =>
        Avx512F.UnpackLow(left.AsDouble(), right.AsDouble()).AsSingle() + Avx512F.UnpackHigh(left.AsDouble(), right.AsDouble()).AsSingle();

    // Lane l of the result = the sum of the 8 lanes of v_l: 64-bit unpacks, then 128-bit shuffles.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Reduce8(
        Vector512<double> v0, Vector512<double> v1, Vector512<double> v2, Vector512<double> v3,
        Vector512<double> v4, Vector512<double> v5, Vector512<double> v6, Vector512<double> v7)
    {
        Vector512<double> w01 = Avx512F.UnpackLow(v0, v1) + Avx512F.UnpackHigh(v0, v1);
        Vector512<double> w23 = Avx512F.UnpackLow(v2, v3) + Avx512F.UnpackHigh(v2, v3);
        Vector512<double> w45 = Avx512F.UnpackLow(v4, v5) + Avx512F.UnpackHigh(v4, v5);
        Vector512<double> w67 = Avx512F.UnpackLow(v6, v7) + Avx512F.UnpackHigh(v6, v7);
        Vector512<double> z0 = Avx512F.Shuffle4x128(w01, w23, 0x88) + Avx512F.Shuffle4x128(w01, w23, 0xDD);
        Vector512<double> z1 = Avx512F.Shuffle4x128(w45, w67, 0x88) + Avx512F.Shuffle4x128(w45, w67, 0xDD);
        return Avx512F.Shuffle4x128(z0, z1, 0x88) + Avx512F.Shuffle4x128(z0, z1, 0xDD);
    }

    // Room for the 16 sums of a tile (of either element type).
    [InlineArray(16)]
    private struct Sums
    {
        private double _element;
    }
}
