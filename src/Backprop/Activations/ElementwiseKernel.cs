using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop;

/// <summary>
/// One element-wise activation as a struct the JIT inlines, in the style of TensorPrimitives' operator structs: a scalar
/// form (the reference that <see cref="ElementwiseActivation.Apply{T}"/> and <see cref="ElementwiseActivation.Derivative{T}"/>
/// return) and a vector form written once against <see cref="ISimdWidth{TVec, T}"/>, which <see cref="ElementwiseKernel"/>
/// runs at 128, 256 or 512 bits.
/// </summary>
/// <remarks>
/// The backward form returns δ = g ⊙ f′ directly rather than f′, so that each function may read whichever of z and
/// a = f(z) gives its derivative best (σ′ = a·(1 − a), tanh′ = 1 − a²) and may pass g through where f′ is 1 or 0.
/// Instance members, because some functions carry a parameter (α of ELU and leaky ReLU).
/// </remarks>
internal interface IElementwiseOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether the backward form reads the activations a (the span must then match in length).</summary>
    static abstract bool BackwardReadsActivations { get; }

    /// <summary>f(z) for one value.</summary>
    T Value(T z);

    /// <summary>f′(z) for one value, at the pre-activation.</summary>
    T Derivative(T z);

    /// <summary>f(z), lane by lane.</summary>
    TVec Value<TVec, TSimd>(TVec z)
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>;

    /// <summary>δ = g ⊙ f′(z), lane by lane, given z, a = f(z) and g = ∂L/∂a.</summary>
    TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>;
}

