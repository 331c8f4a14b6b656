using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// Feeds the samples of an <see cref="ISampleSource{T}"/>, reading them once per epoch through a buffer of at most
/// <see cref="FitOptions.ShuffleBufferSize"/> rows (see there for the order), and checking every sample as it is read:
/// finite values, targets in the loss's domain, classes in range.
/// </summary>
/// <remarks>
/// Each epoch first reads up to B + 1 samples (B the buffer size). If the source ends before, it fits: its rows are fed
/// by an <see cref="InMemoryFeeder{T}"/> over the buffer, exactly as in-memory data. Otherwise the (B + 1)th sample
/// waits as the first to replace a drawn one, and batches are drawn from the B buffered rows; without shuffling, the
/// buffered rows go first and the rest straight from the reader into the batch.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class ShuffleBufferFeeder<T> : BatchFeeder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The rows the buffer starts with; it doubles from there up to B + 1 as the data needs.</summary>
    private const int InitialRows = 1024;

    private readonly ISampleSource<T> _source;
    private readonly ILossFunction _loss;
    private readonly int _limit;
    private readonly bool _shuffle;
    private readonly int _seed;
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private readonly InMemoryFeeder<T> _whole;
    private T[] _inputs = [];
    private T[] _targets = [];
    private int[] _classes = [];
    private ISampleReader<T>? _reader;
    private long _rowsRead;
    private bool _streaming;
    private int _filled;
    private bool _lookahead;
    private int _cursor;
    private DeterministicRandom? _random;

    public ShuffleBufferFeeder(ISampleSource<T> source, ILossFunction loss, FitOptions options)
    {
        (_source, _loss, _limit, _shuffle, _seed) = (source, loss, options.ShuffleBufferSize, options.Shuffle, options.Seed);
        (_inputWidth, _outputWidth) = (source.InputSize, source.OutputSize);
        if ((long)(_limit + 1L) * Math.Max(_inputWidth, _outputWidth) > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException("options", _limit,
                $"options.ShuffleBufferSize is {_limit}: buffering that many samples of {_inputWidth} inputs and {_outputWidth} targets needs arrays larger than .NET allows ({Array.MaxLength} elements); give a smaller buffer.");
        }

        _whole = new InMemoryFeeder<T>(_inputWidth, _outputWidth, options.Shuffle, options.Seed);
    }

    public override bool HasClasses => _source.HasClasses;

    private int Capacity => _inputs.Length / _inputWidth;

    public override int BeginEpoch(int epoch)
    {
        CloseReader();
        _reader = _source.OpenReader() ?? throw new InvalidOperationException($"The source {_source.Name} returned no reader from OpenReader; it must return a new one each time.");
        _rowsRead = 0;

        // B + 1 rows tell a source larger than the buffer from one that fills it exactly.
        int filled = 0;
        while (filled <= _limit)
        {
            if (filled == Capacity)
            {
                Grow();
            }

            int room = Math.Min(Capacity, _limit + 1) - filled;
            int read = Read(_inputs.AsSpan(filled * _inputWidth, room * _inputWidth), _targets.AsSpan(filled * _outputWidth, room * _outputWidth),
                HasClasses ? _classes.AsSpan(filled, room) : default);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        if (filled == 0)
        {
            throw new ArgumentException($"The source {_source.Name} gave no samples in epoch {epoch}; training needs at least one.", "source");
        }

        _streaming = filled > _limit;
        if (!_streaming)
        {
            _whole.SetRows(_inputs, _targets, HasClasses ? _classes : null, filled);
            return _whole.BeginEpoch(epoch);
        }

        (_filled, _lookahead, _cursor) = (_limit, true, 0);
        _random = _shuffle ? new DeterministicRandom(DeterministicRandom.Derive(_seed, epoch)) : null;
        return int.MaxValue;
    }

    public override int NextBatch(Span<T> inputs, Span<T> targets, Span<int> classes)
    {
        if (!_streaming)
        {
            return _whole.NextBatch(inputs, targets, classes);
        }

        int room = inputs.Length / _inputWidth, r = 0;
        if (_random is not null)
        {
            for (; r < room && _filled > 0; r++)
            {
                int slot = _random.NextInt32(_filled);
                CopyRow(slot, inputs, targets, classes, r);
                Refill(slot);
            }

            return r;
        }

        // File order: the buffered rows (the lookahead included), then the rest straight from the reader.
        for (; r < room && _cursor <= _limit; r++)
        {
            CopyRow(_cursor++, inputs, targets, classes, r);
        }

        while (r < room && _reader is not null)
        {
            r += Read(inputs[(r * _inputWidth)..], targets[(r * _outputWidth)..], HasClasses ? classes[r..] : default);
        }

        return r;
    }

    public override void Dispose() => CloseReader();

    /// <summary>Puts the next sample of the source in a slot just drawn: the lookahead row first, then one read;
    /// once the source has ended, the buffer's last row moves there and the buffer shrinks by one.</summary>
    private void Refill(int slot)
    {
        if (_lookahead)
        {
            MoveRow(_limit, slot);
            _lookahead = false;
            return;
        }

        if (_reader is not null && Read(_inputs.AsSpan(slot * _inputWidth, _inputWidth), _targets.AsSpan(slot * _outputWidth, _outputWidth),
                HasClasses ? _classes.AsSpan(slot, 1) : default) == 1)
        {
            return;
        }

        _filled--;
        if (slot != _filled)
        {
            MoveRow(_filled, slot);
        }
    }

    private void CopyRow(int slot, Span<T> inputs, Span<T> targets, Span<int> classes, int row)
    {
        _inputs.AsSpan(slot * _inputWidth, _inputWidth).CopyTo(inputs.Slice(row * _inputWidth));
        _targets.AsSpan(slot * _outputWidth, _outputWidth).CopyTo(targets.Slice(row * _outputWidth));
        if (HasClasses)
        {
            classes[row] = _classes[slot];
        }
    }

    private void MoveRow(int from, int to) => CopyRow(from, _inputs, _targets, _classes, to);

    private void Grow()
    {
        int rows = Math.Min(_limit + 1, Math.Max(InitialRows, Capacity * 2));
        Array.Resize(ref _inputs, rows * _inputWidth);
        Array.Resize(ref _targets, rows * _outputWidth);
        if (HasClasses)
        {
            Array.Resize(ref _classes, rows);
        }
    }

    /// <summary>Reads samples from the source into the spans and checks them; 0 (and the reader closed) at the end.</summary>
    private int Read(Span<T> inputs, Span<T> targets, Span<int> classes)
    {
        int room = inputs.Length / _inputWidth;
        int read = _reader!.Read(inputs, targets, classes);
        if (read < 0 || read > room)
        {
            throw new InvalidOperationException($"The reader of {_source.Name} returned {read} when there was room for {room} samples; a reader returns 0 to {room}.");
        }

        if (read == 0)
        {
            CloseReader();
            return 0;
        }

        Check(inputs[..(read * _inputWidth)], targets[..(read * _outputWidth)], classes.IsEmpty ? classes : classes[..read]);
        _rowsRead += read;
        return read;
    }

    /// <summary>Checks samples just read, naming the source and the sample (its 0-based position in reading order).</summary>
    private void Check(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<int> classes)
    {
        CheckFinite(inputs, _inputWidth, "input");
        CheckFinite(targets, _outputWidth, "target");
        try
        {
            _loss.ValidateTargets(targets, _outputWidth, "targets");
        }
        catch (ArgumentException)
        {
            // Only on bad data: find the sample the loss rejects, to name it.
            for (int r = 0; r < targets.Length / _outputWidth; r++)
            {
                try
                {
                    _loss.ValidateTargets(targets.Slice(r * _outputWidth, _outputWidth), _outputWidth, "targets");
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"{Sample(r)} has a target the loss rejects: {e.Message}", "source", e);
                }
            }

            throw;
        }

        for (int r = 0; r < classes.Length; r++)
        {
            if ((uint)classes[r] >= (uint)_outputWidth)
            {
                throw new ArgumentException($"{Sample(r)} has the class {classes[r]}, but classes must be in [0, {_outputWidth - 1}] for a network with {_outputWidth} outputs.", "source");
            }
        }
    }

    private void CheckFinite(ReadOnlySpan<T> values, int width, string what)
    {
        int bad = Guard.IndexOfNonFinite(values);
        if (bad >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{Sample(bad / width)} has {values[bad]} as {what} {bad % width}; training needs finite numbers."), "source");
        }
    }

    private string Sample(int row) => $"{_source.Name}, sample {_rowsRead + row} (0-based, in reading order),";

    private void CloseReader()
    {
        _reader?.Dispose();
        _reader = null;
    }
}
