using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Numerics;

namespace Backprop;

/// <summary>
/// A two-dimensional convolution (cross-correlation, as in PyTorch, Keras and ONNX): F filters of C × kh × kw slide over
/// a channels-first C × H × W input with a stride and zero padding, z = W ⋆ x + b and a = f(z).
/// </summary>
/// <remarks>
/// <para>Forward, for filter f and output position (y, x), with padding (top, left) and stride (sh, sw):
/// z[f, y, x] = b[f] + Σ_c Σ_i Σ_j W[f, c, i, j] · x[c, y·sh + i − top, x·sw + j − left], where x outside the input is 0;
/// a = f(z). The output is F × outH × outW with outH = ⌊(H + top + bottom − kh) / sh⌋ + 1 and likewise outW.</para>
/// <para>It runs as matrix products on the library's GEMM, sample by sample: a sample's patches are laid out as the
/// columns of a matrix X̂ (im2col, K = C·kh·kw rows, one column per output position), and Z = W·X̂ + b with W read as
/// F × K is the sample's F × outH × outW output as it stands. Backward, from δ = ∂L/∂z: ∂L/∂W = Σ over samples of δ·X̂ᵀ,
/// ∂L/∂b[f] = Σ over samples and positions of δ[f, ·], and ∂L/∂x = col2im(Wᵀ·δ), which adds each patch's gradient back
/// where the patch came from. X̂ is recomputed from the inputs in backward, so the layer saves only its pre-activations,
/// and nothing at all without an activation. The samples of a batch are shared out among the network's threads
/// (<see cref="Layer{T}.MaxDegreeOfParallelism"/>); the sums over samples are taken in groups of consecutive samples
/// fixed by the batch's size, then over the groups in order, so the result is the same at any thread count.</para>
/// <para>Parameters: "weights" [F, C, kh, kw] (PyTorch's and ONNX's layout; drawn by the initializer with fan-in C·kh·kw
/// and fan-out F·kh·kw) and "biases" [F] (zero).</para>
/// <para>Thread safety: inference only reads the weights and may run on any number of threads at once (a call that
/// finds the layer's scratch buffers in use by another works in buffers of its own); training passes work in buffers
/// the layer owns and come from one thread at a time.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Conv2D<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // The most values the backward pass's partial sums of ∂L/∂W and ∂L/∂b (one set per group of samples) may hold,
    // unless one set needs more: it fixes the groups by the shapes and rows alone, never by the thread count.
    private const int PartialBudget = 1 << 20;

    private readonly IActivation _activation;
    private readonly IInitializer _initializer;
    private readonly bool _hasActivation;
    private Parameter<T>? _weightParameter;
    private Parameter<T>? _biasParameter;
    private double _l1;
    private double _l2;
    private Geometry _g;
    private T[] _partials = [];
    private ConvolutionJob? _spareJob;

    /// <summary>Creates a convolution layer; its weights are created when a network is built with it.</summary>
    /// <param name="filters">F, the number of filters (output channels); at least 1.</param>
    /// <param name="kernelHeight">kh, the kernel's height; at least 1.</param>
    /// <param name="kernelWidth">kw, the kernel's width; at least 1.</param>
    /// <param name="strideHeight">sh, the step between output rows; at least 1.</param>
    /// <param name="strideWidth">sw, the step between output columns; at least 1.</param>
    /// <param name="padding">The zero padding; <see cref="Padding.Valid"/> by default.</param>
    /// <param name="activation">The activation f; none (the identity) when null.</param>
    /// <param name="initializer">How to draw the initial weights; <see cref="Initializers.GlorotUniform"/> when null. Biases start at 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count, kernel size or stride is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Conv2D(int filters, int kernelHeight, int kernelWidth, int strideHeight = 1, int strideWidth = 1,
        Padding padding = default, IActivation? activation = null, IInitializer? initializer = null)
    {
        Guard.Positive(filters, nameof(filters));
        Guard.Positive(kernelHeight, nameof(kernelHeight));
        Guard.Positive(kernelWidth, nameof(kernelWidth));
        Guard.Positive(strideHeight, nameof(strideHeight));
        Guard.Positive(strideWidth, nameof(strideWidth));
        Filters = filters;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        StrideHeight = strideHeight;
        StrideWidth = strideWidth;
        Padding = padding;
        _activation = activation ?? Activations.Identity;
        _hasActivation = _activation is not Identity;
        _initializer = initializer ?? Initializers.GlorotUniform;
    }

    /// <summary>F, the number of filters: the output's channels.</summary>
    public int Filters { get; }

    /// <summary>kh, the kernel's height.</summary>
    public int KernelHeight { get; }

    /// <summary>kw, the kernel's width.</summary>
    public int KernelWidth { get; }

    /// <summary>sh, the step between output rows.</summary>
    public int StrideHeight { get; }

    /// <summary>sw, the step between output columns.</summary>
    public int StrideWidth { get; }

    /// <summary>The padding as given; <see cref="PaddingTop"/> and the others hold its amounts once built.</summary>
    public Padding Padding { get; }

    /// <summary>The zero rows above the input, as worked out for the input when built (0 before).</summary>
    public int PaddingTop => _g.PadTop;

    /// <summary>The zero columns left of the input, as worked out when built (0 before).</summary>
    public int PaddingLeft => _g.PadLeft;

    /// <summary>The zero rows below the input, as worked out when built (0 before).</summary>
    public int PaddingBottom => _g.PadBottom;

    /// <summary>The zero columns right of the input, as worked out when built (0 before).</summary>
    public int PaddingRight => _g.PadRight;

    /// <summary>The L1 penalty λ₁ on the weights (not the biases): the objective gains λ₁·Σ|w| and each weight's
    /// gradient λ₁·sign(w). At least 0; 0 by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative or non-finite value.</exception>
    public double L1
    {
        get => _l1;
        init => _l1 = WeightPenalty.Checked(value, nameof(L1));
    }

    /// <summary>The L2 penalty λ₂ on the weights (not the biases): the objective gains λ₂·Σ w² and each weight's
    /// gradient 2·λ₂·w. At least 0; 0 by default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative or non-finite value.</exception>
    public double L2
    {
        get => _l2;
        init => _l2 = WeightPenalty.Checked(value, nameof(L2));
    }

    /// <summary>The activation, or null when the layer has none (the identity).</summary>
    public override IActivation? Activation => _hasActivation ? _activation : null;

    /// <summary>The initializer that drew the initial weights.</summary>
    public IInitializer Initializer => _initializer;

    /// <summary>"pre-activations" (z, before the activation) with an activation; "none" without, since the patches are
    /// recomputed from the inputs in backward.</summary>
    public override string SavedForBackwardName => _hasActivation ? "pre-activations" : "none";

    /// <summary><see cref="Layer{T}.OutputSize"/> with an activation, 0 without.</summary>
    public override int SavedForBackwardSize => _hasActivation ? OutputSize : 0;

    /// <summary>2·F·C·kh·kw·outH·outW: the forward product's multiply-adds.</summary>
    public override long FlopsPerSample => 2L * Filters * _g.PatchSize * _g.Positions;

    /// <summary>"conv2d", the name model files store the layer under.</summary>
    public string TypeName => "conv2d";

    /// <summary>The weights, [F, C, kh, kw].</summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public Parameter<T> Weights
    {
        get
        {
            EnsureBuilt();
            return _weightParameter!;
        }
    }

    /// <summary>The biases, [F].</summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public Parameter<T> Biases
    {
        get
        {
            EnsureBuilt();
            return _biasParameter!;
        }
    }

    /// <summary>Writes filters, kernel_height, kernel_width, stride_height, stride_width, padding (and pads when
    /// explicit), activation, initializer, l1 and l2.</summary>
    /// <param name="settings">Receives the settings.</param>
    /// <exception cref="NotSupportedException">The activation or initializer cannot be saved.</exception>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("filters", Filters).Set("kernel_height", KernelHeight).Set("kernel_width", KernelWidth)
            .Set("stride_height", StrideHeight).Set("stride_width", StrideWidth);
        Padding.Write(settings);
        settings.Set("activation", _activation).Set("initializer", _initializer).Set("l1", _l1).Set("l2", _l2);
    }

    /// <summary>Creates the layer that <see cref="WriteSettings"/> describes.</summary>
    internal static Conv2D<T> FromSettings(ComponentSettings settings) =>
        new(settings.GetInt32("filters"), settings.GetInt32("kernel_height"), settings.GetInt32("kernel_width"),
            settings.GetInt32("stride_height"), settings.GetInt32("stride_width"), Padding.Read(settings),
            settings.GetActivation("activation"), settings.GetInitializer("initializer"))
        {
            L1 = settings.GetDouble("l1"),
            L2 = settings.GetDouble("l2"),
        };

    /// <inheritdoc />
    public override double RegularizationPenalty()
    {
        if (!IsBuilt || (_l1 == 0 && _l2 == 0))
        {
            return 0;
        }

        return WeightPenalty.Value<T>(_weightParameter!.ValueArray, _l1, _l2);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "Conv2D(16, 3×3, stride 1×1, same, relu)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Conv2D({Filters}, {KernelHeight}×{KernelWidth}, stride {StrideHeight}×{StrideWidth}, {Padding}, {_activation.Name})");

    /// <inheritdoc />
    /// <remarks>The input must be C × H × W; the padded input must hold the kernel. Creates weights [F, C, kh, kw] and
    /// biases [F]; returns F × outH × outW.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        if (inputShape.Rank != 3)
        {
            throw new ArgumentException(
                $"Conv2D needs channels-first images, a rank-3 input shape C×H×W, but the input shape is {inputShape} (rank {inputShape.Rank}).", nameof(inputShape));
        }

        int channels = inputShape[0], height = inputShape[1], width = inputShape[2];
        var (top, bottom, outputHeight) = Padding.Resolve(height, KernelHeight, StrideHeight, Padding.Top, Padding.Bottom);
        var (left, right, outputWidth) = Padding.Resolve(width, KernelWidth, StrideWidth, Padding.Left, Padding.Right);
        if (outputHeight < 1 || outputWidth < 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"the {KernelHeight}×{KernelWidth} kernel is larger than the padded input of {(long)height + top + bottom}×{(long)width + left + right} (input {inputShape}, padding {Padding})."),
                nameof(inputShape));
        }

        long patchSize = (long)channels * KernelHeight * KernelWidth;
        long outputSize = (long)Filters * outputHeight * outputWidth;
        if (patchSize > int.MaxValue / Math.Max(1, outputHeight * (long)outputWidth) || outputSize > int.MaxValue)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"the patch matrix of one sample ({patchSize} × {outputHeight * (long)outputWidth}) or the output ({outputSize} values) is too large for one array."),
                nameof(inputShape));
        }

        var g = new Geometry
        {
            Channels = channels,
            Height = height,
            Width = width,
            KernelHeight = KernelHeight,
            KernelWidth = KernelWidth,
            StrideHeight = StrideHeight,
            StrideWidth = StrideWidth,
            PadTop = top,
            PadLeft = left,
            PadBottom = bottom,
            PadRight = right,
            OutputHeight = outputHeight,
            OutputWidth = outputWidth,
        };
        _weightParameter = AddParameter("weights", new TensorShape(Filters, channels, KernelHeight, KernelWidth), _initializer, isRegularized: true);
        _biasParameter = AddParameter("biases", new TensorShape(Filters));
        _g = g;
        return new TensorShape(Filters, outputHeight, outputWidth);
    }

    /// <inheritdoc />
    protected override unsafe void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        // z in `saved` when a backward pass follows and the layer has an activation; otherwise formed in the output.
        Span<T> z = saved.IsEmpty ? activations : saved;
        int parts = SampleParallelWork.PartsFor(Context, MaxDegreeOfParallelism, rows, (double)FlopsPerSample * rows);
        ConvolutionJob job = TakeJob(parts);
        try
        {
            fixed (T* x = inputs, zz = z, a = activations)
            {
                job.Begin(ConvolutionJob.Step.Forward, rows, x, zz, a, null);
                job.Run(Context, rows, parts);
            }
        }
        finally
        {
            ReturnJob(job);
        }
    }

    // Sample by sample (see ConvolutionJob): X̂ (K × P) of the sample, z = W·X̂ straight into the sample's F × P
    // (its channels-first layout), + b[f] along row f, then a = f(z), while the sample's values are still in cache.
    private void ForwardSamples(ConvolutionJob job, int part, int first, int end)
    {
        int k = _g.PatchSize, positions = _g.Positions;
        Span<T> patches = job.Patches(part);
        T[] weights = _weightParameter!.ValueArray;
        ReadOnlySpan<T> biases = _biasParameter!.ValueArray;
        for (int s = first; s < end; s++)
        {
            ReadOnlySpan<T> x = job.Inputs(s, InputSize);
            Span<T> z = job.PreActivations(s, OutputSize);
            Span<T> a = job.Activations(s, OutputSize);
            ReadOnlySpan<T> columns = PatchColumns(x, patches);

            Gemm.MultiplyUnchecked<T>(weights, k, false, columns, positions, false, z, positions,
                Filters, positions, k, accumulate: false, bias: default, 1, Context);
            for (int f = 0; f < Filters; f++)
            {
                Span<T> row = z.Slice(f * positions, positions);
                TensorPrimitives.Add(row, biases[f], row);
            }

            if (_hasActivation)
            {
                _activation.Forward<T>(z, a, OutputSize);
            }
            else if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(a)))
            {
                z.CopyTo(a);
            }
        }
    }

    /// <inheritdoc />
    protected override unsafe void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        if (!_hasActivation)
        {
            outputGradients.CopyTo(localGradients);
            return;
        }

        // Sample by sample on the context's threads, as the forward pass: the activation works row by row.
        int parts = SampleParallelWork.PartsFor(Context, MaxDegreeOfParallelism, rows, (double)FlopsPerSample * rows);
        ConvolutionJob job = TakeJob(parts);
        try
        {
            fixed (T* z = saved, a = activations, g = outputGradients, d = localGradients)
            {
                job.Begin(ConvolutionJob.Step.LocalGradients, rows, g, z, a, d);
                job.Run(Context, rows, parts);
            }
        }
        finally
        {
            ReturnJob(job);
        }
    }

    private void LocalGradientSamples(ConvolutionJob job, int first, int end)
    {
        int count = end - first;
        _activation.Backward<T>(job.PreActivations(first, OutputSize, count), job.Activations(first, OutputSize, count),
            job.Inputs(first, OutputSize, count), job.Gradients(first, OutputSize, count), OutputSize);
    }

    /// <inheritdoc />
    protected override unsafe void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        // The batch in groups of consecutive samples, fixed by the shapes and the rows alone; each group sums its own
        // ∂L/∂W and ∂L/∂b over its samples in order, then the groups' sums are added in order: the same at any thread count.
        int weightCount = Filters * _g.PatchSize, stride = weightCount + Filters;
        int groups = Math.Min(rows, Math.Max(1, PartialBudget / stride));
        Span<T> partials = Grow(ref _partials, groups * stride);
        double work = (double)FlopsPerSample * rows * (inputGradients.IsEmpty ? 1 : 2);
        int parts = SampleParallelWork.PartsFor(Context, MaxDegreeOfParallelism, groups, work);
        ConvolutionJob job = TakeJob(parts);
        try
        {
            fixed (T* x = inputs, d = localGradients, dx = inputGradients)
            {
                job.Begin(ConvolutionJob.Step.Backward, rows, x, null, null, d);
                job.InputGradientsAddress = inputGradients.IsEmpty ? null : dx;
                job.Groups = groups;
                job.Run(Context, groups, parts);
            }
        }
        finally
        {
            ReturnJob(job);
        }

        T[] weightGradients = _weightParameter!.GradientArray;
        T[] biasGradients = _biasParameter!.GradientArray;
        partials[..weightCount].CopyTo(weightGradients);
        partials.Slice(weightCount, Filters).CopyTo(biasGradients);
        for (int group = 1; group < groups; group++)
        {
            Span<T> partial = partials.Slice(group * stride, stride);
            TensorPrimitives.Add(weightGradients, partial[..weightCount], weightGradients);
            TensorPrimitives.Add(biasGradients, partial[weightCount..], biasGradients);
        }

        WeightPenalty.AddGradient<T>(_weightParameter.ValueArray, weightGradients, _l1, _l2);
    }

    // Groups [first, end): per sample s of a group, X̂ again from the input; ∂L/∂W += δ_s·X̂ᵀ (F × K, the sum over the
    // sample's positions) and ∂L/∂b[f] += Σ δ_s[f, ·] into the group's partial sums; and when asked, ∂L/∂X̂ = Wᵀ·δ_s
    // (K × P) added back where each patch came from (col2im) into the sample's input gradient.
    private void BackwardGroups(ConvolutionJob job, int part, int first, int end)
    {
        int k = _g.PatchSize, positions = _g.Positions, weightCount = Filters * k, stride = weightCount + Filters;
        int rows = job.Rows, groups = job.Groups;
        Span<T> patches = job.Patches(part);
        Span<T> patchGradients = job.PatchGradients(part);
        T[] weights = _weightParameter!.ValueArray;
        for (int group = first; group < end; group++)
        {
            Span<T> weightSums = _partials.AsSpan(group * stride, weightCount);
            Span<T> biasSums = _partials.AsSpan((group * stride) + weightCount, Filters);
            int firstSample = (int)((long)rows * group / groups), endSample = (int)((long)rows * (group + 1) / groups);
            for (int s = firstSample; s < endSample; s++)
            {
                ReadOnlySpan<T> x = job.Inputs(s, InputSize);
                ReadOnlySpan<T> delta = job.Gradients(s, OutputSize);
                ReadOnlySpan<T> columns = PatchColumns(x, patches);

                Gemm.MultiplyUnchecked<T>(delta, positions, false, columns, positions, true, weightSums, k,
                    Filters, k, positions, accumulate: s > firstSample, bias: default, 1, Context);
                for (int f = 0; f < Filters; f++)
                {
                    T sum = TensorPrimitives.Sum<T>(delta.Slice(f * positions, positions));
                    biasSums[f] = s > firstSample ? biasSums[f] + sum : sum;
                }

                if (job.HasInputGradients)
                {
                    Span<T> dx = job.InputGradients(s, InputSize);
                    if (_g.IsPointwise)
                    {
                        Gemm.MultiplyUnchecked<T>(weights, k, true, delta, positions, false, dx, positions,
                            k, positions, Filters, accumulate: false, bias: default, 1, Context);
                    }
                    else
                    {
                        Gemm.MultiplyUnchecked<T>(weights, k, true, delta, positions, false, patchGradients, positions,
                            k, positions, Filters, accumulate: false, bias: default, 1, Context);
                        Convolution.Col2Im(_g, patchGradients, 1, dx);
                    }
                }
            }
        }
    }

    // A job for one pass: the training passes come from one thread at a time, but predictions may run on many threads
    // at once, so each call takes the spare job or, when another call holds it, a new one (kept as the spare after).
    private ConvolutionJob TakeJob(int parts)
    {
        ConvolutionJob job = Interlocked.Exchange(ref _spareJob, null) ?? new ConvolutionJob(this);
        job.EnsureScratch(parts, _g.PatchSize * _g.Positions);
        return job;
    }

    private void ReturnJob(ConvolutionJob job)
    {
        job.End();
        Volatile.Write(ref _spareJob, job);
    }

    private static Span<T> Grow(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }

        return buffer.AsSpan(0, length);
    }

    // One pass of the layer over a batch, split by samples (or groups of samples) across the context's threads: the
    // operands' addresses, pinned by the caller for the length of the run, and each part's scratch (patch matrices).
    private sealed unsafe class ConvolutionJob(Conv2D<T> layer) : SampleParallelWork
    {
        private T[][] _patches = [];
        private T[][] _patchGradients = [];
        private int _scratchLength;
        private T* _inputs;
        private T* _preActivations;
        private T* _activations;
        private T* _gradients;
        private Step _step;

        internal enum Step
        {
            Forward,
            LocalGradients,
            Backward,
        }

        internal int Rows { get; private set; }

        internal int Groups { get; set; }

        internal T* InputGradientsAddress { get; set; }

        internal bool HasInputGradients => InputGradientsAddress != null;

        // Every part up to `parts` gets patch buffers of `length` values (grown once).
        internal void EnsureScratch(int parts, int length)
        {
            if (_patches.Length < parts || _scratchLength < length)
            {
                int count = Math.Max(parts, _patches.Length);
                _patches = new T[count][];
                _patchGradients = new T[count][];
                for (int i = 0; i < count; i++)
                {
                    _patches[i] = new T[length];
                    _patchGradients[i] = new T[length];
                }

                _scratchLength = length;
            }
        }

        // Inputs: x (forward, backward) or ∂L/∂a (local gradients); gradients: δ.
        internal void Begin(Step step, int rows, T* inputs, T* preActivations, T* activations, T* gradients)
        {
            _step = step;
            Rows = rows;
            _inputs = inputs;
            _preActivations = preActivations;
            _activations = activations;
            _gradients = gradients;
            InputGradientsAddress = null;
        }

        // Forgets the operands' addresses: they are pinned only while the caller runs the job.
        internal void End() => Begin(Step.Forward, 0, null, null, null, null);

        internal Span<T> Patches(int part) => _patches[part].AsSpan(0, _scratchLength);

        internal Span<T> PatchGradients(int part) => _patchGradients[part].AsSpan(0, _scratchLength);

        internal ReadOnlySpan<T> Inputs(int sample, int width, int count = 1) => new(_inputs + ((long)sample * width), width * count);

        internal Span<T> PreActivations(int sample, int width, int count = 1) => new(_preActivations + ((long)sample * width), width * count);

        internal Span<T> Activations(int sample, int width, int count = 1) => new(_activations + ((long)sample * width), width * count);

        internal Span<T> Gradients(int sample, int width, int count = 1) => new(_gradients + ((long)sample * width), width * count);

        internal Span<T> InputGradients(int sample, int width) => new(InputGradientsAddress + ((long)sample * width), width);

        protected override void RunRange(int part, int first, int end)
        {
            switch (_step)
            {
                case Step.Forward: layer.ForwardSamples(this, part, first, end); break;
                case Step.LocalGradients: layer.LocalGradientSamples(this, first, end); break;
                default: layer.BackwardGroups(this, part, first, end); break;
            }
        }
    }

    /// <summary>Adds the layer to an ONNX graph: Reshape of the flat input to [N, C, H, W], Conv (weights [F, C, kh, kw],
    /// biases, kernel_shape, strides and the worked-out pads), Flatten back to [N, F·outH·outW], then the activation.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value.</param>
    /// <returns>The name of the output value.</returns>
    /// <exception cref="NotSupportedException">The activation has no ONNX translation.</exception>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        string image = graph.AddReshape(input, InputShape!);
        string weights = graph.AddInitializer<T>("weights", _weightParameter!.Shape, _weightParameter.ValueArray);
        string biases = graph.AddInitializer<T>("biases", _biasParameter!.Shape, _biasParameter.ValueArray);
        string convolved = graph.Name("y");
        // ONNX's pads are the starts of every axis, then the ends: top, left, bottom, right.
        graph.AddNode("Conv", graph.Name("conv"), [image, weights, biases], convolved,
            OnnxAttribute.Ints("kernel_shape", KernelHeight, KernelWidth),
            OnnxAttribute.Ints("strides", StrideHeight, StrideWidth),
            OnnxAttribute.Ints("pads", _g.PadTop, _g.PadLeft, _g.PadBottom, _g.PadRight));
        string z = graph.AddFlatten(convolved);
        return _hasActivation ? graph.AddActivation(_activation, z) : z;
    }

    // One sample's patch matrix (patch size × positions): its im2col in `patches`, or the sample itself for a 1×1
    // stride-1 kernel, whose patches are the input as it is.
    private ReadOnlySpan<T> PatchColumns(ReadOnlySpan<T> x, Span<T> patches)
    {
        if (_g.IsPointwise)
        {
            return x;
        }

        Convolution.Im2Col(_g, x, 1, patches);
        return patches;
    }
}
