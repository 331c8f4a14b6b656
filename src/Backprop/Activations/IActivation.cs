using System.Numerics;

namespace Backprop;

/// <summary>
/// An activation function a = f(z), applied to a layer's pre-activations z = x·W + b, with its backward pass.
/// </summary>
/// <remarks>
/// <para>Both methods work on a batch stored row-major: <c>rows = z.Length / width</c> samples of <c>width</c> values each.
/// An element-wise function ignores the row structure; a function such as <see cref="Softmax"/> works row by row.</para>
/// <para>The backward contract is the Jacobian-vector product with respect to the <b>pre-activation</b>:
/// given g = ∂L/∂a, it computes δ = ∂L/∂z, i.e. δᵢ = Σⱼ gⱼ · ∂aⱼ/∂zᵢ over the same row.
/// For an element-wise f this is δ = g ⊙ f′(z).</para>
/// <para>Implement this interface (or derive from <see cref="ElementwiseActivation"/>) to add an activation;
/// the library never switches on a closed list of kinds.</para>
/// <para>Thread safety: implementations must allow concurrent calls and keep no mutable state: a layer calls
/// <see cref="Forward{T}"/> on every thread that predicts with its network, and one instance (such as
/// <see cref="Activations.ReLU"/>, which loaded models share too) serves every layer and network it is given to. Work
/// only in the spans given.</para>
/// </remarks>
public interface IActivation : ISerializableComponent
{
    /// <summary>The name model files store the activation under: <see cref="Name"/> unless an implementation says otherwise.</summary>
    string ISerializableComponent.TypeName => Name;

    /// <summary>Writes the activation's settings; none unless an implementation has parameters (such as a slope) to save.</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings)
    {
    }

    /// <summary>The function's name, as written in model files and reports (for example "relu").</summary>
    string Name { get; }

    /// <summary>Computes a = f(z) for every sample of a batch.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="preActivations">z, row-major, <c>rows × width</c>.</param>
    /// <param name="activations">Receives a = f(z); the same length as <paramref name="preActivations"/>. It may be the same memory.</param>
    /// <param name="width">The number of values per sample.</param>
    void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Computes δ = ∂L/∂z from g = ∂L/∂a: the Jacobian-vector product of f at z.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
    /// <param name="preActivations">z, as given to <see cref="Forward{T}"/>.</param>
    /// <param name="activations">a = f(z), as computed by <see cref="Forward{T}"/>.</param>
    /// <param name="outputGradients">g = ∂L/∂a, row-major, the same shape.</param>
    /// <param name="localGradients">Receives δ = ∂L/∂z. It may be the same memory as <paramref name="outputGradients"/>.</param>
    /// <param name="width">The number of values per sample.</param>
    void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
