using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace Backprop;

/// <summary>
/// Feeds rows held in arrays: every epoch starts from the natural order and, when shuffling, permutes it with a generator
/// derived from the seed and the epoch's number alone, so that a resumed run visits the rows exactly as an uninterrupted one.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class InMemoryFeeder<T> : BatchFeeder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private readonly bool _shuffle;
    private readonly int _seed;
    private T[] _inputs = [];
    private T[] _targets = [];
    private int[]? _classes;
    private int _rows;
    private int[] _order = [];
    private int _next;

    public InMemoryFeeder(int inputWidth, int outputWidth, bool shuffle, int seed)
    {
        (_inputWidth, _outputWidth, _shuffle, _seed) = (inputWidth, outputWidth, shuffle, seed);
    }

    public override bool HasClasses => _classes is not null;

    /// <summary>Sets the rows to feed from the next epoch on: the first <paramref name="rows"/> rows of the arrays.</summary>
    public void SetRows(T[] inputs, T[] targets, int[]? classes, int rows)
    {
        (_inputs, _targets, _classes, _rows) = (inputs, targets, classes, rows);
        if (_order.Length < rows)
        {
            _order = new int[rows];
        }
    }

    public override int BeginEpoch(int epoch)
    {
        var order = _order.AsSpan(0, _rows);
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        if (_shuffle)
        {
            new DeterministicRandom(DeterministicRandom.Derive(_seed, epoch)).Shuffle(order);
        }

        _next = 0;
        return _rows;
    }

    public override int NextBatch(Span<T> inputs, Span<T> targets, Span<int> classes)
    {
        int count = Math.Min(inputs.Length / _inputWidth, _rows - _next);
        for (int r = 0; r < count; r++)
        {
            int row = _order[_next + r];
            _inputs.AsSpan(row * _inputWidth, _inputWidth).CopyTo(inputs.Slice(r * _inputWidth));
            _targets.AsSpan(row * _outputWidth, _outputWidth).CopyTo(targets.Slice(r * _outputWidth));
            if (_classes is not null)
            {
                classes[r] = _classes[row];
            }
        }

        _next += count;
        PrefetchNextBatch(inputs.Length / _inputWidth);
        return count;
    }

    /// <summary>Asks the CPU to start loading the input rows of the next batch into its caches, so that they arrive
    /// while this batch trains: shuffled rows come from anywhere in a large array, and their cache misses would
    /// otherwise stall the next copy. On Fashion-MNIST at batch 16 (16 rows of 3 KB) this made an epoch about 6% faster
    /// (0.119-0.122 s against 0.122-0.135 s, alternating runs on one thread).</summary>
    private unsafe void PrefetchNextBatch(int batchRows)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        int count = Math.Min(batchRows, _rows - _next);
        int rowBytes = _inputWidth * sizeof(T);
        fixed (T* inputs = _inputs)
        {
            for (int r = 0; r < count; r++)
            {
                byte* row = (byte*)(inputs + ((long)_order[_next + r] * _inputWidth));
                for (int offset = 0; offset < rowBytes; offset += 64)
                {
                    Sse.Prefetch1(row + offset);
                }

                Sse.Prefetch1(row + rowBytes - 1);
            }
        }
    }
}
