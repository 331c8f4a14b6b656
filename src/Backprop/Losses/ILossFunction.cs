using System.Numerics;

namespace Backprop;

/// <summary>How a loss combines the per-element (or per-sample) terms of a batch into one number.</summary>
public enum LossReduction
{
    /// <summary>The average: over all elements for element-wise losses, over samples for <see cref="CategoricalCrossEntropy"/>.
    /// The gradient then does not grow with the batch size.</summary>
    Mean,

    /// <summary>The plain sum of the terms, as in the classic formulation of backpropagation (E = Σ (y − ŷ)²).</summary>
    Sum,
}

/// <summary>
/// A loss L(ŷ, y) between a network's outputs ŷ and the targets y, with its gradient ∂L/∂ŷ.
/// </summary>
/// <remarks>
/// <para>Both methods take a batch stored row-major: <c>outputs.Length / width</c> samples of <c>width</c> values each.
/// The value is reduced over the whole batch as <see cref="Reduction"/> says, and <see cref="Gradient{T}"/> is
/// the exact gradient of that reduced value (so a mean loss has the 1/n factor in its gradient).</para>
/// <para>Thread safety: a trainer calls its loss on its training thread only, but one instance (such as
/// <see cref="Losses.CrossEntropy"/>) is usually shared by trainers that train at once on different threads, so
/// implementations must allow concurrent calls and keep no mutable state.</para>
/// </remarks>
public interface ILossFunction : ISerializableComponent
{
    /// <summary>The name checkpoints store the loss under: <see cref="Name"/> unless an implementation says otherwise.</summary>
    string ISerializableComponent.TypeName => Name;

    /// <summary>Writes the loss's settings: its <see cref="Reduction"/> as "reduction" ("mean" or "sum"), plus whatever an
    /// implementation adds.</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("reduction", Reduction == LossReduction.Sum ? "sum" : "mean");

    /// <summary>The loss's name, as written in model files and reports (for example "mse").</summary>
    string Name { get; }

    /// <summary>How the terms of a batch are combined.</summary>
    LossReduction Reduction { get; }

    /// <summary>Computes the loss of a batch.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="outputs">ŷ, the network's outputs, row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="width">The number of values per sample.</param>
    /// <returns>The reduced loss.</returns>
    T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Computes ∂L/∂ŷ, the gradient of <see cref="Value{T}"/> with respect to every output.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="outputs">ŷ, row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="outputGradients">Receives ∂L/∂ŷ, the same shape.</param>
    /// <param name="width">The number of values per sample.</param>
    void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Checks that targets are valid for this loss (for example within [0, 1] for binary cross-entropy).
    /// The trainer calls it once per data set, before training.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="targets">y, row-major.</param>
    /// <param name="width">The number of values per sample.</param>
    /// <param name="paramName">The name of the caller's argument, for the exception.</param>
    /// <exception cref="ArgumentException">A target is outside the loss's domain.</exception>
    void ValidateTargets<T>(ReadOnlySpan<T> targets, int width, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
    }
}

/// <summary>
/// A loss that, paired with a particular output activation, has a simpler and numerically safer combined form:
/// categorical cross-entropy after softmax, binary cross-entropy after sigmoid.
/// </summary>
/// <remarks>
/// <para>When <see cref="CanFuseWith"/> is true for the output layer's activation, the trainer computes the loss from the
/// pre-activations z with <see cref="FusedValue{T}"/> and the output layer's local gradients δ = ∂L/∂z directly with
/// <see cref="FusedLocalGradients{T}"/>, instead of chaining ∂L/∂a with the activation's Jacobian.</para>
/// <para>Thread safety: as for <see cref="ILossFunction"/>: the fused methods may be called by several trainers at
/// once, so implementations must keep no mutable state.</para>
/// </remarks>
public interface IFusedOutputLoss : ILossFunction
{
    /// <summary>Whether this loss has a fused form for <paramref name="outputActivation"/>.</summary>
    /// <param name="outputActivation">The output layer's activation.</param>
    /// <returns>True when the fused methods apply.</returns>
    bool CanFuseWith(IActivation outputActivation);

    /// <summary>Computes the loss from the output layer's pre-activations z (logits), without forming log(a).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="preActivations">z, row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="width">The number of values per sample.</param>
    /// <returns>The reduced loss, equal in exact arithmetic to <see cref="ILossFunction.Value{T}"/> of f(z).</returns>
    T FusedValue<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Computes δ = ∂L/∂z at the output layer from its activations a = f(z).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="activations">a = f(z), row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="localGradients">Receives δ, the same shape.</param>
    /// <param name="width">The number of values per sample.</param>
    void FusedLocalGradients<T>(ReadOnlySpan<T> activations, ReadOnlySpan<T> targets, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
