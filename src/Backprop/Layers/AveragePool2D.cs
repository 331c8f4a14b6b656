using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// 2-D average pooling over channels-first samples (C × H × W → C × H′ × W′): each output is the mean of its window,
/// channel by channel.
/// </summary>
/// <remarks>
/// <para>Forward: a[c, i, j] = (1 / d) · Σ over (u, v) in the window of x[c, i·sh − top + u, j·sw − left + v], for
/// u &lt; kh and v &lt; kw, where padding positions contribute 0 and the divisor d is kh·kw when
/// <see cref="CountIncludePad"/> is true (the default, as PyTorch's count_include_pad=True and ONNX's
/// count_include_pad = 1), or the number of window positions inside the input when it is false (Keras's and
/// TensorFlow's "same" average pooling). The output has ⌊(H + top + bottom − kh) / sh⌋ + 1 rows and likewise columns
/// (see <see cref="Padding"/>); every window lies within the padded input, so d = kh·kw exactly in the first case.</para>
/// <para>Local gradients: the layer has no activation, so δ = ∂L/∂a. Backward: ∂L/∂x[c, p] = Σ δ[c, i, j] / d(i, j)
/// over the outputs (i, j) whose window holds p.</para>
/// <para>The layer keeps nothing for backward (<see cref="SavedForBackwardName"/> "none"): the mean is linear.</para>
/// <para>ONNX: Reshape to [N, C, H, W], AveragePool (kernel_shape, strides, pads with the resolved padding,
/// count_include_pad), Flatten.</para>
/// <para>Thread safety: the layer has no parameters and writes none of its own fields after it is built: any number of
/// forward passes may run at once.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class AveragePool2D<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private PoolGeometry? _geometry;

    /// <summary>Creates an average pooling over square windows of <paramref name="size"/> × <paramref name="size"/>.</summary>
    /// <param name="size">The window's height and width; at least 1.</param>
    /// <param name="stride">The step between windows along both axes, at least 1; the window size when null, as in
    /// PyTorch and Keras (windows that tile the input).</param>
    /// <param name="padding">The padding; <see cref="Padding.Valid"/> by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> or <paramref name="stride"/> is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public AveragePool2D(int size, int? stride = null, Padding padding = default)
        : this(size, size, stride ?? size, stride ?? size, padding)
    {
    }

    /// <summary>Creates an average pooling over windows of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="height">The window's height; at least 1.</param>
    /// <param name="width">The window's width; at least 1.</param>
    /// <param name="strideHeight">The step between windows down the rows; at least 1.</param>
    /// <param name="strideWidth">The step between windows along the columns; at least 1.</param>
    /// <param name="padding">The padding; <see cref="Padding.Valid"/> by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or stride is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public AveragePool2D(int height, int width, int strideHeight, int strideWidth, Padding padding = default)
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

    /// <summary>Whether padding positions count in the divisor of windows that overlap the padding: true (the
    /// default) divides every sum by kh·kw, as PyTorch's count_include_pad=True; false divides by the number of input
    /// positions in the window, as Keras. No effect with <see cref="Padding.Valid"/>.</summary>
    public bool CountIncludePad { get; init; } = true;

    /// <summary>"none": the mean is linear, so backward needs no saved values.</summary>
    public override string SavedForBackwardName => "none";

    /// <summary>0: nothing is kept.</summary>
    public override int SavedForBackwardSize => 0;

    /// <summary>One addition per window element: C·H′·W′·kh·kw.</summary>
    public override long FlopsPerSample => (long)OutputSize * WindowHeight * WindowWidth;

    /// <summary>"average_pool2d", the name model files store the layer under.</summary>
    public string TypeName => "average_pool2d";

    /// <summary>Writes window (height, width), strides (height, width), padding, pads when explicit, and count_include_pad.</summary>
    /// <param name="settings">Receives the settings.</param>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("window", (ReadOnlySpan<long>)[WindowHeight, WindowWidth]).Set("strides", (ReadOnlySpan<long>)[StrideHeight, StrideWidth]);
        Padding.Write(settings);
        settings.Set("count_include_pad", CountIncludePad);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "AveragePool2D(2×2, stride 2×2, valid)".</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"AveragePool2D({WindowHeight}×{WindowWidth}, stride {StrideHeight}×{StrideWidth}, {Padding}{(CountIncludePad || Padding.Mode == PaddingMode.Valid ? "" : ", excluding padding")})");

    /// <inheritdoc />
    /// <remarks>Takes C × H × W and returns C × H′ × W′.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        _geometry = PoolGeometry.Resolve(ToString(), inputShape, WindowHeight, WindowWidth, StrideHeight, StrideWidth, Padding);
        return _geometry.OutputShape;
    }

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        var g = _geometry!;
        int planes = rows * g.Channels, inputPlane = g.Height * g.Width, outputPlane = g.OutputHeight * g.OutputWidth;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> x = inputs.Slice(p * inputPlane, inputPlane);
            Span<T> a = activations.Slice(p * outputPlane, outputPlane);
            for (int i = 0; i < g.OutputHeight; i++)
            {
                var (rowStart, rowEnd) = g.Rows(i);
                for (int j = 0; j < g.OutputWidth; j++)
                {
                    var (columnStart, columnEnd) = g.Columns(j);
                    // The window's sum in row-major order, then one division by d.
                    T sum = T.Zero;
                    for (int r = rowStart; r < rowEnd; r++)
                    {
                        ReadOnlySpan<T> row = x.Slice(r * g.Width, columnEnd);
                        for (int c = columnStart; c < columnEnd; c++)
                        {
                            sum += row[c];
                        }
                    }

                    a[i * g.OutputWidth + j] = sum / Divisor(rowEnd - rowStart, columnEnd - columnStart);
                }
            }
        }
    }

    /// <inheritdoc />
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        // δ = ∂L/∂a: no activation.
        outputGradients.CopyTo(localGradients);

    /// <inheritdoc />
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        if (inputGradients.IsEmpty)
        {
            return;
        }

        // ∂L/∂x[p] = Σ δ / d over the windows that hold p, in output order.
        var g = _geometry!;
        int planes = rows * g.Channels, inputPlane = g.Height * g.Width, outputPlane = g.OutputHeight * g.OutputWidth;
        inputGradients.Clear();
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> delta = localGradients.Slice(p * outputPlane, outputPlane);
            Span<T> dx = inputGradients.Slice(p * inputPlane, inputPlane);
            for (int i = 0; i < g.OutputHeight; i++)
            {
                var (rowStart, rowEnd) = g.Rows(i);
                for (int j = 0; j < g.OutputWidth; j++)
                {
                    var (columnStart, columnEnd) = g.Columns(j);
                    T share = delta[i * g.OutputWidth + j] / Divisor(rowEnd - rowStart, columnEnd - columnStart);
                    for (int r = rowStart; r < rowEnd; r++)
                    {
                        Span<T> row = dx.Slice(r * g.Width, columnEnd);
                        for (int c = columnStart; c < columnEnd; c++)
                        {
                            row[c] += share;
                        }
                    }
                }
            }
        }
    }

    /// <summary>d: kh·kw, or the window's positions inside the input when padding is not counted.</summary>
    private T Divisor(int rows, int columns) => T.CreateTruncating(CountIncludePad ? WindowHeight * WindowWidth : rows * columns);

    /// <summary>Adds the layer to an ONNX graph: Reshape to [N, C, H, W], AveragePool with the resolved kernel_shape,
    /// strides, pads and count_include_pad, and Flatten back to [N, C·H′·W′].</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value, [N, C·H·W].</param>
    /// <returns>The name of the output value, [N, C·H′·W′].</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        string image = graph.AddReshape(input, InputShape!);
        string pooled = graph.Name("pooled");
        graph.AddNode("AveragePool", graph.Name("average_pool"), [image], pooled,
            [.. _geometry!.OnnxAttributes(), OnnxAttribute.Int("count_include_pad", CountIncludePad ? 1 : 0)]);
        return graph.AddFlatten(pooled);
    }
}
