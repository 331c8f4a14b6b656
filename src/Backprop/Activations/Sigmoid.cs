using System.Numerics;

namespace Backprop;

/// <summary>The logistic sigmoid: f(z) = σ(z) = 1 / (1 + e^(−z)), with f′(z) = σ(z)·(1 − σ(z)).</summary>
/// <remarks>
/// <para>Computed without overflow for any finite z: for z &lt; 0 as e^z / (1 + e^z). The output lies in (0, 1) (it rounds
/// to exactly 0 or 1 for |z| beyond about 17 in float and 37 in double).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Sigmoid : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "sigmoid";

    /// <inheritdoc />
    public override T Apply<T>(T z) => ElementwiseKernel.Sigmoid(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z)
    {
        T s = ElementwiseKernel.Sigmoid(z);
        return s * ElementwiseKernel.Sigmoid(-z);
    }

    /// <summary>The derivative written in terms of the output a = σ(z): f′ = a·(1 − a), the shortcut the classic
    /// backpropagation texts use (the seed's <c>sigmoid_derivative(y_hat)</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="output">The activation a = σ(z), not the pre-activation.</param>
    /// <returns>a·(1 − a).</returns>
    public static T DerivativeFromOutput<T>(T output)
        where T : unmanaged, IFloatingPointIeee754<T> => output * (T.One - output);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width) =>
        ElementwiseKernel.Forward(default(Operator<T>), preActivations, activations);

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        ActivationGuard.SameLength(preActivations.Length, outputGradients.Length, nameof(outputGradients));
        ActivationGuard.SameLength(preActivations.Length, localGradients.Length, nameof(localGradients));
        for (int i = 0; i < activations.Length; i++)
        {
            localGradients[i] = outputGradients[i] * DerivativeFromOutput(activations[i]);
        }
    }

    private readonly struct Operator<T> : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Value(T z) => ElementwiseKernel.Sigmoid(z);

        public T Derivative(T z)
        {
            T s = ElementwiseKernel.Sigmoid(z);
            return s * ElementwiseKernel.Sigmoid(-z);
        }
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
