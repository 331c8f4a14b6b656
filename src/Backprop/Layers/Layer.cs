using System.Numerics;

namespace Backprop;

/// <summary>
/// The contract of a layer: a function from a batch of inputs to a batch of outputs, with the three backward steps of
/// backpropagation. Batches are row-major spans: <c>rows</c> samples of <see cref="InputSize"/> or
/// <see cref="OutputSize"/> values each.
/// </summary>
/// <remarks>
/// <para>The public methods check their arguments and then call the protected <c>On…</c> core, which derived layers implement.</para>
/// <para>A layer is built (its parameters created from a seeded generator) when a <see cref="Network{T}"/> is created
/// with it, and belongs to that network alone.</para>
/// <para>Thread safety: <see cref="Forward"/> with <c>training</c> false may run on several threads at once
/// (predictions), so a derived layer must not write its own fields there; training-mode passes and the backward methods
/// come from one training thread at a time. Create each network from its layers on one thread.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public abstract class Layer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Initialises the layer.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    protected Layer() => Guard.SupportedElementType<T>();

    /// <summary>The number of values per input sample; 0 until the layer is built.</summary>
    public int InputSize { get; private set; }

    /// <summary>The number of values per output sample.</summary>
    public abstract int OutputSize { get; }

    /// <summary>Whether the layer has been built by a network.</summary>
    public bool IsBuilt { get; private set; }

    /// <summary>The trainable parameters; empty for a layer without any, and before the layer is built.</summary>
    public abstract IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>The activation applied to the layer's output, if it has one; the trainer fuses it with the loss where it can.</summary>
    public virtual IActivation? Activation => null;

    /// <summary>The most threads the layer's matrix products may use. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; internal set; } = 1;

    /// <summary>Where the layer's parallel work runs: its network's <see cref="Network{T}.Context"/>.</summary>
    public ComputeContext Context { get; internal set; } = ComputeContext.Shared;

    /// <summary>The penalty this layer adds to the training objective (for example λ·Σ w² for L2 regularisation);
    /// 0 unless the layer is regularised. Its gradient is added to the parameter gradients by <see cref="Backpropagate"/>.</summary>
    /// <returns>The penalty, in double.</returns>
    public virtual double RegularizationPenalty() => 0;

    internal void Build(int inputSize, DeterministicRandom random)
    {
        if (IsBuilt)
        {
            throw new InvalidOperationException($"This {GetType().Name} layer already belongs to a network; create a new layer for each network.");
        }

        OnBuild(inputSize, random);
        InputSize = inputSize;
        IsBuilt = true;
    }

    /// <summary>Creates the parameters for the given input width.</summary>
    /// <param name="inputSize">The number of values per input sample.</param>
    /// <param name="random">The network's seeded generator.</param>
    protected abstract void OnBuild(int inputSize, DeterministicRandom random);

    /// <summary>Step 1, forward propagation: computes the layer's pre-activations and activations for a batch.</summary>
    /// <param name="inputs">The batch, rows × <see cref="InputSize"/>.</param>
    /// <param name="preActivations">Receives what the backward pass needs besides the activations (z = x·W + b for a dense layer), rows × <see cref="OutputSize"/>. It may be the same memory as <paramref name="activations"/> when no backward pass follows.</param>
    /// <param name="activations">Receives the outputs a, rows × <see cref="OutputSize"/>.</param>
    /// <param name="rows">The number of samples.</param>
    /// <param name="training">Whether this pass is for training (layers such as dropout behave differently).</param>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    /// <exception cref="ArgumentException">A span is shorter than rows times its width.</exception>
    public void Forward(ReadOnlySpan<T> inputs, Span<T> preActivations, Span<T> activations, int rows, bool training)
    {
        EnsureBuilt();
        CheckRows(rows);
        CheckLength(inputs.Length, rows, InputSize, nameof(inputs));
        CheckLength(preActivations.Length, rows, OutputSize, nameof(preActivations));
        CheckLength(activations.Length, rows, OutputSize, nameof(activations));
        int inputLength = rows * InputSize, outputLength = rows * OutputSize;
        OnForward(inputs[..inputLength], preActivations[..outputLength], activations[..outputLength], rows, training);
    }

    /// <summary>Steps 2 and 3, local gradients: turns ∂L/∂a, the error arriving at the layer's output, into δ = ∂L/∂z.</summary>
    /// <param name="preActivations">As filled by <see cref="Forward"/>.</param>
    /// <param name="activations">As filled by <see cref="Forward"/>.</param>
    /// <param name="outputGradients">∂L/∂a, rows × <see cref="OutputSize"/>.</param>
    /// <param name="localGradients">Receives δ, rows × <see cref="OutputSize"/>; it may be the same memory as <paramref name="outputGradients"/>.</param>
    /// <param name="rows">The number of samples.</param>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    /// <exception cref="ArgumentException">A span is shorter than rows times its width.</exception>
    public void ComputeLocalGradients(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        EnsureBuilt();
        CheckRows(rows);
        int length = rows * OutputSize;
        CheckLength(preActivations.Length, rows, OutputSize, nameof(preActivations));
        CheckLength(activations.Length, rows, OutputSize, nameof(activations));
        CheckLength(outputGradients.Length, rows, OutputSize, nameof(outputGradients));
        CheckLength(localGradients.Length, rows, OutputSize, nameof(localGradients));
        OnComputeLocalGradients(preActivations[..length], activations[..length], outputGradients[..length], localGradients[..length], rows);
    }

    /// <summary>Step 3, backward propagation of errors: from δ, fills every parameter's <see cref="Parameter{T}.Gradients"/>
    /// and, if asked, the error sent to the previous layer, ∂L/∂x.</summary>
    /// <param name="inputs">The batch given to <see cref="Forward"/>.</param>
    /// <param name="localGradients">δ = ∂L/∂z, rows × <see cref="OutputSize"/>.</param>
    /// <param name="inputGradients">Receives ∂L/∂x, rows × <see cref="InputSize"/>; empty to skip it (the first layer in training).</param>
    /// <param name="rows">The number of samples.</param>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    /// <exception cref="ArgumentException">A span is shorter than rows times its width.</exception>
    public void Backpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        EnsureBuilt();
        CheckRows(rows);
        CheckLength(inputs.Length, rows, InputSize, nameof(inputs));
        CheckLength(localGradients.Length, rows, OutputSize, nameof(localGradients));
        if (!inputGradients.IsEmpty)
        {
            CheckLength(inputGradients.Length, rows, InputSize, nameof(inputGradients));
            inputGradients = inputGradients[..(rows * InputSize)];
        }

        OnBackpropagate(inputs[..(rows * InputSize)], localGradients[..(rows * OutputSize)], inputGradients, rows);
    }

    /// <summary>The core of <see cref="Forward"/>, called with checked arguments trimmed to their exact lengths.</summary>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <param name="preActivations">rows × <see cref="OutputSize"/>; may be the same memory as <paramref name="activations"/>.</param>
    /// <param name="activations">rows × <see cref="OutputSize"/>.</param>
    /// <param name="rows">The number of samples, at least 1.</param>
    /// <param name="training">Whether this pass is for training.</param>
    protected abstract void OnForward(ReadOnlySpan<T> inputs, Span<T> preActivations, Span<T> activations, int rows, bool training);

    /// <summary>The core of <see cref="ComputeLocalGradients"/>, called with checked arguments.</summary>
    /// <param name="preActivations">rows × <see cref="OutputSize"/>.</param>
    /// <param name="activations">rows × <see cref="OutputSize"/>.</param>
    /// <param name="outputGradients">∂L/∂a.</param>
    /// <param name="localGradients">Receives δ.</param>
    /// <param name="rows">The number of samples.</param>
    protected abstract void OnComputeLocalGradients(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows);

    /// <summary>The core of <see cref="Backpropagate"/>, called with checked arguments.</summary>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <param name="localGradients">δ, rows × <see cref="OutputSize"/>.</param>
    /// <param name="inputGradients">rows × <see cref="InputSize"/>, or empty.</param>
    /// <param name="rows">The number of samples.</param>
    protected abstract void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows);

    /// <summary>Throws unless the layer is built.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    protected void EnsureBuilt()
    {
        if (!IsBuilt)
        {
            throw new InvalidOperationException($"This {GetType().Name} layer is not built yet: pass it to a Network<{typeof(T).Name}>, which sizes and initialises it.");
        }
    }

    private static void CheckRows(int rows)
    {
        if (rows <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must be positive, but it is {rows}.");
        }
    }

    private static void CheckLength(int length, int rows, int width, string paramName)
    {
        if (length < (long)rows * width)
        {
            throw new ArgumentException($"{paramName} must hold {rows} rows of {width} values ({(long)rows * width} elements), but it has {length}.", paramName);
        }
    }
}
