using System.Numerics;
using MathNet.Numerics;

namespace Backprop;

/// <summary>The Gaussian error linear unit, exact form: f(z) = z·Φ(z) = ½·z·(1 + erf(z/√2)),
/// with f′(z) = Φ(z) + z·φ(z), where φ(z) = e^(−z²/2)/√(2π).</summary>
/// <remarks>
/// <para>Hendrycks and Gimpel, "Gaussian error linear units (GELUs)" (2016). The exact (erf) form, as PyTorch's default;
/// erf is MathNet.Numerics' double-precision <see cref="SpecialFunctions.Erf(double)"/>.</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Gelu : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "gelu";

    /// <inheritdoc />
    public override T Apply<T>(T z) => default(Operator<T>).Value(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z) => default(Operator<T>).Derivative(z);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width) =>
        ElementwiseKernel.Forward(default(Operator<T>), preActivations, activations);

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width) =>
        ElementwiseKernel.Backward(default(Operator<T>), preActivations, outputGradients, localGradients);

    private readonly struct Operator<T> : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private const double InverseSqrt2 = 0.70710678118654752440;
        private const double InverseSqrt2Pi = 0.39894228040143267794;

        public T Value(T z)
        {
            double x = double.CreateChecked(z);
            return T.CreateChecked(0.5 * x * SpecialFunctions.Erfc(-x * InverseSqrt2));
        }

        public T Derivative(T z)
        {
            double x = double.CreateChecked(z);
            double cdf = 0.5 * SpecialFunctions.Erfc(-x * InverseSqrt2);
            double pdf = InverseSqrt2Pi * Math.Exp(-0.5 * x * x);
            return T.CreateChecked(cdf + x * pdf);
        }
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        // Exact GELU for opset 17, which has no Gelu operator: 0.5·z·(1 + erf(z / √2)), the pattern that ONNX Runtime
        // fuses into its Gelu kernel.
        string sqrt2 = graph.AddScalar("gelu.sqrt2", MathF.Sqrt(2f));
        string one = graph.AddScalar("gelu.one", 1f);
        string half = graph.AddScalar("gelu.half", 0.5f);
        string output = graph.Name("a");
        graph.AddNode("Div", graph.Name("gelu.div"), [input, sqrt2], graph.Name("gelu.scaled"));
        graph.AddNode("Erf", graph.Name("gelu.erf"), [graph.Name("gelu.scaled")], graph.Name("gelu.erf"));
        graph.AddNode("Add", graph.Name("gelu.add"), [graph.Name("gelu.erf"), one], graph.Name("gelu.erf_plus_one"));
        graph.AddNode("Mul", graph.Name("gelu.mul"), [input, graph.Name("gelu.erf_plus_one")], graph.Name("gelu.product"));
        graph.AddNode("Mul", graph.Name("gelu.half"), [graph.Name("gelu.product"), half], output);
        return output;
    }
}
