using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

// Copies a kc×width slice of op(B) into a contiguous panel, row p at panel + p·width, zero-filling the columns
// past the matrix's last one so that the kernels can always read whole vectors.
internal static class GemmPacking<TOps, TVec, T>
    where TOps : struct, IGemmSimd<TVec, T>
    where TVec : struct
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // op(B) = B: element (p, j) at b + p·ldb + j.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackRows(ref T b, nint ldb, int kc, int cols, int width, ref T panel)
    {
        nint lanes = TOps.Lanes;
        if (cols == width)
        {
            if (width == 2 * lanes)
            {
                for (int p = 0; p < kc; p++)
                {
                    TOps.Store(TOps.Load(ref b), ref panel);
                    TOps.Store(TOps.Load(ref Unsafe.Add(ref b, lanes)), ref Unsafe.Add(ref panel, lanes));
                    b = ref Unsafe.Add(ref b, ldb);
                    panel = ref Unsafe.Add(ref panel, width);
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    TOps.Store(TOps.Load(ref b), ref panel);
                    b = ref Unsafe.Add(ref b, ldb);
                    panel = ref Unsafe.Add(ref panel, width);
                }
            }

            return;
        }

        // An edge panel: whole vectors, then one zero-padded partial vector, then zero vectors.
        int wholeLanes = cols - (cols % (int)lanes);
        for (int p = 0; p < kc; p++)
        {
            int j = 0;
            for (; j < wholeLanes; j += (int)lanes)
            {
                TOps.Store(TOps.Load(ref Unsafe.Add(ref b, j)), ref Unsafe.Add(ref panel, j));
            }

            if (j < cols)
            {
                TOps.Store(TOps.LoadPartial(ref Unsafe.Add(ref b, j), cols - j), ref Unsafe.Add(ref panel, j));
                j += (int)lanes;
            }

            for (; j < width; j += (int)lanes)
            {
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref panel, j));
            }

            b = ref Unsafe.Add(ref b, ldb);
            panel = ref Unsafe.Add(ref panel, width);
        }
    }

    // op(B) = Bᵀ: element (p, j) at b + j·ldb + p. On AVX-512 and AVX, lanes×lanes blocks are transposed in registers (the
    // rows past cols read as zeros); the steps past the last whole block, and everything elsewhere, go one by one.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackColumns(ref T b, nint ldb, int kc, int cols, int width, ref T panel)
    {
        int firstScalarStep = 0;
        bool vectorised = (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            && ((Avx512F.IsSupported && typeof(TVec) == typeof(Vector512<T>)) || (Avx.IsSupported && typeof(TVec) == typeof(Vector256<T>)));
        if (vectorised)
        {
            int lanes = TOps.Lanes;
            firstScalarStep = kc - (kc % lanes);
            for (int j = 0; j < cols; j += lanes)
            {
                int rows = Math.Min(lanes, cols - j);
                for (int p = 0; p < firstScalarStep; p += lanes)
                {
                    ref T source = ref Unsafe.Add(ref b, (j * ldb) + p);
                    ref T destination = ref Unsafe.Add(ref panel, ((nint)p * width) + j);
                    if (typeof(TVec) == typeof(Vector512<T>))
                    {
                        if (typeof(T) == typeof(float))
                        {
                            Transpose16(ref Unsafe.As<T, float>(ref source), ldb, rows, ref Unsafe.As<T, float>(ref destination), width);
                        }
                        else
                        {
                            Transpose8(ref Unsafe.As<T, double>(ref source), ldb, rows, ref Unsafe.As<T, double>(ref destination), width);
                        }
                    }
                    else if (typeof(T) == typeof(float))
                    {
                        Transpose8(ref Unsafe.As<T, float>(ref source), ldb, rows, ref Unsafe.As<T, float>(ref destination), width);
                    }
                    else
                    {
                        Transpose4(ref Unsafe.As<T, double>(ref source), ldb, rows, ref Unsafe.As<T, double>(ref destination), width);
                    }
                }
            }
        }

        for (int p = firstScalarStep; p < kc; p++)
        {
            ref T source = ref Unsafe.Add(ref b, p);
            ref T destination = ref Unsafe.Add(ref panel, (nint)p * width);
            int j = 0;
            for (; j < cols; j++)
            {
                Unsafe.Add(ref destination, j) = Unsafe.Add(ref source, j * ldb);
            }

            for (; j < width; j++)
            {
                Unsafe.Add(ref destination, j) = T.Zero;
            }
        }
    }

    // dst[q·dstStride + r] ← src[r·ld + q] for r < rows, q < 16, and 0 for rows ≤ r < 16.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose16(ref float src, nint ld, int rows, ref float dst, nint dstStride)
    {
        Vector512<float> r0 = Vector512.LoadUnsafe(ref src);
        Vector512<float> r1 = rows > 1 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, ld)) : Vector512<float>.Zero;
        Vector512<float> r2 = rows > 2 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 2 * ld)) : Vector512<float>.Zero;
        Vector512<float> r3 = rows > 3 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 3 * ld)) : Vector512<float>.Zero;
        Vector512<float> r4 = rows > 4 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 4 * ld)) : Vector512<float>.Zero;
        Vector512<float> r5 = rows > 5 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 5 * ld)) : Vector512<float>.Zero;
        Vector512<float> r6 = rows > 6 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 6 * ld)) : Vector512<float>.Zero;
        Vector512<float> r7 = rows > 7 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 7 * ld)) : Vector512<float>.Zero;
        Vector512<float> r8 = rows > 8 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 8 * ld)) : Vector512<float>.Zero;
        Vector512<float> r9 = rows > 9 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 9 * ld)) : Vector512<float>.Zero;
        Vector512<float> r10 = rows > 10 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 10 * ld)) : Vector512<float>.Zero;
        Vector512<float> r11 = rows > 11 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 11 * ld)) : Vector512<float>.Zero;
        Vector512<float> r12 = rows > 12 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 12 * ld)) : Vector512<float>.Zero;
        Vector512<float> r13 = rows > 13 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 13 * ld)) : Vector512<float>.Zero;
        Vector512<float> r14 = rows > 14 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 14 * ld)) : Vector512<float>.Zero;
        Vector512<float> r15 = rows > 15 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 15 * ld)) : Vector512<float>.Zero;

        // tN, 128-bit block q: rows 2⌊N/2⌋, 2⌊N/2⌋ + 1 interleaved, of columns 4q, 4q + 1 (even N) or 4q + 2, 4q + 3 (odd N).
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble();
        Vector512<double> t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        Vector512<double> t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        Vector512<double> t4 = Avx512F.UnpackLow(r4, r5).AsDouble();
        Vector512<double> t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        Vector512<double> t6 = Avx512F.UnpackLow(r6, r7).AsDouble();
        Vector512<double> t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        Vector512<double> t8 = Avx512F.UnpackLow(r8, r9).AsDouble();
        Vector512<double> t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        Vector512<double> t10 = Avx512F.UnpackLow(r10, r11).AsDouble();
        Vector512<double> t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        Vector512<double> t12 = Avx512F.UnpackLow(r12, r13).AsDouble();
        Vector512<double> t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        Vector512<double> t14 = Avx512F.UnpackLow(r14, r15).AsDouble();
        Vector512<double> t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();

        // u[4g + c], 128-bit block q: rows 4g..4g + 3 of column 4q + c.
        Vector512<float> u0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        Vector512<float> u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        Vector512<float> u2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        Vector512<float> u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        Vector512<float> u4 = Avx512F.UnpackLow(t4, t6).AsSingle();
        Vector512<float> u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        Vector512<float> u6 = Avx512F.UnpackLow(t5, t7).AsSingle();
        Vector512<float> u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        Vector512<float> u8 = Avx512F.UnpackLow(t8, t10).AsSingle();
        Vector512<float> u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        Vector512<float> u10 = Avx512F.UnpackLow(t9, t11).AsSingle();
        Vector512<float> u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        Vector512<float> u12 = Avx512F.UnpackLow(t12, t14).AsSingle();
        Vector512<float> u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        Vector512<float> u14 = Avx512F.UnpackLow(t13, t15).AsSingle();
        Vector512<float> u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();

        // vc / wc: columns c, 8 + c (0x88) or 4 + c, 12 + c (0xDD) of rows 0..7 / 8..15.
        Vector512<float> v0 = Avx512F.Shuffle4x128(u0, u4, 0x88);
        Vector512<float> v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        Vector512<float> w0 = Avx512F.Shuffle4x128(u8, u12, 0x88);
        Vector512<float> w4 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        Vector512<float> v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        Vector512<float> v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        Vector512<float> w1 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        Vector512<float> w5 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        Vector512<float> v2 = Avx512F.Shuffle4x128(u2, u6, 0x88);
        Vector512<float> v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        Vector512<float> w2 = Avx512F.Shuffle4x128(u10, u14, 0x88);
        Vector512<float> w6 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        Vector512<float> v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        Vector512<float> v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        Vector512<float> w3 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        Vector512<float> w7 = Avx512F.Shuffle4x128(u11, u15, 0xDD);

        Avx512F.Shuffle4x128(v0, w0, 0x88).StoreUnsafe(ref dst);
        Avx512F.Shuffle4x128(v0, w0, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 8 * dstStride));
        Avx512F.Shuffle4x128(v4, w4, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 4 * dstStride));
        Avx512F.Shuffle4x128(v4, w4, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 12 * dstStride));
        Avx512F.Shuffle4x128(v1, w1, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, dstStride));
        Avx512F.Shuffle4x128(v1, w1, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 9 * dstStride));
        Avx512F.Shuffle4x128(v5, w5, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 5 * dstStride));
        Avx512F.Shuffle4x128(v5, w5, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 13 * dstStride));
        Avx512F.Shuffle4x128(v2, w2, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * dstStride));
        Avx512F.Shuffle4x128(v2, w2, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 10 * dstStride));
        Avx512F.Shuffle4x128(v6, w6, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 6 * dstStride));
        Avx512F.Shuffle4x128(v6, w6, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 14 * dstStride));
        Avx512F.Shuffle4x128(v3, w3, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * dstStride));
        Avx512F.Shuffle4x128(v3, w3, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 11 * dstStride));
        Avx512F.Shuffle4x128(v7, w7, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 7 * dstStride));
        Avx512F.Shuffle4x128(v7, w7, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 15 * dstStride));
    }

    // dst[q·dstStride + r] ← src[r·ld + q] for r < rows, q < 8, and 0 for rows ≤ r < 8.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8(ref double src, nint ld, int rows, ref double dst, nint dstStride)
    {
        Vector512<double> r0 = Vector512.LoadUnsafe(ref src);
        Vector512<double> r1 = rows > 1 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, ld)) : Vector512<double>.Zero;
        Vector512<double> r2 = rows > 2 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 2 * ld)) : Vector512<double>.Zero;
        Vector512<double> r3 = rows > 3 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 3 * ld)) : Vector512<double>.Zero;
        Vector512<double> r4 = rows > 4 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 4 * ld)) : Vector512<double>.Zero;
        Vector512<double> r5 = rows > 5 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 5 * ld)) : Vector512<double>.Zero;
        Vector512<double> r6 = rows > 6 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 6 * ld)) : Vector512<double>.Zero;
        Vector512<double> r7 = rows > 7 ? Vector512.LoadUnsafe(ref Unsafe.Add(ref src, 7 * ld)) : Vector512<double>.Zero;

        // tN, 128-bit block q: rows 2⌊N/2⌋, 2⌊N/2⌋ + 1 of column 2q (even N) or 2q + 1 (odd N).
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1);
        Vector512<double> t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3);
        Vector512<double> t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<double> t4 = Avx512F.UnpackLow(r4, r5);
        Vector512<double> t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<double> t6 = Avx512F.UnpackLow(r6, r7);
        Vector512<double> t7 = Avx512F.UnpackHigh(r6, r7);

        Vector512<double> u0 = Avx512F.Shuffle4x128(t0, t2, 0x88);
        Vector512<double> u1 = Avx512F.Shuffle4x128(t0, t2, 0xDD);
        Vector512<double> u2 = Avx512F.Shuffle4x128(t1, t3, 0x88);
        Vector512<double> u3 = Avx512F.Shuffle4x128(t1, t3, 0xDD);
        Vector512<double> u4 = Avx512F.Shuffle4x128(t4, t6, 0x88);
        Vector512<double> u5 = Avx512F.Shuffle4x128(t4, t6, 0xDD);
        Vector512<double> u6 = Avx512F.Shuffle4x128(t5, t7, 0x88);
        Vector512<double> u7 = Avx512F.Shuffle4x128(t5, t7, 0xDD);

        Avx512F.Shuffle4x128(u0, u4, 0x88).StoreUnsafe(ref dst);
        Avx512F.Shuffle4x128(u2, u6, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, dstStride));
        Avx512F.Shuffle4x128(u1, u5, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * dstStride));
        Avx512F.Shuffle4x128(u3, u7, 0x88).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * dstStride));
        Avx512F.Shuffle4x128(u0, u4, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 4 * dstStride));
        Avx512F.Shuffle4x128(u2, u6, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 5 * dstStride));
        Avx512F.Shuffle4x128(u1, u5, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 6 * dstStride));
        Avx512F.Shuffle4x128(u3, u7, 0xDD).StoreUnsafe(ref Unsafe.Add(ref dst, 7 * dstStride));
    }

    // dst[q·dstStride + r] ← src[r·ld + q] for r < rows, q < 8, and 0 for rows ≤ r < 8 (AVX, 256-bit).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(ref float src, nint ld, int rows, ref float dst, nint dstStride)
    {
        Vector256<float> r0 = Vector256.LoadUnsafe(ref src);
        Vector256<float> r1 = rows > 1 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, ld)) : Vector256<float>.Zero;
        Vector256<float> r2 = rows > 2 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 2 * ld)) : Vector256<float>.Zero;
        Vector256<float> r3 = rows > 3 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 3 * ld)) : Vector256<float>.Zero;
        Vector256<float> r4 = rows > 4 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 4 * ld)) : Vector256<float>.Zero;
        Vector256<float> r5 = rows > 5 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 5 * ld)) : Vector256<float>.Zero;
        Vector256<float> r6 = rows > 6 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 6 * ld)) : Vector256<float>.Zero;
        Vector256<float> r7 = rows > 7 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 7 * ld)) : Vector256<float>.Zero;

        // tN, 128-bit half h: rows 2⌊N/2⌋, 2⌊N/2⌋ + 1 interleaved, of columns 4h, 4h + 1 (even N) or 4h + 2, 4h + 3 (odd N).
        Vector256<float> t0 = Avx.UnpackLow(r0, r1);
        Vector256<float> t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3);
        Vector256<float> t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5);
        Vector256<float> t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7);
        Vector256<float> t7 = Avx.UnpackHigh(r6, r7);

        // u[4g + c], half h: rows 4g..4g + 3 of column 4h + c.
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44);
        Vector256<float> u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44);
        Vector256<float> u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44);
        Vector256<float> u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44);
        Vector256<float> u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 4 * dstStride));
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, dstStride));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 5 * dstStride));
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * dstStride));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 6 * dstStride));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * dstStride));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 7 * dstStride));
    }

    // dst[q·dstStride + r] ← src[r·ld + q] for r < rows, q < 4, and 0 for rows ≤ r < 4 (AVX, 256-bit).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(ref double src, nint ld, int rows, ref double dst, nint dstStride)
    {
        Vector256<double> r0 = Vector256.LoadUnsafe(ref src);
        Vector256<double> r1 = rows > 1 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, ld)) : Vector256<double>.Zero;
        Vector256<double> r2 = rows > 2 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 2 * ld)) : Vector256<double>.Zero;
        Vector256<double> r3 = rows > 3 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 3 * ld)) : Vector256<double>.Zero;

        // tN, 128-bit half h: rows 2⌊N/2⌋, 2⌊N/2⌋ + 1 of column 2h (even N) or 2h + 1 (odd N).
        Vector256<double> t0 = Avx.UnpackLow(r0, r1);
        Vector256<double> t1 = Avx.UnpackHigh(r0, r1);
        Vector256<double> t2 = Avx.UnpackLow(r2, r3);
        Vector256<double> t3 = Avx.UnpackHigh(r2, r3);

        Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, dstStride));
        Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * dstStride));
        Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * dstStride));
    }
}

