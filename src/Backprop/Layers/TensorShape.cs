using System.Globalization;

namespace Backprop;

/// <summary>
/// The shape of one sample as it flows between layers, or of a parameter: a list of positive dimensions, stored
/// row-major (the last dimension varies fastest), as in ONNX and PyTorch.
/// </summary>
/// <remarks>
/// <para>Common shapes: features (<see cref="Vector"/>, rank 1); channels × height × width (<see cref="Image"/>, rank 3,
/// channels first); steps × features (<see cref="Sequence"/>, rank 2). A batch is always rows of
/// <see cref="Size"/> values, one sample after another, whatever the shape: the shape says how a layer reads a row.</para>
/// <para>An <see cref="int"/> converts implicitly to a rank-1 shape, so <c>TensorShape s = 784;</c> is a vector of 784
/// features.</para>
/// <para>Thread safety: immutable: safe to share between threads.</para>
/// </remarks>
public sealed class TensorShape : IEquatable<TensorShape>
{
    private readonly int[] _dimensions;

    /// <summary>Creates a shape from its dimensions, outermost first.</summary>
    /// <param name="dimensions">One or more dimensions, each at least 1, whose product is at most <see cref="int.MaxValue"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dimensions"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="dimensions"/> is empty, holds a dimension below 1, or its product exceeds <see cref="int.MaxValue"/>.</exception>
    public TensorShape(params int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        if (dimensions.Length == 0)
        {
            throw new ArgumentException("dimensions must hold at least one dimension, but it is empty.", nameof(dimensions));
        }

        long size = 1;
        for (int i = 0; i < dimensions.Length; i++)
        {
            if (dimensions[i] < 1)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"dimensions[{i}] must be at least 1, but it is {dimensions[i]}."), nameof(dimensions));
            }

            size *= dimensions[i];
            if (size > int.MaxValue)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"dimensions ({string.Join(", ", dimensions)}) hold more than {int.MaxValue} values."), nameof(dimensions));
            }
        }

        _dimensions = (int[])dimensions.Clone();
        Size = (int)size;
    }

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dimensions.Length;

    /// <summary>The number of values: the product of the dimensions.</summary>
    public int Size { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<int> Dimensions => _dimensions;

    /// <summary>One dimension.</summary>
    /// <param name="index">0 for the outermost.</param>
    /// <returns>The dimension's length.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Rank"/>).</exception>
    public int this[int index] => _dimensions[index];

    /// <summary>A vector of features (rank 1).</summary>
    /// <param name="features">The number of features; at least 1.</param>
    /// <returns>The shape (features).</returns>
    /// <exception cref="ArgumentException"><paramref name="features"/> is less than 1.</exception>
    public static TensorShape Vector(int features) => new(features);

    /// <summary>An image, channels first (rank 3), as ONNX and PyTorch store it.</summary>
    /// <param name="channels">The number of channels; at least 1.</param>
    /// <param name="height">The number of rows of pixels; at least 1.</param>
    /// <param name="width">The number of columns of pixels; at least 1.</param>
    /// <returns>The shape (channels, height, width).</returns>
    /// <exception cref="ArgumentException">A dimension is less than 1.</exception>
    public static TensorShape Image(int channels, int height, int width) => new(channels, height, width);

    /// <summary>A sequence of steps, each a vector of features (rank 2).</summary>
    /// <param name="steps">The number of steps; at least 1.</param>
    /// <param name="features">The number of features per step; at least 1.</param>
    /// <returns>The shape (steps, features).</returns>
    /// <exception cref="ArgumentException">A dimension is less than 1.</exception>
    public static TensorShape Sequence(int steps, int features) => new(steps, features);

    /// <summary>A vector of <paramref name="features"/> values.</summary>
    /// <param name="features">The number of features; at least 1.</param>
    /// <exception cref="ArgumentException"><paramref name="features"/> is less than 1.</exception>
    public static implicit operator TensorShape(int features) => new(features);

    /// <summary>A vector of <paramref name="features"/> values (the named form of the implicit conversion).</summary>
    /// <param name="features">The number of features; at least 1.</param>
    /// <returns>The shape (features).</returns>
    /// <exception cref="ArgumentException"><paramref name="features"/> is less than 1.</exception>
    public static TensorShape FromInt32(int features) => new(features);

    /// <summary>Whether two shapes have the same dimensions.</summary>
    /// <param name="left">A shape, or null.</param>
    /// <param name="right">A shape, or null.</param>
    /// <returns>True when both are null or equal.</returns>
    public static bool operator ==(TensorShape? left, TensorShape? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Whether two shapes differ.</summary>
    /// <param name="left">A shape, or null.</param>
    /// <param name="right">A shape, or null.</param>
    /// <returns>True unless both are null or equal.</returns>
    public static bool operator !=(TensorShape? left, TensorShape? right) => !(left == right);

    /// <summary>The dimensions as a new array.</summary>
    /// <returns>A copy of <see cref="Dimensions"/>.</returns>
    public int[] ToArray() => (int[])_dimensions.Clone();

    /// <summary>The multi-index of a flat row-major position.</summary>
    /// <param name="flatIndex">A position in [0, <see cref="Size"/>).</param>
    /// <returns>One coordinate per dimension.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="flatIndex"/> is outside [0, <see cref="Size"/>).</exception>
    public int[] IndexOf(int flatIndex)
    {
        if ((uint)flatIndex >= (uint)Size)
        {
            throw new ArgumentOutOfRangeException(nameof(flatIndex), flatIndex, $"flatIndex must be in [0, {Size - 1}], but it is {flatIndex}.");
        }

        var index = new int[Rank];
        for (int d = Rank - 1; d >= 0; d--)
        {
            index[d] = flatIndex % _dimensions[d];
            flatIndex /= _dimensions[d];
        }

        return index;
    }

    /// <inheritdoc />
    public bool Equals(TensorShape? other) => other is not null && _dimensions.AsSpan().SequenceEqual(other._dimensions);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TensorShape);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (int d in _dimensions)
        {
            hash.Add(d);
        }

        return hash.ToHashCode();
    }

    /// <summary>The dimensions joined by ×.</summary>
    /// <returns>For example "1×28×28", or "784" for a vector.</returns>
    public override string ToString() => string.Join("×", _dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture)));
}
