namespace Backprop;

/// <summary>The identity: f(z) = z, f′(z) = 1. The output activation of regression networks and of logit outputs.</summary>
/// <remarks>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</remarks>
public sealed class Identity : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "identity";

    /// <inheritdoc />
    public override T Apply<T>(T z) => z;

    /// <inheritdoc />
    public override T Derivative<T>(T z) => T.One;

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        preActivations.CopyTo(activations);
    }

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, outputGradients.Length, nameof(outputGradients));
        ActivationGuard.SameLength(preActivations.Length, localGradients.Length, nameof(localGradients));
        outputGradients.CopyTo(localGradients);
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return input;
    }
}
