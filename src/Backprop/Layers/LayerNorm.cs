using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>
/// Layer normalisation (Ba, Kiros and Hinton, 2016) over the last dimension: normalises each sample's values along its
/// last dimension by their own mean and variance, then scales by a trainable γ and shifts by a trainable β, one of each
/// per position of that dimension. The same in training and at inference.
/// </summary>
/// <remarks>
/// <para>The input's last dimension has D values; an input of rank 1 is one row of D = <see cref="Layer{T}.InputSize"/>
/// values, an input d₀×…×D is <see cref="Layer{T}.InputSize"/> / D rows of D, each normalised on its own (PyTorch's
/// <c>LayerNorm(D)</c>, Keras's <c>LayerNormalization(axis=-1)</c>).</para>
/// <para>Forward, per row x of D values: μ = (1/D)·Σ x, σ² = (1/D)·Σ (x − μ)² (biased), x̂ = (x − μ) / √(σ² + ε),
/// y = γ ⊙ x̂ + β.</para>
/// <para>Backward, from g = ∂L/∂y: ∂L/∂γ = Σ over every row of g ⊙ x̂, ∂L/∂β = Σ g, and per row, with ĝ = γ ⊙ g,
/// ∂L/∂x = (ĝ − (1/D)·Σ ĝ − x̂·(1/D)·Σ ĝ·x̂) / √(σ² + ε).</para>
/// <para>The whole backward pass runs in <see cref="Layer{T}.ComputeLocalGradients"/>, where the saved x̂ and
/// 1/√(σ² + ε) are at hand: it fills ∂L/∂γ and ∂L/∂β and turns ∂L/∂y into δ = ∂L/∂x, which
/// <see cref="Layer{T}.Backpropagate"/> then passes on. Saved per sample: x̂ (<see cref="Layer{T}.InputSize"/> values) and
/// 1/√(σ² + ε) of each row.</para>
/// <para>Thread safety: the forward pass only reads the parameters and may run on any number of threads at once.</para>
/// <para>J. L. Ba, J. R. Kiros and G. E. Hinton, "Layer Normalization", arXiv:1607.06450 (2016).</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class LayerNorm<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The default ε, 1e-5, as PyTorch's.</summary>
    public const double DefaultEpsilon = 1e-5;

    private readonly T _epsilon;
    private Parameter<T>? _gamma;
    private Parameter<T>? _beta;
    private int _width;
    private int _rowsPerSample;

    /// <summary>Creates a layer normalisation over the last dimension.</summary>
    /// <param name="epsilon">ε, added to the variance before the square root, greater than 0; 1e-5 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is not a finite number greater than 0.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public LayerNorm(double epsilon = DefaultEpsilon)
    {
        Guard.PositiveFinite(epsilon, nameof(epsilon));
        Epsilon = epsilon;
        _epsilon = T.CreateChecked(epsilon);
    }

    /// <summary>ε, added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>D, the size of the last dimension, over which each row is normalised; 0 until the layer is built.</summary>
    public int NormalizedSize => _width;

    /// <summary>Keeps x̂ and each row's 1/√(σ² + ε).</summary>
    public override string SavedForBackwardName => "normalized inputs and inverse standard deviations";

    /// <summary><see cref="Layer{T}.InputSize"/> + <see cref="Layer{T}.InputSize"/> / D: x̂ and each row's 1/√(σ² + ε).</summary>
    public override int SavedForBackwardSize => InputSize + _rowsPerSample;

    /// <summary>About 6 operations per value: two sums, subtract, scale, multiply and add.</summary>
    public override long FlopsPerSample => 6L * InputSize;

    /// <summary>"layer_norm", the name model files store the layer under.</summary>
    public string TypeName => "layer_norm";

    /// <summary>Writes epsilon.</summary>
    /// <param name="settings">Receives the settings.</param>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("epsilon", Epsilon);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "LayerNorm(epsilon 1E-05)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LayerNorm(epsilon {Epsilon})");

    /// <inheritdoc />
    /// <remarks>γ ("gamma", starting at 1) and β ("beta", starting at 0), D values each, neither regularised. The output
    /// shape is the input shape.</remarks>
    /// <exception cref="ArgumentException">The last dimension has a single value, which would always normalise to 0.</exception>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        int width = inputShape[inputShape.Rank - 1];
        if (width < 2)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"LayerNorm normalises over the last dimension, which must hold at least 2 values, but the input shape is {inputShape}: one value always normalises to 0, so the output would be β whatever the input."),
                nameof(inputShape));
        }

        _width = width;
        _rowsPerSample = inputShape.Size / width;
        _gamma = AddParameter("gamma", new TensorShape(width));
        _gamma.ValueArray.AsSpan().Fill(T.One);
        _beta = AddParameter("beta", new TensorShape(width));
        return inputShape;
    }

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        int width = _width, size = InputSize, stride = SavedForBackwardSize, perSample = _rowsPerSample;
        T d = T.CreateChecked(width);
        ReadOnlySpan<T> gamma = _gamma!.ValueArray, beta = _beta!.ValueArray;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < perSample; i++)
            {
                ReadOnlySpan<T> x = inputs.Slice(r * size + i * width, width);
                Span<T> y = activations.Slice(r * size + i * width, width);
                // x̂ is formed where it is kept (saved) or, at a prediction, in the output itself.
                Span<T> normalized = saved.IsEmpty ? y : saved.Slice(r * stride + i * width, width);
                T mean = TensorPrimitives.Sum(x) / d;
                TensorPrimitives.Subtract(x, mean, normalized);
                T inverseStd = T.One / T.Sqrt(TensorPrimitives.SumOfSquares(normalized) / d + _epsilon);
                TensorPrimitives.Multiply(normalized, inverseStd, normalized);
                TensorPrimitives.MultiplyAdd(normalized, gamma, beta, y);
                if (!saved.IsEmpty)
                {
                    saved[r * stride + size + i] = inverseStd;
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>The whole backward pass: fills ∂L/∂γ = Σ g ⊙ x̂ and ∂L/∂β = Σ g, and turns g = ∂L/∂y into δ = ∂L/∂x
    /// (see the class remarks for the formula).</remarks>
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        int width = _width, size = InputSize, stride = SavedForBackwardSize, perSample = _rowsPerSample;
        T d = T.CreateChecked(width);
        ReadOnlySpan<T> gamma = _gamma!.ValueArray;
        Span<T> gammaGradients = _gamma.GradientArray, betaGradients = _beta!.GradientArray;
        gammaGradients.Clear();
        betaGradients.Clear();
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < perSample; i++)
            {
                ReadOnlySpan<T> g = outputGradients.Slice(r * size + i * width, width);
                ReadOnlySpan<T> normalized = saved.Slice(r * stride + i * width, width);
                Span<T> dx = localGradients.Slice(r * size + i * width, width);
                TensorPrimitives.MultiplyAdd(g, normalized, gammaGradients, gammaGradients);
                TensorPrimitives.Add(betaGradients, g, betaGradients);

                // ĝ = γ ⊙ g, then ∂L/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / σ, element by element (dx may be g's own memory).
                TensorPrimitives.Multiply(g, gamma, dx);
                T meanG = TensorPrimitives.Sum(dx) / d;
                T meanGX = TensorPrimitives.Dot(dx, normalized) / d;
                TensorPrimitives.Subtract(dx, meanG, dx);
                TensorPrimitives.MultiplyAdd(normalized, -meanGX, dx, dx);
                TensorPrimitives.Multiply(dx, saved[r * stride + size + i], dx);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>δ is already ∂L/∂x, and the parameter gradients are filled (<see cref="OnComputeLocalGradients"/>):
    /// this copies δ to <paramref name="inputGradients"/> when asked.</remarks>
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        if (!inputGradients.IsEmpty)
        {
            localGradients.CopyTo(inputGradients);
        }
    }

    /// <summary>Adds the layer to an ONNX graph: a LayerNormalization node (opset 17, axis −1, ε). A rank-1 input goes in
    /// as it is, [N, D]; an input of higher rank is reshaped to [N, d₀, …, D] first and flattened back to [N, size] after.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value, [N, <see cref="Layer{T}.InputSize"/>].</param>
    /// <returns>The name of the output value, [N, <see cref="Layer{T}.OutputSize"/>].</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        var shape = new TensorShape(_width);
        string scale = graph.AddInitializer<T>("gamma", shape, _gamma!.ValueArray);
        string bias = graph.AddInitializer<T>("beta", shape, _beta!.ValueArray);
        OnnxAttribute[] attributes = [OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", graph.ToFloat(Epsilon, "epsilon"))];
        if (_rowsPerSample == 1)
        {
            string output = graph.Name("y");
            graph.AddNode("LayerNormalization", graph.Name("layer_norm"), [input, scale, bias], output, attributes);
            return output;
        }

        var dims = InputShape!.Dimensions;
        long[] target = new long[dims.Count + 1];
        for (int i = 0; i < dims.Count; i++)
        {
            target[i + 1] = dims[i];
        }

        string reshaped = graph.Name("reshaped");
        graph.AddNode("Reshape", graph.Name("reshape"), [input, graph.AddInt64Initializer("shape", target)], reshaped);
        string normalized = graph.Name("normalized");
        graph.AddNode("LayerNormalization", graph.Name("layer_norm"), [reshaped, scale, bias], normalized, attributes);
        string flat = graph.Name("y");
        graph.AddNode("Flatten", graph.Name("flatten"), [normalized], flat, OnnxAttribute.Int("axis", 1));
        return flat;
    }
}
