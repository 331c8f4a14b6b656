using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>When a <see cref="Residual{T}"/> block adds a learned projection of its input to the shortcut.</summary>
public enum ResidualProjection
{
    /// <summary>When the inner layers' output shape differs from the input shape (as ResNet's downsampling shortcut).</summary>
    Auto,

    /// <summary>Always, even when the shapes agree.</summary>
    Always,

    /// <summary>Never: the shapes must agree, or the network fails to build.</summary>
    Never,
}

/// <summary>
/// A residual block: y = f(x) + x around a sequence of inner layers f, or y = f(x) + P·x + b with a learned linear
/// projection of the shortcut when the inner layers change the shape (He et al., "Deep Residual Learning for Image
/// Recognition", 2016).
/// </summary>
/// <remarks>
/// <para>Forward: the inner layers run in turn on x (each fed the previous one's output), giving f(x); the block's
/// output is a = f(x) + s(x), with s(x) = x when the shapes agree and no projection is asked for, and otherwise
/// s(x) = x·Pᵀ + b, a dense layer without activation from the input's size to f's output size (parameters
/// "projection.weights", Glorot-uniform, and "projection.biases", zero). The block's output shape is f's. The block has
/// no activation of its own: put one in the inner layers, or follow the block with a layer that has one.</para>
/// <para>Backward, from δ = ∂L/∂a: the inner layers' backward passes run in reverse from ∂L/∂f = δ, filling their
/// gradients and giving ∂f/∂x·δ; the shortcut adds δ (identity) or δ·P (projection, whose ∂L/∂P = δᵀ·x and
/// ∂L/∂b = Σ rows of δ): ∂L/∂x = (∂f/∂x)ᵀδ + (∂s/∂x)ᵀδ.</para>
/// <para>The inner layers are built by the block from its input shape and belong to it; their parameters are the
/// block's, named by position: "0.weights", "0.biases", "1.weights", …, then "projection.weights" and
/// "projection.biases". What they keep for backward and their activations are kept, per sample, in the block's own
/// saved buffer (<see cref="SavedForBackwardSize"/>), so that a training step allocates nothing. The block's backward
/// runs in two parts: <see cref="Layer{T}.ComputeLocalGradients"/> takes the error back through the inner layers down to
/// the first one's local gradients, which the block keeps until <see cref="Layer{T}.Backpropagate"/> (which has the
/// input) finishes the pass; call them in that order for the same batch, as the trainer does.</para>
/// <para>Saving stores the inner layers as a list of components ("layers") and the projection rule ("projection");
/// their state (a dropout generator) is saved under keys prefixed with their index.</para>
/// <para>ONNX: the inner layers' nodes, the projection's Gemm when there is one, and an Add.</para>
/// <para>Thread safety: inference only reads the inner layers' parameters and may run on any number of threads at
/// once (it rents its scratch memory per call); training writes the gradients, the parameters and the block's
/// backward scratch, so nothing else may use the block meanwhile.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Residual<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Layer<T>[] _layers;
    private Dense<T>? _projection;

    // Per inner layer, per sample: where its saved values and its activations start in the block's saved buffer (each
    // times the batch's rows), and where its backward scratch starts.
    private int[] _savedOffsets = [];
    private int[] _activationOffsets = [];
    private int[] _gradientOffsets = [];
    private int _savedSize;
    private int _gradientSize;
    private int _maxInnerWidth;

    // Backward scratch, grown to the largest batch seen: the error at every inner layer's output, and the projection's
    // contribution to ∂L/∂x. The rows that ComputeLocalGradients prepared for Backpropagate.
    private T[] _gradients = [];
    private T[] _shortcutGradients = [];
    private int _pendingRows = -1;

    /// <summary>Creates a residual block around the inner layers, with a projection of the shortcut when they change
    /// the shape (<see cref="ResidualProjection.Auto"/>).</summary>
    /// <param name="layers">The inner layers f, first to last: at least one, none null, none twice, none belonging to a network.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty, holds null, a layer twice, or a layer already built.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Residual(params Layer<T>[] layers)
        : this(ResidualProjection.Auto, layers)
    {
    }

    /// <summary>Creates a residual block around the inner layers.</summary>
    /// <param name="projection">When to project the shortcut: <see cref="ResidualProjection.Auto"/> when the shapes
    /// differ, <see cref="ResidualProjection.Always"/>, or <see cref="ResidualProjection.Never"/>.</param>
    /// <param name="layers">The inner layers f, first to last: at least one, none null, none twice, none belonging to a network.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="projection"/> is not a defined value.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty, holds null, a layer twice, or a layer already built.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Residual(ResidualProjection projection, params Layer<T>[] layers)
    {
        if (!Enum.IsDefined(projection))
        {
            throw new ArgumentOutOfRangeException(nameof(projection), projection, "projection must be Auto, Always or Never.");
        }

        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException("layers must contain at least one inner layer, but it is empty.", nameof(layers));
        }

        for (int i = 0; i < layers.Length; i++)
        {
            var layer = layers[i] ?? throw new ArgumentException($"layers[{i}] is null; every inner layer must be an object.", nameof(layers));
            if (layer.IsBuilt || Array.IndexOf(layers, layer, 0, i) >= 0)
            {
                throw new ArgumentException($"layers[{i}] ({layer}) already belongs to a network or appears twice; create a new layer for each position.", nameof(layers));
            }
        }

        Projection = projection;
        _layers = (Layer<T>[])layers.Clone();
    }

    /// <summary>The inner layers f, first to last.</summary>
    public IReadOnlyList<Layer<T>> Layers => _layers;

    /// <summary>When the shortcut is projected.</summary>
    public ResidualProjection Projection { get; }

    /// <summary>Whether the built block projects its shortcut (x·Pᵀ + b) rather than adding x itself; false before it is built.</summary>
    public bool HasProjection => _projection is not null;

    /// <summary>What every inner layer keeps for backward, and its activations.</summary>
    public override string SavedForBackwardName => "inner layers' saved values and activations";

    /// <summary>The sum over the inner layers of what each keeps for backward and its output size.</summary>
    public override int SavedForBackwardSize => _savedSize;

    /// <summary>The inner layers' cost, the projection's, and the addition.</summary>
    public override long FlopsPerSample
    {
        get
        {
            long total = OutputSize + (_projection?.FlopsPerSample ?? 0);
            foreach (var layer in _layers)
            {
                total += layer.FlopsPerSample;
            }

            return total;
        }
    }

    /// <summary>"residual", the name model files store the layer under.</summary>
    public string TypeName => "residual";

    /// <summary>Writes the inner layers ("layers", a list of components) and the projection rule ("projection": "auto",
    /// "always" or "never").</summary>
    /// <param name="settings">Receives the settings.</param>
    /// <exception cref="NotSupportedException">An inner layer cannot be saved.</exception>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var components = new ISerializableComponent[_layers.Length];
        for (int i = 0; i < _layers.Length; i++)
        {
            components[i] = _layers[i] as ISerializableComponent ?? throw new NotSupportedException(
                $"Inner layer {i} is a {_layers[i].GetType().FullName} ({_layers[i]}), which cannot be saved: it does not implement ISerializableComponent.");
        }

        settings.Set("layers", components).Set("projection", Projection switch
        {
            ResidualProjection.Always => "always",
            ResidualProjection.Never => "never",
            _ => "auto",
        });
    }

    /// <summary>Recreates a block from what <see cref="WriteSettings"/> wrote.</summary>
    internal static Residual<T> FromSettings(ComponentSettings settings)
    {
        var projection = settings.GetString("projection") switch
        {
            "auto" => ResidualProjection.Auto,
            "always" => ResidualProjection.Always,
            "never" => ResidualProjection.Never,
            string other => throw new ArgumentException($"The projection must be \"auto\", \"always\" or \"never\", but it is \"{other}\".", nameof(settings)),
        };
        return new Residual<T>(projection, [.. settings.GetLayers<T>("layers")]);
    }

    /// <inheritdoc />
    public override double RegularizationPenalty()
    {
        double total = 0;
        foreach (var layer in _layers)
        {
            total += layer.RegularizationPenalty();
        }

        return total;
    }

    /// <summary>Describes the block.</summary>
    /// <returns>For example "Residual(Dense(8, relu) → Dense(8, identity))" or "Residual(Dense(4, relu), projection)".</returns>
    public override string ToString() =>
        $"Residual({string.Join(" → ", _layers.Select(l => l.ToString()))}{(HasProjection ? ", projection" : string.Empty)})";

    /// <summary>Writes every inner layer's state under its index ("0.generator" for a first inner dropout layer).</summary>
    /// <param name="state">Receives the state.</param>
    protected internal override void WriteState(ComponentSettings state)
    {
        ArgumentNullException.ThrowIfNull(state);
        for (int i = 0; i < _layers.Length; i++)
        {
            var inner = new ComponentSettings();
            _layers[i].WriteState(inner);
            foreach (var entry in inner.Entries)
            {
                state.SetEntry(Prefix(i) + entry.Key, entry.Value);
            }
        }
    }

    /// <summary>Gives every inner layer back the state that <see cref="WriteState"/> wrote for it.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentException">An inner layer's state is invalid.</exception>
    protected internal override void ReadState(ComponentSettings state)
    {
        ArgumentNullException.ThrowIfNull(state);
        for (int i = 0; i < _layers.Length; i++)
        {
            string prefix = Prefix(i);
            var inner = new ComponentSettings(state.Registry);
            foreach (var entry in state.Entries)
            {
                if (entry.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    inner.SetEntry(entry.Key[prefix.Length..], entry.Value);
                }
            }

            _layers[i].ReadState(inner);
        }
    }

    /// <inheritdoc />
    /// <remarks>Builds each inner layer on the previous one's output shape (the first on the block's input shape) and
    /// lists its parameters under its index; then the projection, when there is one, on the input shape.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        var shape = inputShape;
        long budget = ParameterBudget;
        int count = _layers.Length;
        _savedOffsets = new int[count];
        _activationOffsets = new int[count];
        _gradientOffsets = new int[count];
        long saved = 0, gradients = 0, maxWidth = 0;
        for (int i = 0; i < count; i++)
        {
            var layer = _layers[i];
            layer.ParameterBudget = budget;
            try
            {
                layer.Build(shape, random);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"inner layer {i} ({layer}) cannot take its input of shape {shape}: {e.Message}", nameof(inputShape), e);
            }
            finally
            {
                layer.ParameterBudget = long.MaxValue;
            }

            if (layer.SavedForBackwardSize < 0 || (layer.Activation is not null && layer.SavedForBackwardSize != layer.OutputSize))
            {
                throw new ArgumentException(
                    $"inner layer {i} ({layer}) keeps {layer.SavedForBackwardSize} values per sample for backward; it must keep at least 0, and exactly its output size ({layer.OutputSize}) when it has an activation.",
                    nameof(inputShape));
            }

            foreach (var parameter in layer.Parameters)
            {
                budget -= parameter.Length;
                AddParameter(new Parameter<T>(Prefix(i) + parameter.Name, parameter));
            }

            _savedOffsets[i] = (int)saved;
            _activationOffsets[i] = (int)(saved + layer.SavedForBackwardSize);
            saved += layer.SavedForBackwardSize + (long)layer.OutputSize;
            _gradientOffsets[i] = (int)gradients;
            gradients += layer.OutputSize;
            maxWidth = Math.Max(maxWidth, layer.OutputSize);
            if (saved > int.MaxValue)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"the inner layers keep {saved} values per sample, more than {int.MaxValue}."), nameof(inputShape));
            }

            shape = layer.OutputShape!;
        }

        bool project = Projection switch
        {
            ResidualProjection.Always => true,
            ResidualProjection.Never => false,
            _ => shape != inputShape,
        };
        if (!project && shape != inputShape)
        {
            throw new ArgumentException(
                $"the inner layers turn the input of shape {inputShape} into the shape {shape}, and without a projection (ResidualProjection.Never) the two must agree.",
                nameof(inputShape));
        }

        if (project)
        {
            var projection = new Dense<T>(shape.Size);
            projection.ParameterBudget = budget;
            try
            {
                projection.Build(inputShape, random);
            }
            finally
            {
                projection.ParameterBudget = long.MaxValue;
            }

            foreach (var parameter in projection.Parameters)
            {
                AddParameter(new Parameter<T>("projection." + parameter.Name, parameter));
            }

            _projection = projection;
        }

        _savedSize = (int)saved;
        _gradientSize = (int)gradients;
        _maxInnerWidth = (int)maxWidth;
        return shape;
    }

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        PassSettingsOn();
        if (saved.IsEmpty)
        {
            PredictCore(inputs, activations, rows, training);
            return;
        }

        // f(x): each inner layer keeps its saved values and activations in the block's saved buffer.
        ReadOnlySpan<T> x = inputs;
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            Span<T> a = saved.Slice(rows * _activationOffsets[i], rows * layer.OutputSize);
            layer.Forward(x, saved.Slice(rows * _savedOffsets[i], rows * layer.SavedForBackwardSize), a, rows, training);
            x = a;
        }

        AddShortcut(inputs, x, activations, rows, training);
    }

    /// <inheritdoc />
    /// <remarks>δ = ∂L/∂a (the block has no activation). The error then goes back through the inner layers, from the
    /// last, down to the first one's local gradients, which <see cref="Layer{T}.Backpropagate"/> completes.</remarks>
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        PassSettingsOn();
        if (_gradients.Length < rows * _gradientSize)
        {
            _gradients = new T[rows * _gradientSize];
        }

        // ∂L/∂f = ∂L/∂a: the last inner layer's output error; each inner layer's local gradients overwrite its output
        // error in place (the contract allows it), and its backward pass writes the previous one's output error.
        ReadOnlySpan<T> error = outputGradients;
        for (int k = _layers.Length - 1; k >= 0; k--)
        {
            var layer = _layers[k];
            int length = rows * layer.OutputSize;
            Span<T> local = _gradients.AsSpan(rows * _gradientOffsets[k], length);
            layer.ComputeLocalGradients(saved.Slice(rows * _savedOffsets[k], rows * layer.SavedForBackwardSize),
                saved.Slice(rows * _activationOffsets[k], length), error, local, rows);
            if (k == 0)
            {
                break;
            }

            var previous = _layers[k - 1];
            Span<T> previousError = _gradients.AsSpan(rows * _gradientOffsets[k - 1], rows * previous.OutputSize);
            layer.Backpropagate(saved.Slice(rows * _activationOffsets[k - 1], rows * previous.OutputSize), local, previousError, rows);
            error = previousError;
        }

        outputGradients.CopyTo(localGradients);
        _pendingRows = rows;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="Layer{T}.ComputeLocalGradients"/> was not called for this batch first.</exception>
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        if (_pendingRows != rows)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{this}: Backpropagate of {rows} rows must follow ComputeLocalGradients of the same batch, which takes the error back through the inner layers (it last prepared {_pendingRows} rows)."));
        }

        PassSettingsOn();
        var first = _layers[0];
        first.Backpropagate(inputs, _gradients.AsSpan(0, rows * first.OutputSize), inputGradients, rows);
        if (_projection is not null)
        {
            // The projection has no activation: its δ is the block's. ∂L/∂x gains δ·P.
            Span<T> shortcut = default;
            if (!inputGradients.IsEmpty)
            {
                if (_shortcutGradients.Length < rows * InputSize)
                {
                    _shortcutGradients = new T[rows * InputSize];
                }

                shortcut = _shortcutGradients.AsSpan(0, rows * InputSize);
            }

            _projection.Backpropagate(inputs, localGradients, shortcut, rows);
            if (!inputGradients.IsEmpty)
            {
                TensorPrimitives.Add(inputGradients, shortcut, inputGradients);
            }
        }
        else if (!inputGradients.IsEmpty)
        {
            // The identity shortcut: ∂L/∂x gains δ.
            TensorPrimitives.Add(inputGradients, localGradients, inputGradients);
        }
    }

    /// <summary>Adds the block to an ONNX graph: the inner layers' nodes (named within "layerN.0", "layerN.1", …), the
    /// projection's Gemm (within "layerN.projection") when there is one, and an Add.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value.</param>
    /// <returns>The name of the output value.</returns>
    /// <exception cref="NotSupportedException">An inner layer (or its activation) has no ONNX translation.</exception>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        string current = input;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_layers[i] is not IOnnxExportable exportable)
            {
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {graph.LayerIndex} ({graph.LayerDescription})'s inner layer {i} ({_layers[i]}, a {_layers[i].GetType().FullName}) has no ONNX translation: it does not implement IOnnxExportable."));
            }

            string scope = graph.EnterScope(i.ToString(CultureInfo.InvariantCulture));
            try
            {
                current = exportable.ExportOnnx(graph, current);
            }
            finally
            {
                graph.LeaveScope(scope);
            }
        }

        string shortcut = input;
        if (_projection is not null)
        {
            string scope = graph.EnterScope("projection");
            try
            {
                shortcut = ((IOnnxExportable)_projection).ExportOnnx(graph, input);
            }
            finally
            {
                graph.LeaveScope(scope);
            }
        }

        string output = graph.Name("sum");
        graph.AddNode("Add", graph.Name("add"), [current, shortcut], output);
        return output;
    }

    private static string Prefix(int index) => string.Create(CultureInfo.InvariantCulture, $"{index}.");

    // The network sets the block's thread settings; the inner layers follow them. Written only when they differ, so
    // that concurrent predictions, which find them equal, write nothing.
    private void PassSettingsOn()
    {
        var context = Context;
        int threads = MaxDegreeOfParallelism;
        foreach (var layer in _layers)
        {
            if (!ReferenceEquals(layer.Context, context))
            {
                layer.Context = context;
            }

            if (layer.MaxDegreeOfParallelism != threads)
            {
                layer.MaxDegreeOfParallelism = threads;
            }
        }

        if (_projection is not null)
        {
            if (!ReferenceEquals(_projection.Context, context))
            {
                _projection.Context = context;
            }

            if (_projection.MaxDegreeOfParallelism != threads)
            {
                _projection.MaxDegreeOfParallelism = threads;
            }
        }
    }

    // a = f(x) + s(x), into the block's output.
    private void AddShortcut(ReadOnlySpan<T> inputs, ReadOnlySpan<T> inner, Span<T> activations, int rows, bool training)
    {
        if (_projection is not null)
        {
            _projection.Forward(inputs, default, activations, rows, training);
            TensorPrimitives.Add(inner, activations, activations);
        }
        else
        {
            TensorPrimitives.Add(inner, inputs, activations);
        }
    }

    // A pass that keeps nothing (a prediction, perhaps one of several at once): scratch rented for this call alone.
    private void PredictCore(ReadOnlySpan<T> inputs, Span<T> activations, int rows, bool training)
    {
        T[] first = ArrayPool<T>.Shared.Rent(rows * _maxInnerWidth);
        T[] second = ArrayPool<T>.Shared.Rent(rows * _maxInnerWidth);
        try
        {
            ReadOnlySpan<T> x = inputs;
            for (int i = 0; i < _layers.Length; i++)
            {
                var layer = _layers[i];
                Span<T> a = (i % 2 == 0 ? first : second).AsSpan(0, rows * layer.OutputSize);
                layer.Forward(x, default, a, rows, training);
                x = a;
            }

            AddShortcut(inputs, x, activations, rows, training);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(first);
            ArrayPool<T>.Shared.Return(second);
        }
    }
}
