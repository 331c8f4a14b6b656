using System.Numerics;

namespace Backprop;

/// <summary>The rectified linear unit: f(z) = max(0, z), with f′(z) = 1 for z &gt; 0 and 0 otherwise (0 at z = 0).</summary>
/// <remarks>
/// <para>Backward passes g through where z &gt; 0 and writes 0 elsewhere (not g·0, which would be −0 for a negative g
/// and NaN for an infinite one).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class ReLU : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "relu";

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

        public T Value(T z) => z > T.Zero ? z : T.Zero;

        public T Derivative(T z) => z > T.Zero ? T.One : T.Zero;

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            TVec zero = TSimd.Broadcast(T.Zero);
            return TSimd.Select(TSimd.GreaterThan(z, zero), z, zero);
        }

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            TVec zero = TSimd.Broadcast(T.Zero);
            return TSimd.Select(TSimd.GreaterThan(z, zero), g, zero);
        }
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Relu", graph.Name("relu"), [input], output);
        return output;
    }
}
