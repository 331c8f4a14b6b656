using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop;

// The vector operations the element-wise activations are written against, one implementation per register width
// (Vector128, Vector256, Vector512), so that each activation's vector math is written once and the JIT specialises and
// inlines it for every width. Every member is static; the structs hold nothing. The float and double overloads of the
// runtime's Exp, Log and FusedMultiplyAdd are picked by typeof(T) tests, which the JIT folds away.
internal interface ISimdWidth<TVec, T>
    where TVec : struct
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // Elements per vector.
    static abstract int Lanes { get; }

    static abstract TVec Load(ref T source);

    static abstract void Store(TVec value, ref T destination);

    static abstract TVec Broadcast(T value);

    static abstract TVec Add(TVec left, TVec right);

    static abstract TVec Subtract(TVec left, TVec right);

    static abstract TVec Multiply(TVec left, TVec right);

    static abstract TVec Divide(TVec left, TVec right);

    // The nearest integer, ties to even, lane by lane.
    static abstract TVec Round(TVec value);

    // 2ⁿ for double lanes holding integers n in [−1022, 1023] (exact; double only).
    static abstract TVec Pow2(TVec n);

    // √x lane by lane (correctly rounded, as the scalar square root).
    static abstract TVec Sqrt(TVec value);

    // The sum of the lanes, in the runtime's order for this width (Vector128/256/512.Sum).
    static abstract T Sum(TVec value);

    // The largest lane (NaN if any lane is NaN; +0 above −0), as T.Max folded over the lanes.
    static abstract T MaxLane(TVec value);

    // left·right + addend, rounded once (in software where the hardware has no FMA: slower, the same result).
    static abstract TVec MultiplyAdd(TVec left, TVec right, TVec addend);

    static abstract TVec Negate(TVec value);

    static abstract TVec Abs(TVec value);

    static abstract TVec Min(TVec left, TVec right);

    static abstract TVec Max(TVec left, TVec right);

    // |magnitude| with the sign bit of sign.
    static abstract TVec CopySign(TVec magnitude, TVec sign);

    // e^x lane by lane (VectorMath.Exp over RuntimeExp): each lane's result depends on that lane's input only.
    static abstract TVec Exp(TVec value);

    // The runtime's vectorised e^x, within a few units in the last place. Not lane-independent for double: when any lane
    // lies beyond about ±709 it computes the whole vector another way, which changes the other lanes' last bits.
    static abstract TVec RuntimeExp(TVec value);

    // The runtime's vectorised ln x (lane by lane, within a few units in the last place).

    static abstract TVec Log(TVec value);

    // Masks: all bits set in the lanes where the comparison holds.
    static abstract TVec GreaterThan(TVec left, TVec right);

    static abstract TVec GreaterThanOrEqual(TVec left, TVec right);

    static abstract TVec LessThan(TVec left, TVec right);

    static abstract TVec Equal(TVec left, TVec right);

    // Whether any lane of a mask has its bits set.
    static abstract bool Any(TVec mask);

    // mask ? ifTrue : ifFalse, lane by lane.
    static abstract TVec Select(TVec mask, TVec ifTrue, TVec ifFalse);

    // Runs a double-precision kernel on the lanes: as is for double; for float widened to two double vectors of the
    // same width and narrowed back (rounded to nearest) afterwards.
    static abstract TVec InDouble<TKernel>(TVec value)
        where TKernel : IDoubleKernel;
}

// A function of one value evaluated in double precision whatever the element type (see ISimdWidth.InDouble).
internal interface IDoubleKernel
{
    static abstract TVec Invoke<TVec, TSimd>(TVec x)
        where TVec : struct
        where TSimd : ISimdWidth<TVec, double>;
}

