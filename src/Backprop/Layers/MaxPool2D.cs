using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Numerics;

namespace Backprop;

/// <summary>
/// 2-D max pooling over channels-first samples (C × H × W → C × H′ × W′): each output is the largest input in its
/// window, channel by channel.
/// </summary>
/// <remarks>
/// <para>Forward: a[c, i, j] = max over (u, v) in the window of x[c, i·sh − top + u, j·sw − left + v], for u &lt; kh and
/// v &lt; kw, over the positions inside the input only: padding never wins (it counts as −∞, as in PyTorch and ONNX).
/// The output has ⌊(H + top + bottom − kh) / sh⌋ + 1 rows and likewise columns (see <see cref="Padding"/>). Of equal
/// largest values the first in row-major order within the window wins, as in PyTorch; a NaN in the window wins.</para>
/// <para>Local gradients: the layer has no activation, so δ = ∂L/∂a. Backward: ∂L/∂x[c, p] = Σ δ[c, i, j] over the
/// outputs (i, j) whose winning position is p (one output's window may overlap another's when the stride is less
/// than the window, so one input can win several); 0 for an input that wins nowhere. The derivative exists where the
/// winner of each window is unique; at ties it is that of the first, as PyTorch.</para>
/// <para>The backward pass finds the winners again from the inputs it is given, which are those of the forward pass,
/// by the same comparisons in the same order: it needs nothing saved, so the layer keeps nothing for backward
/// (<see cref="SavedForBackwardName"/> "none").</para>
/// <para>ONNX: Reshape to [N, C, H, W], MaxPool (kernel_shape, strides, pads with the resolved padding), Flatten.</para>
/// <para>The planes of a batch are shared out among the network's threads (<see cref="Layer{T}.MaxDegreeOfParallelism"/>);
/// each plane's results depend on that plane alone, so they are the same at any thread count.</para>
/// <para>Thread safety: the layer has no parameters, and after it is built writes only the slot of its spare work item,
/// atomically (a call that finds it taken uses one of its own): any number of forward passes may run at once.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class MaxPool2D<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private PoolGeometry? _geometry;
    private PoolJob? _spareJob;

    /// <summary>Creates a max pooling over square windows of <paramref name="size"/> × <paramref name="size"/>.</summary>
    /// <param name="size">The window's height and width; at least 1.</param>
    /// <param name="stride">The step between windows along both axes, at least 1; the window size when null, as in
    /// PyTorch and Keras (windows that tile the input).</param>
    /// <param name="padding">The padding; <see cref="Padding.Valid"/> by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> or <paramref name="stride"/> is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public MaxPool2D(int size, int? stride = null, Padding padding = default)
        : this(size, size, stride ?? size, stride ?? size, padding)
    {
    }

    /// <summary>Creates a max pooling over windows of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="height">The window's height; at least 1.</param>
    /// <param name="width">The window's width; at least 1.</param>
    /// <param name="strideHeight">The step between windows down the rows; at least 1.</param>
    /// <param name="strideWidth">The step between windows along the columns; at least 1.</param>
    /// <param name="padding">The padding; <see cref="Padding.Valid"/> by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or stride is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public MaxPool2D(int height, int width, int strideHeight, int strideWidth, Padding padding = default)
    {
        Guard.Positive(height, nameof(height));
        Guard.Positive(width, nameof(width));
        Guard.Positive(strideHeight, nameof(strideHeight));
        Guard.Positive(strideWidth, nameof(strideWidth));
        WindowHeight = height;
        WindowWidth = width;
        StrideHeight = strideHeight;
        StrideWidth = strideWidth;
        Padding = padding;
    }

    /// <summary>The window's height, kh.</summary>
    public int WindowHeight { get; }

    /// <summary>The window's width, kw.</summary>
    public int WindowWidth { get; }

    /// <summary>The step between windows down the rows, sh.</summary>
    public int StrideHeight { get; }

    /// <summary>The step between windows along the columns, sw.</summary>
    public int StrideWidth { get; }

    /// <summary>The padding.</summary>
    public Padding Padding { get; }

    /// <summary>"none": the backward pass finds the winners again from its inputs.</summary>
    public override string SavedForBackwardName => "none";

    /// <summary>0: nothing is kept.</summary>
    public override int SavedForBackwardSize => 0;

    /// <summary>One comparison per window element: C·H′·W′·kh·kw.</summary>
    public override long FlopsPerSample => (long)OutputSize * WindowHeight * WindowWidth;

    /// <summary>"max_pool2d", the name model files store the layer under.</summary>
    public string TypeName => "max_pool2d";

    /// <summary>Writes window (height, width), strides (height, width), padding and, when explicit, pads.</summary>
    /// <param name="settings">Receives the settings.</param>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("window", (ReadOnlySpan<long>)[WindowHeight, WindowWidth]).Set("strides", (ReadOnlySpan<long>)[StrideHeight, StrideWidth]);
        Padding.Write(settings);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "MaxPool2D(2×2, stride 2×2, valid)".</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"MaxPool2D({WindowHeight}×{WindowWidth}, stride {StrideHeight}×{StrideWidth}, {Padding})");

    /// <inheritdoc />
    /// <remarks>Takes C × H × W and returns C × H′ × W′.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        _geometry = PoolGeometry.Resolve(ToString(), inputShape, WindowHeight, WindowWidth, StrideHeight, StrideWidth, Padding);
        return _geometry.OutputShape;
    }

    /// <inheritdoc />
    protected override unsafe void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        fixed (T* x = inputs, a = activations)
        {
            RunPlanes(rows, x, a, null);
        }
    }

    /// <inheritdoc />
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows)
    {
        // δ = ∂L/∂a: no activation.
        outputGradients.CopyTo(localGradients);
    }

    /// <inheritdoc />
    protected override unsafe void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        if (inputGradients.IsEmpty)
        {
            return;
        }

        fixed (T* x = inputs, delta = localGradients, dx = inputGradients)
        {
            RunPlanes(rows, x, delta, dx);
        }
    }

    // The forward (dx null: `values` receives the outputs) or backward pass (`values` holds δ) over the batch's planes,
    // split into ranges of planes across the context's threads: each plane's results depend on that plane alone.
    // Pooling reads and writes a few values per comparison: it is split like a product of 8 flops per input value.
    private unsafe void RunPlanes(int rows, T* x, T* values, T* dx)
    {
        var g = _geometry!;
        int planes = rows * g.Channels;
        int parts = SampleParallelWork.PartsFor(Context, MaxDegreeOfParallelism, planes, 8.0 * InputSize * rows);
        PoolJob job = Interlocked.Exchange(ref _spareJob, null) ?? new PoolJob(this);
        try
        {
            job.Begin(x, values, dx);
            job.Run(Context, planes, parts);
        }
        finally
        {
            job.Begin(null, null, null);
            Volatile.Write(ref _spareJob, job);
        }
    }

    private void ForwardPlanes(ReadOnlySpan<T> inputs, Span<T> activations, int first, int end)
    {
        var g = _geometry!;
        int inputPlane = g.Height * g.Width, outputPlane = g.OutputHeight * g.OutputWidth;
        int outputHeight = g.OutputHeight, outputWidth = g.OutputWidth, width = g.Width;
        for (int p = first; p < end; p++)
        {
            ReadOnlySpan<T> x = inputs.Slice(p * inputPlane, inputPlane);
            Span<T> a = activations.Slice(p * outputPlane, outputPlane);
            if (IsTiled2x2(g))
            {
                Forward2x2(x, a, width, outputHeight, outputWidth);
                continue;
            }

            for (int i = 0; i < outputHeight; i++)
            {
                var (rowStart, rowEnd) = g.Rows(i);
                Span<T> outputRow = a.Slice(i * outputWidth, outputWidth);
                for (int j = 0; j < outputRow.Length; j++)
                {
                    var (columnStart, columnEnd) = g.Columns(j);
                    outputRow[j] = x[Winner(x, width, rowStart, rowEnd, columnStart, columnEnd)];
                }
            }
        }
    }

    // ∂L/∂x[p] = Σ δ over the windows that p wins, found again with the forward pass's comparisons.
    private void BackwardPlanes(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int first, int end)
    {
        var g = _geometry!;
        int inputPlane = g.Height * g.Width, outputPlane = g.OutputHeight * g.OutputWidth;
        int outputHeight = g.OutputHeight, outputWidth = g.OutputWidth, width = g.Width;
        for (int p = first; p < end; p++)
        {
            ReadOnlySpan<T> x = inputs.Slice(p * inputPlane, inputPlane);
            ReadOnlySpan<T> delta = localGradients.Slice(p * outputPlane, outputPlane);
            Span<T> dx = inputGradients.Slice(p * inputPlane, inputPlane);
            dx.Clear();
            if (IsTiled2x2(g))
            {
                Backward2x2(x, delta, dx, width, outputHeight, outputWidth);
                continue;
            }

            for (int i = 0; i < outputHeight; i++)
            {
                var (rowStart, rowEnd) = g.Rows(i);
                ReadOnlySpan<T> deltaRow = delta.Slice(i * outputWidth, outputWidth);
                for (int j = 0; j < deltaRow.Length; j++)
                {
                    var (columnStart, columnEnd) = g.Columns(j);
                    dx[Winner(x, width, rowStart, rowEnd, columnStart, columnEnd)] += deltaRow[j];
                }
            }
        }
    }

    // The common 2 × 2 windows with stride 2 that tile the input: every window lies wholly inside it.
    private static bool IsTiled2x2(PoolGeometry g) =>
        g.WindowHeight == 2 && g.WindowWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.Top == 0 && g.Left == 0
        && 2 * g.OutputHeight <= g.Height && 2 * g.OutputWidth <= g.Width;

    // Winner for full 2 × 2 windows without branches on the data (which a branch predictor cannot learn): the first
    // row's pair, the second row's pair, then the two pairs' winners. For a window a, b / c, d in row-major order this
    // picks what Winner's scan in that order picks: the later NaN when there is one (a NaN wins over all before it),
    // else the first of equal largest values (a pair keeps its first on a tie, and so does the final comparison).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Winner2x2(ref T top, int width, int column)
    {
        ref T bottom = ref Unsafe.Add(ref top, width);
        int upper = column + Later(Unsafe.Add(ref top, column), Unsafe.Add(ref top, column + 1));
        int lower = column + Later(Unsafe.Add(ref bottom, column), Unsafe.Add(ref bottom, column + 1));
        int below = Later(Unsafe.Add(ref top, upper), Unsafe.Add(ref bottom, lower));
        return upper + (below * (width + lower - upper));
    }

    // 1 when the later of two values wins the scan's comparison (larger, or NaN), 0 when the earlier stays.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Later(T earlier, T later) => Unsafe.BitCast<bool, byte>(later > earlier) | Unsafe.BitCast<bool, byte>(T.IsNaN(later));

    private static void Forward2x2(ReadOnlySpan<T> x, Span<T> a, int width, int outputHeight, int outputWidth)
    {
        for (int i = 0; i < outputHeight; i++)
        {
            // Rows 2i and 2i + 1 lie inside the plane (IsTiled2x2), so the window's four reads stay in x.
            ref T top = ref MemoryMarshal.GetReference(x.Slice(2 * i * width, 2 * width));
            Span<T> outputRow = a.Slice(i * outputWidth, outputWidth);
            int j = 0;
            if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
            {
                j = Forward2x2Float(ref Unsafe.As<T, float>(ref top), width, ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(outputRow)), outputWidth);
            }

            for (; j < outputRow.Length; j++)
            {
                outputRow[j] = Unsafe.Add(ref top, Winner2x2(ref top, width, 2 * j));
            }
        }
    }

    // Four windows at a time: eight values of each row, split into their even and odd columns, and Winner2x2's three
    // comparisons lane by lane (the same comparisons, so the same winner). Returns the outputs done.
    private static int Forward2x2Float(ref float top, int width, ref float output, int outputWidth)
    {
        Vector256<int> even = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        Vector256<int> odd = Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7);
        ref float bottom = ref Unsafe.Add(ref top, width);
        int j = 0;
        for (; (2 * j) + 8 <= width && j + 4 <= outputWidth; j += 4)
        {
            Vector256<float> upper = Vector256.LoadUnsafe(ref top, (nuint)(2 * j));
            Vector256<float> lower = Vector256.LoadUnsafe(ref bottom, (nuint)(2 * j));
            Vector256<float> upperBest = PickLater(Vector256.Shuffle(upper, even), Vector256.Shuffle(upper, odd));
            Vector256<float> lowerBest = PickLater(Vector256.Shuffle(lower, even), Vector256.Shuffle(lower, odd));
            PickLater(upperBest, lowerBest).GetLower().StoreUnsafe(ref output, (nuint)j);
        }

        return j;
    }

    // Lane by lane: the later value where it is larger or NaN (Later), else the earlier.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PickLater(Vector256<float> earlier, Vector256<float> later) =>
        Vector256.ConditionalSelect(LaterWins(earlier, later), later, earlier);

    private static void Backward2x2(ReadOnlySpan<T> x, ReadOnlySpan<T> delta, Span<T> dx, int width, int outputHeight, int outputWidth)
    {
        for (int i = 0; i < outputHeight; i++)
        {
            ref T top = ref MemoryMarshal.GetReference(x.Slice(2 * i * width, 2 * width));
            Span<T> gradientRows = dx.Slice(2 * i * width, 2 * width);
            ReadOnlySpan<T> deltaRow = delta.Slice(i * outputWidth, outputWidth);
            int j = 0;
            if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
            {
                j = Backward2x2Float(ref Unsafe.As<T, float>(ref top), width, ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(deltaRow)),
                    ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(gradientRows)), outputWidth);
            }

            for (; j < deltaRow.Length; j++)
            {
                gradientRows[Winner2x2(ref top, width, 2 * j)] += deltaRow[j];
            }
        }
    }

    // Four windows at a time, as Forward2x2Float: each window's winner gets 0 + δ (what the scalar loop adds to the
    // cleared gradient), its three other positions 0; the windows do not overlap. Returns the windows done.
    private static int Backward2x2Float(ref float top, int width, ref float delta, ref float gradients, int outputWidth)
    {
        Vector256<int> even = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        Vector256<int> odd = Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7);
        Vector256<int> spread = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        Vector256<float> oddLanes = Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
        ref float bottom = ref Unsafe.Add(ref top, width);
        ref float bottomGradients = ref Unsafe.Add(ref gradients, width);
        int j = 0;
        for (; (2 * j) + 8 <= width && j + 4 <= outputWidth; j += 4)
        {
            Vector256<float> upper = Vector256.LoadUnsafe(ref top, (nuint)(2 * j));
            Vector256<float> lower = Vector256.LoadUnsafe(ref bottom, (nuint)(2 * j));
            Vector256<float> upperEven = Vector256.Shuffle(upper, even), upperOdd = Vector256.Shuffle(upper, odd);
            Vector256<float> lowerEven = Vector256.Shuffle(lower, even), lowerOdd = Vector256.Shuffle(lower, odd);
            Vector256<float> upperTakesOdd = LaterWins(upperEven, upperOdd), lowerTakesOdd = LaterWins(lowerEven, lowerOdd);
            Vector256<float> below = LaterWins(
                Vector256.ConditionalSelect(upperTakesOdd, upperOdd, upperEven), Vector256.ConditionalSelect(lowerTakesOdd, lowerOdd, lowerEven));

            // Window k's lanes 2k and 2k + 1 of each row: the winner's lane gets 0 + δ.
            Vector256<float> d = Vector256.Shuffle(Vector128.LoadUnsafe(ref delta, (nuint)j).ToVector256(), spread) + Vector256<float>.Zero;
            Vector256<float> belowSpread = Vector256.Shuffle(below, spread);
            Vector256<float> upperColumn = ~(Vector256.Shuffle(upperTakesOdd, spread) ^ oddLanes);
            Vector256<float> lowerColumn = ~(Vector256.Shuffle(lowerTakesOdd, spread) ^ oddLanes);
            Vector256.ConditionalSelect(Vector256.AndNot(upperColumn, belowSpread), d, Vector256<float>.Zero).StoreUnsafe(ref gradients, (nuint)(2 * j));
            Vector256.ConditionalSelect(lowerColumn & belowSpread, d, Vector256<float>.Zero).StoreUnsafe(ref bottomGradients, (nuint)(2 * j));
        }

        return j;
    }

    // Lane by lane: all ones where the later value wins (larger, or NaN: Later), else 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LaterWins(Vector256<float> earlier, Vector256<float> later) =>
        Vector256.GreaterThan(later, earlier) | ~Vector256.Equals(later, later);

    // One pass over a batch's planes, split across the context's threads; the operands' addresses are pinned by the
    // caller for the length of the run. Each call takes the spare job, or a new one when a concurrent call holds it.
    private sealed unsafe class PoolJob(MaxPool2D<T> layer) : SampleParallelWork
    {
        private T* _inputs;
        private T* _values;
        private T* _inputGradients;

        internal void Begin(T* inputs, T* values, T* inputGradients)
        {
            _inputs = inputs;
            _values = values;
            _inputGradients = inputGradients;
        }

        protected override void RunRange(int part, int first, int end)
        {
            var g = layer._geometry!;
            int inputPlane = g.Height * g.Width, outputPlane = g.OutputHeight * g.OutputWidth;
            var inputs = new ReadOnlySpan<T>(_inputs, end * inputPlane);
            var values = new Span<T>(_values, end * outputPlane);
            if (_inputGradients == null)
            {
                layer.ForwardPlanes(inputs, values, first, end);
            }
            else
            {
                layer.BackwardPlanes(inputs, values, new Span<T>(_inputGradients, end * inputPlane), first, end);
            }
        }
    }

    /// <summary>The position in the plane of the window's largest value: the first of equal ones in row-major order,
    /// or the last NaN. The window is clipped to the input, so padding never wins.</summary>
    private static int Winner(ReadOnlySpan<T> x, int width, int rowStart, int rowEnd, int columnStart, int columnEnd)
    {
        int best = rowStart * width + columnStart;
        T bestValue = x[best];
        if (rowEnd - rowStart == 2 && columnEnd - columnStart == 2)
        {
            // The common 2×2 window, unrolled: the same comparisons in the same order as the loop below.
            int next = best + 1, below = best + width, diagonal = below + 1;
            T value = x[next];
            if (value > bestValue || T.IsNaN(value))
            {
                (bestValue, best) = (value, next);
            }

            value = x[below];
            if (value > bestValue || T.IsNaN(value))
            {
                (bestValue, best) = (value, below);
            }

            value = x[diagonal];
            return value > bestValue || T.IsNaN(value) ? diagonal : best;
        }

        for (int r = rowStart; r < rowEnd; r++)
        {
            ReadOnlySpan<T> row = x.Slice(r * width, columnEnd);
            for (int c = columnStart; c < columnEnd; c++)
            {
                T value = row[c];
                if (value > bestValue || T.IsNaN(value))
                {
                    bestValue = value;
                    best = r * width + c;
                }
            }
        }

        return best;
    }

    /// <summary>Adds the layer to an ONNX graph: Reshape to [N, C, H, W], MaxPool with the resolved kernel_shape,
    /// strides and pads, and Flatten back to [N, C·H′·W′].</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value, [N, C·H·W].</param>
    /// <returns>The name of the output value, [N, C·H′·W′].</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        string image = graph.AddReshape(input, InputShape!);
        string pooled = graph.Name("pooled");
        graph.AddNode("MaxPool", graph.Name("max_pool"), [image], pooled, _geometry!.OnnxAttributes());
        return graph.AddFlatten(pooled);
    }
}
