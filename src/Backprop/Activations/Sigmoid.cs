using System.Numerics;

namespace Backprop;

/// <summary>The logistic sigmoid: f(z) = σ(z) = 1 / (1 + e^(−z)), with f′(z) = σ(z)·(1 − σ(z)).</summary>
/// <remarks>
/// <para>Computed without overflow for any finite z: for z &lt; 0 as e^z / (1 + e^z). The output lies in [0, 1]: it rounds
/// to exactly 1 for z beyond about 17 in float and 37 in double, and to 0 only where e^z underflows (z below about −104 in
/// float and −745 in double).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Sigmoid : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "sigmoid";

    /// <inheritdoc />
    public override T Apply<T>(T z) => default(Operator<T>).Value(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z) => default(Operator<T>).Derivative(z);

    /// <summary>The derivative written in terms of the output a = σ(z): f′ = a·(1 − a), the shortcut the classic
    /// backpropagation texts use (the seed's <c>sigmoid_derivative(y_hat)</c>), and the one <see cref="Backward{T}"/> uses.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="output">The activation a = σ(z), not the pre-activation.</param>
    /// <returns>a·(1 − a).</returns>
    public static T DerivativeFromOutput<T>(T output)
        where T : unmanaged, IFloatingPointIeee754<T> => output * (T.One - output);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width) =>
        ElementwiseKernel.Forward(default(Operator<T>), preActivations, activations);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width) =>
        ElementwiseKernel.Backward(default(Operator<T>), preActivations, activations, outputGradients, localGradients);

    // Forward: σ(z) from whichever side does not overflow. Backward: g·a·(1 − a), from the output.
    private readonly struct Operator<T> : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool BackwardReadsActivations => true;

        public T Value(T z) => ElementwiseKernel.Sigmoid(z);

        public T Derivative(T z) => ElementwiseKernel.Sigmoid(z) * ElementwiseKernel.Sigmoid(-z);

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => VectorMath.Sigmoid<T, TVec, TSimd>(z);

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> =>
            TSimd.Multiply(g, TSimd.Multiply(a, TSimd.Subtract(TSimd.Broadcast(T.One), a)));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Sigmoid", graph.Name("sigmoid"), [input], output);
        return output;
    }
}
