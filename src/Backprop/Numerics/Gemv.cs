using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// The product of one row and a matrix, y ← x·B + bias (1×k times k×n): a dense layer's prediction of a single sample.
/// </summary>
/// <remarks>
/// <para>B is row-major with a leading dimension that is a multiple of <see cref="Padding{T}"/> and zero beyond column n
/// (a layer's transposed weights, laid out once for prediction), so that every row of B is read as whole vectors. The
/// n outputs are computed at once, up to 8 vectors of them in registers, broadcasting x[p] against row p of B: each
/// weight is read once, and the product runs at the speed of the loads instead of waiting on one accumulator.</para>
/// <para>Every output is summed exactly as <see cref="Gemm"/> sums it (the same vector width and K blocks, each block
/// summed from zero in increasing p with the same fused multiply-add, the blocks added in order, the bias last), so the
/// result is bit-identical to row i of a batch product.</para>
/// <para>Thread safety: thread-safe: a call keeps nothing between calls.</para>
/// </remarks>
internal static class Gemv
{
    /// <summary>The multiple of the leading dimension of B: one 64-byte vector, a whole number of vectors at every width.</summary>
    internal static int Padding<T>()
        where T : unmanaged => 64 / Unsafe.SizeOf<T>();

    /// <summary>y[0..n) ← x[0..k)·B + bias, with B k×n row-major at leading dimension <paramref name="ldb"/> (a multiple of
    /// <see cref="Padding{T}"/>, zero beyond column n).</summary>
    internal static void Multiply<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> bias, Span<T> y, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            Run<GemmScalar<T>, T, T>(x, b, ldb, bias, y, n, k);
        }
        else if (GemmSimd512<T>.IsPreferred)
        {
            Run<GemmSimd512<T>, Vector512<T>, T>(x, b, ldb, bias, y, n, k);
        }
        else if (GemmSimd256<T>.IsPreferred)
        {
            Run<GemmSimd256<T>, Vector256<T>, T>(x, b, ldb, bias, y, n, k);
        }
        else if (GemmSimd128<T>.IsPreferred)
        {
            Run<GemmSimd128<T>, Vector128<T>, T>(x, b, ldb, bias, y, n, k);
        }
        else
        {
            Run<GemmScalar<T>, T, T>(x, b, ldb, bias, y, n, k);
        }
    }

    private static void Run<TOps, TVec, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> bias, Span<T> y, int n, int k)
        where TOps : struct, IGemmSimd<TVec, T>
        where TVec : struct
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The GEMM's K blocks for this shape: the same blocks, summed the same way, give the same bits.
        int kc = GemmDriver<TOps, TVec, T>.CreatePlan(k, false, ldb, false, n, 1, n, k, false, !bias.IsEmpty).Kc;
        int lanes = TOps.Lanes;
        int group = 8 * lanes;
        ref T xRef = ref MemoryMarshal.GetReference(x);
        ref T bRef = ref MemoryMarshal.GetReference(b);
        ref T yRef = ref MemoryMarshal.GetReference(y);
        ref T biasRef = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        for (int j0 = 0; j0 < n; j0 += group)
        {
            int cols = Math.Min(group, n - j0);
            ref T bColumns = ref Unsafe.Add(ref bRef, j0);
            ref T yColumns = ref Unsafe.Add(ref yRef, j0);
            ref T biasColumns = ref Unsafe.Add(ref biasRef, j0);
            switch ((cols + lanes - 1) / lanes)
            {
                case 8: Group<TOps, TVec, T, GemmRows8>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                case 7: Group<TOps, TVec, T, GemmRows7>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                case 6: Group<TOps, TVec, T, GemmRows6>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                case 5: Group<TOps, TVec, T, GemmRows5>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                case 4: Group<TOps, TVec, T, GemmRows4>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                case 3: Group<TOps, TVec, T, GemmRows3>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                case 2: Group<TOps, TVec, T, GemmRows2>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
                default: Group<TOps, TVec, T, GemmRows1>(ref xRef, ref bColumns, ldb, k, kc, ref yColumns, cols, ref biasColumns, hasBias); break;
            }
        }
    }

    // y[0..cols) for TVectors vectors of columns (cols > (TVectors − 1)·lanes): per K block, acc = Σ_p x[p]·B[p, ·] from
    // zero in increasing p; total = acc for the first block, acc + total for the others (the GEMM's acc + C); + bias last.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group<TOps, TVec, T, TVectors>(ref T x, ref T b, nint ldb, int k, int kc, ref T y, int cols, ref T bias, bool hasBias)
        where TOps : struct, IGemmSimd<TVec, T>
        where TVec : struct
        where T : unmanaged, IFloatingPointIeee754<T>
        where TVectors : struct, IGemmRows
    {
        nint lanes = TOps.Lanes;
        TVec t0 = TOps.Zero, t1 = TOps.Zero, t2 = TOps.Zero, t3 = TOps.Zero, t4 = TOps.Zero, t5 = TOps.Zero, t6 = TOps.Zero, t7 = TOps.Zero;
        for (int kk = 0; kk < k; kk += kc)
        {
            int steps = Math.Min(kc, k - kk);
            ref T xp = ref Unsafe.Add(ref x, kk);
            ref T bp = ref Unsafe.Add(ref b, kk * ldb);
            TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero, c4 = TOps.Zero, c5 = TOps.Zero, c6 = TOps.Zero, c7 = TOps.Zero;
            for (int p = 0; p < steps; p++)
            {
                TVec xv = TOps.Broadcast(xp);
                c0 = TOps.MultiplyAdd(xv, TOps.Load(ref bp), c0);
                if (TVectors.Count > 1)
                {
                    c1 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, lanes)), c1);
                }

                if (TVectors.Count > 2)
                {
                    c2 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, 2 * lanes)), c2);
                }

                if (TVectors.Count > 3)
                {
                    c3 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, 3 * lanes)), c3);
                }

                if (TVectors.Count > 4)
                {
                    c4 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, 4 * lanes)), c4);
                }

                if (TVectors.Count > 5)
                {
                    c5 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, 5 * lanes)), c5);
                }

                if (TVectors.Count > 6)
                {
                    c6 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, 6 * lanes)), c6);
                }

                if (TVectors.Count > 7)
                {
                    c7 = TOps.MultiplyAdd(xv, TOps.Load(ref Unsafe.Add(ref bp, 7 * lanes)), c7);
                }

                xp = ref Unsafe.Add(ref xp, 1);
                bp = ref Unsafe.Add(ref bp, ldb);
            }

            bool first = kk == 0;
            t0 = first ? c0 : TOps.Add(c0, t0);
            t1 = first ? c1 : TOps.Add(c1, t1);
            t2 = first ? c2 : TOps.Add(c2, t2);
            t3 = first ? c3 : TOps.Add(c3, t3);
            t4 = first ? c4 : TOps.Add(c4, t4);
            t5 = first ? c5 : TOps.Add(c5, t5);
            t6 = first ? c6 : TOps.Add(c6, t6);
            t7 = first ? c7 : TOps.Add(c7, t7);
        }

        Finish<TOps, TVec, T>(t0, 0, ref y, cols, ref bias, hasBias);
        if (TVectors.Count > 1)
        {
            Finish<TOps, TVec, T>(t1, 1, ref y, cols, ref bias, hasBias);
        }

        if (TVectors.Count > 2)
        {
            Finish<TOps, TVec, T>(t2, 2, ref y, cols, ref bias, hasBias);
        }

        if (TVectors.Count > 3)
        {
            Finish<TOps, TVec, T>(t3, 3, ref y, cols, ref bias, hasBias);
        }

        if (TVectors.Count > 4)
        {
            Finish<TOps, TVec, T>(t4, 4, ref y, cols, ref bias, hasBias);
        }

        if (TVectors.Count > 5)
        {
            Finish<TOps, TVec, T>(t5, 5, ref y, cols, ref bias, hasBias);
        }

        if (TVectors.Count > 6)
        {
            Finish<TOps, TVec, T>(t6, 6, ref y, cols, ref bias, hasBias);
        }

        if (TVectors.Count > 7)
        {
            Finish<TOps, TVec, T>(t7, 7, ref y, cols, ref bias, hasBias);
        }
    }

    // Adds the bias to vector `index` of the totals and stores its columns that lie below `cols`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TOps, TVec, T>(TVec total, int index, ref T y, int cols, ref T bias, bool hasBias)
        where TOps : struct, IGemmSimd<TVec, T>
        where TVec : struct
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = TOps.Lanes;
        int start = index * lanes;
        int count = Math.Min(lanes, cols - start);
        ref T target = ref Unsafe.Add(ref y, start);
        if (count == lanes)
        {
            if (hasBias)
            {
                total = TOps.Add(total, TOps.Load(ref Unsafe.Add(ref bias, start)));
            }

            TOps.Store(total, ref target);
        }
        else
        {
            if (hasBias)
            {
                total = TOps.Add(total, TOps.LoadPartial(ref Unsafe.Add(ref bias, start), count));
            }

            TOps.StorePartial(total, ref target, count);
        }
    }
}
