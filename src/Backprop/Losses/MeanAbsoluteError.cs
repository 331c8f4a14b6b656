using System.Numerics;

namespace Backprop;

/// <summary>The absolute error: terms |ŷ − y|, with ∂/∂ŷ = sign(ŷ − y) (0 where ŷ = y).</summary>
/// <remarks>
/// <para>With <see cref="LossReduction.Mean"/> (the default), L = (1/N)·Σ |ŷ − y| over all N elements.</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class MeanAbsoluteError : ILossFunction
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">How terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    public MeanAbsoluteError(LossReduction reduction = LossReduction.Mean) => Reduction = reduction;

    /// <inheritdoc />
    public string Name => "mae";

    /// <inheritdoc />
    public LossReduction Reduction { get; }

    /// <inheritdoc />
    public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Value(default(Operator<T>), outputs, targets, width, Reduction);

    /// <inheritdoc />
    public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        LossKernel.Gradient(default(Operator<T>), outputs, targets, outputGradients, width, Reduction);

    /// <summary>Returns the name and reduction.</summary>
    /// <returns>For example "mae (Mean)".</returns>
    public override string ToString() => $"{Name} ({Reduction})";

    private readonly struct Operator<T> : IElementLossOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public double Term(T output, T target) => Math.Abs(double.CreateChecked(output) - double.CreateChecked(target));

        public T Derivative(T output, T target)
        {
            T d = output - target;
            return d > T.Zero ? T.One : d < T.Zero ? -T.One : T.Zero;
        }
    }
}
