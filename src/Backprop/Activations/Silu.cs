using System.Numerics;

namespace Backprop;

/// <summary>The sigmoid-weighted linear unit (swish with β = 1): f(z) = z·σ(z),
/// with f′(z) = σ(z)·(1 + z·(1 − σ(z))) = σ(z)·(1 + z·σ(−z)).</summary>
/// <remarks>
/// <para>Elfwing, Uchibe and Doya, "Sigmoid-weighted linear units for neural network function approximation in reinforcement learning" (2018).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Silu : ElementwiseActivation, IOnnxExportable
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

        // 1 − σ(z) is taken as σ(−z): the difference loses all its digits for large z (1 − σ(16.6) is one unit of
        // float's 1), and z·(1 − σ(z)) would carry that error times z.
        public T Derivative(T z) => ElementwiseKernel.Sigmoid(z) * (T.One + z * ElementwiseKernel.Sigmoid(-z));

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(z, VectorMath.Sigmoid<T, TVec, TSimd>(z));

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            // σ(z) and σ(−z) from one e^(−|z|): select(z ≥ 0, 1, e) / (1 + e) and select(z ≥ 0, e, 1) / (1 + e).
            TVec one = TSimd.Broadcast(T.One);
            TVec e = TSimd.Exp(TSimd.Negate(TSimd.Abs(z)));
            TVec denominator = TSimd.Add(one, e);
            TVec nonNegative = TSimd.GreaterThanOrEqual(z, TSimd.Broadcast(T.Zero));
            TVec s = TSimd.Divide(TSimd.Select(nonNegative, one, e), denominator);
            TVec sMinus = TSimd.Divide(TSimd.Select(nonNegative, e, one), denominator);
            return TSimd.Multiply(g, TSimd.Multiply(s, TSimd.Add(one, TSimd.Multiply(z, sMinus))));
        }
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        // SiLU: z·σ(z).
        string output = graph.Name("a");
        graph.AddNode("Sigmoid", graph.Name("silu.sigmoid"), [input], graph.Name("silu.sigmoid"));
        graph.AddNode("Mul", graph.Name("silu.mul"), [input, graph.Name("silu.sigmoid")], output);
        return output;
    }
}
