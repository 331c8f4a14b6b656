using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>The softmax over each sample's values: aᵢ = e^(zᵢ − m) / Σⱼ e^(zⱼ − m), with m = maxⱼ zⱼ.</summary>
/// <remarks>
/// <para>Not element-wise: every output depends on every input of the row, with Jacobian ∂aⱼ/∂zᵢ = aⱼ·([i = j] − aᵢ).
/// <see cref="Backward{T}"/> therefore computes the Jacobian-vector product δᵢ = aᵢ·(gᵢ − Σⱼ gⱼ·aⱼ) per row.</para>
/// <para>Subtracting the row maximum makes it overflow-free for any finite input. Paired with
/// <see cref="CategoricalCrossEntropy"/>, the trainer uses the fused local gradient δ = (a − y)/n instead.</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Softmax : IActivation, IOnnxExportable
{
    /// <inheritdoc />
    public string Name => "softmax";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The spans differ in length or do not hold whole rows of <paramref name="width"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        ActivationGuard.Rows(preActivations.Length, width, nameof(preActivations));
        if (width >= 32)
        {
            for (int start = 0; start < preActivations.Length; start += width)
            {
                var z = preActivations.Slice(start, width);
                var a = activations.Slice(start, width);
                T max = SpanKernels.Max(z);
                SpanKernels.Subtract(z, max, a);
                SpanKernels.Exp<T>(a, a);
                T sum = SpanKernels.Sum<T>(a);
                SpanKernels.Divide(a, sum, a);
            }

            return;
        }

        // Short rows (a classifier's few classes): the shift and the normalisation in plain loops, which cost less than
        // the set-up of vectorised calls. The sum stays a vectorised call per row (SpanKernels, with TensorPrimitives'
        // bits): its order depends on the span's length, and predictions must keep their bits across versions (golden
        // files record outputs). A float's exponential does not depend on the span it lies in, so float rows are shifted
        // first and exponentiated in one call for the whole batch; double's does, and stays per row.
        bool wholeBatchExp = typeof(T) == typeof(float);
        for (int start = 0; start < preActivations.Length; start += width)
        {
            var z = preActivations.Slice(start, width);
            var a = activations.Slice(start, width);
            RowKernels.Subtract(z, RowKernels.Max(z), a);
            if (!wholeBatchExp)
            {
                SpanKernels.Exp<T>(a, a);
            }
        }

        if (wholeBatchExp)
        {
            SpanKernels.Exp<T>(activations[..preActivations.Length], activations);
        }

        for (int start = 0; start < preActivations.Length; start += width)
        {
            var a = activations.Slice(start, width);
            T sum = SpanKernels.Sum<T>(a);
            for (int j = 0; j < a.Length; j++)
            {
                a[j] /= sum;
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The spans differ in length or do not hold whole rows of <paramref name="width"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationGuard.SameLength(activations.Length, outputGradients.Length, nameof(outputGradients));
        ActivationGuard.SameLength(activations.Length, localGradients.Length, nameof(localGradients));
        ActivationGuard.Rows(activations.Length, width, nameof(activations));
        for (int start = 0; start < activations.Length; start += width)
        {
            var a = activations.Slice(start, width);
            var g = outputGradients.Slice(start, width);
            var d = localGradients.Slice(start, width);
            T dot = TensorPrimitives.Dot(g, a);
            TensorPrimitives.Subtract(g, dot, d);
            TensorPrimitives.Multiply(d, a, d);
        }
    }

    /// <summary>Returns <see cref="Name"/>.</summary>
    /// <returns>"softmax".</returns>
    public override string ToString() => Name;

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        // Opset 13+ Softmax normalises along one axis: the last, the layer's units.
        string output = graph.Name("a");
        graph.AddNode("Softmax", graph.Name("softmax"), [input], output, OnnxAttribute.Int("axis", -1));
        return output;
    }
}
