namespace Backprop;

/// <summary>The hyperbolic tangent: f(z) = tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), with f′(z) = 1 − tanh²(z) = 4e^(−2|z|) / (1 + e^(−2|z|))².</summary>
/// <remarks>
/// <para><see cref="Derivative{T}"/> uses the second form, which keeps its precision for large |z|; <see cref="Backward{T}"/>
/// uses 1 − a² from the activations it is given.</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Tanh : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "tanh";

    /// <inheritdoc />
    public override T Apply<T>(T z) => T.Tanh(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z)
    {
        T e = T.Exp(-(T.Abs(z) + T.Abs(z)));
        return T.CreateChecked(4) * e / ((T.One + e) * (T.One + e));
    }

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        for (int i = 0; i < preActivations.Length; i++)
        {
            activations[i] = T.Tanh(preActivations[i]);
        }
    }

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        ActivationGuard.SameLength(preActivations.Length, outputGradients.Length, nameof(outputGradients));
        ActivationGuard.SameLength(preActivations.Length, localGradients.Length, nameof(localGradients));
        for (int i = 0; i < activations.Length; i++)
        {
            T t = activations[i];
            localGradients[i] = outputGradients[i] * (T.One - t * t);
        }
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Tanh", graph.Name("tanh"), [input], output);
        return output;
    }
}