// 128-bit vectors: 4 floats or 2 doubles (SSE, AdvSimd; emulated in software elsewhere).
internal readonly struct Simd128<T> : ISimdWidth<Vector128<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => Vector128<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Load(ref T source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Broadcast(T value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Add(Vector128<T> left, Vector128<T> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Subtract(Vector128<T> left, Vector128<T> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Multiply(Vector128<T> left, Vector128<T> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Divide(Vector128<T> left, Vector128<T> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Round(Vector128<T> value) =>
        typeof(T) == typeof(float) ? Vector128.Round(value.AsSingle()).As<float, T>() : Vector128.Round(value.AsDouble()).As<double, T>();

    // n + 1.5·2⁵² holds n in its low bits (|n| < 2⁵¹); moved into the exponent field with the bias.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Pow2(Vector128<T> n)
    {
        if (typeof(T) != typeof(double))
        {
            throw new NotSupportedException();
        }

        Vector128<long> bits = (n.AsDouble() + Vector128.Create(6755399441055744.0)).AsInt64();
        return Vector128.ShiftLeft(bits - Vector128.Create(0x4338000000000000L - 1023), 52).As<long, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Sqrt(Vector128<T> value) => Vector128.Sqrt(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector128<T> value) => Vector128.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxLane(Vector128<T> value)
    {
        T max = value[0];
        for (int k = 1; k < Vector128<T>.Count; k++)
        {
            max = T.Max(max, value[k]);
        }

        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MultiplyAdd(Vector128<T> left, Vector128<T> right, Vector128<T> addend) =>
        typeof(T) == typeof(float)
            ? Vector128.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>()
            : Vector128.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Negate(Vector128<T> value) => -value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Abs(Vector128<T> value) => Vector128.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Min(Vector128<T> left, Vector128<T> right) => Vector128.Min(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Max(Vector128<T> left, Vector128<T> right) => Vector128.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> CopySign(Vector128<T> magnitude, Vector128<T> sign) => Vector128.CopySign(magnitude, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Exp(Vector128<T> value) => VectorMath.Exp<T, Vector128<T>, Simd128<T>>(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> RuntimeExp(Vector128<T> value) =>
        typeof(T) == typeof(float)
            ? Vector128.Exp(value.AsSingle()).As<float, T>()
            : Vector128.Exp(value.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Log(Vector128<T> value) =>
        typeof(T) == typeof(float)
            ? Vector128.Log(value.AsSingle()).As<float, T>()
            : Vector128.Log(value.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> GreaterThan(Vector128<T> left, Vector128<T> right) => Vector128.GreaterThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> GreaterThanOrEqual(Vector128<T> left, Vector128<T> right) => Vector128.GreaterThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> LessThan(Vector128<T> left, Vector128<T> right) => Vector128.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Equal(Vector128<T> left, Vector128<T> right) => Vector128.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(Vector128<T> mask) => Vector128.ExtractMostSignificantBits(mask) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Select(Vector128<T> mask, Vector128<T> ifTrue, Vector128<T> ifFalse) =>
        Vector128.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> InDouble<TKernel>(Vector128<T> value)
        where TKernel : IDoubleKernel
    {
        if (typeof(T) == typeof(double))
        {
            return TKernel.Invoke<Vector128<double>, Simd128<double>>(value.AsDouble()).As<double, T>();
        }

        var (lower, upper) = Vector128.Widen(value.AsSingle());
        return Vector128.Narrow(
            TKernel.Invoke<Vector128<double>, Simd128<double>>(lower),
            TKernel.Invoke<Vector128<double>, Simd128<double>>(upper)).As<float, T>();
    }
}

// 256-bit vectors (AVX2): 8 floats or 4 doubles.
internal readonly struct Simd256<T> : ISimdWidth<Vector256<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ref T source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> left, Vector256<T> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Subtract(Vector256<T> left, Vector256<T> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Multiply(Vector256<T> left, Vector256<T> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Divide(Vector256<T> left, Vector256<T> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Round(Vector256<T> value) =>
        typeof(T) == typeof(float) ? Vector256.Round(value.AsSingle()).As<float, T>() : Vector256.Round(value.AsDouble()).As<double, T>();

    // n + 1.5·2⁵² holds n in its low bits (|n| < 2⁵¹); moved into the exponent field with the bias.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Pow2(Vector256<T> n)
    {
        if (typeof(T) != typeof(double))
        {
            throw new NotSupportedException();
        }

        Vector256<long> bits = (n.AsDouble() + Vector256.Create(6755399441055744.0)).AsInt64();
        return Vector256.ShiftLeft(bits - Vector256.Create(0x4338000000000000L - 1023), 52).As<long, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sqrt(Vector256<T> value) => Vector256.Sqrt(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector256<T> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxLane(Vector256<T> value)
    {
        T max = value[0];
        for (int k = 1; k < Vector256<T>.Count; k++)
        {
            max = T.Max(max, value[k]);
        }

        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> left, Vector256<T> right, Vector256<T> addend) =>
        typeof(T) == typeof(float)
            ? Vector256.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>()
            : Vector256.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Negate(Vector256<T> value) => -value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Abs(Vector256<T> value) => Vector256.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Min(Vector256<T> left, Vector256<T> right) => Vector256.Min(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Max(Vector256<T> left, Vector256<T> right) => Vector256.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> CopySign(Vector256<T> magnitude, Vector256<T> sign) => Vector256.CopySign(magnitude, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp(Vector256<T> value) => VectorMath.Exp<T, Vector256<T>, Simd256<T>>(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> RuntimeExp(Vector256<T> value) =>
        typeof(T) == typeof(float)
            ? Vector256.Exp(value.AsSingle()).As<float, T>()
            : Vector256.Exp(value.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log(Vector256<T> value) =>
        typeof(T) == typeof(float)
            ? Vector256.Log(value.AsSingle()).As<float, T>()
            : Vector256.Log(value.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> GreaterThan(Vector256<T> left, Vector256<T> right) => Vector256.GreaterThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> GreaterThanOrEqual(Vector256<T> left, Vector256<T> right) => Vector256.GreaterThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LessThan(Vector256<T> left, Vector256<T> right) => Vector256.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Equal(Vector256<T> left, Vector256<T> right) => Vector256.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(Vector256<T> mask) => Vector256.ExtractMostSignificantBits(mask) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Select(Vector256<T> mask, Vector256<T> ifTrue, Vector256<T> ifFalse) =>
        Vector256.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> InDouble<TKernel>(Vector256<T> value)
        where TKernel : IDoubleKernel
    {
        if (typeof(T) == typeof(double))
        {
            return TKernel.Invoke<Vector256<double>, Simd256<double>>(value.AsDouble()).As<double, T>();
        }

        var (lower, upper) = Vector256.Widen(value.AsSingle());
        return Vector256.Narrow(
            TKernel.Invoke<Vector256<double>, Simd256<double>>(lower),
            TKernel.Invoke<Vector256<double>, Simd256<double>>(upper)).As<float, T>();
    }
}

// 512-bit vectors (AVX-512): 16 floats or 8 doubles.
internal readonly struct Simd512<T> : ISimdWidth<Vector512<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Lanes => Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ref T source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, ref T destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> left, Vector512<T> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Subtract(Vector512<T> left, Vector512<T> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Multiply(Vector512<T> left, Vector512<T> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Divide(Vector512<T> left, Vector512<T> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Round(Vector512<T> value) =>
        typeof(T) == typeof(float) ? Vector512.Round(value.AsSingle()).As<float, T>() : Vector512.Round(value.AsDouble()).As<double, T>();

    // n + 1.5·2⁵² holds n in its low bits (|n| < 2⁵¹); moved into the exponent field with the bias.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Pow2(Vector512<T> n)
    {
        if (typeof(T) != typeof(double))
        {
            throw new NotSupportedException();
        }

        Vector512<long> bits = (n.AsDouble() + Vector512.Create(6755399441055744.0)).AsInt64();
        return Vector512.ShiftLeft(bits - Vector512.Create(0x4338000000000000L - 1023), 52).As<long, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sqrt(Vector512<T> value) => Vector512.Sqrt(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector512<T> value) => Vector512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaxLane(Vector512<T> value)
    {
        T max = value[0];
        for (int k = 1; k < Vector512<T>.Count; k++)
        {
            max = T.Max(max, value[k]);
        }

        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> left, Vector512<T> right, Vector512<T> addend) =>
        typeof(T) == typeof(float)
            ? Vector512.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>()
            : Vector512.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Negate(Vector512<T> value) => -value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Abs(Vector512<T> value) => Vector512.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Min(Vector512<T> left, Vector512<T> right) => Vector512.Min(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Max(Vector512<T> left, Vector512<T> right) => Vector512.Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> CopySign(Vector512<T> magnitude, Vector512<T> sign) => Vector512.CopySign(magnitude, sign);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp(Vector512<T> value) => VectorMath.Exp<T, Vector512<T>, Simd512<T>>(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> RuntimeExp(Vector512<T> value) =>
        typeof(T) == typeof(float)
            ? Vector512.Exp(value.AsSingle()).As<float, T>()
            : Vector512.Exp(value.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log(Vector512<T> value) =>
        typeof(T) == typeof(float)
            ? Vector512.Log(value.AsSingle()).As<float, T>()
            : Vector512.Log(value.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> GreaterThan(Vector512<T> left, Vector512<T> right) => Vector512.GreaterThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> GreaterThanOrEqual(Vector512<T> left, Vector512<T> right) => Vector512.GreaterThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LessThan(Vector512<T> left, Vector512<T> right) => Vector512.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Equal(Vector512<T> left, Vector512<T> right) => Vector512.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(Vector512<T> mask) => Vector512.ExtractMostSignificantBits(mask) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Select(Vector512<T> mask, Vector512<T> ifTrue, Vector512<T> ifFalse) =>
        Vector512.ConditionalSelect(mask, ifTrue, ifFalse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> InDouble<TKernel>(Vector512<T> value)
        where TKernel : IDoubleKernel
    {
        if (typeof(T) == typeof(double))
        {
            return TKernel.Invoke<Vector512<double>, Simd512<double>>(value.AsDouble()).As<double, T>();
        }

        var (lower, upper) = Vector512.Widen(value.AsSingle());
        return Vector512.Narrow(
            TKernel.Invoke<Vector512<double>, Simd512<double>>(lower),
            TKernel.Invoke<Vector512<double>, Simd512<double>>(upper)).As<float, T>();
    }
}
