using System.Numerics;

namespace Backprop.Numerics;

// The index of the first NaN or infinity in a large span, found by the threads of a context's pool at once: part p
// scans the p-th of `parts` equal ranges (Guard.IndexOfNonFinite) and records the first offending index in it, and the
// first part with one holds the first of the span. The same answer as one scan of the whole span; a prediction on
// several threads no longer checks its whole input on the caller alone before the chunks start.
// One per network, used only by the holder of the pool (TryAcquire), so that concurrent callers never share it.
internal sealed unsafe class ParallelFiniteCheck<T> : PartitionedWork
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // The least span worth a hand-over: 2¹⁶ values (256 KB of floats) take about 4 µs to scan from memory, a hand-over
    // to a spinning worker about 1 µs.
    internal const int MinLength = 1 << 16;

    private readonly int[] _firstInPart = new int[ComputeContext.MaxThreads];
    private T* _values;
    private int _length;
    private int _parts;

    // The index of the first non-finite value of `values`, or −1: split over up to `parts` threads of `pool` when the
    // span is long enough and the pool is free, else in one scan on the caller.
    internal int IndexOfNonFinite(ReadOnlySpan<T> values, WorkerPool pool, int parts)
    {
        parts = Math.Min(parts, values.Length / (MinLength / 2));
        if (parts < 2 || !pool.TryAcquire())
        {
            return Guard.IndexOfNonFinite(values);
        }

        fixed (T* start = values)
        {
            _values = start;
            _length = values.Length;
            _parts = parts;
            try
            {
                RunHeld(pool, parts);
            }
            finally
            {
                _values = null;
            }
        }

        for (int part = 0; part < parts; part++)
        {
            if (_firstInPart[part] >= 0)
            {
                return _firstInPart[part];
            }
        }

        return -1;
    }

    // Part p scans [⌊p·n/parts⌋, ⌊(p + 1)·n/parts⌋).
    protected override void RunPart(int part)
    {
        long first = (long)_length * part / _parts;
        long end = (long)_length * (part + 1) / _parts;
        int found = Guard.IndexOfNonFinite(new ReadOnlySpan<T>(_values + first, (int)(end - first)));
        _firstInPart[part] = found < 0 ? -1 : (int)first + found;
    }
}