/// <summary>
/// The one driver of the built-in element-wise activations: it validates the spans, picks the widest vector width the
/// hardware accelerates, runs the operator four vectors at a time, then one at a time, and finishes the tail by running
/// the same vector form on a zero-padded copy.
/// </summary>
/// <remarks>
/// Every element, wherever it lies in the span, goes through the same vector code at the same width, so the result for a
/// value does not depend on the span's length or on where a caller splits a batch (the same results at any thread
/// count). No allocation: the tail's padding lives in a local vector.
/// </remarks>
internal static class ElementwiseKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T, TOperator>(in TOperator op, ReadOnlySpan<T> z, Span<T> a)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementwiseOperator<T>
    {
        ActivationGuard.SameLength(z.Length, a.Length, "activations");
        if (Vector512.IsHardwareAccelerated)
        {
            Forward<T, TOperator, Vector512<T>, Simd512<T>>(op, z, a);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Forward<T, TOperator, Vector256<T>, Simd256<T>>(op, z, a);
        }
        else
        {
            Forward<T, TOperator, Vector128<T>, Simd128<T>>(op, z, a);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T, TOperator>(in TOperator op, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> delta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementwiseOperator<T>
    {
        if (TOperator.BackwardReadsActivations)
        {
            ActivationGuard.SameLength(z.Length, a.Length, "activations");
        }
        else
        {
            // The operator ignores a: point it at z so that the loop reads valid memory whatever was passed.
            a = z;
        }

        ActivationGuard.SameLength(z.Length, g.Length, "outputGradients");
        ActivationGuard.SameLength(z.Length, delta.Length, "localGradients");
        if (Vector512.IsHardwareAccelerated)
        {
            Backward<T, TOperator, Vector512<T>, Simd512<T>>(op, z, a, g, delta);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Backward<T, TOperator, Vector256<T>, Simd256<T>>(op, z, a, g, delta);
        }
        else
        {
            Backward<T, TOperator, Vector128<T>, Simd128<T>>(op, z, a, g, delta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward<T, TOperator, TVec, TSimd>(TOperator op, ReadOnlySpan<T> z, Span<T> a)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementwiseOperator<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        ref T zRef = ref MemoryMarshal.GetReference(z);
        ref T aRef = ref MemoryMarshal.GetReference(a);
        int n = z.Length, lanes = TSimd.Lanes, i = 0;

        // Four independent vectors per step; all loads come before the stores, so a may be the same memory as z.
        for (; i <= n - (4 * lanes); i += 4 * lanes)
        {
            TVec z0 = TSimd.Load(ref Unsafe.Add(ref zRef, i));
            TVec z1 = TSimd.Load(ref Unsafe.Add(ref zRef, i + lanes));
            TVec z2 = TSimd.Load(ref Unsafe.Add(ref zRef, i + (2 * lanes)));
            TVec z3 = TSimd.Load(ref Unsafe.Add(ref zRef, i + (3 * lanes)));
            TSimd.Store(op.Value<TVec, TSimd>(z0), ref Unsafe.Add(ref aRef, i));
            TSimd.Store(op.Value<TVec, TSimd>(z1), ref Unsafe.Add(ref aRef, i + lanes));
            TSimd.Store(op.Value<TVec, TSimd>(z2), ref Unsafe.Add(ref aRef, i + (2 * lanes)));
            TSimd.Store(op.Value<TVec, TSimd>(z3), ref Unsafe.Add(ref aRef, i + (3 * lanes)));
        }

        for (; i <= n - lanes; i += lanes)
        {
            TSimd.Store(op.Value<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref zRef, i))), ref Unsafe.Add(ref aRef, i));
        }

        if (i < n)
        {
            int count = n - i;
            TVec tail = LoadPartial<T, TVec>(ref Unsafe.Add(ref zRef, i), count);
            StorePartial(op.Value<TVec, TSimd>(tail), ref Unsafe.Add(ref aRef, i), count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward<T, TOperator, TVec, TSimd>(TOperator op, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> delta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementwiseOperator<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        ref T zRef = ref MemoryMarshal.GetReference(z);
        ref T aRef = ref MemoryMarshal.GetReference(a);
        ref T gRef = ref MemoryMarshal.GetReference(g);
        ref T dRef = ref MemoryMarshal.GetReference(delta);
        int n = z.Length, lanes = TSimd.Lanes, i = 0;
        for (; i <= n - (2 * lanes); i += 2 * lanes)
        {
            TVec d0 = op.Backward<TVec, TSimd>(
                TSimd.Load(ref Unsafe.Add(ref zRef, i)), TSimd.Load(ref Unsafe.Add(ref aRef, i)), TSimd.Load(ref Unsafe.Add(ref gRef, i)));
            TVec d1 = op.Backward<TVec, TSimd>(
                TSimd.Load(ref Unsafe.Add(ref zRef, i + lanes)), TSimd.Load(ref Unsafe.Add(ref aRef, i + lanes)), TSimd.Load(ref Unsafe.Add(ref gRef, i + lanes)));
            TSimd.Store(d0, ref Unsafe.Add(ref dRef, i));
            TSimd.Store(d1, ref Unsafe.Add(ref dRef, i + lanes));
        }

        for (; i <= n - lanes; i += lanes)
        {
            TVec d = op.Backward<TVec, TSimd>(
                TSimd.Load(ref Unsafe.Add(ref zRef, i)), TSimd.Load(ref Unsafe.Add(ref aRef, i)), TSimd.Load(ref Unsafe.Add(ref gRef, i)));
            TSimd.Store(d, ref Unsafe.Add(ref dRef, i));
        }

        if (i < n)
        {
            int count = n - i;
            TVec d = op.Backward<TVec, TSimd>(
                LoadPartial<T, TVec>(ref Unsafe.Add(ref zRef, i), count),
                LoadPartial<T, TVec>(ref Unsafe.Add(ref aRef, i), count),
                LoadPartial<T, TVec>(ref Unsafe.Add(ref gRef, i), count));
            StorePartial(d, ref Unsafe.Add(ref dRef, i), count);
        }
    }

    // The first count elements at source in the low lanes, zeros above; reads nothing past them.
    private static TVec LoadPartial<T, TVec>(ref T source, int count)
        where T : unmanaged
        where TVec : struct
    {
        TVec value = default;
        ref T lanes = ref Unsafe.As<TVec, T>(ref value);
        for (int k = 0; k < count; k++)
        {
            Unsafe.Add(ref lanes, k) = Unsafe.Add(ref source, k);
        }

        return value;
    }

    // Writes the low count lanes only.
    private static void StorePartial<T, TVec>(TVec value, ref T destination, int count)
        where T : unmanaged
        where TVec : struct
    {
        ref T lanes = ref Unsafe.As<TVec, T>(ref value);
        for (int k = 0; k < count; k++)
        {
            Unsafe.Add(ref destination, k) = Unsafe.Add(ref lanes, k);
        }
    }

    /// <summary>σ(z) = 1 / (1 + e^(−z)), written so that neither branch overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sigmoid<T>(T z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (z >= T.Zero)
        {
            return T.One / (T.One + T.Exp(-z));
        }

        T e = T.Exp(z);
        return e / (T.One + e);
    }

    /// <summary>e^x − 1, accurate also for tiny x (Kahan's trick: the rounding error of e^x cancels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ExpM1<T>(T x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T u = T.Exp(x);
        if (u == T.One)
        {
            return x;
        }

        T um1 = u - T.One;
        return um1 == -T.One ? -T.One : um1 * x / T.Log(u);
    }

    /// <summary>ln(1 + x), accurate also for tiny x (Goldberg's trick: the rounding error of 1 + x cancels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Log1P<T>(T x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T u = T.One + x;
        T d = u - T.One;
        return d == T.Zero ? x : T.Log(u) * (x / d);
    }
}

/// <summary>The vector counterparts of <see cref="ElementwiseKernel"/>'s scalar helpers, the same formulas lane by lane.</summary>
internal static class VectorMath
{
    /// <summary>e^x with each lane's result depending on that lane alone (see <see cref="ISimdWidth{TVec, T}.RuntimeExp"/>).</summary>
    /// <remarks>Lanes beyond ±700 (double) or ±80 (float) are computed as e^(x/2)·e^(x/2), with x first clamped to twice
    /// that bound (where e^x has long overflowed or underflowed), and NaN lanes as e^0 and then put back: so the runtime
    /// only ever sees arguments in the range it computes lane by lane. The squaring doubles the relative error in those
    /// far tails only, where the result is within a factor e^700 of overflow or is subnormal.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Exp<T, TVec, TSimd>(TVec x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        T bound = typeof(T) == typeof(float) ? T.CreateTruncating(80) : T.CreateTruncating(700);
        TVec isNumber = TSimd.Equal(x, x);
        TVec far = TSimd.GreaterThan(TSimd.Abs(x), TSimd.Broadcast(bound));
        TVec clamped = TSimd.Min(TSimd.Max(x, TSimd.Broadcast(-(bound + bound))), TSimd.Broadcast(bound + bound));
        TVec h = TSimd.Select(far, TSimd.Multiply(clamped, TSimd.Broadcast(T.CreateTruncating(0.5))), x);
        TVec e = TSimd.RuntimeExp(TSimd.Select(isNumber, h, TSimd.Broadcast(T.Zero)));
        e = TSimd.Select(far, TSimd.Multiply(e, e), e);
        return TSimd.Select(isNumber, e, x);
    }

    /// <summary>σ(z): 1 / (1 + e^(−z)) for z ≥ 0 and e^z / (1 + e^z) below, both as select(z ≥ 0, 1, e) / (1 + e) with e = e^(−|z|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid<T, TVec, TSimd>(TVec z)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        TVec one = TSimd.Broadcast(T.One);
        TVec e = TSimd.Exp(TSimd.Negate(TSimd.Abs(z)));
        return TSimd.Divide(TSimd.Select(TSimd.GreaterThanOrEqual(z, TSimd.Broadcast(T.Zero)), one, e), TSimd.Add(one, e));
    }

    /// <summary>e^x − 1 by Kahan's trick, as <see cref="ElementwiseKernel.ExpM1{T}"/>: (e^x − 1)·x / ln(e^x), x where
    /// e^x rounds to 1, −1 where e^x − 1 rounds to −1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec ExpM1<T, TVec, TSimd>(TVec x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        TVec one = TSimd.Broadcast(T.One);
        TVec minusOne = TSimd.Broadcast(-T.One);
        TVec u = TSimd.Exp(x);
        TVec um1 = TSimd.Subtract(u, one);
        TVec r = TSimd.Divide(TSimd.Multiply(um1, x), TSimd.Log(u));
        r = TSimd.Select(TSimd.Equal(um1, minusOne), minusOne, r);
        return TSimd.Select(TSimd.Equal(u, one), x, r);
    }

    /// <summary>ln(1 + x) by Goldberg's trick, as <see cref="ElementwiseKernel.Log1P{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Log1P<T, TVec, TSimd>(TVec x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        TVec u = TSimd.Add(TSimd.Broadcast(T.One), x);
        TVec d = TSimd.Subtract(u, TSimd.Broadcast(T.One));
        TVec r = TSimd.Multiply(TSimd.Log(u), TSimd.Divide(x, d));
        return TSimd.Select(TSimd.Equal(d, TSimd.Broadcast(T.Zero)), x, r);
    }
}
