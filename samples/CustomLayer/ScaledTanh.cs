using System.Numerics;
using Backprop;

namespace CustomLayer;

/// <summary>
/// An activation written outside the library, with settings: the scaled tanh a = A·tanh(S·z) (LeCun's choice is
/// A = 1.7159, S = 2/3, so that f(±1) = ±1), with a′(z) = A·S·(1 − tanh²(S·z)).
/// </summary>
/// <param name="amplitude">A.</param>
/// <param name="slope">S.</param>
public sealed class ScaledTanh(double amplitude = 1.7159, double slope = 2.0 / 3.0) : IActivation, IOnnxExportable
{
    /// <summary>A.</summary>
    public double Amplitude { get; } = amplitude;

    /// <summary>S.</summary>
    public double Slope { get; } = slope;

    /// <summary>The name reports use and this activation is saved and registered under.</summary>
    public string Name => "sample.scaled_tanh";

    /// <summary>A and S, so that a loaded network has the same function.</summary>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("amplitude", Amplitude).Set("slope", Slope);

    /// <summary>Its own ONNX nodes: Mul by S, Tanh, Mul by A.</summary>
    public string ExportOnnx(OnnxGraph graph, string input)
    {
        string slope = graph.AddInitializer<double>("slope", new TensorShape(1), [Slope]);
        string amplitude = graph.AddInitializer<double>("amplitude", new TensorShape(1), [Amplitude]);
        string scaled = graph.Name("tanh.in"), tanh = graph.Name("tanh"), output = graph.Name("a");
        graph.AddNode("Mul", graph.Name("slope.mul"), [input, slope], scaled);
        graph.AddNode("Tanh", graph.Name("tanh.op"), [scaled], tanh);
        graph.AddNode("Mul", graph.Name("amplitude.mul"), [tanh, amplitude], output);
        return output;
    }

    public void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T a = T.CreateChecked(Amplitude), s = T.CreateChecked(Slope);
        for (int i = 0; i < preActivations.Length; i++)
        {
            activations[i] = a * T.Tanh(s * preActivations[i]);
        }
    }

    public void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T a = T.CreateChecked(Amplitude), s = T.CreateChecked(Slope);
        for (int i = 0; i < preActivations.Length; i++)
        {
            T t = T.Tanh(s * preActivations[i]);
            localGradients[i] = outputGradients[i] * a * s * (T.One - t * t);
        }
    }
}
