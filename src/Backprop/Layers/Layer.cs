using System.Numerics;
using System.Runtime.CompilerServices;

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

    private List<Parameter<T>>? _building;
    private Parameter<T>[] _parameters = [];
    private DeterministicRandom? _buildRandom;

    /// <summary>The shape of one input sample; null until the layer is built.</summary>
    public TensorShape? InputShape { get; private set; }

    /// <summary>The shape of one output sample, as <see cref="OnBuild"/> computed it; null until the layer is built.</summary>
    public TensorShape? OutputShape { get; private set; }

    /// <summary>The number of values per input sample (<see cref="InputShape"/>'s size); 0 until the layer is built.</summary>
    public int InputSize => InputShape?.Size ?? 0;

    /// <summary>The number of values per output sample (<see cref="OutputShape"/>'s size); 0 until the layer is built.</summary>
    public int OutputSize => OutputShape?.Size ?? 0;

    /// <summary>Whether the layer has been built by a network.</summary>
    public bool IsBuilt { get; private set; }

    /// <summary>The trainable parameters, in the order the layer added them; empty for a layer without any, and before
    /// the layer is built.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>The activation applied to the layer's output, if it has one; the trainer fuses it with the loss where it
    /// can. A layer with an activation keeps its pre-activations z as what it saves for backward, so that a fused loss
    /// can read the logits there.</summary>
    public virtual IActivation? Activation => null;

    /// <summary>What the layer keeps from its forward pass for its backward pass, named for what it is: for example
    /// "pre-activations" (z = x·W + b, before the activation) for a dense layer, "mask" for dropout, or "none".</summary>
    public virtual string SavedForBackwardName => "pre-activations";

    /// <summary>How many values per sample the layer keeps for its backward pass (<see cref="SavedForBackwardName"/>):
    /// the width of the <c>saved</c> buffer of <see cref="Forward"/>. <see cref="OutputSize"/> by default; 0 for a layer
    /// that keeps nothing. A layer with an <see cref="Activation"/> must keep its pre-activations, <see cref="OutputSize"/>
    /// values.</summary>
    public virtual int SavedForBackwardSize => OutputSize;

    /// <summary>The cost of the forward pass of one sample, in floating-point operations (a multiply-add counts 2); the
    /// backward pass is taken to cost about twice as much. The trainer's thread policy reads it to decide what is worth
    /// splitting across threads. By default 2 × the number of parameter values, the cost of a dense layer.</summary>
    public virtual long FlopsPerSample
    {
        get
        {
            long total = 0;
            foreach (var parameter in _parameters)
            {
                total += 2L * parameter.Length;
            }

            return total;
        }
    }

    /// <summary>The most threads the layer's matrix products may use. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; internal set; } = 1;

    /// <summary>Where the layer's parallel work runs: its network's <see cref="Network{T}.Context"/>.</summary>
    public ComputeContext Context { get; internal set; } = ComputeContext.Shared;

    /// <summary>The penalty this layer adds to the training objective (for example λ·Σ w² for L2 regularisation);
    /// 0 unless the layer is regularised. Its gradient is added to the parameter gradients by <see cref="Backpropagate"/>.</summary>
    /// <returns>The penalty, in double.</returns>
    public virtual double RegularizationPenalty() => 0;

    // While a model file loads: how many more parameter values the layer may create (those the file holds for it), so
    // that settings that lie about a size cannot make the build allocate what the file does not contain.
    internal long ParameterBudget { get; set; } = long.MaxValue;

    internal void Build(TensorShape inputShape, DeterministicRandom random)
    {
        if (IsBuilt)
        {
            throw new InvalidOperationException($"This {GetType().Name} layer already belongs to a network; create a new layer for each network.");
        }

        _building = [];
        _buildRandom = random;
        TensorShape outputShape;
        try
        {
            outputShape = OnBuild(inputShape, random)
                ?? throw new InvalidOperationException($"{GetType().Name}.OnBuild returned no output shape; it must return the shape of one output sample.");
            _parameters = [.. _building];
        }
        finally
        {
            _building = null;
            _buildRandom = null;
        }

        InputShape = inputShape;
        OutputShape = outputShape;
        IsBuilt = true;
    }

    /// <summary>Builds the layer for a given input shape: checks that the layer can take it, creates the parameters
    /// (with <see cref="AddParameter(string, TensorShape, IInitializer?, bool, int, int)"/>) and returns the output shape.</summary>
    /// <param name="inputShape">The shape of one input sample.</param>
    /// <param name="random">The network's seeded generator, for initial values drawn outside <c>AddParameter</c>.</param>
    /// <returns>The shape of one output sample.</returns>
    /// <exception cref="ArgumentException">The layer cannot take <paramref name="inputShape"/> (the network adds the layer's index).</exception>
    protected abstract TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random);

    /// <summary>Creates a trainable parameter of the layer while it is built (from <see cref="OnBuild"/> only), drawing its
    /// initial values from the network's seeded generator.</summary>
    /// <param name="name">The name, unique within the layer, for example "weights".</param>
    /// <param name="shape">The shape, row-major.</param>
    /// <param name="initializer">How to draw the initial values; all zeros when null (the usual start of biases).</param>
    /// <param name="isRegularized">Whether the layer's penalties apply to it (see <see cref="Parameter{T}.IsRegularized"/>).</param>
    /// <param name="fanIn">The number of inputs feeding each output, for the initializer; when 0, worked out from the shape
    /// as PyTorch does: dimension 1 times the product of dimensions 2 and on (a kernel's receptive field), or the only dimension of a vector.</param>
    /// <param name="fanOut">The number of outputs each input feeds; when 0, dimension 0 times the receptive field (or the only dimension).</param>
    /// <returns>The new parameter, also appended to <see cref="Parameters"/>.</returns>
    /// <exception cref="InvalidOperationException">Called outside <see cref="OnBuild"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already used in this layer.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> or <paramref name="fanOut"/> is negative.</exception>
    protected Parameter<T> AddParameter(string name, TensorShape shape, IInitializer? initializer = null, bool isRegularized = false, int fanIn = 0, int fanOut = 0)
    {
        var building = BuildingList();
        ArgumentOutOfRangeException.ThrowIfNegative(fanIn);
        ArgumentOutOfRangeException.ThrowIfNegative(fanOut);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Size > ParameterBudget)
        {
            throw new ArgumentException($"The parameter \"{name}\" [{shape}] needs {shape.Size} values, more than the {ParameterBudget} the model file holds for the layer.", nameof(shape));
        }

        ParameterBudget -= shape.Size;
        var parameter = new Parameter<T>(name, shape, isRegularized);
        CheckUniqueName(building, parameter.Name);
        if (initializer is not null)
        {
            int receptive = 1;
            for (int d = 2; d < shape.Rank; d++)
            {
                receptive *= shape[d];
            }

            int defaultFanOut = shape.Rank == 1 ? shape[0] : shape[0] * receptive;
            int defaultFanIn = shape.Rank == 1 ? shape[0] : shape[1] * receptive;
            initializer.Initialize<T>(parameter.ValueArray, fanIn > 0 ? fanIn : defaultFanIn, fanOut > 0 ? fanOut : defaultFanOut, _buildRandom!);
        }

        building.Add(parameter);
        return parameter;
    }

    /// <summary>Adds a parameter created elsewhere (for example one of an inner layer, for a layer that wraps others)
    /// while the layer is built, from <see cref="OnBuild"/> only.</summary>
    /// <param name="parameter">The parameter; its name must be unique within the layer.</param>
    /// <returns><paramref name="parameter"/>.</returns>
    /// <exception cref="InvalidOperationException">Called outside <see cref="OnBuild"/>.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="parameter"/> is null.</exception>
    /// <exception cref="ArgumentException">Its name is already used in this layer, or it is already one of this layer's parameters.</exception>
    protected Parameter<T> AddParameter(Parameter<T> parameter)
    {
        var building = BuildingList();
        ArgumentNullException.ThrowIfNull(parameter);
        CheckUniqueName(building, parameter.Name);
        building.Add(parameter);
        return parameter;
    }

    /// <summary>Writes the layer's state that is neither a setting nor a trainable parameter but changes in training
    /// (a dropout generator's position, a batch normalisation's running mean and variance), for model files and
    /// checkpoints. Nothing by default.</summary>
    /// <param name="state">Receives the state.</param>
    protected internal virtual void WriteState(ComponentSettings state)
    {
    }

    /// <summary>Restores what <see cref="WriteState"/> wrote, on a layer built from the same settings.</summary>
    /// <param name="state">The state read from a file.</param>
    /// <exception cref="ArgumentException">The state is invalid for this layer (a model file reports it as corrupt).</exception>
    protected internal virtual void ReadState(ComponentSettings state)
    {
    }

    private List<Parameter<T>> BuildingList() => _building
        ?? throw new InvalidOperationException($"{GetType().Name}: parameters can be added only while the layer is built, from OnBuild.");

    private static void CheckUniqueName(List<Parameter<T>> building, string name)
    {
        foreach (var existing in building)
        {
            if (existing.Name == name)
            {
                throw new ArgumentException($"The layer already has a parameter named \"{name}\"; parameter names must be unique within a layer.", nameof(name));
            }
        }
    }

    /// <summary>Step 1, forward propagation: computes the layer's outputs for a batch, keeping what its backward pass needs.</summary>
    /// <param name="inputs">The batch, rows × <see cref="InputSize"/>.</param>
    /// <param name="saved">Receives what the backward pass needs (<see cref="SavedForBackwardName"/>: z = x·W + b for a
    /// dense layer, the mask for dropout), rows × <see cref="SavedForBackwardSize"/>; or empty when no backward pass
    /// follows (a prediction), in which case the layer keeps nothing.</param>
    /// <param name="activations">Receives the outputs a, rows × <see cref="OutputSize"/>.</param>
    /// <param name="rows">The number of samples.</param>
    /// <param name="training">Whether this pass is for training (layers such as dropout behave differently).</param>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    /// <exception cref="ArgumentException">A span is shorter than rows times its width.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        EnsureBuilt();
        CheckRows(rows);
        CheckLength(inputs.Length, rows, InputSize, nameof(inputs));
        if (!saved.IsEmpty)
        {
            CheckLength(saved.Length, rows, SavedForBackwardSize, nameof(saved));
            saved = saved[..(rows * SavedForBackwardSize)];
        }

        CheckLength(activations.Length, rows, OutputSize, nameof(activations));
        OnForward(inputs[..(rows * InputSize)], saved, activations[..(rows * OutputSize)], rows, training);
    }

    /// <summary>Step 2 (at the output layer) and part of step 3: turns ∂L/∂a, the error arriving at the layer's output,
    /// into the local gradient δ, the error with respect to what the layer's parameters act on (δ = ∂L/∂z for a dense
    /// layer: f′(z) ⊙ ∂L/∂a).</summary>
    /// <param name="saved">As filled by <see cref="Forward"/> (not empty).</param>
    /// <param name="activations">As filled by <see cref="Forward"/>.</param>
    /// <param name="outputGradients">∂L/∂a, rows × <see cref="OutputSize"/>.</param>
    /// <param name="localGradients">Receives δ, rows × <see cref="OutputSize"/>; it may be the same memory as <paramref name="outputGradients"/>.</param>
    /// <param name="rows">The number of samples.</param>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    /// <exception cref="ArgumentException">A span is shorter than rows times its width.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        EnsureBuilt();
        CheckRows(rows);
        int length = rows * OutputSize;
        CheckLength(saved.Length, rows, SavedForBackwardSize, nameof(saved));
        CheckLength(activations.Length, rows, OutputSize, nameof(activations));
        CheckLength(outputGradients.Length, rows, OutputSize, nameof(outputGradients));
        CheckLength(localGradients.Length, rows, OutputSize, nameof(localGradients));
        OnComputeLocalGradients(saved[..(rows * SavedForBackwardSize)], activations[..length], outputGradients[..length], localGradients[..length], rows);
    }

    /// <summary>Step 3, backward propagation of errors: from δ, fills every parameter's <see cref="Parameter{T}.Gradients"/>
    /// and, if asked, the error sent to the previous layer, ∂L/∂x.</summary>
    /// <param name="inputs">The batch given to <see cref="Forward"/>.</param>
    /// <param name="localGradients">δ = ∂L/∂z, rows × <see cref="OutputSize"/>.</param>
    /// <param name="inputGradients">Receives ∂L/∂x, rows × <see cref="InputSize"/>; empty to skip it (the first layer in training).</param>
    /// <param name="rows">The number of samples.</param>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    /// <exception cref="ArgumentException">A span is shorter than rows times its width.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    /// <param name="saved">rows × <see cref="SavedForBackwardSize"/>, or empty when no backward pass follows.</param>
    /// <param name="activations">rows × <see cref="OutputSize"/>.</param>
    /// <param name="rows">The number of samples, at least 1.</param>
    /// <param name="training">Whether this pass is for training.</param>
    protected abstract void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training);

    /// <summary>The core of <see cref="ComputeLocalGradients"/>, called with checked arguments.</summary>
    /// <param name="saved">rows × <see cref="SavedForBackwardSize"/>, as filled by the forward pass.</param>
    /// <param name="activations">rows × <see cref="OutputSize"/>.</param>
    /// <param name="outputGradients">∂L/∂a.</param>
    /// <param name="localGradients">Receives δ.</param>
    /// <param name="rows">The number of samples.</param>
    protected abstract void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows);

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
