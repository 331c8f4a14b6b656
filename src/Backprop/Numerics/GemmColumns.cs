using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

// Products with few columns (n ≤ MaxColumns, such as an output layer's 10 units) on 512-bit vectors: vectors along the
// rows of C instead of along its columns, so that every lane does useful work where the row-broadcast kernels would fill
// 10 of 16. A tile of one or two vectors of rows keeps one accumulator per column and vector; step p loads the rows'
// elements A[i, p] as vectors (from a packed, transposed panel of A, or from A itself when it is stored k×m) and
// broadcasts B[p, j] for each column, read in place whichever way B is stored (for Bᵀ, n rows of B read as n strided
// streams: packing them cost about 10% at m = 64). The tile is then transposed through a small scratch area into rows of C.
// Every element of C is summed exactly as the row-broadcast kernels sum it (the same K blocks; per block, one fused
// multiply-add chain from zero in increasing p; then + C; then + bias in the last block), so the two paths, and Gemv,
// give the same bits, and which one runs depends on the shape alone.
internal static class GemmColumns<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // The most columns of C this path takes: two vectors of rows keep 2·12 accumulators in the 32 registers.
    internal const int MaxColumns = 12;

    private static int Lanes => Vector512<T>.Count;

    // Scratch elements a call needs: an A panel of KcMax steps, then the accumulators of a tile and the rows they
    // transpose into.
    private static int BufferLength => (GemmDriver<GemmSimd512<T>, Vector512<T>, T>.KcMax * 2 * Lanes) + (2 * 16 * 2 * Lanes);

    // Whether a product takes this path: AVX-512, n ≤ MaxColumns, more of the lanes useful along m than along n
    // (m·⌈n/lanes⌉ > n·⌈m/lanes⌉), and a transposition of A that pays. Where A is stored k×m its rows' elements are
    // loaded as they are; otherwise a panel of A is transposed first, which costs about as much as the multiply-adds and
    // pays (measured) only in float with at least a vector of rows and n ≤ 10. A property of the shape alone.
    internal static bool Applies(int m, int n, bool transposeA)
    {
        if (!Avx512F.IsSupported || (typeof(T) != typeof(float) && typeof(T) != typeof(double)) || n > MaxColumns)
        {
            return false;
        }

        int lanes = Lanes;
        if ((long)m * ((n + lanes - 1) / lanes) <= (long)n * ((m + lanes - 1) / lanes))
        {
            return false;
        }

        return transposeA || (typeof(T) == typeof(float) && m >= lanes && n <= 10);
    }

    // Rows per tile: two vectors of rows, or one where m is no more than one vector.
    internal static int TileRows(int m) => m > Lanes ? 2 * Lanes : Lanes;

    // Computes the row tiles [firstTile, endTile) of C (plan.Columns).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunPart(in GemmPlan plan, ref T a, ref T b, ref T c, ref T bias, int firstTile, int endTile)
    {
        int lanes = Lanes;
        int kcMax = GemmDriver<GemmSimd512<T>, Vector512<T>, T>.KcMax;
        int tileRows = plan.TileRows;
        int m = plan.M;
        int n = plan.N;
        int k = plan.K;
        nint lda = plan.ATransposed ? plan.AStep : plan.ARow;
        nint ldb = plan.Ldb;
        nint ldc = plan.Ldc;
        ref T aPanel = ref GemmBuffers<T>.GetReference(BufferLength);
        ref T scratch = ref Unsafe.Add(ref aPanel, kcMax * 2 * lanes);
        ref T rowBuffer = ref Unsafe.Add(ref scratch, 16 * 2 * lanes);
        for (int kk = 0; kk < k; kk += plan.Kc)
        {
            int kc = Math.Min(plan.Kc, k - kk);
            bool loadC = kk > 0 || plan.Accumulate;
            bool addBias = plan.HasBias && kk + kc == k;
            scoped ref T bBlock = ref Unsafe.Add(ref b, kk * ldb);
            nint bStep = ldb;
            nint bCol = 1;
            if (plan.TransposeB)
            {
                bBlock = ref Unsafe.Add(ref b, kk);
                bStep = 1;
                bCol = ldb;
            }

            for (int tile = firstTile; tile < endTile; tile++)
            {
                int i0 = tile * tileRows;
                int rows = Math.Min(tileRows, m - i0);
                int width = rows > lanes ? 2 * lanes : lanes;
                scoped ref T aBlock = ref aPanel;
                nint aStep = width;
                if (!plan.ATransposed)
                {
                    GemmPacking<GemmSimd512<T>, Vector512<T>, T>.PackColumns(ref Unsafe.Add(ref a, (i0 * lda) + kk), lda, kc, rows, width, ref aPanel);
                }
                else if (rows == width)
                {
                    aBlock = ref Unsafe.Add(ref a, (kk * lda) + i0);
                    aStep = lda;
                }
                else
                {
                    GemmPacking<GemmSimd512<T>, Vector512<T>, T>.PackRows(ref Unsafe.Add(ref a, (kk * lda) + i0), lda, kc, rows, width, ref aPanel);
                }

                Multiply(width > lanes, n, ref aBlock, aStep, ref bBlock, bStep, bCol, kc, ref scratch, width);
                StoreRows(ref scratch, width, rows, n, ref Unsafe.Add(ref c, i0 * ldc), ldc, loadC, ref bias, addBias, ref rowBuffer);
            }
        }
    }

    private static void Multiply(bool twoVectors, int n, ref T a, nint aStep, ref T b, nint bStep, nint bCol, int kc, ref T scratch, nint width)
    {
        if (twoVectors)
        {
            Multiply<GemmRows2>(n, ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width);
        }
        else
        {
            Multiply<GemmRows1>(n, ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width);
        }
    }

    // The kernel for n columns (1 to 12) and TTiles vectors of rows: each count a type, so that the kernel's column
    // ladder is resolved when it is compiled.
    private static void Multiply<TTiles>(int n, ref T a, nint aStep, ref T b, nint bStep, nint bCol, int kc, ref T scratch, nint width)
        where TTiles : struct, IGemmRows
    {
        switch (n)
        {
            case 12: Kernel<GemmRows12, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 11: Kernel<GemmRows11, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 10: Kernel<GemmRows10, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 9: Kernel<GemmRows9, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 8: Kernel<GemmRows8, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 7: Kernel<GemmRows7, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 6: Kernel<GemmRows6, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 5: Kernel<GemmRows5, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 4: Kernel<GemmRows4, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 3: Kernel<GemmRows3, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            case 2: Kernel<GemmRows2, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
            default: Kernel<GemmRows1, TTiles>(ref a, aStep, ref b, bStep, bCol, kc, ref scratch, width); break;
        }
    }

    // Column j of the tile (rows along the lanes, TTiles vectors of them) ← Σ_p A[·, p]·B[p, j], written to scratch at
    // j·width: A's rows' elements for step p at a + p·aStep, B[p, j] at b + p·bStep + j·bCol.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TCols, TTiles>(ref T a, nint aStep, ref T b, nint bStep, nint bCol, int kc, ref T scratch, nint width)
        where TCols : struct, IGemmRows
        where TTiles : struct, IGemmRows
    {
        nint lanes = Vector512<T>.Count;
        Vector512<T> x0 = Vector512<T>.Zero, x1 = Vector512<T>.Zero, x2 = Vector512<T>.Zero, x3 = Vector512<T>.Zero, x4 = Vector512<T>.Zero, x5 = Vector512<T>.Zero, x6 = Vector512<T>.Zero, x7 = Vector512<T>.Zero, x8 = Vector512<T>.Zero, x9 = Vector512<T>.Zero, x10 = Vector512<T>.Zero, x11 = Vector512<T>.Zero;
        Vector512<T> y0 = Vector512<T>.Zero, y1 = Vector512<T>.Zero, y2 = Vector512<T>.Zero, y3 = Vector512<T>.Zero, y4 = Vector512<T>.Zero, y5 = Vector512<T>.Zero, y6 = Vector512<T>.Zero, y7 = Vector512<T>.Zero, y8 = Vector512<T>.Zero, y9 = Vector512<T>.Zero, y10 = Vector512<T>.Zero, y11 = Vector512<T>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> a0 = Vector512.LoadUnsafe(ref a);
            Vector512<T> a1 = TTiles.Count > 1 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref a, lanes)) : Vector512<T>.Zero;
            Vector512<T> w;
            {
                w = Broadcast(Unsafe.Add(ref b, 0 * bCol));
                x0 = GemmSimd512<T>.MultiplyAdd(w, a0, x0);
                if (TTiles.Count > 1)
                {
                    y0 = GemmSimd512<T>.MultiplyAdd(w, a1, y0);
                }
            }

            if (TCols.Count > 1)
            {
                w = Broadcast(Unsafe.Add(ref b, 1 * bCol));
                x1 = GemmSimd512<T>.MultiplyAdd(w, a0, x1);
                if (TTiles.Count > 1)
                {
                    y1 = GemmSimd512<T>.MultiplyAdd(w, a1, y1);
                }
            }

            if (TCols.Count > 2)
            {
                w = Broadcast(Unsafe.Add(ref b, 2 * bCol));
                x2 = GemmSimd512<T>.MultiplyAdd(w, a0, x2);
                if (TTiles.Count > 1)
                {
                    y2 = GemmSimd512<T>.MultiplyAdd(w, a1, y2);
                }
            }

            if (TCols.Count > 3)
            {
                w = Broadcast(Unsafe.Add(ref b, 3 * bCol));
                x3 = GemmSimd512<T>.MultiplyAdd(w, a0, x3);
                if (TTiles.Count > 1)
                {
                    y3 = GemmSimd512<T>.MultiplyAdd(w, a1, y3);
                }
            }

            if (TCols.Count > 4)
            {
                w = Broadcast(Unsafe.Add(ref b, 4 * bCol));
                x4 = GemmSimd512<T>.MultiplyAdd(w, a0, x4);
                if (TTiles.Count > 1)
                {
                    y4 = GemmSimd512<T>.MultiplyAdd(w, a1, y4);
                }
            }

            if (TCols.Count > 5)
            {
                w = Broadcast(Unsafe.Add(ref b, 5 * bCol));
                x5 = GemmSimd512<T>.MultiplyAdd(w, a0, x5);
                if (TTiles.Count > 1)
                {
                    y5 = GemmSimd512<T>.MultiplyAdd(w, a1, y5);
                }
            }

            if (TCols.Count > 6)
            {
                w = Broadcast(Unsafe.Add(ref b, 6 * bCol));
                x6 = GemmSimd512<T>.MultiplyAdd(w, a0, x6);
                if (TTiles.Count > 1)
                {
                    y6 = GemmSimd512<T>.MultiplyAdd(w, a1, y6);
                }
            }

            if (TCols.Count > 7)
            {
                w = Broadcast(Unsafe.Add(ref b, 7 * bCol));
                x7 = GemmSimd512<T>.MultiplyAdd(w, a0, x7);
                if (TTiles.Count > 1)
                {
                    y7 = GemmSimd512<T>.MultiplyAdd(w, a1, y7);
                }
            }

            if (TCols.Count > 8)
            {
                w = Broadcast(Unsafe.Add(ref b, 8 * bCol));
                x8 = GemmSimd512<T>.MultiplyAdd(w, a0, x8);
                if (TTiles.Count > 1)
                {
                    y8 = GemmSimd512<T>.MultiplyAdd(w, a1, y8);
                }
            }

            if (TCols.Count > 9)
            {
                w = Broadcast(Unsafe.Add(ref b, 9 * bCol));
                x9 = GemmSimd512<T>.MultiplyAdd(w, a0, x9);
                if (TTiles.Count > 1)
                {
                    y9 = GemmSimd512<T>.MultiplyAdd(w, a1, y9);
                }
            }

            if (TCols.Count > 10)
            {
                w = Broadcast(Unsafe.Add(ref b, 10 * bCol));
                x10 = GemmSimd512<T>.MultiplyAdd(w, a0, x10);
                if (TTiles.Count > 1)
                {
                    y10 = GemmSimd512<T>.MultiplyAdd(w, a1, y10);
                }
            }

            if (TCols.Count > 11)
            {
                w = Broadcast(Unsafe.Add(ref b, 11 * bCol));
                x11 = GemmSimd512<T>.MultiplyAdd(w, a0, x11);
                if (TTiles.Count > 1)
                {
                    y11 = GemmSimd512<T>.MultiplyAdd(w, a1, y11);
                }
            }

            a = ref Unsafe.Add(ref a, aStep);
            b = ref Unsafe.Add(ref b, bStep);
        }

        x0.StoreUnsafe(ref Unsafe.Add(ref scratch, 0 * width));
        if (TTiles.Count > 1)
        {
            y0.StoreUnsafe(ref Unsafe.Add(ref scratch, (0 * width) + lanes));
        }

        if (TCols.Count > 1)
        {
            x1.StoreUnsafe(ref Unsafe.Add(ref scratch, 1 * width));
            if (TTiles.Count > 1)
            {
                y1.StoreUnsafe(ref Unsafe.Add(ref scratch, (1 * width) + lanes));
            }
        }

        if (TCols.Count > 2)
        {
            x2.StoreUnsafe(ref Unsafe.Add(ref scratch, 2 * width));
            if (TTiles.Count > 1)
            {
                y2.StoreUnsafe(ref Unsafe.Add(ref scratch, (2 * width) + lanes));
            }
        }

        if (TCols.Count > 3)
        {
            x3.StoreUnsafe(ref Unsafe.Add(ref scratch, 3 * width));
            if (TTiles.Count > 1)
            {
                y3.StoreUnsafe(ref Unsafe.Add(ref scratch, (3 * width) + lanes));
            }
        }

        if (TCols.Count > 4)
        {
            x4.StoreUnsafe(ref Unsafe.Add(ref scratch, 4 * width));
            if (TTiles.Count > 1)
            {
                y4.StoreUnsafe(ref Unsafe.Add(ref scratch, (4 * width) + lanes));
            }
        }

        if (TCols.Count > 5)
        {
            x5.StoreUnsafe(ref Unsafe.Add(ref scratch, 5 * width));
            if (TTiles.Count > 1)
            {
                y5.StoreUnsafe(ref Unsafe.Add(ref scratch, (5 * width) + lanes));
            }
        }

        if (TCols.Count > 6)
        {
            x6.StoreUnsafe(ref Unsafe.Add(ref scratch, 6 * width));
            if (TTiles.Count > 1)
            {
                y6.StoreUnsafe(ref Unsafe.Add(ref scratch, (6 * width) + lanes));
            }
        }

        if (TCols.Count > 7)
        {
            x7.StoreUnsafe(ref Unsafe.Add(ref scratch, 7 * width));
            if (TTiles.Count > 1)
            {
                y7.StoreUnsafe(ref Unsafe.Add(ref scratch, (7 * width) + lanes));
            }
        }

        if (TCols.Count > 8)
        {
            x8.StoreUnsafe(ref Unsafe.Add(ref scratch, 8 * width));
            if (TTiles.Count > 1)
            {
                y8.StoreUnsafe(ref Unsafe.Add(ref scratch, (8 * width) + lanes));
            }
        }

        if (TCols.Count > 9)
        {
            x9.StoreUnsafe(ref Unsafe.Add(ref scratch, 9 * width));
            if (TTiles.Count > 1)
            {
                y9.StoreUnsafe(ref Unsafe.Add(ref scratch, (9 * width) + lanes));
            }
        }

        if (TCols.Count > 10)
        {
            x10.StoreUnsafe(ref Unsafe.Add(ref scratch, 10 * width));
            if (TTiles.Count > 1)
            {
                y10.StoreUnsafe(ref Unsafe.Add(ref scratch, (10 * width) + lanes));
            }
        }

        if (TCols.Count > 11)
        {
            x11.StoreUnsafe(ref Unsafe.Add(ref scratch, 11 * width));
            if (TTiles.Count > 1)
            {
                y11.StoreUnsafe(ref Unsafe.Add(ref scratch, (11 * width) + lanes));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Broadcast(T value) => Vector512.Create(value);

    // C[r, 0..n) ← column sums [+ C] [+ bias] for r < rows, from the tile's columns at scratch + j·width, transposed a
    // vector of rows at a time into rows of 16 elements at rowBuffer.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreRows(ref T scratch, nint width, int rows, int n, ref T c, nint ldc, bool loadC, ref T bias, bool addBias, ref T rowBuffer)
    {
        int lanes = Lanes;
        for (int g = 0; g < rows; g += lanes)
        {
            if (typeof(T) == typeof(float))
            {
                GemmPacking<GemmSimd512<float>, Vector512<float>, float>.Transpose16(
                    ref Unsafe.As<T, float>(ref Unsafe.Add(ref scratch, g)), width, n, ref Unsafe.As<T, float>(ref rowBuffer), 16);
            }
            else
            {
                GemmPacking<GemmSimd512<double>, Vector512<double>, double>.Transpose8(
                    ref Unsafe.As<T, double>(ref Unsafe.Add(ref scratch, g)), width, Math.Min(8, n), ref Unsafe.As<T, double>(ref rowBuffer), 16);
                if (n > 8)
                {
                    GemmPacking<GemmSimd512<double>, Vector512<double>, double>.Transpose8(
                        ref Unsafe.As<T, double>(ref Unsafe.Add(ref scratch, (8 * width) + g)), width, n - 8, ref Unsafe.As<T, double>(ref Unsafe.Add(ref rowBuffer, 8)), 16);
                }
            }

            int groupRows = Math.Min(lanes, rows - g);
            for (int q = 0; q < groupRows; q++)
            {
                ref T row = ref Unsafe.Add(ref rowBuffer, q * 16);
                ref T cRow = ref Unsafe.Add(ref c, (g + q) * ldc);
                for (int j = 0; j < n; j += lanes)
                {
                    int count = Math.Min(lanes, n - j);
                    Vector512<T> v = Vector512.LoadUnsafe(ref Unsafe.Add(ref row, j));
                    if (count == lanes)
                    {
                        if (loadC)
                        {
                            v += Vector512.LoadUnsafe(ref Unsafe.Add(ref cRow, j));
                        }

                        if (addBias)
                        {
                            v += Vector512.LoadUnsafe(ref Unsafe.Add(ref bias, j));
                        }

                        v.StoreUnsafe(ref Unsafe.Add(ref cRow, j));
                    }
                    else
                    {
                        if (loadC)
                        {
                            v += GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref cRow, j), count);
                        }

                        if (addBias)
                        {
                            v += GemmSimd512<T>.LoadPartial(ref Unsafe.Add(ref bias, j), count);
                        }

                        GemmSimd512<T>.StorePartial(v, ref Unsafe.Add(ref cRow, j), count);
                    }
                }
            }
        }
    }
}
