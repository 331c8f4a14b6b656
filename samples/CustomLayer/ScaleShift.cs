using System.Numerics;
using Backprop;

namespace CustomLayer;

/// <summary>
/// A trainable layer written outside the library: y = x ⊙ s + t, one scale sᵢ and one shift tᵢ per feature (the affine
/// part of a normalisation layer).
/// </summary>
/// <remarks>
/// Forward: yᵢ = xᵢ·sᵢ + tᵢ. It has no activation, so its local gradient is the error arriving at its output,
/// δ = ∂L/∂y. Backward, summed over the rows of a batch: ∂L/∂sᵢ = Σ δᵢ·xᵢ, ∂L/∂tᵢ = Σ δᵢ, and the error sent back
/// ∂L/∂xᵢ = δᵢ·sᵢ. It keeps nothing from the forward pass: the backward pass is given the layer's input.
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
public sealed class ScaleShift<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private Parameter<T>? _scale;
    private Parameter<T>? _shift;

    /// <summary>The name this layer is saved and registered under.</summary>
    public string TypeName => "sample.scale_shift";

    public override string SavedForBackwardName => "none";

    public override int SavedForBackwardSize => 0;

    public override long FlopsPerSample => 2L * InputSize;

    /// <summary>The scales s, live.</summary>
    public Parameter<T> Scale => _scale ?? throw new InvalidOperationException("The layer is not built yet.");

    /// <summary>The shifts t, live.</summary>
    public Parameter<T> Shift => _shift ?? throw new InvalidOperationException("The layer is not built yet.");

    /// <summary>Nothing to save besides the parameters, which the library saves by name and shape.</summary>
    public void WriteSettings(ComponentSettings settings)
    {
    }

    public override string ToString() => "ScaleShift";

    /// <summary>Its own ONNX nodes: Mul by s, then Add t (both broadcast over the rows).</summary>
    public string ExportOnnx(OnnxGraph graph, string input)
    {
        string scale = graph.AddInitializer<T>("scale", Scale.Shape, Scale.Values);
        string shift = graph.AddInitializer<T>("shift", Shift.Shape, Shift.Values);
        string scaled = graph.Name("scaled");
        string output = graph.Name("y");
        graph.AddNode("Mul", graph.Name("mul"), [input, scale], scaled);
        graph.AddNode("Add", graph.Name("add"), [scaled, shift], output);
        return output;
    }

    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        var shape = new TensorShape(inputShape.Size);
        // s starts at 1 and t at 0: the layer starts as the identity.
        _scale = AddParameter("scale", shape, Initializers.Uniform(0.25), isRegularized: true);
        foreach (ref T s in _scale.Values)
        {
            s += T.One;
        }

        _shift = AddParameter("shift", shape);
        return inputShape;
    }

    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        ReadOnlySpan<T> s = _scale!.Values, t = _shift!.Values;
        int width = s.Length;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < width; i++)
            {
                activations[r * width + i] = inputs[r * width + i] * s[i] + t[i];
            }
        }
    }

    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        outputGradients.CopyTo(localGradients);

    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        ReadOnlySpan<T> s = _scale!.Values;
        Span<T> ds = _scale.Gradients, dt = _shift!.Gradients;
        int width = s.Length;
        ds.Clear();
        dt.Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < width; i++)
            {
                T delta = localGradients[r * width + i];
                ds[i] += delta * inputs[r * width + i];
                dt[i] += delta;
                if (!inputGradients.IsEmpty)
                {
                    inputGradients[r * width + i] = delta * s[i];
                }
            }
        }
    }
}
