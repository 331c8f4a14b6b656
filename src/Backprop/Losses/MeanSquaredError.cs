using System.Numerics;

namespace Backprop;

/// <summary>The squared error: terms (ŷ − y)², with ∂/∂ŷ = 2·(ŷ − y).</summary>
/// <remarks>
/// <para>With <see cref="LossReduction.Mean"/> (the default), L = (1/N)·Σ (ŷ − y)² over all N elements of the batch;
/// with <see cref="LossReduction.Sum"/>, L = Σ (ŷ − y)², the error the classic backpropagation texts minimise,
/// and gradient descent on it reproduces their updates exactly.</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class MeanSquaredError : ILossFunction
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">How terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    public MeanSquaredError(LossReduction reduction = LossReduction.Mean) => Reduction = reduction;

    /// <inheritdoc />
    public string Name => "mse";

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
    /// <returns>For example "mse (Mean)".</returns>
    public override string ToString() => $"{Name} ({Reduction})";

    private readonly struct Operator<T> : IElementLossOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public double Term(T output, T target)
        {
            double d = double.CreateChecked(output) - double.CreateChecked(target);
            return d * d;
        }

        public T Derivative(T output, T target) => (output - target) * T.CreateChecked(2);
    }
}
