using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>
/// A fully connected layer: z = x·W + b and a = f(z), with W an inputs × units MathNet matrix and b a vector of units.
/// </summary>
/// <remarks>
/// <para>For a batch X (rows are samples): Z = X·W + 1·bᵀ, A = f(Z). Backward, from δ = ∂L/∂Z:
/// ∂L/∂W = Xᵀ·δ, ∂L/∂b = Σ over rows of δ, and the error sent back ∂L/∂X = δ·Wᵀ.</para>
/// <para><see cref="Weights"/> and <see cref="Biases"/> are the layer's live storage: the products run on their own
/// arrays (MathNet's column-major layout of W is the units × inputs row-major layout the kernels read), so a change
/// made through them is seen by the next pass.</para>
/// <para>For the network's predictions the layer keeps a copy of W laid out inputs × units, made once the weights have
/// stayed unchanged for two predictions, so that one sample is a matrix-vector product over contiguous rows instead of a
/// transposition of the weights per call. The copy is dropped on every change the library makes (a training step, a
/// restore of the best weights, a load) and never used again once <see cref="Weights"/> or the weight parameter's
/// <see cref="Parameter{T}.Values"/> has been handed out, since the caller may then write the weights unseen; it
/// never changes a result, only its speed.</para>
/// <para>Thread safety: inference only reads the weights and may run on any number of threads at once; training writes
/// the gradients and the weights, so nothing else may use the layer meanwhile. <see cref="Weights"/>,
/// <see cref="Biases"/> and <see cref="Layer{T}.Parameters"/> are live storage: write to them only while the network
/// neither predicts nor trains.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Dense<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IActivation _activation;
    private readonly IInitializer _initializer;
    private Matrix<T>? _weights;
    private MathNet.Numerics.LinearAlgebra.Vector<T>? _biases;
    private Parameter<T>? _weightParameter;
    private Parameter<T>? _biasParameter;
    private double _l1;
    private double _l2;

    // W laid out for prediction (see PreparedWeights), and the weights' version the last prediction saw.
    private PredictionWeights? _predictionWeights;
    private int _versionSeen = -1;

    /// <summary>Creates a dense layer; its weights are created when a network is built with it.</summary>
    /// <param name="units">The number of units (outputs); at least 1.</param>
    /// <param name="activation">The activation f; <see cref="Activations.Identity"/> when null.</param>
    /// <param name="initializer">How to draw the initial weights; <see cref="Initializers.GlorotUniform"/> when null. Biases start at 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Dense(int units, IActivation? activation = null, IInitializer? initializer = null)
    {
        Guard.Positive(units, nameof(units));
        Units = units;
        _activation = activation ?? Activations.Identity;
        _initializer = initializer ?? Initializers.GlorotUniform;
    }

    /// <summary>The L1 penalty λ₁ on the weights (not the biases): the objective gains λ₁·Σ|w| and each weight's
    /// gradient λ₁·sign(w). At least 0; 0 by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative or non-finite value.</exception>
    public double L1
    {
        get => _l1;
        init => _l1 = WeightPenalty.Checked(value, nameof(L1));
    }

    /// <summary>The L2 penalty λ₂ on the weights (not the biases): the objective gains λ₂·Σ w² and each weight's
    /// gradient 2·λ₂·w, as Keras's l2 regulariser. At least 0; 0 by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative or non-finite value.</exception>
    public double L2
    {
        get => _l2;
        init => _l2 = WeightPenalty.Checked(value, nameof(L2));
    }

    /// <summary>The number of units, which is the width of the layer's output.</summary>
    public int Units { get; }

    /// <summary>Keeps the pre-activations z = x·W + b for the backward pass.</summary>
    public override string SavedForBackwardName => "pre-activations";

    /// <summary>2 × inputs × units: the forward product's multiply-adds.</summary>
    public override long FlopsPerSample => 2L * InputSize * Units;

    /// <summary>"dense", the name model files store the layer under.</summary>
    public string TypeName => "dense";

    /// <inheritdoc />
    public override IActivation Activation => _activation;

    /// <summary>The initializer that drew the initial weights.</summary>
    public IInitializer Initializer => _initializer;

    /// <summary>W, <see cref="Layer{T}.InputSize"/> × <see cref="Units"/>: element (i, j) weighs input i into unit j.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    /// <remarks>This is the live storage: a matrix the caller may keep and write whenever the network is idle. Once it
    /// has been handed out, predictions of this layer stop using their transposed copy of the weights (which a write here
    /// could leave stale) and transpose them on every call instead, as <see cref="Layer{T}.Parameters"/>'
    /// <see cref="Parameter{T}.Values"/> does; read <see cref="Parameter{T}"/> shapes and counts, which do not hand it out,
    /// where prediction speed matters.</remarks>
    public Matrix<T> Weights
    {
        get
        {
            EnsureBuilt();
            _weightParameter!.MarkExposed();
            return _weights!;
        }
    }

    /// <summary>b, one bias per unit.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public MathNet.Numerics.LinearAlgebra.Vector<T> Biases
    {
        get
        {
            EnsureBuilt();
            return _biases!;
        }
    }

    /// <summary>∂L/∂W from the last backward pass, as a new matrix of the shape of <see cref="Weights"/>.</summary>
    /// <returns>A copy of the weight gradients.</returns>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public Matrix<T> GetWeightGradients()
    {
        EnsureBuilt();
        return Matrix<T>.Build.Dense(InputSize, Units, (T[])_weightParameter!.GradientArray.Clone());
    }

    /// <summary>∂L/∂b from the last backward pass, as a new vector.</summary>
    /// <returns>A copy of the bias gradients.</returns>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public MathNet.Numerics.LinearAlgebra.Vector<T> GetBiasGradients()
    {
        EnsureBuilt();
        return MathNet.Numerics.LinearAlgebra.Vector<T>.Build.Dense((T[])_biasParameter!.GradientArray.Clone());
    }

    /// <summary>Writes units, activation, initializer, l1 and l2.</summary>
    /// <param name="settings">Receives the settings.</param>
    /// <exception cref="NotSupportedException">The activation or initializer cannot be saved.</exception>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("units", Units).Set("activation", _activation).Set("initializer", _initializer).Set("l1", _l1).Set("l2", _l2);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override double RegularizationPenalty()
    {
        if (!IsBuilt || (_l1 == 0 && _l2 == 0))
        {
            return 0;
        }

        return WeightPenalty.Value<T>(_weightParameter!.ValueArray, _l1, _l2);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "Dense(128, relu)".</returns>
    public override string ToString() => $"Dense({Units}, {_activation.Name})";

    /// <inheritdoc />
    /// <remarks>Weights (units × inputs, drawn by the initializer with fan-in = inputs and fan-out = units) and biases
    /// (units, zero). Any input shape is read as a flat vector of its size.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        int inputSize = inputShape.Size;
        _weightParameter = AddParameter("weights", new TensorShape(Units, inputSize), _initializer, isRegularized: true, fanIn: inputSize, fanOut: Units);
        _biasParameter = AddParameter("biases", new TensorShape(Units));
        // MathNet's dense matrices are column-major: this array is W (inputs × units), equally Wᵀ (units × inputs) row-major.
        _weights = Matrix<T>.Build.Dense(inputSize, Units, _weightParameter.ValueArray);
        _biases = MathNet.Numerics.LinearAlgebra.Vector<T>.Build.Dense(_biasParameter.ValueArray);
        return new TensorShape(Units);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        int n = InputSize;
        // Z (rows × units) = X (rows × n) · Wᵀ-stored (units × n)ᵀ + b, kept in `saved` for the backward pass, or formed
        // in the output's memory and activated in place when no backward pass follows.
        Span<T> z = saved.IsEmpty ? activations : saved;
        Gemm.MultiplyUnchecked<T>(inputs, n, false, _weightParameter!.ValueArray, n, true, z, Units,
            rows, Units, n, accumulate: false, bias: _biasParameter!.ValueArray, MaxDegreeOfParallelism, Context);
        _activation.Forward<T>(z, activations, Units);
    }

    /// <summary>A prediction, for the network's own prediction calls only: A (rows × units) = f(X·W + b), with X
    /// row-major at leading dimension <paramref name="ldx"/>, or, when <paramref name="transposed"/>, stored inputs × rows
    /// (a column-major batch, read as it is).</summary>
    /// <remarks>Not the inference-mode <see cref="Layer{T}.Forward"/>, which other code calls too (a residual block's
    /// inner layers, a gradient check that perturbs weights between passes without counting a change).</remarks>
    /// <remarks>With weights that have stayed unchanged since the last prediction, the product reads them from a copy laid
    /// out inputs × units (<see cref="PreparedWeights"/>) instead of transposing them on every call, and a single row takes
    /// the matrix-vector kernel; every path sums each output in the same order, so the bits never depend on the path.</remarks>
    internal void Predict(ReadOnlySpan<T> inputs, int ldx, bool transposed, Span<T> activations, int rows)
    {
        int n = InputSize;
        T[] biases = _biasParameter!.ValueArray;
        var prepared = PreparedWeights();
        if (prepared is null)
        {
            Gemm.MultiplyUnchecked<T>(inputs, ldx, transposed, _weightParameter!.ValueArray, n, true, activations, Units,
                rows, Units, n, accumulate: false, bias: biases, MaxDegreeOfParallelism, Context);
        }
        else if (rows == 1 && (!transposed || ldx == 1))
        {
            Gemv.Multiply<T>(inputs[..n], prepared.Values, prepared.Ld, biases, activations, Units, n);
        }
        else
        {
            Gemm.MultiplyUnchecked<T>(inputs, ldx, transposed, prepared.Values, prepared.Ld, false, activations, Units,
                rows, Units, n, accumulate: false, bias: biases, MaxDegreeOfParallelism, Context);
        }

        _activation.Forward<T>(activations, activations, Units);
    }

    /// <summary>W (inputs × units) row-major at a padded leading dimension, made from the weights at their current
    /// version; null while the weights cannot be trusted to stay as they are (their live storage was handed out) or
    /// have changed since the previous prediction.</summary>
    /// <remarks>The copy is made on the second prediction at one version of the weights, so that a network that
    /// alternates training steps and predictions never makes one, and is published whole (an immutable object), so that
    /// predictions on several threads read either no copy or a complete one: a race only makes a copy twice.</remarks>
    private PredictionWeights? PreparedWeights()
    {
        var parameter = _weightParameter!;
        if (parameter.IsExposed)
        {
            return null;
        }

        int version = parameter.Version;
        var current = Volatile.Read(ref _predictionWeights);
        if (current is not null && current.Version == version)
        {
            return current;
        }

        if (Volatile.Read(ref _versionSeen) != version)
        {
            Volatile.Write(ref _versionSeen, version);
            return null;
        }

        var made = new PredictionWeights(version, parameter.ValueArray, Units, InputSize);
        Volatile.Write(ref _predictionWeights, made);
        return made;
    }

    /// <summary>Whether the next prediction reads the transposed copy of the weights (for tests).</summary>
    internal bool HasCurrentPredictionWeights =>
        !_weightParameter!.IsExposed && Volatile.Read(ref _predictionWeights) is { } current && current.Version == _weightParameter.Version;

    /// <summary>A copy of W (inputs × units) row-major, made from the stored Wᵀ (units × inputs) at one version; its
    /// leading dimension is units rounded up to <see cref="Gemv.Padding{T}"/>, the padding zero.</summary>
    private sealed class PredictionWeights
    {
        internal PredictionWeights(int version, T[] stored, int units, int inputs)
        {
            Version = version;
            int pad = Gemv.Padding<T>();
            Ld = (units + pad - 1) / pad * pad;
            var values = new T[(long)inputs * Ld];
            const int Block = 32;
            for (int j0 = 0; j0 < units; j0 += Block)
            {
                int j1 = Math.Min(units, j0 + Block);
                for (int p0 = 0; p0 < inputs; p0 += Block)
                {
                    int p1 = Math.Min(inputs, p0 + Block);
                    for (int j = j0; j < j1; j++)
                    {
                        for (int p = p0; p < p1; p++)
                        {
                            values[(p * Ld) + j] = stored[(j * inputs) + p];
                        }
                    }
                }
            }

            Values = values;
        }

        internal int Version { get; }

        internal int Ld { get; }

        internal T[] Values { get; }
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        _activation.Backward(saved, activations, outputGradients, localGradients, Units);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        int n = InputSize;
        T[] weightGradients = _weightParameter!.GradientArray;
        T[] biasGradients = _biasParameter!.GradientArray;

        // ∂L/∂Wᵀ-stored (units × n) = δᵀ (units × rows) · X (rows × n). Shared out by contiguous rows, as the trainer
        // shares out the optimizer's update, so that each thread updates the part of the gradient it computed.
        Gemm.MultiplyUnchecked<T>(localGradients, Units, true, inputs, n, false, weightGradients, n,
            Units, n, rows, accumulate: false, bias: default, MaxDegreeOfParallelism, Context, preferRowSplit: true);

        WeightPenalty.AddGradient<T>(_weightParameter!.ValueArray, weightGradients, _l1, _l2);

        // ∂L/∂b = Σ over rows of δ, always summed in row order.
        localGradients[..Units].CopyTo(biasGradients);
        for (int r = 1; r < rows; r++)
        {
            SpanKernels.Add<T>(biasGradients, localGradients.Slice(r * Units, Units), biasGradients);
        }

        if (!inputGradients.IsEmpty)
        {
            // ∂L/∂X (rows × n) = δ (rows × units) · Wᵀ-stored (units × n).
            Gemm.MultiplyUnchecked<T>(localGradients, Units, false, _weightParameter!.ValueArray, n, false, inputGradients, n,
                rows, n, Units, accumulate: false, bias: default, MaxDegreeOfParallelism, Context);
        }
    }

    /// <summary>Adds the layer to an ONNX graph: a Gemm node (Z = X·Wᵀ + b, with transB = 1 on the units × inputs
    /// weights) followed by its activation's nodes.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value.</param>
    /// <returns>The name of the output value.</returns>
    /// <exception cref="NotSupportedException">The activation has no ONNX translation.</exception>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        string weights = graph.AddInitializer<T>("weights", _weightParameter!.Shape, _weightParameter.ValueArray);
        string biases = graph.AddInitializer<T>("biases", _biasParameter!.Shape, _biasParameter.ValueArray);
        string z = graph.Name("z");
        // Gemm: Y = alpha·A'·B' + beta·C with alpha = beta = 1 (the defaults), transA = 0, transB = 1: Z = X·Wᵀ + b.
        graph.AddNode("Gemm", graph.Name("gemm"), [input, weights, biases], z, OnnxAttribute.Int("transB", 1));
        return graph.AddActivation(_activation, z);
    }
}
