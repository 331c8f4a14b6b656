using System.Numerics;

namespace Backprop;

/// <summary>The softplus: f(z) = ln(1 + e^z), with f′(z) = σ(z) = 1 / (1 + e^(−z)).</summary>
/// <remarks>
/// <para>Computed as max(z, 0) + ln(1 + e^(−|z|)), which neither overflows for large z nor loses the small values for very negative z.</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Softplus : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "softplus";

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

        public T Value(T z) => T.Max(z, T.Zero) + ElementwiseKernel.Log1P(T.Exp(-T.Abs(z)));

        public T Derivative(T z) => ElementwiseKernel.Sigmoid(z);

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> =>
            TSimd.Add(
                TSimd.Max(z, TSimd.Broadcast(T.Zero)),
                VectorMath.Log1P<T, TVec, TSimd>(TSimd.Exp(TSimd.Negate(TSimd.Abs(z)))));

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(g, VectorMath.Sigmoid<T, TVec, TSimd>(z));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Softplus", graph.Name("softplus"), [input], output);
        return output;
    }
}
