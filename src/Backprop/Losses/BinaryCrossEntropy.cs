using System.Numerics;

namespace Backprop;

/// <summary>Binary cross-entropy on probabilities: terms −[y·ln p + (1 − y)·ln(1 − p)], with
/// ∂/∂p = (p − y) / (p·(1 − p)).</summary>
/// <remarks>
/// <para>The outputs p are probabilities, normally from a <see cref="Sigmoid"/> output layer; the targets y lie in [0, 1].
/// With <see cref="LossReduction.Mean"/> (the default) the terms are averaged over all elements.</para>
/// <para>After a sigmoid the trainer uses the fused, overflow-free forms: L = Σ [max(z, 0) − z·y + ln(1 + e^(−|z|))]
/// from the logits z, and δ = ∂L/∂z = p − y (times the mean's 1/N). Without that pairing, an output of exactly 0 or 1
/// that contradicts its target gives an infinite loss, reported as such rather than clamped.
/// To feed raw scores instead of probabilities, use <see cref="BinaryCrossEntropyWithLogits"/>.</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class BinaryCrossEntropy : IFusedOutputLoss, IBinaryLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">How terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    public BinaryCrossEntropy(LossReduction reduction = LossReduction.Mean) => Reduction = reduction;

    /// <inheritdoc />
    public string Name => "binary_cross_entropy";

    /// <inheritdoc />
    public LossReduction Reduction { get; }

    /// <summary>False: the outputs are probabilities.</summary>
    public bool TakesLogits => false;

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

    /// <inheritdoc />
    public bool CanFuseWith(IActivation outputActivation) => outputActivation is Sigmoid;

    /// <inheritdoc />
    public T FusedValue<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Value(default(BinaryCrossEntropyWithLogits.Operator<T>), preActivations, targets, width, Reduction, nameof(preActivations));

    /// <inheritdoc />
    public void FusedLocalGradients<T>(ReadOnlySpan<T> activations, ReadOnlySpan<T> targets, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Gradient(default(Difference<T>), activations, targets, localGradients, width, Reduction, nameof(activations), nameof(localGradients));

    /// <summary>Returns the name and reduction.</summary>
    /// <returns>For example "binary_cross_entropy (Mean)".</returns>
    public override string ToString() => $"{Name} ({Reduction})";

    private readonly struct Operator<T> : IElementLossOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public double Term(T output, T target)
        {
            double p = double.CreateChecked(output), y = double.CreateChecked(target);
            double term = 0;
            if (y > 0)
            {
                term -= y * Math.Log(p);
            }

            if (y < 1)
            {
                term -= (1 - y) * Math.Log(1 - p);
            }

            return term;
        }

        public T Derivative(T output, T target)
        {
            T result = T.Zero;
            if (target > T.Zero)
            {
                result -= target / output;
            }

            if (target < T.One)
            {
                result += (T.One - target) / (T.One - output);
            }

            return result;
        }
    }

    /// <summary>The fused local gradient's per-element part: p − y.</summary>
    internal readonly struct Difference<T> : IElementLossOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public double Term(T output, T target) => double.CreateChecked(output - target);

        public T Derivative(T output, T target) => output - target;
    }
}
