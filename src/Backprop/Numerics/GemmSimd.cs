using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

// The vector operations the GEMM kernels are written against. One implementation per register width lets a single
// kernel source serve Vector512, Vector256, Vector128 and plain scalars; every member is static so that the JIT
// specialises and inlines the kernels for each (struct) implementation.
internal interface IGemmSimd<TVec, T>
    where TVec : struct
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Elements per vector.
    static abstract int Lanes { get; }

    // Rows of a full micro-tile: as many as leave room in the register file for 2 accumulators per row.
    static abstract int Rows { get; }

    // Whether this width is the one MultiplyUnchecked picks on this machine.
    static abstract bool IsPreferred { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Load(ref T source);

    static abstract void Store(TVec value, ref T destination);

    // The first `count` (< Lanes) elements at source, zeros in the other lanes; reads nothing past them.
    static abstract TVec LoadPartial(ref T source, int count);

    // Writes the first `count` (< Lanes) lanes only.
    static abstract void StorePartial(TVec value, ref T destination, int count);

    static abstract TVec Broadcast(T value);

    // left·right + addend, fused where the hardware fuses.
    static abstract TVec MultiplyAdd(TVec left, TVec right, TVec addend);

    static abstract TVec Add(TVec left, TVec right);
}

// 512-bit vectors (AVX-512): 16 floats or 8 doubles; 32 registers, so 8 rows × 2 vectors of accumulators.
internal readonly struct GemmSimd512<T> : IGemmSimd<Vector512<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => Vector512<T>.Count;

    public static int Rows => 8;

    public static bool IsPreferred => Vector512.IsHardwareAccelerated;

    public static Vector512<T> Zero => Vector512<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ref T source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LoadPartial(ref T source, int count)
    {
        int half = Vector256<T>.Count;
        return count >= half
            ? Vector256.LoadUnsafe(ref source).ToVector512Unsafe().WithUpper(GemmSimd256<T>.LoadPartial(ref Unsafe.Add(ref source, half), count - half))
            : GemmSimd256<T>.LoadPartial(ref source, count).ToVector512();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(Vector512<T> value, ref T destination, int count)
    {
        int half = Vector256<T>.Count;
        if (count >= half)
        {
            value.GetLower().StoreUnsafe(ref destination);
            GemmSimd256<T>.StorePartial(value.GetUpper(), ref Unsafe.Add(ref destination, half), count - half);
        }
        else
        {
            GemmSimd256<T>.StorePartial(value.GetLower(), ref destination, count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> left, Vector512<T> right, Vector512<T> addend)
    {
        if (typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated)
        {
            return Vector512.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double) && Vector512.IsHardwareAccelerated)
        {
            return Vector512.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        return (left * right) + addend;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> left, Vector512<T> right) => left + right;
}

// 256-bit vectors (AVX2): 8 floats or 4 doubles; 16 registers without AVX-512, so 6 rows × 2 vectors.
internal readonly struct GemmSimd256<T> : IGemmSimd<Vector256<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => Vector256<T>.Count;

    public static int Rows => 6;

    public static bool IsPreferred => !Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated;

    public static Vector256<T> Zero => Vector256<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ref T source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LoadPartial(ref T source, int count)
    {
        int half = Vector128<T>.Count;
        return count >= half
            ? Vector128.LoadUnsafe(ref source).ToVector256Unsafe().WithUpper(GemmSimd128<T>.LoadPartial(ref Unsafe.Add(ref source, half), count - half))
            : GemmSimd128<T>.LoadPartial(ref source, count).ToVector256();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(Vector256<T> value, ref T destination, int count)
    {
        int half = Vector128<T>.Count;
        if (count >= half)
        {
            value.GetLower().StoreUnsafe(ref destination);
            GemmSimd128<T>.StorePartial(value.GetUpper(), ref Unsafe.Add(ref destination, half), count - half);
        }
        else
        {
            GemmSimd128<T>.StorePartial(value.GetLower(), ref destination, count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> left, Vector256<T> right, Vector256<T> addend)
    {
        if (typeof(T) == typeof(float) && Fma.IsSupported)
        {
            return Vector256.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double) && Fma.IsSupported)
        {
            return Vector256.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        return (left * right) + addend;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> left, Vector256<T> right) => left + right;
}

// 128-bit vectors (SSE, AdvSimd): 4 floats or 2 doubles; 32 registers on Arm64 and with AVX-512, otherwise 16.
internal readonly struct GemmSimd128<T> : IGemmSimd<Vector128<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => Vector128<T>.Count;

    public static int Rows => AdvSimd.IsSupported ? 8 : 6;

    public static bool IsPreferred =>
        !Vector512.IsHardwareAccelerated && !Vector256.IsHardwareAccelerated && Vector128.IsHardwareAccelerated;

    public static Vector128<T> Zero => Vector128<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Load(ref T source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    // Below 128 bits there are at most 3 floats or 1 double: a pair of floats moves as one 64-bit scalar.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> LoadPartial(ref T source, int count)
    {
        if (count <= 0)
        {
            return Vector128<T>.Zero;
        }

        if (typeof(T) == typeof(float) && count >= 2)
        {
            Vector128<T> pair = Vector128.CreateScalar(Unsafe.ReadUnaligned<double>(ref Unsafe.As<T, byte>(ref source))).As<double, T>();
            return count == 3 ? pair.WithElement(2, Unsafe.Add(ref source, 2)) : pair;
        }

        return Vector128.CreateScalar(source);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(Vector128<T> value, ref T destination, int count)
    {
        if (typeof(T) == typeof(float) && count >= 2)
        {
            Unsafe.WriteUnaligned(ref Unsafe.As<T, byte>(ref destination), value.AsDouble().ToScalar());
            if (count == 3)
            {
                Unsafe.Add(ref destination, 2) = value.GetElement(2);
            }
        }
        else if (count > 0)
        {
            destination = value.ToScalar();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Broadcast(T value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MultiplyAdd(Vector128<T> left, Vector128<T> right, Vector128<T> addend)
    {
        if (typeof(T) == typeof(float) && (Fma.IsSupported || AdvSimd.IsSupported))
        {
            return Vector128.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double) && (Fma.IsSupported || AdvSimd.Arm64.IsSupported))
        {
            return Vector128.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        return (left * right) + addend;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Add(Vector128<T> left, Vector128<T> right) => left + right;
}

// Plain scalars, for hardware without SIMD acceleration: 4 rows × 2 columns of accumulators.
internal readonly struct GemmScalar<T> : IGemmSimd<T, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => 1;

    public static int Rows => 4;

    public static bool IsPreferred =>
        !Vector512.IsHardwareAccelerated && !Vector256.IsHardwareAccelerated && !Vector128.IsHardwareAccelerated;

    public static T Zero => T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Load(ref T source) => source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T value, ref T destination) => destination = value;

    // One lane: a partial vector is empty.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T LoadPartial(ref T source, int count) => T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(T value, ref T destination, int count)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Broadcast(T value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MultiplyAdd(T left, T right, T addend) => (left * right) + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add(T left, T right) => left + right;
}

// A row count known to the JIT, so that a kernel specialised for it keeps exactly that many accumulator rows.
internal interface IGemmRows
{
    static abstract int Count { get; }
}

internal readonly struct GemmRows1 : IGemmRows
{
    public static int Count => 1;
}

internal readonly struct GemmRows2 : IGemmRows
{
    public static int Count => 2;
}

internal readonly struct GemmRows3 : IGemmRows
{
    public static int Count => 3;
}

internal readonly struct GemmRows4 : IGemmRows
{
    public static int Count => 4;
}

internal readonly struct GemmRows5 : IGemmRows
{
    public static int Count => 5;
}

internal readonly struct GemmRows6 : IGemmRows
{
    public static int Count => 6;
}

internal readonly struct GemmRows7 : IGemmRows
{
    public static int Count => 7;
}

internal readonly struct GemmRows8 : IGemmRows
{
    public static int Count => 8;
}

internal readonly struct GemmRows9 : IGemmRows
{
    public static int Count => 9;
}

internal readonly struct GemmRows10 : IGemmRows
{
    public static int Count => 10;
}

internal readonly struct GemmRows11 : IGemmRows
{
    public static int Count => 11;
}

internal readonly struct GemmRows12 : IGemmRows
{
    public static int Count => 12;
}
