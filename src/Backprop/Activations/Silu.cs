using System.Numerics;

namespace Backprop;

/// <summary>The sigmoid-weighted linear unit (swish with β = 1): f(z) = z·σ(z),
/// with f′(z) = σ(z)·(1 + z·(1 − σ(z))).</summary>
/// <remarks>
/// <para>Elfwing, Uchibe and Doya, "Sigmoid-weighted linear units for neural network function approximation in reinforcement learning" (2018).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Silu : ElementwiseActivation
{
    /// <inheritdoc />
    public override string Name => "silu";

    /// <inheritdoc />
    public override T Apply<T>(T z) => default(Operator<T>).Value(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z) => default(Operator<T>).Derivative(z);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width) =>
        ElementwiseKernel.Forward(default(Operator<T>), preActivations, activations);

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width) =>
        ElementwiseKernel.Backward(default(Operator<T>), preActivations, activations, outputGradients, localGradients);

    private readonly struct Operator<T> : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool BackwardReadsActivations => false;

        public T Value(T z) => z * ElementwiseKernel.Sigmoid(z);

        public T Derivative(T z)
        {
            T s = ElementwiseKernel.Sigmoid(z);
            return s * (T.One + z * (T.One - s));
        }

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(z, VectorMath.Sigmoid<T, TVec, TSimd>(z));

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            TVec one = TSimd.Broadcast(T.One);
            TVec s = VectorMath.Sigmoid<T, TVec, TSimd>(z);
            return TSimd.Multiply(g, TSimd.Multiply(s, TSimd.Add(one, TSimd.Multiply(z, TSimd.Subtract(one, s)))));
        }
    }
}
