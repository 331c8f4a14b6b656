using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>Samples held in memory, read as a <see cref="ISampleSource{T}"/>: for code that trains from any source,
/// and for comparing streamed training with in-memory training. The matrices are copied when the source is made.</summary>
/// <remarks>
/// <para>Streamed with a <see cref="FitOptions.ShuffleBufferSize"/> of at least <see cref="Count"/> rows, it trains
/// bit for bit as <c>Fit</c> on the same matrices.</para>
/// <para>Thread safety: immutable once made (it holds its own copy of the data): <see cref="OpenReader"/> may be called
/// from any number of threads at once; each reader keeps its own position and is for one thread at a time.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class InMemorySampleSource<T> : ISampleSource<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _inputs;
    private readonly T[] _targets;
    private readonly int[]? _classes;

    /// <summary>Samples with target rows; the source has classes when every target row is one-hot and there are at least two columns.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="name">The name of the data in error messages.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The matrices differ in rows, or hold a value that is not finite.</exception>
    public InMemorySampleSource(Matrix<T> inputs, Matrix<T> targets, string name = "in-memory data")
    {
        ArgumentNullException.ThrowIfNull(targets);
        _inputs = RowMajor(inputs, nameof(inputs));
        if (targets.RowCount != inputs.RowCount)
        {
            throw new ArgumentException($"targets has {targets.RowCount} rows, but there are {inputs.RowCount} input samples; every sample needs one target row.", nameof(targets));
        }

        _targets = RowMajor(targets, nameof(targets));
        (Name, Count, InputSize, OutputSize) = (name ?? throw new ArgumentNullException(nameof(name)), inputs.RowCount, inputs.ColumnCount, targets.ColumnCount);
        _classes = OneHot.ClassesOfOneHotRows<T>(_targets, Count, OutputSize);
    }

    /// <summary>Samples with class labels, turned into one-hot target rows of <paramref name="classCount"/> columns.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row, each in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">The number of classes: the network's output size.</param>
    /// <param name="name">The name of the data in error messages.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The counts of rows and labels differ, or an input is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is less than 1, or a label is outside [0, <paramref name="classCount"/>).</exception>
    public InMemorySampleSource(Matrix<T> inputs, int[] labels, int classCount, string name = "in-memory data")
    {
        ArgumentNullException.ThrowIfNull(labels);
        _inputs = RowMajor(inputs, nameof(inputs));
        if (labels.Length != inputs.RowCount)
        {
            throw new ArgumentException($"labels has {labels.Length} labels, but there are {inputs.RowCount} input samples; every sample needs one label.", nameof(labels));
        }

        _targets = OneHot.Encode<T>(labels, classCount).ToRowMajorArray();
        (Name, Count, InputSize, OutputSize) = (name ?? throw new ArgumentNullException(nameof(name)), inputs.RowCount, inputs.ColumnCount, classCount);
        _classes = (int[])labels.Clone();
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <inheritdoc />
    public int InputSize { get; }

    /// <inheritdoc />
    public int OutputSize { get; }

    /// <inheritdoc />
    public bool HasClasses => _classes is not null;

    /// <inheritdoc />
    public ISampleReader<T> OpenReader() => new Reader(this);

    private static T[] RowMajor(Matrix<T> matrix, string paramName)
    {
        ArgumentNullException.ThrowIfNull(matrix, paramName);
        T[] values = matrix.ToRowMajorArray();
        Guard.FiniteValues<T>(values, matrix.ColumnCount, paramName);
        return values;
    }

    private sealed class Reader(InMemorySampleSource<T> source) : SampleReader<T>(source.InputSize, source.OutputSize)
    {
        private int _next;

        protected override int ReadRows(Span<T> inputs, Span<T> targets, Span<int> classes, int rows)
        {
            int count = Math.Min(rows, source.Count - _next);
            source._inputs.AsSpan(_next * source.InputSize, count * source.InputSize).CopyTo(inputs);
            source._targets.AsSpan(_next * source.OutputSize, count * source.OutputSize).CopyTo(targets);
            if (!classes.IsEmpty && source._classes is not null)
            {
                source._classes.AsSpan(_next, count).CopyTo(classes);
            }

            _next += count;
            return count;
        }
    }
}
