using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>
/// Global average pooling over channels-first samples (C × H × W → C): each output is the mean of one channel.
/// </summary>
/// <remarks>
/// <para>Forward: a[c] = (1 / (H·W)) · Σ over i &lt; H, j &lt; W of x[c, i, j]. Local gradients: the layer has no
/// activation, so δ = ∂L/∂a. Backward: ∂L/∂x[c, i, j] = δ[c] / (H·W).</para>
/// <para>The output is a vector of C features, which a <see cref="Dense{T}"/> layer can follow directly. The layer keeps
/// nothing for backward (<see cref="SavedForBackwardName"/> "none").</para>
/// <para>ONNX: Reshape to [N, C, H, W], GlobalAveragePool ([N, C, 1, 1]), Flatten to [N, C].</para>
/// <para>Thread safety: the layer has no parameters and writes none of its own fields after it is built: any number of
/// forward passes may run at once.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class GlobalAveragePool2D<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private int _plane;
    private T _count;

    /// <summary>Creates a global average pooling.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public GlobalAveragePool2D()
    {
    }

    /// <summary>"none": the mean is linear, so backward needs no saved values.</summary>
    public override string SavedForBackwardName => "none";

    /// <summary>0: nothing is kept.</summary>
    public override int SavedForBackwardSize => 0;

    /// <summary>One addition per input value: C·H·W.</summary>
    public override long FlopsPerSample => InputSize;

    /// <summary>"global_average_pool2d", the name model files store the layer under.</summary>
    public string TypeName => "global_average_pool2d";

    /// <summary>Writes nothing: the layer has no settings.</summary>
    /// <param name="settings">Receives the settings.</param>
    public void WriteSettings(ComponentSettings settings) => ArgumentNullException.ThrowIfNull(settings);

    /// <summary>Describes the layer.</summary>
    /// <returns>"GlobalAveragePool2D".</returns>
    public override string ToString() => "GlobalAveragePool2D";

    /// <inheritdoc />
    /// <remarks>Takes C × H × W and returns C.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        if (inputShape.Rank != 3)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"GlobalAveragePool2D needs channels × height × width (rank 3) input, but it gets {inputShape} (rank {inputShape.Rank}); start the network with TensorShape.Image(channels, height, width)."),
                nameof(inputShape));
        }

        _plane = inputShape[1] * inputShape[2];
        _count = T.CreateTruncating(_plane);
        return new TensorShape(inputShape[0]);
    }

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        // a[c] = Σ x[c, ·, ·] / (H·W), one plane per output.
        for (int p = 0; p < activations.Length; p++)
        {
            activations[p] = TensorPrimitives.Sum(inputs.Slice(p * _plane, _plane)) / _count;
        }
    }

    /// <inheritdoc />
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        // δ = ∂L/∂a: no activation.
        outputGradients.CopyTo(localGradients);

    /// <inheritdoc />
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        if (inputGradients.IsEmpty)
        {
            return;
        }

        // ∂L/∂x[c, ·, ·] = δ[c] / (H·W).
        for (int p = 0; p < localGradients.Length; p++)
        {
            inputGradients.Slice(p * _plane, _plane).Fill(localGradients[p] / _count);
        }
    }

    /// <summary>Adds the layer to an ONNX graph: Reshape to [N, C, H, W], GlobalAveragePool, Flatten to [N, C].</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value, [N, C·H·W].</param>
    /// <returns>The name of the output value, [N, C].</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        string image = graph.AddReshape(input, InputShape!);
        string pooled = graph.Name("pooled");
        graph.AddNode("GlobalAveragePool", graph.Name("global_average_pool"), [image], pooled);
        return graph.AddFlatten(pooled);
    }
}
