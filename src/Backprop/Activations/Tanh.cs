using System.Numerics.Tensors;

namespace Backprop;

/// <summary>The hyperbolic tangent: f(z) = tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), with f′(z) = 1 − tanh²(z).</summary>
public sealed class Tanh : ElementwiseActivation
{
    /// <inheritdoc />
    public override string Name => "tanh";

    /// <inheritdoc />
    public override T Apply<T>(T z) => T.Tanh(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z)
    {
        T t = T.Tanh(z);
        return T.One - t * t;
    }

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        TensorPrimitives.Tanh(preActivations, activations);
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
}
