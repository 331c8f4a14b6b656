using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Numerics;

// Register-blocked micro-kernels: an R×(2·lanes) or R×lanes tile of C from an R×kc slice of op(A) and a kc×width
// slice of op(B). A is read in place (element (r, p) at a + r·aRow + p·aStep, so both storage orders need no
// packing) and broadcast one element per row and step; B is read as whole vectors, row p at b + p·bStep (a packed
// panel, or row-major B itself). Each accumulator sums its products in increasing p, whatever the caller's split.
// Only the first `cols` columns of C and of the bias are touched; B must have whole vectors (zero-padded panels).
internal static class GemmKernels<TOps, TVec, T>
    where TOps : struct, IGemmSimd<TVec, T>
    where TVec : struct
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // C[r, 0..cols) ← acc [+ C] [+ bias] for r < TRows, where acc = Σ_p A[r, p]·B[p, ·] and cols ≤ 2·lanes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Wide<TRows>(
        ref T a, nint aRow, nint aStep, ref T b, nint bStep, int kc, ref T c, nint ldc, int cols, bool loadC, ref T bias, bool addBias)
        where TRows : struct, IGemmRows
    {
        nint lanes = TOps.Lanes;
        TVec c00 = TOps.Zero, c01 = TOps.Zero,
            c10 = TOps.Zero, c11 = TOps.Zero,
            c20 = TOps.Zero, c21 = TOps.Zero,
            c30 = TOps.Zero, c31 = TOps.Zero,
            c40 = TOps.Zero, c41 = TOps.Zero,
            c50 = TOps.Zero, c51 = TOps.Zero,
            c60 = TOps.Zero, c61 = TOps.Zero,
            c70 = TOps.Zero, c71 = TOps.Zero;
        nint a2 = aRow * 2;
        nint a3 = aRow * 3;
        nint a4 = aRow * 4;
        nint a5 = aRow * 5;
        nint a6 = aRow * 6;
        nint a7 = aRow * 7;
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(ref b);
            TVec b1 = TOps.Load(ref Unsafe.Add(ref b, lanes));
            TVec x0 = TOps.Broadcast(a);
            c00 = TOps.MultiplyAdd(x0, b0, c00);
            c01 = TOps.MultiplyAdd(x0, b1, c01);

            if (TRows.Count > 1)
            {
                TVec x1 = TOps.Broadcast(Unsafe.Add(ref a, aRow));
                c10 = TOps.MultiplyAdd(x1, b0, c10);
                c11 = TOps.MultiplyAdd(x1, b1, c11);
            }

            if (TRows.Count > 2)
            {
                TVec x2 = TOps.Broadcast(Unsafe.Add(ref a, a2));
                c20 = TOps.MultiplyAdd(x2, b0, c20);
                c21 = TOps.MultiplyAdd(x2, b1, c21);
            }

            if (TRows.Count > 3)
            {
                TVec x3 = TOps.Broadcast(Unsafe.Add(ref a, a3));
                c30 = TOps.MultiplyAdd(x3, b0, c30);
                c31 = TOps.MultiplyAdd(x3, b1, c31);
            }

            if (TRows.Count > 4)
            {
                TVec x4 = TOps.Broadcast(Unsafe.Add(ref a, a4));
                c40 = TOps.MultiplyAdd(x4, b0, c40);
                c41 = TOps.MultiplyAdd(x4, b1, c41);
            }

            if (TRows.Count > 5)
            {
                TVec x5 = TOps.Broadcast(Unsafe.Add(ref a, a5));
                c50 = TOps.MultiplyAdd(x5, b0, c50);
                c51 = TOps.MultiplyAdd(x5, b1, c51);
            }

            if (TRows.Count > 6)
            {
                TVec x6 = TOps.Broadcast(Unsafe.Add(ref a, a6));
                c60 = TOps.MultiplyAdd(x6, b0, c60);
                c61 = TOps.MultiplyAdd(x6, b1, c61);
            }

            if (TRows.Count > 7)
            {
                TVec x7 = TOps.Broadcast(Unsafe.Add(ref a, a7));
                c70 = TOps.MultiplyAdd(x7, b0, c70);
                c71 = TOps.MultiplyAdd(x7, b1, c71);
            }

            a = ref Unsafe.Add(ref a, aStep);
            b = ref Unsafe.Add(ref b, bStep);
        }

        if (cols == 2 * lanes)
        {
            TVec bias0 = TOps.Zero, bias1 = TOps.Zero;
            if (addBias)
            {
                bias0 = TOps.Load(ref bias);
                bias1 = TOps.Load(ref Unsafe.Add(ref bias, lanes));
            }

            StoreWide(c00, c01, ref c, loadC, addBias, bias0, bias1);
            if (TRows.Count > 1)
            {
                StoreWide(c10, c11, ref Unsafe.Add(ref c, ldc), loadC, addBias, bias0, bias1);
            }

            if (TRows.Count > 2)
            {
                StoreWide(c20, c21, ref Unsafe.Add(ref c, ldc * 2), loadC, addBias, bias0, bias1);
            }

            if (TRows.Count > 3)
            {
                StoreWide(c30, c31, ref Unsafe.Add(ref c, ldc * 3), loadC, addBias, bias0, bias1);
            }

            if (TRows.Count > 4)
            {
                StoreWide(c40, c41, ref Unsafe.Add(ref c, ldc * 4), loadC, addBias, bias0, bias1);
            }

            if (TRows.Count > 5)
            {
                StoreWide(c50, c51, ref Unsafe.Add(ref c, ldc * 5), loadC, addBias, bias0, bias1);
            }

            if (TRows.Count > 6)
            {
                StoreWide(c60, c61, ref Unsafe.Add(ref c, ldc * 6), loadC, addBias, bias0, bias1);
            }

            if (TRows.Count > 7)
            {
                StoreWide(c70, c71, ref Unsafe.Add(ref c, ldc * 7), loadC, addBias, bias0, bias1);
            }

            return;
        }

        // An edge panel: lanes < cols < 2·lanes.
        int rest = cols - (int)lanes;
        TVec edgeBias0 = TOps.Zero, edgeBias1 = TOps.Zero;
        if (addBias)
        {
            edgeBias0 = TOps.Load(ref bias);
            edgeBias1 = TOps.LoadPartial(ref Unsafe.Add(ref bias, lanes), rest);
        }

        StoreWideEdge(c00, c01, ref c, rest, loadC, addBias, edgeBias0, edgeBias1);
        if (TRows.Count > 1)
        {
            StoreWideEdge(c10, c11, ref Unsafe.Add(ref c, ldc), rest, loadC, addBias, edgeBias0, edgeBias1);
        }

        if (TRows.Count > 2)
        {
            StoreWideEdge(c20, c21, ref Unsafe.Add(ref c, ldc * 2), rest, loadC, addBias, edgeBias0, edgeBias1);
        }

        if (TRows.Count > 3)
        {
            StoreWideEdge(c30, c31, ref Unsafe.Add(ref c, ldc * 3), rest, loadC, addBias, edgeBias0, edgeBias1);
        }

        if (TRows.Count > 4)
        {
            StoreWideEdge(c40, c41, ref Unsafe.Add(ref c, ldc * 4), rest, loadC, addBias, edgeBias0, edgeBias1);
        }

        if (TRows.Count > 5)
        {
            StoreWideEdge(c50, c51, ref Unsafe.Add(ref c, ldc * 5), rest, loadC, addBias, edgeBias0, edgeBias1);
        }

        if (TRows.Count > 6)
        {
            StoreWideEdge(c60, c61, ref Unsafe.Add(ref c, ldc * 6), rest, loadC, addBias, edgeBias0, edgeBias1);
        }

        if (TRows.Count > 7)
        {
            StoreWideEdge(c70, c71, ref Unsafe.Add(ref c, ldc * 7), rest, loadC, addBias, edgeBias0, edgeBias1);
        }
    }

    // C[r, 0..cols) ← acc [+ C] [+ bias] for r < TRows, where acc = Σ_p A[r, p]·B[p, ·] and cols ≤ 1·lanes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Narrow<TRows>(
        ref T a, nint aRow, nint aStep, ref T b, nint bStep, int kc, ref T c, nint ldc, int cols, bool loadC, ref T bias, bool addBias)
        where TRows : struct, IGemmRows
    {
        nint lanes = TOps.Lanes;
        TVec c00 = TOps.Zero,
            c10 = TOps.Zero,
            c20 = TOps.Zero,
            c30 = TOps.Zero,
            c40 = TOps.Zero,
            c50 = TOps.Zero,
            c60 = TOps.Zero,
            c70 = TOps.Zero;
        nint a2 = aRow * 2;
        nint a3 = aRow * 3;
        nint a4 = aRow * 4;
        nint a5 = aRow * 5;
        nint a6 = aRow * 6;
        nint a7 = aRow * 7;
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(ref b);
            TVec x0 = TOps.Broadcast(a);
            c00 = TOps.MultiplyAdd(x0, b0, c00);

            if (TRows.Count > 1)
            {
                TVec x1 = TOps.Broadcast(Unsafe.Add(ref a, aRow));
                c10 = TOps.MultiplyAdd(x1, b0, c10);
            }

            if (TRows.Count > 2)
            {
                TVec x2 = TOps.Broadcast(Unsafe.Add(ref a, a2));
                c20 = TOps.MultiplyAdd(x2, b0, c20);
            }

            if (TRows.Count > 3)
            {
                TVec x3 = TOps.Broadcast(Unsafe.Add(ref a, a3));
                c30 = TOps.MultiplyAdd(x3, b0, c30);
            }

            if (TRows.Count > 4)
            {
                TVec x4 = TOps.Broadcast(Unsafe.Add(ref a, a4));
                c40 = TOps.MultiplyAdd(x4, b0, c40);
            }

            if (TRows.Count > 5)
            {
                TVec x5 = TOps.Broadcast(Unsafe.Add(ref a, a5));
                c50 = TOps.MultiplyAdd(x5, b0, c50);
            }

            if (TRows.Count > 6)
            {
                TVec x6 = TOps.Broadcast(Unsafe.Add(ref a, a6));
                c60 = TOps.MultiplyAdd(x6, b0, c60);
            }

            if (TRows.Count > 7)
            {
                TVec x7 = TOps.Broadcast(Unsafe.Add(ref a, a7));
                c70 = TOps.MultiplyAdd(x7, b0, c70);
            }

            a = ref Unsafe.Add(ref a, aStep);
            b = ref Unsafe.Add(ref b, bStep);
        }

        if (cols == lanes)
        {
            TVec bias0 = addBias ? TOps.Load(ref bias) : TOps.Zero;
            StoreNarrow(c00, ref c, loadC, addBias, bias0);
            if (TRows.Count > 1)
            {
                StoreNarrow(c10, ref Unsafe.Add(ref c, ldc), loadC, addBias, bias0);
            }

            if (TRows.Count > 2)
            {
                StoreNarrow(c20, ref Unsafe.Add(ref c, ldc * 2), loadC, addBias, bias0);
            }

            if (TRows.Count > 3)
            {
                StoreNarrow(c30, ref Unsafe.Add(ref c, ldc * 3), loadC, addBias, bias0);
            }

            if (TRows.Count > 4)
            {
                StoreNarrow(c40, ref Unsafe.Add(ref c, ldc * 4), loadC, addBias, bias0);
            }

            if (TRows.Count > 5)
            {
                StoreNarrow(c50, ref Unsafe.Add(ref c, ldc * 5), loadC, addBias, bias0);
            }

            if (TRows.Count > 6)
            {
                StoreNarrow(c60, ref Unsafe.Add(ref c, ldc * 6), loadC, addBias, bias0);
            }

            if (TRows.Count > 7)
            {
                StoreNarrow(c70, ref Unsafe.Add(ref c, ldc * 7), loadC, addBias, bias0);
            }

            return;
        }

        // An edge panel: cols < lanes.
        TVec edgeBias = addBias ? TOps.LoadPartial(ref bias, cols) : TOps.Zero;
        StoreNarrowEdge(c00, ref c, cols, loadC, addBias, edgeBias);
        if (TRows.Count > 1)
        {
            StoreNarrowEdge(c10, ref Unsafe.Add(ref c, ldc), cols, loadC, addBias, edgeBias);
        }

        if (TRows.Count > 2)
        {
            StoreNarrowEdge(c20, ref Unsafe.Add(ref c, ldc * 2), cols, loadC, addBias, edgeBias);
        }

        if (TRows.Count > 3)
        {
            StoreNarrowEdge(c30, ref Unsafe.Add(ref c, ldc * 3), cols, loadC, addBias, edgeBias);
        }

        if (TRows.Count > 4)
        {
            StoreNarrowEdge(c40, ref Unsafe.Add(ref c, ldc * 4), cols, loadC, addBias, edgeBias);
        }

        if (TRows.Count > 5)
        {
            StoreNarrowEdge(c50, ref Unsafe.Add(ref c, ldc * 5), cols, loadC, addBias, edgeBias);
        }

        if (TRows.Count > 6)
        {
            StoreNarrowEdge(c60, ref Unsafe.Add(ref c, ldc * 6), cols, loadC, addBias, edgeBias);
        }

        if (TRows.Count > 7)
        {
            StoreNarrowEdge(c70, ref Unsafe.Add(ref c, ldc * 7), cols, loadC, addBias, edgeBias);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreWide(TVec v0, TVec v1, ref T c, bool loadC, bool addBias, TVec bias0, TVec bias1)
    {
        ref T c1 = ref Unsafe.Add(ref c, TOps.Lanes);
        if (loadC)
        {
            v0 = TOps.Add(v0, TOps.Load(ref c));
            v1 = TOps.Add(v1, TOps.Load(ref c1));
        }

        if (addBias)
        {
            v0 = TOps.Add(v0, bias0);
            v1 = TOps.Add(v1, bias1);
        }

        TOps.Store(v0, ref c);
        TOps.Store(v1, ref c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreNarrow(TVec v0, ref T c, bool loadC, bool addBias, TVec bias0)
    {
        if (loadC)
        {
            v0 = TOps.Add(v0, TOps.Load(ref c));
        }

        if (addBias)
        {
            v0 = TOps.Add(v0, bias0);
        }

        TOps.Store(v0, ref c);
    }

    // A row of an edge panel: the first vector whole, then `rest` lanes of the second.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreWideEdge(TVec v0, TVec v1, ref T c, int rest, bool loadC, bool addBias, TVec bias0, TVec bias1)
    {
        ref T c1 = ref Unsafe.Add(ref c, TOps.Lanes);
        if (loadC)
        {
            v0 = TOps.Add(v0, TOps.Load(ref c));
            v1 = TOps.Add(v1, TOps.LoadPartial(ref c1, rest));
        }

        if (addBias)
        {
            v0 = TOps.Add(v0, bias0);
            v1 = TOps.Add(v1, bias1);
        }

        TOps.Store(v0, ref c);
        TOps.StorePartial(v1, ref c1, rest);
    }

    // A row of an edge panel narrower than one vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreNarrowEdge(TVec v0, ref T c, int cols, bool loadC, bool addBias, TVec bias0)
    {
        if (loadC)
        {
            v0 = TOps.Add(v0, TOps.LoadPartial(ref c, cols));
        }

        if (addBias)
        {
            v0 = TOps.Add(v0, bias0);
        }

        TOps.StorePartial(v0, ref c, cols);
    }
}
