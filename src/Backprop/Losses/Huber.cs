using System.Numerics;

namespace Backprop;

/// <summary>The Huber loss: with d = ŷ − y, terms ½·d² for |d| ≤ δ and δ·(|d| − ½·δ) otherwise;
/// ∂/∂ŷ = d for |d| ≤ δ and δ·sign(d) otherwise.</summary>
/// <remarks>
/// <para>Huber, "Robust estimation of a location parameter", Annals of Mathematical Statistics 35 (1964).
/// Quadratic near the target and linear far from it, so outliers pull less than with the squared error.
/// With <see cref="LossReduction.Mean"/> (the default) the terms are averaged over all elements, as PyTorch's HuberLoss.</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class Huber : ILossFunction, ISerializableComponent
{
    /// <summary>Creates the loss.</summary>
    /// <param name="delta">The threshold δ between the quadratic and linear parts; finite and greater than 0. 1 by default.</param>
    /// <param name="reduction">How terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not a finite positive number.</exception>
    public Huber(double delta = 1.0, LossReduction reduction = LossReduction.Mean)
    {
        Guard.PositiveFinite(delta, nameof(delta));
        Delta = delta;
        Reduction = reduction;
    }

    /// <summary>The threshold δ between the quadratic and the linear part.</summary>
    public double Delta { get; }

    /// <summary>Writes the reduction ("mean" or "sum") and δ as "delta".</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("reduction", Reduction == LossReduction.Sum ? "sum" : "mean").Set("delta", Delta);

    /// <inheritdoc />
    public string Name => "huber";

    /// <inheritdoc />
    public LossReduction Reduction { get; }

    /// <inheritdoc />
    public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Value(new Operator<T>(Delta), outputs, targets, width, Reduction);

    /// <inheritdoc />
    public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Gradient(new Operator<T>(Delta), outputs, targets, outputGradients, width, Reduction);

    /// <summary>Returns the name, δ and reduction.</summary>
    /// <returns>For example "huber(δ=1) (Mean)".</returns>
    public override string ToString() => FormattableString.Invariant($"{Name}(δ={Delta}) ({Reduction})");

    private readonly struct Operator<T>(double delta) : IElementLossOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public double Term(T output, T target)
        {
            double d = Math.Abs(double.CreateChecked(output) - double.CreateChecked(target));
            return d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
        }

        public T Derivative(T output, T target)
        {
            T d = output - target;
            T limit = T.CreateChecked(delta);
            return d > limit ? limit : d < -limit ? -limit : d;
        }
    }
}
