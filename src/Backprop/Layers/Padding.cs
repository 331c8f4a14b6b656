using System.Globalization;

namespace Backprop;

/// <summary>How a spatial layer (pooling, convolution) pads its input's height and width: <see cref="Valid"/> (no
/// padding), <see cref="Same"/> (enough that the output has ⌈input / stride⌉ positions), or an explicit number of
/// rows and columns on each side.</summary>
/// <remarks>
/// <para>For an input of n positions, a window of k and a stride s along one axis, with p₀ positions of padding before
/// and p₁ after, the output has ⌊(n + p₀ + p₁ − k) / s⌋ + 1 positions, and output position o reads input positions
/// o·s − p₀ … o·s − p₀ + k − 1 (those outside [0, n) are padding).</para>
/// <para><see cref="Valid"/>: p₀ = p₁ = 0, which needs n ≥ k. <see cref="Same"/>: as TensorFlow's and ONNX's SAME_UPPER,
/// the output has ⌈n / s⌉ positions and the total padding P = max((⌈n / s⌉ − 1)·s + k − n, 0) is split with
/// p₀ = ⌊P / 2⌋ before and the rest after (PyTorch's padding="same" for stride 1 splits it the same way).
/// <see cref="Explicit(int, int)"/> and <see cref="Explicit(int, int, int, int)"/>: the given counts, each less than the
/// window along its axis, so that every window holds at least one input position.</para>
/// <para>The default value of the type is <see cref="Valid"/>.</para>
/// <para>Thread safety: an immutable value: safe to share between threads.</para>
/// </remarks>
public readonly struct Padding : IEquatable<Padding>
{
    private Padding(PaddingMode mode, int top, int bottom, int left, int right)
    {
        Mode = mode;
        Top = top;
        Bottom = bottom;
        Left = left;
        Right = right;
    }

    /// <summary>No padding: windows lie wholly inside the input.</summary>
    public static Padding Valid => default;

    /// <summary>Padding that gives ⌈input / stride⌉ output positions along each axis, split evenly with any odd one
    /// after (below and to the right), as TensorFlow's and ONNX's SAME_UPPER.</summary>
    public static Padding Same => new(PaddingMode.Same, 0, 0, 0, 0);

    /// <summary>Which kind of padding this is.</summary>
    public PaddingMode Mode { get; }

    /// <summary>Rows of padding above the input; 0 unless <see cref="Mode"/> is <see cref="PaddingMode.Explicit"/>
    /// (<see cref="PaddingMode.Same"/> works its counts out from the shapes).</summary>
    public int Top { get; }

    /// <summary>Rows of padding below the input; 0 unless <see cref="Mode"/> is <see cref="PaddingMode.Explicit"/>.</summary>
    public int Bottom { get; }

    /// <summary>Columns of padding left of the input; 0 unless <see cref="Mode"/> is <see cref="PaddingMode.Explicit"/>.</summary>
    public int Left { get; }

    /// <summary>Columns of padding right of the input; 0 unless <see cref="Mode"/> is <see cref="PaddingMode.Explicit"/>.</summary>
    public int Right { get; }

    /// <summary>The same padding on both sides of each axis, as PyTorch's padding=(rows, columns).</summary>
    /// <param name="rows">Rows above and below; at least 0.</param>
    /// <param name="columns">Columns left and right; at least 0.</param>
    /// <returns>The padding.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    public static Padding Explicit(int rows, int columns) => Explicit(rows, rows, columns, columns);

    /// <summary>Padding of its own on each side.</summary>
    /// <param name="top">Rows above; at least 0.</param>
    /// <param name="bottom">Rows below; at least 0.</param>
    /// <param name="left">Columns on the left; at least 0.</param>
    /// <param name="right">Columns on the right; at least 0.</param>
    /// <returns>The padding.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public static Padding Explicit(int top, int bottom, int left, int right)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        ArgumentOutOfRangeException.ThrowIfNegative(bottom);
        ArgumentOutOfRangeException.ThrowIfNegative(left);
        ArgumentOutOfRangeException.ThrowIfNegative(right);
        return new Padding(PaddingMode.Explicit, top, bottom, left, right);
    }

    /// <summary>Whether two paddings are the same mode with the same counts.</summary>
    /// <param name="left">A padding.</param>
    /// <param name="right">A padding.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(Padding left, Padding right) => left.Equals(right);

    /// <summary>Whether two paddings differ.</summary>
    /// <param name="left">A padding.</param>
    /// <param name="right">A padding.</param>
    /// <returns>True unless equal.</returns>
    public static bool operator !=(Padding left, Padding right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(Padding other) =>
        Mode == other.Mode && Top == other.Top && Bottom == other.Bottom && Left == other.Left && Right == other.Right;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Padding other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Mode, Top, Bottom, Left, Right);

    /// <summary>Describes the padding.</summary>
    /// <returns>"valid", "same", or for example "explicit(1, 1, 2, 2)" (top, bottom, left, right).</returns>
    public override string ToString() => Mode switch
    {
        PaddingMode.Same => "same",
        PaddingMode.Explicit => string.Create(CultureInfo.InvariantCulture, $"explicit({Top}, {Bottom}, {Left}, {Right})"),
        _ => "valid",
    };

    /// <summary>The padding before and after along one axis, and the number of output positions.</summary>
    /// <param name="input">n, the input positions.</param>
    /// <param name="window">k, the window.</param>
    /// <param name="stride">s, the stride.</param>
    /// <param name="explicitBefore">The explicit count before (used in explicit mode).</param>
    /// <param name="explicitAfter">The explicit count after (used in explicit mode).</param>
    /// <returns>p₀, p₁ and the output positions; output 0 or less when the window does not fit.</returns>
    internal (int Before, int After, int Output) Resolve(int input, int window, int stride, int explicitBefore, int explicitAfter)
    {
        switch (Mode)
        {
            case PaddingMode.Same:
                int output = (int)(((long)input + stride - 1) / stride);
                long total = Math.Max(((long)output - 1) * stride + window - input, 0);
                int before = (int)(total / 2);
                return (before, (int)(total - before), output);
            case PaddingMode.Explicit:
                long padded = (long)input + explicitBefore + explicitAfter;
                return (explicitBefore, explicitAfter, padded < window ? 0 : (int)((padded - window) / stride) + 1);
            default:
                return (0, 0, input < window ? 0 : ((input - window) / stride) + 1);
        }
    }

    /// <summary>Writes the padding as settings: "padding" ("valid", "same" or "explicit") and, when explicit, "pads"
    /// (top, bottom, left, right).</summary>
    internal void Write(ComponentSettings settings)
    {
        settings.Set("padding", Mode switch { PaddingMode.Same => "same", PaddingMode.Explicit => "explicit", _ => "valid" });
        if (Mode == PaddingMode.Explicit)
        {
            settings.Set("pads", (ReadOnlySpan<long>)[Top, Bottom, Left, Right]);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    internal static Padding Read(ComponentSettings settings)
    {
        switch (settings.GetString("padding"))
        {
            case "valid":
                return Valid;
            case "same":
                return Same;
            case "explicit":
                long[] pads = settings.GetInt64s("pads");
                if (pads.Length != 4 || pads.Any(p => p < 0 || p > int.MaxValue))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"The explicit pads must be four counts (top, bottom, left, right) in [0, {int.MaxValue}], but they are [{string.Join(", ", pads)}]."), nameof(settings));
                }

                return Explicit((int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]);
            case string other:
                throw new ArgumentException($"The padding must be \"valid\", \"same\" or \"explicit\", but it is \"{other}\".", nameof(settings));
        }

        throw new ArgumentException("The padding is missing.", nameof(settings));
    }
}

/// <summary>The kinds of <see cref="Padding"/>.</summary>
public enum PaddingMode
{
    /// <summary>No padding.</summary>
    Valid = 0,

    /// <summary>Padding worked out from the shapes so that the output has ⌈input / stride⌉ positions.</summary>
    Same = 1,

    /// <summary>Given counts on each side.</summary>
    Explicit = 2,
}
