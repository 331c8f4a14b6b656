using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop;

/// <summary>
/// The span operations of the per-batch path (softmax, cross-entropy, the bias gradient, the optimizers' updates) as
/// kernels of the library, compiled fully optimised at their first call.
/// </summary>
/// <remarks>
/// <para>They replace System.Numerics.Tensors' <c>TensorPrimitives</c> on that path: its generic kernels start as tier-0
/// code, whose vector operations are calls, and with tiered compilation on (every application's default) the first
/// epochs ran them so until the runtime recompiled them. The library cannot mark another assembly's methods.</para>
/// <para>Each result is bit for bit the one <c>TensorPrimitives</c> 10 gives (the tests hold it), except the float
/// exponential: the element-wise operations are exact or the same lane-by-lane functions (the runtime's
/// <c>Vector512.Exp</c> of double, <c>Log</c>), which <c>TensorPrimitives</c> also runs, on spans shorter than one
/// 128-bit vector the scalar <c>T.Exp</c> and <c>T.Log</c> as it does; and <see cref="Sum{T}"/> adds in its order. So
/// double predictions keep the bits recorded in the golden model files. The float exponential is the library's own
/// (<see cref="SingleExp"/>, within 1 ulp), because the runtime's is a generic method of System.Private.CoreLib that
/// the JIT does not inline and so also starts as tier-0 code; it is the same function at every span length. A double lane beyond ±700 (or NaN) gets the scalar <c>T.Exp</c>, and its neighbours the vector
/// function: the runtime's vector exponential would compute the whole vector with the scalar function then, so that a
/// lane's bits would depend on its neighbours and on where a batch is split.</para>
/// <para>Each element-wise kernel picks the widest accelerated width that the span fills, runs whole vectors, and
/// finishes with the last whole vector of the span, computed from the inputs before anything is stored: the
/// destination may be the same memory as an input (not a shifted view of it).</para>
/// </remarks>
internal static class SpanKernels
{
    /// <summary>destination = e^x, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && x.Length < Vector128<T>.Count && Vector128.IsHardwareAccelerated && x.Length <= destination.Length)
        {
            // The same vector function for the few elements of a short span (zero-padded), so that a float's e^x does
            // not depend on the length of the span it lies in.
            Vector128<T> lanes = default;
            x.CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<Vector128<T>, T>(ref lanes), Vector128<T>.Count));
            lanes = new ExpOp<T>().Invoke<Vector128<T>, Simd128<T>>(lanes);
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<Vector128<T>, T>(ref lanes), x.Length).CopyTo(destination);
            return;
        }

        Map(new ExpOp<T>(), x, destination);
    }

    /// <summary>destination = ln x, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Log<T>(ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new LogOp<T>(), x, destination);

    /// <summary>destination = √x, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sqrt<T>(ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new SqrtOp<T>(), x, destination);

    /// <summary>destination = x + value, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<T>(ReadOnlySpan<T> x, T value, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new AddScalarOp<T>(value), x, destination);

    /// <summary>destination = x − value, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Subtract<T>(ReadOnlySpan<T> x, T value, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new SubtractScalarOp<T>(value), x, destination);

    /// <summary>destination = x·value, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(ReadOnlySpan<T> x, T value, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new MultiplyScalarOp<T>(value), x, destination);

    /// <summary>destination = x / value, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Divide<T>(ReadOnlySpan<T> x, T value, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new DivideScalarOp<T>(value), x, destination);

    /// <summary>destination = x + y, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new AddOp<T>(), x, y, destination);

    /// <summary>destination = x·y, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new MultiplyOp<T>(), x, y, destination);

    /// <summary>destination = x / y, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Divide<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new DivideOp<T>(), x, y, destination);

    /// <summary>destination = x·value + addend, element by element, rounded after the product and after the sum (not
    /// fused), as <c>TensorPrimitives.MultiplyAdd</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<T>(ReadOnlySpan<T> x, T value, ReadOnlySpan<T> addend, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(new MultiplyAddOp<T>(value), x, addend, destination);

    /// <summary>The largest element (NaN if there is one; +0 above −0). The span must not be empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Max<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.IsEmpty)
        {
            throw new ArgumentException("The span must not be empty.", nameof(x));
        }

        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<T>.Count)
        {
            return Max<T, Vector512<T>, Simd512<T>>(x);
        }

        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            return Max<T, Vector256<T>, Simd256<T>>(x);
        }

        if (Vector128.IsHardwareAccelerated && x.Length >= Vector128<T>.Count)
        {
            return Max<T, Vector128<T>, Simd128<T>>(x);
        }

        T max = x[0];
        for (int i = 1; i < x.Length; i++)
        {
            max = T.Max(max, x[i]);
        }

        return max;
    }

    /// <summary>Σ x, added in the order of <c>TensorPrimitives.Sum</c>, so that the result has its bits.</summary>
    /// <remarks>With W lanes in the widest accelerated vector the span fills: one accumulator vector, starting at zero,
    /// takes (for spans longer than 8W) the vectors after the first in groups of eight, then the first vector, then the
    /// remaining whole vectors counted back from the last whole one, then the last vector of the span with the lanes it
    /// shares with those zeroed; the lanes are then added as <c>Vector512.Sum</c> (or 256, 128) does. Spans shorter than a
    /// 128-bit vector are added from the last element to the first.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Sum<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Sum<T, Identity<T>>(x);

    /// <summary>Σ x², added in the order of <c>TensorPrimitives.SumOfSquares</c> (that of <see cref="Sum{T}"/>, each
    /// element squared first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SumOfSquares<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T> => Sum<T, Square<T>>(x);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T Sum<T, TTerm>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTerm : struct, IUnaryOp<T>
    {
        TTerm term = default;
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<T>.Count)
        {
            return Sum<T, TTerm, Vector512<T>, Simd512<T>>(x);
        }

        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            return Sum<T, TTerm, Vector256<T>, Simd256<T>>(x);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            if (x.Length >= Vector128<T>.Count)
            {
                return Sum<T, TTerm, Vector128<T>, Simd128<T>>(x);
            }

            T sum = T.Zero;
            for (int i = x.Length - 1; i >= 0; i--)
            {
                sum += term.Invoke(x[i]);
            }

            return sum;
        }

        T total = T.Zero;
        foreach (T v in x)
        {
            total += term.Invoke(v);
        }

        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T Sum<T, TTerm, TVec, TSimd>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTerm : struct, IUnaryOp<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        TTerm term = default;
        ref T xRef = ref MemoryMarshal.GetReference(x);
        int n = x.Length, lanes = TSimd.Lanes;
        TVec sum = TSimd.Broadcast(T.Zero);
        TVec first = term.Invoke<TVec, TSimd>(TSimd.Load(ref xRef));
        int position = 0, remaining = n, blocks;
        if (n > 8 * lanes)
        {
            position = lanes;
            remaining = n - lanes;
            for (; remaining >= 8 * lanes; position += 8 * lanes, remaining -= 8 * lanes)
            {
                for (int k = 0; k < 8; k++)
                {
                    sum = TSimd.Add(sum, term.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, position + (k * lanes)))));
                }
            }

            blocks = remaining / lanes;
        }
        else
        {
            blocks = (remaining / lanes) - 1;
        }

        sum = TSimd.Add(sum, first);
        int trailing = remaining % lanes;
        int wholeEnd = position + remaining - trailing;
        for (int k = blocks; k >= 1; k--)
        {
            sum = TSimd.Add(sum, term.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, wholeEnd - (k * lanes)))));
        }

        // The last vector of the span with only its last `trailing` lanes kept (none when the span ends on a whole one).
        TVec last = TSimd.Broadcast(T.Zero);
        ref T lastLanes = ref Unsafe.As<TVec, T>(ref last);
        for (int k = lanes - trailing; k < lanes; k++)
        {
            Unsafe.Add(ref lastLanes, k) = term.Invoke(Unsafe.Add(ref xRef, n - lanes + k));
        }

        sum = TSimd.Add(sum, last);
        return TSimd.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T Max<T, TVec, TSimd>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        ref T xRef = ref MemoryMarshal.GetReference(x);
        int n = x.Length, lanes = TSimd.Lanes;
        TVec max = TSimd.Load(ref Unsafe.Add(ref xRef, n - lanes));
        for (int i = 0; i < n - lanes; i += lanes)
        {
            max = TSimd.Max(max, TSimd.Load(ref Unsafe.Add(ref xRef, i)));
        }

        return TSimd.MaxLane(max);
    }

    // ---- Element-wise drivers -------------------------------------------------------------------------------------

    private interface IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T Invoke(T x);

        TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>;
    }

    private interface IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T Invoke(T x, T y);

        TVec Invoke<TVec, TSimd>(TVec x, TVec y)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Map<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IUnaryOp<T>
    {
        if (x.Length > destination.Length)
        {
            ThrowShort(nameof(destination), x.Length, destination.Length);
        }

        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<T>.Count)
        {
            Map<T, TOp, Vector512<T>, Simd512<T>>(op, x, destination);
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            Map<T, TOp, Vector256<T>, Simd256<T>>(op, x, destination);
        }
        else if (Vector128.IsHardwareAccelerated && x.Length >= Vector128<T>.Count)
        {
            Map<T, TOp, Vector128<T>, Simd128<T>>(op, x, destination);
        }
        else
        {
            for (int i = 0; i < x.Length; i++)
            {
                destination[i] = op.Invoke(x[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Map<T, TOp, TVec, TSimd>(TOp op, ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IUnaryOp<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        ref T xRef = ref MemoryMarshal.GetReference(x);
        ref T dRef = ref MemoryMarshal.GetReference(destination);
        int n = x.Length, lanes = TSimd.Lanes, i = 0;
        TVec last = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, n - lanes)));
        for (; i <= n - (2 * lanes); i += 2 * lanes)
        {
            TVec r0 = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, i)));
            TVec r1 = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, i + lanes)));
            TSimd.Store(r0, ref Unsafe.Add(ref dRef, i));
            TSimd.Store(r1, ref Unsafe.Add(ref dRef, i + lanes));
        }

        for (; i <= n - lanes; i += lanes)
        {
            TSimd.Store(op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, i))), ref Unsafe.Add(ref dRef, i));
        }

        TSimd.Store(last, ref Unsafe.Add(ref dRef, n - lanes));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Map<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOp<T>
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"The spans must have the same length, but x has {x.Length} elements and y {y.Length}.", nameof(y));
        }

        if (x.Length > destination.Length)
        {
            ThrowShort(nameof(destination), x.Length, destination.Length);
        }

        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<T>.Count)
        {
            Map<T, TOp, Vector512<T>, Simd512<T>>(op, x, y, destination);
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<T>.Count)
        {
            Map<T, TOp, Vector256<T>, Simd256<T>>(op, x, y, destination);
        }
        else if (Vector128.IsHardwareAccelerated && x.Length >= Vector128<T>.Count)
        {
            Map<T, TOp, Vector128<T>, Simd128<T>>(op, x, y, destination);
        }
        else
        {
            for (int i = 0; i < x.Length; i++)
            {
                destination[i] = op.Invoke(x[i], y[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Map<T, TOp, TVec, TSimd>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IBinaryOp<T>
        where TVec : struct
        where TSimd : ISimdWidth<TVec, T>
    {
        ref T xRef = ref MemoryMarshal.GetReference(x);
        ref T yRef = ref MemoryMarshal.GetReference(y);
        ref T dRef = ref MemoryMarshal.GetReference(destination);
        int n = x.Length, lanes = TSimd.Lanes, i = 0;
        TVec last = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, n - lanes)), TSimd.Load(ref Unsafe.Add(ref yRef, n - lanes)));
        for (; i <= n - (2 * lanes); i += 2 * lanes)
        {
            TVec r0 = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, i)), TSimd.Load(ref Unsafe.Add(ref yRef, i)));
            TVec r1 = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, i + lanes)), TSimd.Load(ref Unsafe.Add(ref yRef, i + lanes)));
            TSimd.Store(r0, ref Unsafe.Add(ref dRef, i));
            TSimd.Store(r1, ref Unsafe.Add(ref dRef, i + lanes));
        }

        for (; i <= n - lanes; i += lanes)
        {
            TVec r = op.Invoke<TVec, TSimd>(TSimd.Load(ref Unsafe.Add(ref xRef, i)), TSimd.Load(ref Unsafe.Add(ref yRef, i)));
            TSimd.Store(r, ref Unsafe.Add(ref dRef, i));
        }

        TSimd.Store(last, ref Unsafe.Add(ref dRef, n - lanes));
    }

    private static void ThrowShort(string name, int needed, int actual) =>
        throw new ArgumentException($"{name} must hold at least {needed} elements, but it has {actual}.", name);

    // ---- Operators ------------------------------------------------------------------------------------------------

    private readonly struct Identity<T> : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => x;
    }

    private readonly struct Square<T> : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x * x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(x, x);
    }

    private readonly struct ExpOp<T> : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.Exp(x);

        // float: SingleExp, in double lanes. double: the runtime's vector exponential, which is lane by lane where
        // every lane is a number within ±700; a vector with another lane gets the runtime's exponential of the others (that lane set to 0)
        // and the scalar T.Exp of that lane, so no lane's bits depend on its neighbours.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            if (typeof(T) == typeof(float))
            {
                return TSimd.InDouble<SingleExp>(x);
            }

            TVec isNumber = TSimd.Equal(x, x);
            TVec far = TSimd.GreaterThan(TSimd.Abs(x), TSimd.Broadcast(T.CreateTruncating(700)));
            if (!TSimd.Any(far) && !TSimd.Any(TSimd.Equal(isNumber, TSimd.Broadcast(T.Zero))))
            {
                return TSimd.RuntimeExp(x);
            }

            return WithScalarLanes<TVec, TSimd>(x, isNumber, far);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static TVec WithScalarLanes<TVec, TSimd>(TVec x, TVec isNumber, TVec far)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            TVec ordinary = TSimd.Select(far, TSimd.Broadcast(T.Zero), isNumber);
            TVec e = TSimd.RuntimeExp(TSimd.Select(ordinary, x, TSimd.Broadcast(T.Zero)));
            ref T xLanes = ref Unsafe.As<TVec, T>(ref x);
            ref T eLanes = ref Unsafe.As<TVec, T>(ref e);
            ref T ordinaryLanes = ref Unsafe.As<TVec, T>(ref ordinary);
            for (int k = 0; k < TSimd.Lanes; k++)
            {
                if (Unsafe.Add(ref ordinaryLanes, k) == T.Zero)
                {
                    Unsafe.Add(ref eLanes, k) = T.Exp(Unsafe.Add(ref xLanes, k));
                }
            }

            return e;
        }
    }

    /// <summary>e^x for float arguments, evaluated in double lanes and rounded once to float by the caller's narrowing:
    /// within 1 ulp of the exact value (the double result is within 3·10⁻¹⁰ relative), subnormal results included; +∞
    /// above ≈ 88.72, 0 below ≈ −103.97, NaN for NaN.</summary>
    /// <remarks>x is clamped to ±150 (beyond the range where e^x is a finite non-zero float either way), n = round(x/ln 2),
    /// r = x − n·ln 2 with ln 2 in two parts and fused multiply-adds (|r| ≤ ln 2 / 2, exact to about 10⁻¹⁷), e^r by its
    /// Taylor polynomial to r⁸/8! (the next term is below 2.1·10⁻¹⁰), times 2ⁿ.</remarks>
    private readonly struct SingleExp : IDoubleKernel
    {
        private const double Ln2High = 0.6931471805599453;
        private const double Ln2Low = 2.3190468138462996e-17;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, double>
        {
            TVec c = TSimd.Min(TSimd.Max(x, TSimd.Broadcast(-150)), TSimd.Broadcast(150));
            TVec n = TSimd.Round(TSimd.Multiply(c, TSimd.Broadcast(1.4426950408889634)));
            TVec minusN = TSimd.Negate(n);
            TVec r = TSimd.MultiplyAdd(minusN, TSimd.Broadcast(Ln2High), c);
            r = TSimd.MultiplyAdd(minusN, TSimd.Broadcast(Ln2Low), r);
            TVec p = TSimd.Broadcast(1.0 / 40320);
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0 / 5040));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0 / 720));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0 / 120));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0 / 24));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0 / 6));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(0.5));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0));
            p = TSimd.MultiplyAdd(p, r, TSimd.Broadcast(1.0));
            return TSimd.Select(TSimd.Equal(x, x), TSimd.Multiply(p, TSimd.Pow2(n)), x);
        }
    }

    private readonly struct LogOp<T> : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.Log(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Log(x);
    }

    private readonly struct SqrtOp<T> : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => T.Sqrt(x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Sqrt(x);
    }

    private readonly struct AddScalarOp<T>(T value) : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x + value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Add(x, TSimd.Broadcast(value));
    }

    private readonly struct SubtractScalarOp<T>(T value) : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x - value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Subtract(x, TSimd.Broadcast(value));
    }

    private readonly struct MultiplyScalarOp<T>(T value) : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x * value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(x, TSimd.Broadcast(value));
    }

    private readonly struct DivideScalarOp<T>(T value) : IUnaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x) => x / value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Divide(x, TSimd.Broadcast(value));
    }

    private readonly struct AddOp<T> : IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x, T y) => x + y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x, TVec y)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Add(x, y);
    }

    private readonly struct MultiplyOp<T> : IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x, T y) => x * y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x, TVec y)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(x, y);
    }

    private readonly struct DivideOp<T> : IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x, T y) => x / y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x, TVec y)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Divide(x, y);
    }

    // x·value + addend, with the product rounded before the sum.
    private readonly struct MultiplyAddOp<T>(T value) : IBinaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Invoke(T x, T addend) => (x * value) + addend;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Invoke<TVec, TSimd>(TVec x, TVec addend)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Add(TSimd.Multiply(x, TSimd.Broadcast(value)), addend);
    }
}
