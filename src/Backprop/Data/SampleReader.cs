using System.Numerics;

namespace Backprop.Data;

/// <summary>What the built-in readers share: the checks of the caller's spans, the end of the data (0 on every call
/// after the last sample) and disposal.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal abstract class SampleReader<T> : ISampleReader<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _inputSize;
    private readonly int _outputSize;
    private bool _ended;
    private bool _disposed;

    protected SampleReader(int inputSize, int outputSize)
    {
        _inputSize = inputSize;
        _outputSize = outputSize;
    }

    public int Read(Span<T> inputs, Span<T> targets, Span<int> classes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (inputs.IsEmpty || inputs.Length % _inputSize != 0)
        {
            throw new ArgumentException($"inputs must hold one or more whole rows of {_inputSize} values (the source's input size), but it has {inputs.Length} values.", nameof(inputs));
        }

        int rows = inputs.Length / _inputSize;
        if (targets.Length != rows * _outputSize)
        {
            throw new ArgumentException($"targets must hold {rows} rows of {_outputSize} values ({rows * _outputSize}), one per input row, but it has {targets.Length} values.", nameof(targets));
        }

        if (!classes.IsEmpty && classes.Length != rows)
        {
            throw new ArgumentException($"classes must be empty or hold one entry per input row ({rows}), but it has {classes.Length}.", nameof(classes));
        }

        if (_ended)
        {
            return 0;
        }

        int read = ReadRows(inputs, targets, classes, rows);
        if (read == 0)
        {
            _ended = true;
            Release();
        }

        return read;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Release();
        }
    }

    /// <summary>Reads up to <paramref name="rows"/> samples into the checked spans; 0 at the end.</summary>
    protected abstract int ReadRows(Span<T> inputs, Span<T> targets, Span<int> classes, int rows);

    /// <summary>Closes what the reader holds open, once the data has ended or the reader is disposed; may run twice.</summary>
    protected virtual void Release()
    {
    }
}
