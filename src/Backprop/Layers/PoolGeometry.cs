using System.Globalization;

namespace Backprop;

/// <summary>
/// The shapes of a 2-D pooling over channels-first samples (C × H × W → C × H′ × W′): the window, strides and padding
/// resolved against one input shape, and the window of each output position.
/// </summary>
/// <remarks>Output position (i, j) of a channel reads the input rows i·sh − top … i·sh − top + kh − 1 and columns
/// j·sw − left … j·sw − left + kw − 1; those outside the input are padding (see <see cref="Padding"/>).</remarks>
internal sealed class PoolGeometry
{
    private PoolGeometry(int channels, int height, int width, int windowHeight, int windowWidth, int strideHeight, int strideWidth,
        int top, int bottom, int left, int right, int outputHeight, int outputWidth)
    {
        Channels = channels;
        Height = height;
        Width = width;
        WindowHeight = windowHeight;
        WindowWidth = windowWidth;
        StrideHeight = strideHeight;
        StrideWidth = strideWidth;
        Top = top;
        Bottom = bottom;
        Left = left;
        Right = right;
        OutputHeight = outputHeight;
        OutputWidth = outputWidth;
    }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int WindowHeight { get; }

    public int WindowWidth { get; }

    public int StrideHeight { get; }

    public int StrideWidth { get; }

    public int Top { get; }

    public int Bottom { get; }

    public int Left { get; }

    public int Right { get; }

    public int OutputHeight { get; }

    public int OutputWidth { get; }

    public TensorShape OutputShape => TensorShape.Image(Channels, OutputHeight, OutputWidth);

    /// <summary>Resolves the window against an input shape, or throws <see cref="ArgumentException"/> saying why it cannot.</summary>
    public static PoolGeometry Resolve(string layer, TensorShape input, int windowHeight, int windowWidth, int strideHeight, int strideWidth, Padding padding)
    {
        if (input.Rank != 3)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{layer} needs channels × height × width (rank 3) input, but it gets {input} (rank {input.Rank}); start the network with TensorShape.Image(channels, height, width)."),
                nameof(input));
        }

        int channels = input[0], height = input[1], width = input[2];
        if (padding.Mode == PaddingMode.Explicit && (padding.Top >= windowHeight || padding.Bottom >= windowHeight || padding.Left >= windowWidth || padding.Right >= windowWidth))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{layer} has padding {padding}, but each side's padding must be less than the {windowHeight}×{windowWidth} window along its axis, so that every window holds part of the input."),
                nameof(input));
        }

        var (top, bottom, outputHeight) = padding.Resolve(height, windowHeight, strideHeight, padding.Top, padding.Bottom);
        var (left, right, outputWidth) = padding.Resolve(width, windowWidth, strideWidth, padding.Left, padding.Right);
        if (outputHeight < 1 || outputWidth < 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{layer}'s {windowHeight}×{windowWidth} window is larger than its {padding}-padded input {input} ({height + top + bottom}×{width + left + right} with padding)."),
                nameof(input));
        }

        return new PoolGeometry(channels, height, width, windowHeight, windowWidth, strideHeight, strideWidth, top, bottom, left, right, outputHeight, outputWidth);
    }

    /// <summary>The input rows [start, end) of output row <paramref name="i"/>, clipped to the input.</summary>
    public (int Start, int End) Rows(int i)
    {
        int start = i * StrideHeight - Top;
        return (Math.Max(start, 0), Math.Min(start + WindowHeight, Height));
    }

    /// <summary>The input columns [start, end) of output column <paramref name="j"/>, clipped to the input.</summary>
    public (int Start, int End) Columns(int j)
    {
        int start = j * StrideWidth - Left;
        return (Math.Max(start, 0), Math.Min(start + WindowWidth, Width));
    }

    /// <summary>The ONNX attributes kernel_shape, strides and pads (top, left, bottom, right) of this pooling.</summary>
    public OnnxAttribute[] OnnxAttributes() =>
    [
        OnnxAttribute.Ints("kernel_shape", WindowHeight, WindowWidth),
        OnnxAttribute.Ints("strides", StrideHeight, StrideWidth),
        OnnxAttribute.Ints("pads", Top, Left, Bottom, Right),
    ];
}
