using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

/// <summary>
/// A thread's queue of cache lines to request a few at a time while it computes: the rows of the next shuffled batch,
/// which come from anywhere in a large array. Requested all at once, a batch's lines fill the core's miss buffers and
/// stall the thread until memory answers (64 rows of 49 lines: 34 µs a step copying them, or 6% of the step issuing
/// them); a few lines between the micro-kernel calls of a product arrive while the kernels run from the caches.
/// </summary>
/// <remarks>Each thread has its own queue (thread-static): the training thread queues the next batch's rows, and the
/// products it runs drain the queue (<see cref="Drain"/>) between tiles; a worker's queue stays empty. A prefetch never
/// faults and changes no value, so a queue that outlives its rows only wastes requests; the feeder clears it when its
/// rows change.</remarks>
internal static class LinePrefetch
{
    /// <summary>The most lines one call to <see cref="Drain"/> requests: the first queue's rate.</summary>
    internal const int MaxLinesPerCall = 16;

    private const int LineBytes = 64;

    // Row starts (addresses) of the queued rows, how many there are, each row's length in bytes, and the next line to
    // request: row t_row at byte t_offset.
    [ThreadStatic]
    private static nint[]? t_rows;

    [ThreadStatic]
    private static int t_count;

    [ThreadStatic]
    private static int t_rowBytes;

    [ThreadStatic]
    private static int t_row;

    [ThreadStatic]
    private static int t_offset;

    // Where each row's queued lines start (its first bytes having been requested by the caller).
    [ThreadStatic]
    private static int t_firstOffset;

    // Calls to Drain since the last Queue, and the lines each call requests.
    [ThreadStatic]
    private static int t_calls;

    [ThreadStatic]
    private static int t_rate;

    // Lines requested by this thread since it started (for tests).
    [ThreadStatic]
    private static long t_requested;

    /// <summary>Queues the lines of the first <paramref name="count"/> rows in <paramref name="rows"/>, each
    /// <paramref name="rowBytes"/> long, from byte <paramref name="firstOffset"/> of each row on; replaces what was queued.</summary>
    /// <remarks>The caller does not change <paramref name="rows"/> until it queues again or calls <see cref="Clear"/>.
    /// The addresses need not stay valid: a prefetch of memory that has moved or been freed neither faults nor changes a
    /// value.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Queue(nint[] rows, int count, int rowBytes, int firstOffset)
    {
        // Spread the lines over the first half of the calls to Drain that the previous queue saw (a training step's
        // tiles): a step of large products has thousands of tiles, whose data the lines would otherwise evict early.
        // A step with more calls than lines (the wide network's: ≈ 14,000 calls for 5,760 lines) spends far longer in
        // its products than its gather takes, and its requests would only compete with the products' own loads: nothing
        // is queued then.
        long lines = count * (long)((rowBytes - firstOffset + LineBytes - 1) / LineBytes);
        int seen = t_calls, calls = seen / 2;
        t_rate = calls > 0 ? (int)Math.Clamp((lines + calls - 1) / calls, 1, MaxLinesPerCall) : MaxLinesPerCall;
        t_calls = 0;
        if (seen > lines)
        {
            count = 0;
        }

        t_rows = rows;
        t_rowBytes = rowBytes;
        t_offset = firstOffset;
        t_firstOffset = firstOffset;
        t_row = 0;
        t_count = firstOffset < rowBytes ? count : 0;
    }

    /// <summary>Empties this thread's queue and forgets how many calls the last one saw.</summary>
    internal static void Clear()
    {
        t_rows = null;
        t_count = 0;
        t_row = 0;
        t_calls = 0;
    }

    /// <summary>Lines still queued on this thread (for tests).</summary>
    internal static long Pending
    {
        get
        {
            if (t_row >= t_count)
            {
                return 0;
            }

            long perRow = (t_rowBytes - t_firstOffset + LineBytes - 1) / LineBytes;
            return ((t_count - t_row - 1) * perRow) + ((t_rowBytes - t_offset + LineBytes - 1) / LineBytes);
        }
    }

    /// <summary>Lines this thread has requested so far (for tests).</summary>
    internal static long Requested => t_requested;

    /// <summary>The lines each call to <see cref="Drain"/> requests for the present queue (for tests).</summary>
    internal static int Rate => t_rate;

    /// <summary>Requests the next few queued lines into the core's second-level cache: as many as spread the queue over
    /// half of the previous queue's calls, at most <see cref="MaxLinesPerCall"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Drain()
    {
        t_calls++;
        if (t_row < t_count)
        {
            DrainCore(t_rate);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DrainCore(int lines)
    {
        nint[] rows = t_rows!;
        int row = t_row, offset = t_offset, count = t_count, rowBytes = t_rowBytes;
        int issued = 0;
        while (issued < lines && row < count)
        {
            byte* start = (byte*)rows[row];
            if (Sse.IsSupported)
            {
                Sse.Prefetch1(start + offset);
            }

            issued++;
            offset += LineBytes;
            if (offset >= rowBytes)
            {
                // The row's last byte, which steps of 64 bytes from an unaligned start may have left in a line of its own.
                if (Sse.IsSupported)
                {
                    Sse.Prefetch1(start + rowBytes - 1);
                }

                row++;
                offset = t_firstOffset;
            }
        }

        t_row = row;
        t_offset = offset;
        t_requested += issued;
    }
}
