using System.Collections.ObjectModel;
using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>
/// Batch normalisation (Ioffe and Szegedy, 2015): normalises each feature (after a dense layer) or each channel (after
/// a convolution) by the statistics of the training batch, then scales it by a trainable γ and shifts it by a trainable β;
/// at inference it uses running averages of those statistics instead.
/// </summary>
/// <remarks>
/// <para>What is normalised follows the input shape: an input of rank 1 (F features) has one statistic per feature,
/// taken over the m = rows values of the batch; an input C×H×W (channels first) has one per channel, taken over the
/// m = rows·H·W values of the batch and of the channel's plane. Any other rank fails when the network is built.</para>
/// <para>Forward in training, per feature or channel c: μ = (1/m)·Σ x, σ² = (1/m)·Σ (x − μ)² (the biased variance, as
/// PyTorch normalises), x̂ = (x − μ) / √(σ² + ε), y = γ·x̂ + β. The running statistics are then updated as PyTorch does:
/// running mean ← (1 − momentum)·running mean + momentum·μ and running variance ← (1 − momentum)·running variance +
/// momentum·σ²·m / (m − 1) (the unbiased variance). They start at 0 and 1.</para>
/// <para>Forward at inference (<c>training</c> false): x̂ = (x − running mean) / √(running variance + ε), y = γ·x̂ + β, a
/// fixed affine function of each value.</para>
/// <para>Backward in training, from g = ∂L/∂y, per feature or channel with the sums over its m values:
/// ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g, and ∂L/∂x = (γ / √(σ² + ε))·(g − (1/m)·Σ g − x̂·(1/m)·Σ g·x̂), the full gradient through
/// the batch statistics. After an inference-mode pass (a gradient check) the backward pass is that of the inference-mode
/// function instead: ∂L/∂x = γ·g / √(running variance + ε), with the same ∂L/∂γ and ∂L/∂β.</para>
/// <para>One value per feature (a batch of one row before a dense-input batch normalisation, or a 1×1 plane and one
/// row): PyTorch refuses to train on it; this layer trains, as Keras does: σ² = 0, so x̂ = 0, the output is β and
/// ∂L/∂x = 0. The running mean moves towards the value; the running variance is left as it is, since one value says
/// nothing about the spread (its unbiased variance would be 0 / 0).</para>
/// <para>The whole backward pass runs in <see cref="Layer{T}.ComputeLocalGradients"/>, where the saved x̂ is at hand: it
/// fills ∂L/∂γ and ∂L/∂β and turns ∂L/∂y into δ = ∂L/∂x, which <see cref="Layer{T}.Backpropagate"/> then passes on.
/// What the layer saves per sample is x̂ (<see cref="Layer{T}.InputSize"/> values) and one more value saying whether the
/// pass used batch (1) or running (0) statistics; the batch's 1/√(σ² + ε) stays in the layer until the next training pass.</para>
/// <para>Thread safety: at inference the layer only reads its parameters and running statistics and may run on any number
/// of threads at once; a training pass writes the batch statistics and the running statistics, so training passes must
/// come from one thread at a time (as one <c>Fit</c> does), and nothing may predict meanwhile.</para>
/// <para>S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate
/// Shift", ICML 2015.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class BatchNorm<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The default momentum, 0.1, as PyTorch's (Keras's 0.99 is 1 − momentum in this convention).</summary>
    public const double DefaultMomentum = 0.1;

    /// <summary>The default ε, 1e-5, as PyTorch's.</summary>
    public const double DefaultEpsilon = 1e-5;

    private readonly T _momentum;
    private readonly T _epsilon;
    private Parameter<T>? _gamma;
    private Parameter<T>? _beta;
    private int _channels;
    private int _spatial;

    // Running statistics and 1/√(running variance + ε), which inference reads; written by training passes and ReadState.
    private T[] _runningMean = [];
    private T[] _runningVariance = [];
    private T[] _runningInverseStd = [];

    // The last training batch's 1/√(σ² + ε), read by its backward pass, and scratch per feature or channel.
    private T[] _batchInverseStd = [];
    private T[] _sum = [];
    private T[] _sumOfSquares = [];
    private T[] _coefficient = [];

    /// <summary>Creates a batch normalisation layer.</summary>
    /// <param name="momentum">How far each training batch moves the running statistics, in [0, 1]: running = (1 −
    /// momentum)·running + momentum·batch statistic (PyTorch's convention); 0.1 by default.</param>
    /// <param name="epsilon">ε, added to the variance before the square root, greater than 0; 1e-5 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="momentum"/> is outside [0, 1], or
    /// <paramref name="epsilon"/> is not a finite number greater than 0.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public BatchNorm(double momentum = DefaultMomentum, double epsilon = DefaultEpsilon)
    {
        Guard.InRange(momentum, 0, 1, nameof(momentum));
        Guard.PositiveFinite(epsilon, nameof(epsilon));
        Momentum = momentum;
        Epsilon = epsilon;
        _momentum = T.CreateChecked(momentum);
        _epsilon = T.CreateChecked(epsilon);
    }

    /// <summary>How far each training batch moves the running statistics (PyTorch's convention).</summary>
    public double Momentum { get; }

    /// <summary>ε, added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>The number of statistics: the features of a rank-1 input, or the channels of a C×H×W input; 0 until the
    /// layer is built.</summary>
    public int Channels => _channels;

    /// <summary>The running mean of each feature or channel, which inference uses; a live read-only view.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public ReadOnlyCollection<T> RunningMean
    {
        get
        {
            EnsureBuilt();
            return Array.AsReadOnly(_runningMean);
        }
    }

    /// <summary>The running (unbiased) variance of each feature or channel, which inference uses; a live read-only view.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public ReadOnlyCollection<T> RunningVariance
    {
        get
        {
            EnsureBuilt();
            return Array.AsReadOnly(_runningVariance);
        }
    }

    /// <summary>Keeps x̂ and whether batch or running statistics made it.</summary>
    public override string SavedForBackwardName => "normalized inputs and statistics mode";

    /// <summary><see cref="Layer{T}.InputSize"/> + 1: x̂, and 1 when the pass used the batch statistics, 0 when it used
    /// the running statistics.</summary>
    public override int SavedForBackwardSize => InputSize + 1;

    /// <summary>About 4 operations per value: subtract, scale, multiply and add.</summary>
    public override long FlopsPerSample => 4L * InputSize;

    /// <summary>"batch_norm", the name model files store the layer under.</summary>
    public string TypeName => "batch_norm";

    /// <summary>Writes momentum and epsilon.</summary>
    /// <param name="settings">Receives the settings.</param>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("momentum", Momentum).Set("epsilon", Epsilon);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "BatchNorm(momentum 0.1, epsilon 1E-05)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"BatchNorm(momentum {Momentum}, epsilon {Epsilon})");

    /// <summary>Writes the running statistics, so that a loaded model predicts, and resumed training continues, exactly.</summary>
    /// <param name="state">Receives "running_mean" and "running_variance", one number per feature or channel.</param>
    protected internal override void WriteState(ComponentSettings state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Set("running_mean", ToDoubles(_runningMean)).Set("running_variance", ToDoubles(_runningVariance));
    }

    /// <summary>Restores the running statistics written by <see cref="WriteState"/>.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentException">A statistic is missing, has another length than the layer's
    /// <see cref="Channels"/>, is not finite in <typeparamref name="T"/>, or a variance is negative.</exception>
    protected internal override void ReadState(ComponentSettings state)
    {
        ArgumentNullException.ThrowIfNull(state);
        EnsureBuilt();
        double[] mean = state.GetDoubles("running_mean");
        double[] variance = state.GetDoubles("running_variance");
        CheckStatistics(mean, "running_mean", allowNegative: true);
        CheckStatistics(variance, "running_variance", allowNegative: false);
        for (int c = 0; c < _channels; c++)
        {
            _runningMean[c] = T.CreateChecked(mean[c]);
            _runningVariance[c] = T.CreateChecked(variance[c]);
        }

        UpdateRunningInverseStd();
    }

    private void CheckStatistics(double[] values, string name, bool allowNegative)
    {
        if (values.Length != _channels)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} must hold {_channels} values (one per feature or channel), but it holds {values.Length}."), "state");
        }

        for (int c = 0; c < values.Length; c++)
        {
            if (!T.IsFinite(T.CreateSaturating(values[c])) || (!allowNegative && values[c] < 0))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{name} must hold finite numbers{(allowNegative ? string.Empty : " ≥ 0")}, but element {c} is {values[c]}."), "state");
            }
        }
    }

    private static double[] ToDoubles(T[] values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = double.CreateChecked(values[i]);
        }

        return result;
    }

    /// <inheritdoc />
    /// <remarks>γ ("gamma", starting at 1) and β ("beta", starting at 0), one per feature (rank-1 input) or channel (C×H×W
    /// input), neither regularised. The output shape is the input shape.</remarks>
    /// <exception cref="ArgumentException">The input is neither of rank 1 nor of rank 3.</exception>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        if (inputShape.Rank is not (1 or 3))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"BatchNorm normalises features (an input of rank 1, after a dense layer) or channels (an input C×H×W of rank 3, after a convolution), but the input shape is {inputShape} (rank {inputShape.Rank})."),
                nameof(inputShape));
        }

        _channels = inputShape[0];
        _spatial = inputShape.Size / _channels;
        _gamma = AddParameter("gamma", new TensorShape(_channels));
        _gamma.ValueArray.AsSpan().Fill(T.One);
        _beta = AddParameter("beta", new TensorShape(_channels));
        _runningMean = new T[_channels];
        _runningVariance = new T[_channels];
        _runningVariance.AsSpan().Fill(T.One);
        _runningInverseStd = new T[_channels];
        UpdateRunningInverseStd();
        _batchInverseStd = new T[_channels];
        _sum = new T[_channels];
        _sumOfSquares = new T[_channels];
        _coefficient = new T[_channels];
        return inputShape;
    }

    private void UpdateRunningInverseStd()
    {
        for (int c = 0; c < _channels; c++)
        {
            _runningInverseStd[c] = T.One / T.Sqrt(_runningVariance[c] + _epsilon);
        }
    }

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        int size = InputSize, stride = size + 1;
        if (training)
        {
            ComputeBatchStatistics(inputs, saved, activations, rows);
        }

        // Inference reads only the running statistics; training has just put μ in _sum and 1/√(σ² + ε) in _batchInverseStd.
        ReadOnlySpan<T> mean = training ? _sum : _runningMean;
        ReadOnlySpan<T> inverseStd = training ? _batchInverseStd : _runningInverseStd;
        ReadOnlySpan<T> gamma = _gamma!.ValueArray, beta = _beta!.ValueArray;
        T mode = training ? T.One : T.Zero;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> x = inputs.Slice(r * size, size);
            Span<T> y = activations.Slice(r * size, size);
            // x̂ is formed where it is kept (saved) or, at a prediction, in the output itself.
            Span<T> normalized = saved.IsEmpty ? y : saved.Slice(r * stride, size);
            if (_spatial == 1)
            {
                TensorPrimitives.Subtract(x, mean, normalized);
                TensorPrimitives.Multiply(normalized, inverseStd, normalized);
                TensorPrimitives.MultiplyAdd(normalized, gamma, beta, y);
            }
            else
            {
                for (int c = 0; c < _channels; c++)
                {
                    var plane = new Range(c * _spatial, (c + 1) * _spatial);
                    TensorPrimitives.Subtract(x[plane], mean[c], normalized[plane]);
                    TensorPrimitives.Multiply(normalized[plane], inverseStd[c], normalized[plane]);
                    TensorPrimitives.Multiply(normalized[plane], gamma[c], y[plane]);
                    TensorPrimitives.Add(y[plane], beta[c], y[plane]);
                }
            }

            if (!saved.IsEmpty)
            {
                saved[r * stride + size] = mode;
            }
        }
    }

    /// <summary>μ into _sum, 1/√(σ² + ε) into _batchInverseStd, and the running statistics updated; the centred values
    /// x − μ pass through <paramref name="saved"/> (or <paramref name="activations"/>) as scratch.</summary>
    private void ComputeBatchStatistics(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows)
    {
        int size = InputSize, stride = size + 1, channels = _channels, spatial = _spatial;
        long count = (long)rows * spatial;
        T m = T.CreateChecked(count);
        Span<T> sum = _sum, squares = _sumOfSquares;
        sum.Clear();
        squares.Clear();
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> x = inputs.Slice(r * size, size);
            if (spatial == 1)
            {
                TensorPrimitives.Add(sum, x, sum);
            }
            else
            {
                for (int c = 0; c < channels; c++)
                {
                    sum[c] += TensorPrimitives.Sum(x.Slice(c * spatial, spatial));
                }
            }
        }

        TensorPrimitives.Divide(sum, m, sum);

        // σ²·m = Σ (x − μ)², two passes for accuracy.
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> x = inputs.Slice(r * size, size);
            Span<T> centered = saved.IsEmpty ? activations.Slice(r * size, size) : saved.Slice(r * stride, size);
            if (spatial == 1)
            {
                TensorPrimitives.Subtract(x, sum, centered);
                TensorPrimitives.MultiplyAdd(centered, centered, squares, squares);
            }
            else
            {
                for (int c = 0; c < channels; c++)
                {
                    Span<T> plane = centered.Slice(c * spatial, spatial);
                    TensorPrimitives.Subtract(x.Slice(c * spatial, spatial), sum[c], plane);
                    squares[c] += TensorPrimitives.SumOfSquares(plane);
                }
            }
        }

        T keep = T.One - _momentum;
        for (int c = 0; c < channels; c++)
        {
            _batchInverseStd[c] = T.One / T.Sqrt(squares[c] / m + _epsilon);
            _runningMean[c] = keep * _runningMean[c] + _momentum * sum[c];
            if (count > 1)
            {
                _runningVariance[c] = keep * _runningVariance[c] + _momentum * (squares[c] / (m - T.One));
            }
        }

        UpdateRunningInverseStd();
    }

    /// <inheritdoc />
    /// <remarks>The whole backward pass: fills ∂L/∂γ = Σ g·x̂ and ∂L/∂β = Σ g, and turns g = ∂L/∂y into δ = ∂L/∂x
    /// (see the class remarks for the formula, through the batch statistics after a training pass, through the running
    /// statistics after an inference-mode pass).</remarks>
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        int size = InputSize, stride = size + 1, channels = _channels, spatial = _spatial;
        bool batchStatistics = saved[size] != T.Zero;
        Span<T> sumG = _beta!.GradientArray, sumGX = _gamma!.GradientArray;
        sumG.Clear();
        sumGX.Clear();
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> g = outputGradients.Slice(r * size, size);
            ReadOnlySpan<T> normalized = saved.Slice(r * stride, size);
            if (spatial == 1)
            {
                TensorPrimitives.Add(sumG, g, sumG);
                TensorPrimitives.MultiplyAdd(g, normalized, sumGX, sumGX);
            }
            else
            {
                for (int c = 0; c < channels; c++)
                {
                    sumG[c] += TensorPrimitives.Sum(g.Slice(c * spatial, spatial));
                    sumGX[c] += TensorPrimitives.Dot(g.Slice(c * spatial, spatial), normalized.Slice(c * spatial, spatial));
                }
            }
        }

        // k = γ/σ per feature or channel; with batch statistics also the means (1/m)·Σ g and (1/m)·Σ g·x̂.
        Span<T> k = _coefficient, meanG = _sum, meanGX = _sumOfSquares;
        TensorPrimitives.Multiply(_gamma.ValueArray, batchStatistics ? _batchInverseStd : _runningInverseStd, k);
        if (!batchStatistics)
        {
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<T> g = outputGradients.Slice(r * size, size);
                Span<T> dx = localGradients.Slice(r * size, size);
                if (spatial == 1)
                {
                    TensorPrimitives.Multiply(g, k, dx);
                }
                else
                {
                    for (int c = 0; c < channels; c++)
                    {
                        TensorPrimitives.Multiply(g.Slice(c * spatial, spatial), k[c], dx.Slice(c * spatial, spatial));
                    }
                }
            }

            return;
        }

        T m = T.CreateChecked((long)rows * spatial);
        TensorPrimitives.Divide(sumG, m, meanG);
        TensorPrimitives.Divide(sumGX, m, meanGX);
        TensorPrimitives.Negate(meanGX, meanGX);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> g = outputGradients.Slice(r * size, size);
            ReadOnlySpan<T> normalized = saved.Slice(r * stride, size);
            Span<T> dx = localGradients.Slice(r * size, size);
            // ∂L/∂x = k·(g − mean(g) − x̂·mean(g·x̂)), element by element, so dx may be g's own memory.
            if (spatial == 1)
            {
                TensorPrimitives.Subtract(g, meanG, dx);
                TensorPrimitives.MultiplyAdd(normalized, meanGX, dx, dx);
                TensorPrimitives.Multiply(dx, k, dx);
            }
            else
            {
                for (int c = 0; c < channels; c++)
                {
                    var plane = new Range(c * spatial, (c + 1) * spatial);
                    TensorPrimitives.Subtract(g[plane], meanG[c], dx[plane]);
                    TensorPrimitives.MultiplyAdd(normalized[plane], meanGX[c], dx[plane], dx[plane]);
                    TensorPrimitives.Multiply(dx[plane], k[c], dx[plane]);
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>δ is already ∂L/∂x, and the parameter gradients are filled (<see cref="OnComputeLocalGradients"/>):
    /// this copies δ to <paramref name="inputGradients"/> when asked.</remarks>
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        if (!inputGradients.IsEmpty)
        {
            localGradients.CopyTo(inputGradients);
        }
    }

    /// <summary>Adds the layer to an ONNX graph: a BatchNormalization node (inference form, with the running statistics
    /// and ε). A rank-1 input goes in as it is, [N, F]; a C×H×W input is reshaped to [N, C, H, W] first and flattened back
    /// to [N, C·H·W] after.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value, [N, <see cref="Layer{T}.InputSize"/>].</param>
    /// <returns>The name of the output value, [N, <see cref="Layer{T}.OutputSize"/>].</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        var shape = new TensorShape(_channels);
        string scale = graph.AddInitializer<T>("gamma", shape, _gamma!.ValueArray);
        string bias = graph.AddInitializer<T>("beta", shape, _beta!.ValueArray);
        string mean = graph.AddInitializer<T>("running_mean", shape, _runningMean);
        string variance = graph.AddInitializer<T>("running_variance", shape, _runningVariance);
        var epsilon = OnnxAttribute.Float("epsilon", graph.ToFloat(Epsilon, "epsilon"));
        if (_spatial == 1)
        {
            string output = graph.Name("y");
            graph.AddNode("BatchNormalization", graph.Name("batch_norm"), [input, scale, bias, mean, variance], output, epsilon);
            return output;
        }

        var dims = InputShape!.Dimensions;
        string target = graph.AddInt64Initializer("shape", [0, dims[0], dims[1], dims[2]]);
        string image = graph.Name("image");
        graph.AddNode("Reshape", graph.Name("reshape"), [input, target], image);
        string normalized = graph.Name("normalized");
        graph.AddNode("BatchNormalization", graph.Name("batch_norm"), [image, scale, bias, mean, variance], normalized, epsilon);
        string flat = graph.Name("y");
        graph.AddNode("Flatten", graph.Name("flatten"), [normalized], flat, OnnxAttribute.Int("axis", 1));
        return flat;
    }
}
