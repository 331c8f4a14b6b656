using System.Numerics;

namespace Backprop;

/// <summary>
/// The base of activations applied to each value on its own: a = f(z) and f′(z) given as scalar functions.
/// </summary>
/// <remarks>
/// <para><see cref="Derivative{T}"/> always takes the <b>pre-activation</b> z and returns df/dz at z.
/// Shortcuts that take the output a instead (as the classic sigmoid a·(1 − a)) are separate, explicitly named members
/// of the classes that have them, such as <see cref="Sigmoid.DerivativeFromOutput{T}"/>.</para>
/// <para>A derived class needs only <see cref="Apply{T}"/> and <see cref="Derivative{T}"/>: the span methods then call them
/// value by value (a scalar loop). The built-in classes override the span methods with vectorised code (Vector128, 256 or
/// 512, whichever the hardware accelerates) whose results agree with their scalar <see cref="Apply{T}"/> and
/// <see cref="Derivative{T}"/> to within a few units in the last place, not bit for bit: the scalar forms use the runtime's
/// scalar e^x, ln x and tanh, the vector forms its vectorised e^x and ln x. A given value gives the same result wherever it
/// lies in a span, whatever the span's length, so a batch split across threads computes what one thread would.</para>
/// <para>Thread safety: as for every <see cref="IActivation"/>, the methods are called from several threads at once, so
/// a derived class must keep no mutable state; the built-in ones are immutable.</para>
/// </remarks>
public abstract class ElementwiseActivation : IActivation
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>Computes f(z) for one value.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="z">The pre-activation.</param>
    /// <returns>f(z).</returns>
    public abstract T Apply<T>(T z)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Computes the derivative df/dz at the pre-activation z (not at the output).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="z">The pre-activation.</param>
    /// <returns>f′(z).</returns>
    public abstract T Derivative<T>(T z)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public virtual void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        for (int i = 0; i < preActivations.Length; i++)
        {
            activations[i] = Apply(preActivations[i]);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public virtual void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationGuard.SameLength(preActivations.Length, outputGradients.Length, nameof(outputGradients));
        ActivationGuard.SameLength(preActivations.Length, localGradients.Length, nameof(localGradients));
        for (int i = 0; i < preActivations.Length; i++)
        {
            localGradients[i] = outputGradients[i] * Derivative(preActivations[i]);
        }
    }

    /// <summary>Returns <see cref="Name"/>.</summary>
    /// <returns>The activation's name.</returns>
    public override string ToString() => Name;
}

internal static class ActivationGuard
{
    public static void SameLength(int expected, int actual, string paramName)
    {
        if (expected != actual)
        {
            throw new ArgumentException($"{paramName} must have {expected} elements (as many as the pre-activations), but it has {actual}.", paramName);
        }
    }

    public static void Rows(int length, int width, string paramName)
    {
        if (width <= 0 || length % width != 0)
        {
            throw new ArgumentException($"{paramName} must hold whole rows of width {width}, but it has {length} elements.", paramName);
        }
    }
}
