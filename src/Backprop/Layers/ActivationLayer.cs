using System.Numerics;

namespace Backprop;

/// <summary>
/// An activation on its own, a = f(x), for where a non-linearity must follow a layer that has none of its own: the
/// usual convolution → <see cref="BatchNorm{T}"/> → ReLU block, or after a <see cref="Residual{T}"/> sum (Keras's
/// <c>Activation</c>, PyTorch's <c>nn.ReLU</c> and its siblings).
/// </summary>
/// <remarks>
/// <para>Forward: a = f(x) on each sample's values, in whatever shape the input has (the output shape is the input's).
/// An element-wise f acts value by value; <see cref="Activations.Softmax"/> normalises over all the values of a sample
/// (for a C × H × W input, over all C·H·W of them).</para>
/// <para>Local gradients: δ = ∂L/∂x = f′(x) ⊙ ∂L/∂a for an element-wise f, and δ = J_f(x)ᵀ·∂L/∂a for softmax, exactly
/// as <see cref="Dense{T}"/> applies its own activation. The layer keeps its inputs x as its pre-activations for the
/// backward pass, so a softmax layer at the end of a network is fused with cross-entropy as a dense softmax layer is.</para>
/// <para>The layer has no parameters. Thread safety: as every layer, its inference passes may run on several threads.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ActivationLayer<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IActivation _activation;

    /// <summary>Creates the layer.</summary>
    /// <param name="activation">The activation f.</param>
    /// <exception cref="ArgumentNullException"><paramref name="activation"/> is null.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public ActivationLayer(IActivation activation)
    {
        ArgumentNullException.ThrowIfNull(activation);
        _activation = activation;
    }

    /// <summary>The activation f.</summary>
    public override IActivation Activation => _activation;

    /// <summary>Keeps its inputs, the pre-activations of f, for the backward pass.</summary>
    public override string SavedForBackwardName => "pre-activations";

    /// <summary>About one operation per value (more for transcendental activations, which the thread policy need not
    /// know).</summary>
    public override long FlopsPerSample => InputSize;

    /// <summary>"activation", the name model files store the layer under.</summary>
    public string TypeName => "activation";

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "ActivationLayer(relu)".</returns>
    public override string ToString() => $"ActivationLayer({_activation.Name})";

    /// <summary>Writes the activation.</summary>
    /// <param name="settings">Receives "activation".</param>
    /// <exception cref="ArgumentNullException"><paramref name="settings"/> is null.</exception>
    /// <exception cref="NotSupportedException">The activation cannot be saved (it does not implement
    /// <see cref="ISerializableComponent"/>).</exception>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("activation", _activation);
    }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random) => inputShape;

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        // The pre-activations are the inputs: keep them when a backward pass will follow, then a = f(x).
        if (!saved.IsEmpty)
        {
            inputs.CopyTo(saved);
        }

        _activation.Forward(inputs, activations, InputSize);
    }

    /// <inheritdoc />
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        // δ = f′(x) ⊙ ∂L/∂a (or the softmax Jacobian's product), from the inputs kept as pre-activations.
        _activation.Backward(saved, activations, outputGradients, localGradients, InputSize);

    /// <inheritdoc />
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        // ∂L/∂x = δ: the derivative was applied in the local gradients.
        if (!inputGradients.IsEmpty)
        {
            localGradients.CopyTo(inputGradients);
        }
    }

    /// <summary>Adds the layer to an ONNX graph: the activation's nodes on the flat [N, size] input.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value.</param>
    /// <returns>The name of the output value.</returns>
    /// <exception cref="NotSupportedException">The activation has no ONNX translation.</exception>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) => graph.AddActivation(_activation, input);
}
