using System.Globalization;

namespace Backprop;

/// <summary>How a two-dimensional window layer (<see cref="Conv2D{T}"/>) pads its input's height and width: not at all
/// (<see cref="Valid"/>), so that the output keeps ⌈size / stride⌉ (<see cref="Same"/>), or by explicit amounts.</summary>
public enum PaddingMode
{
    /// <summary>No padding: the window stays inside the input, output = ⌊(size − kernel) / stride⌋ + 1.</summary>
    Valid,

    /// <summary>Zeros around the input so that output = ⌈size / stride⌉, as Keras's and TensorFlow's "same" and ONNX's
    /// SAME_UPPER: the total padding max(0, (output − 1)·stride + kernel − size) is split with the odd one at the bottom
    /// and right (PyTorch's padding="same" for stride 1 does the same).</summary>
    Same,

    /// <summary>Given numbers of zero rows and columns at the top, left, bottom and right.</summary>
    Explicit,
}

/// <summary>
/// The padding of a two-dimensional window layer: <see cref="Valid"/>, <see cref="Same"/>, or explicit zero rows and
/// columns on each side (<see cref="Symmetric"/>, <see cref="Explicit"/>).
/// </summary>
/// <remarks>
/// <para>With padding (top, left, bottom, right), kernel kh × kw and stride sh × sw, an input of H × W gives an output
/// of ⌊(H + top + bottom − kh) / sh⌋ + 1 by ⌊(W + left + right − kw) / sw⌋ + 1; the padded values are zeros.</para>
/// <para>The default value is <see cref="Valid"/>. Thread safety: an immutable value.</para>
/// </remarks>
public readonly record struct Padding2D
{
    private Padding2D(PaddingMode mode, int top, int left, int bottom, int right)
    {
        Mode = mode;
        Top = top;
        Left = left;
        Bottom = bottom;
        Right = right;
    }

    /// <summary>No padding.</summary>
    public static Padding2D Valid => default;

    /// <summary>Padding that keeps ⌈size / stride⌉ (see <see cref="PaddingMode.Same"/>); its amounts depend on the input
    /// size and are worked out when the layer is built.</summary>
    public static Padding2D Same => new(PaddingMode.Same, 0, 0, 0, 0);

    /// <summary>Which kind of padding this is.</summary>
    public PaddingMode Mode { get; }

    /// <summary>The zero rows above the input (explicit padding only; 0 otherwise).</summary>
    public int Top { get; }

    /// <summary>The zero columns left of the input (explicit padding only; 0 otherwise).</summary>
    public int Left { get; }

    /// <summary>The zero rows below the input (explicit padding only; 0 otherwise).</summary>
    public int Bottom { get; }

    /// <summary>The zero columns right of the input (explicit padding only; 0 otherwise).</summary>
    public int Right { get; }

    /// <summary>Explicit padding of <paramref name="height"/> zero rows above and below and <paramref name="width"/>
    /// zero columns left and right, as PyTorch's <c>padding=(h, w)</c>.</summary>
    /// <param name="height">The rows added above and below; at least 0.</param>
    /// <param name="width">The columns added left and right; at least 0.</param>
    /// <returns>The padding.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="height"/> or <paramref name="width"/> is negative.</exception>
    public static Padding2D Symmetric(int height, int width) => Explicit(height, width, height, width);

    /// <summary>Explicit padding on each side, in ONNX's order of <c>pads</c>.</summary>
    /// <param name="top">The rows added above; at least 0.</param>
    /// <param name="left">The columns added left; at least 0.</param>
    /// <param name="bottom">The rows added below; at least 0.</param>
    /// <param name="right">The columns added right; at least 0.</param>
    /// <returns>The padding.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An amount is negative.</exception>
    public static Padding2D Explicit(int top, int left, int bottom, int right)
    {
        NotNegative(top, nameof(top));
        NotNegative(left, nameof(left));
        NotNegative(bottom, nameof(bottom));
        NotNegative(right, nameof(right));
        return new Padding2D(PaddingMode.Explicit, top, left, bottom, right);
    }

    /// <summary>Describes the padding.</summary>
    /// <returns>"valid", "same", or for example "pad 1,1,1,1" (top, left, bottom, right).</returns>
    public override string ToString() => Mode switch
    {
        PaddingMode.Valid => "valid",
        PaddingMode.Same => "same",
        _ => string.Create(CultureInfo.InvariantCulture, $"pad {Top},{Left},{Bottom},{Right}"),
    };

    /// <summary>The amounts for an input of <paramref name="height"/> × <paramref name="width"/>.</summary>
    internal (int Top, int Left, int Bottom, int Right) Resolve(int height, int width, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth)
    {
        switch (Mode)
        {
            case PaddingMode.Valid:
                return (0, 0, 0, 0);
            case PaddingMode.Same:
                var (top, bottom) = SameAmounts(height, kernelHeight, strideHeight);
                var (left, right) = SameAmounts(width, kernelWidth, strideWidth);
                return (top, left, bottom, right);
            default:
                return (Top, Left, Bottom, Right);
        }
    }

    private static (int Before, int After) SameAmounts(int size, int kernel, int stride)
    {
        int output = (size + stride - 1) / stride;
        int total = Math.Max(0, ((output - 1) * stride) + kernel - size);
        return (total / 2, total - (total / 2));
    }

    /// <summary>Writes "padding" ("valid", "same" or "explicit") and, for explicit padding, "pads" (top, left, bottom, right).</summary>
    internal void WriteTo(ComponentSettings settings)
    {
        settings.Set("padding", Mode switch
        {
            PaddingMode.Valid => "valid",
            PaddingMode.Same => "same",
            _ => "explicit",
        });
        if (Mode == PaddingMode.Explicit)
        {
            ReadOnlySpan<long> pads = [Top, Left, Bottom, Right];
            settings.Set("pads", pads);
        }
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
    /// <exception cref="ArgumentException">The mode is unknown, or the pads are not four amounts of at least 0.</exception>
    internal static Padding2D ReadFrom(ComponentSettings settings)
    {
        string mode = settings.GetString("padding");
        switch (mode)
        {
            case "valid":
                return Valid;
            case "same":
                return Same;
            case "explicit":
                long[] pads = settings.GetInt64s("pads");
                if (pads.Length != 4 || pads.Any(p => p < 0 || p > int.MaxValue))
                {
                    throw new ArgumentException($"The padding \"pads\" must be four amounts (top, left, bottom, right) of at least 0, but they are [{string.Join(", ", pads)}].", nameof(settings));
                }

                return Explicit((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]);
            default:
                throw new ArgumentException($"The padding must be \"valid\", \"same\" or \"explicit\", but it is \"{mode}\".", nameof(settings));
        }
    }

    private static void NotNegative(int value, string paramName)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} padding must be at least 0, but it is {value}.");
        }
    }
}
