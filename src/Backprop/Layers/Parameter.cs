using System.Numerics;

namespace Backprop;

/// <summary>
/// One trainable tensor of a layer (its weights or its biases), flattened, with the gradient buffer the backward pass fills.
/// </summary>
/// <remarks>
/// <para><see cref="Values"/> is the live storage of the layer's MathNet matrix or vector: writing to it changes the layer.
/// Optimizers key their state (moments, velocities) by the <see cref="Parameter{T}"/> object.</para>
/// <para>Thread safety: none of its own: <see cref="Values"/> and <see cref="Gradients"/> are the layer's live arrays,
/// which training writes on every step. Read them while no step runs (for example from an
/// <see cref="ITrainingObserver"/>, on the training thread between batches); write <see cref="Values"/> only while the
/// network neither predicts nor trains.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Parameter<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal Parameter(string name, T[] values)
    {
        Name = name;
        ValueArray = values;
        GradientArray = new T[values.Length];
    }

    /// <summary>The parameter's name within its layer: "weights" or "biases" for a dense layer.</summary>
    public string Name { get; }

    /// <summary>The number of values.</summary>
    public int Length => ValueArray.Length;

    /// <summary>The current values, in the storage order of the layer's matrix (column-major for MathNet matrices).</summary>
    public Span<T> Values => ValueArray;

    /// <summary>∂L/∂value for every value, as left by the last backward pass.</summary>
    public Span<T> Gradients => GradientArray;

    internal T[] ValueArray { get; }

    internal T[] GradientArray { get; }

    /// <summary>Returns the name and length.</summary>
    /// <returns>For example "weights[512]".</returns>
    public override string ToString() => $"{Name}[{Length}]";
}
