using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop;

/// <summary>A scalar function and its derivative with respect to the pre-activation, as a struct the JIT inlines.</summary>
internal interface IElementwiseOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    T Value(T z);

    T Derivative(T z);
}

/// <summary>The shared loops of the built-in element-wise activations: validate once, then run the operator over the span.</summary>
internal static class ElementwiseKernel
{
    public static void Forward<T, TOperator>(TOperator op, ReadOnlySpan<T> z, Span<T> a)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementwiseOperator<T>
    {
        ActivationGuard.SameLength(z.Length, a.Length, "activations");
        ref T zRef = ref MemoryMarshal.GetReference(z);
        ref T aRef = ref MemoryMarshal.GetReference(a);
        for (int i = 0; i < z.Length; i++)
        {
            Unsafe.Add(ref aRef, i) = op.Value(Unsafe.Add(ref zRef, i));
        }
    }

    public static void Backward<T, TOperator>(TOperator op, ReadOnlySpan<T> z, ReadOnlySpan<T> g, Span<T> delta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementwiseOperator<T>
    {
        ActivationGuard.SameLength(z.Length, g.Length, "outputGradients");
        ActivationGuard.SameLength(z.Length, delta.Length, "localGradients");
        ref T zRef = ref MemoryMarshal.GetReference(z);
        ref T gRef = ref MemoryMarshal.GetReference(g);
        ref T dRef = ref MemoryMarshal.GetReference(delta);
        for (int i = 0; i < z.Length; i++)
        {
            Unsafe.Add(ref dRef, i) = Unsafe.Add(ref gRef, i) * op.Derivative(Unsafe.Add(ref zRef, i));
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