// Each thread's packing buffer for the GEMM kernels, allocated once per thread and element type and then reused by
// every call: in the pinned object heap, 64-byte aligned, with PaddingBytes of unused memory on either side, so that no
// other object shares its cache lines or the lines next to them. As a plain array in the small-object heap the caller's
// buffer was allocated beside the operands of the first product it packed for; the gemm harness's first shape,
// 64×128×784 NT (the big workload's forward pass), then ran at 184-240 GFLOP/s on two threads against 200 on one,
// and with this buffer at 283-322 (six processes; arrays 64 KB apart gave 257-312 with the old buffer).
internal static class GemmBuffers<T>
{
    private const int PaddingBytes = 4096;

    // The calling thread's buffer for panels of B, and for its rows of a packed A.
    [ThreadStatic]
    private static Buffer _panels;

    [ThreadStatic]
    private static Buffer _packedA;

    // The start of the calling thread's buffer of at least `length` elements for panels of B.
    internal static ref T GetReference(int length) => ref _panels.Get(length);

    // The start of the calling thread's buffer of at least `length` elements for rows of A (GemmPlan.PackA).
    internal static ref T GetPackedAReference(int length) => ref _packedA.Get(length);

    private struct Buffer
    {
        private T[]? _array;
        private int _offset;
        private int _length;

        internal unsafe ref T Get(int length)
        {
            T[]? array = _array;
            if (array is null || _length < length)
            {
                int padding = PaddingBytes / Unsafe.SizeOf<T>();
                array = GC.AllocateArray<T>(length + (2 * padding) + (64 / Unsafe.SizeOf<T>()), pinned: true);
                nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
                _offset = padding + (int)((64 - (address & 63)) & 63) / Unsafe.SizeOf<T>();
                _length = length;
                _array = array;
            }

            return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), _offset);
        }
    }
}
