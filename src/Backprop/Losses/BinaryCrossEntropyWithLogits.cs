using System.Numerics;

namespace Backprop;

/// <summary>Binary cross-entropy on raw scores (logits) z: terms (1 − y)·softplus(z) + y·softplus(−z), with softplus(x) = max(x, 0) + ln(1 + e^(−|x|)), which equal
/// −[y·ln σ(z) + (1 − y)·ln(1 − σ(z))] without overflow; ∂/∂z = σ(z) − y.</summary>
/// <remarks>
/// <para>Use it with an <see cref="Identity"/> output layer; the targets y lie in [0, 1].
/// With <see cref="LossReduction.Mean"/> (the default) the terms are averaged over all elements, as PyTorch's BCEWithLogitsLoss.</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class BinaryCrossEntropyWithLogits : IBinaryLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">How terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    public BinaryCrossEntropyWithLogits(LossReduction reduction = LossReduction.Mean) => Reduction = reduction;

    /// <inheritdoc />
    public string Name => "binary_cross_entropy_with_logits";

    /// <inheritdoc />
    public LossReduction Reduction { get; }

    /// <summary>True: the outputs are logits.</summary>
    public bool TakesLogits => true;

    /// <inheritdoc />
    public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Value(default(Operator<T>), outputs, targets, width, Reduction);

    /// <inheritdoc />
    public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Gradient(default(Operator<T>), outputs, targets, outputGradients, width, Reduction);

    /// <inheritdoc />
    public void ValidateTargets<T>(ReadOnlySpan<T> targets, int width, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.TargetsInUnitInterval(targets, width, paramName, Name);

    /// <summary>Returns the name and reduction.</summary>
    /// <returns>For example "binary_cross_entropy_with_logits (Mean)".</returns>
    public override string ToString() => $"{Name} ({Reduction})";

    internal readonly struct Operator<T> : IElementLossOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public double Term(T output, T target)
        {
            // softplus(z) − y·z written as (1 − y)·softplus(z) + y·softplus(−z): equal, but without the cancellation
            // that turns a tiny loss into 0 when z and y agree strongly.
            double z = double.CreateChecked(output), y = double.CreateChecked(target);
            return (1 - y) * LossKernel.Softplus(z) + y * LossKernel.Softplus(-z);
        }

        public T Derivative(T output, T target) => ElementwiseKernel.Sigmoid(output) - target;
    }
}
