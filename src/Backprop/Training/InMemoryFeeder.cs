using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Backprop.Numerics;

namespace Backprop;

/// <summary>
/// Feeds rows held in memory (the trainer's row-major copies, or a caller's row-major data read in place), all of them
/// or those an index names: every epoch starts from the natural order and, when shuffling, permutes it with a generator
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
    private ReadOnlyMemory<T> _inputs;
    private ReadOnlyMemory<T> _targets;
    private int[]? _index;
    private int[]? _classes;
    private T[]? _weights;
    private T[] _batchWeights = [];
    private int _batchCount;
    private int _rows;
    private int[] _order = [];
    private int _next;
    private GatherJob? _gather;

    // The batch the worker is copying in the background (Background mode): its first position in the order and its
    // row count; _staged is -1 while nothing is staged.
    private T[] _staging = [];
    private int _staged = -1;
    private int _stagedCount;
    private bool _pending;

    // The addresses of the next batch's rows, queued for LinePrefetch.
    private nint[] _rowStarts = [];

    public InMemoryFeeder(int inputWidth, int outputWidth, bool shuffle, int seed)
    {
        (_inputWidth, _outputWidth, _shuffle, _seed) = (inputWidth, outputWidth, shuffle, seed);
    }

    public override bool HasClasses => _classes is not null;

    public override ReadOnlyMemory<T> BatchWeights => _weights is null ? default : _batchWeights.AsMemory(0, _batchCount);

    /// <summary>Sets one weight per row of the rows given to <see cref="SetRows"/>, or none.</summary>
    public void SetWeights(T[]? weights) => _weights = weights;

    /// <summary>Sets the rows to feed from the next epoch on: the first <paramref name="rows"/> rows of the inputs and
    /// targets, or with an <paramref name="index"/> the rows it names (row i of the set is row index[i] of the memory;
    /// <paramref name="classes"/> and the weights are per row of the set).</summary>
    public void SetRows(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets, int[]? classes, int rows, int[]? index = null)
    {
        // A batch staged from the previous rows must not be served as one of the new ones, nor their lines requested.
        FinishBackgroundCopy();
        _staged = -1;
        LinePrefetch.Clear();
        (_inputs, _targets, _classes, _rows, _index) = (inputs, targets, classes, rows, index);
        if (_order.Length < rows)
        {
            _order = new int[rows];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override int BeginEpoch(int epoch)
    {
        // A copy staged for an epoch that ended early (an exception, a cancellation) belongs to that epoch's order.
        FinishBackgroundCopy();
        _staged = -1;

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

    /// <summary>How the shuffled input rows of a batch are copied: set by the trainer from the network's threads and
    /// the size of its products.</summary>
    public GatherMode Gather { get; init; }

    /// <summary>The pass whose input the batches are copied into, when the caller reads that input from the pass after
    /// each <see cref="NextBatch"/> (which may then exchange the pass's input array for a staged one instead of copying
    /// it); null when the spans given to <see cref="NextBatch"/> are all the caller reads.</summary>
    public ForwardPass<T>? Pass { get; set; }

    /// <summary>Whose worker copies rows in the <see cref="GatherMode.Shared"/> and <see cref="GatherMode.Background"/>
    /// modes: the network's context.</summary>
    public ComputeContext Context { get; init; } = ComputeContext.Shared;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override unsafe int NextBatch(Span<T> inputs, Span<T> targets, Span<int> classes)
    {
        int batchRows = inputs.Length / _inputWidth;
        int count = Math.Min(batchRows, _rows - _next);
        FinishBackgroundCopy();
        if (_staged == _next && _stagedCount == count && count > 0)
        {
            if (Pass is { } pass && _staging.Length == pass.Input.Length && inputs.Overlaps(pass.Input))
            {
                // The staged batch becomes the pass's input, and the previous input the next staging buffer: no copy.
                _staging = pass.ExchangeInput(_staging);
            }
            else
            {
                _staging.AsSpan(0, count * _inputWidth).CopyTo(inputs);
            }

            _staged = -1;
        }
        else if (Gather == GatherMode.Shared && Context.Pool.TryAcquire())
        {
            // Shuffled rows come from anywhere in a large array, mostly from memory: copying them is bound by the
            // latency of cache misses, and two cores keep twice as many misses in flight.
            fixed (T* destination = inputs)
            {
                _gather ??= new GatherJob(this);
                _gather.Begin(destination, _next, count, 2);
                try
                {
                    Context.Pool.Start(_gather, 2);
                    _gather.CopyRows(0);
                    int part;
                    while ((part = Context.Pool.ClaimNext()) > 0)
                    {
                        _gather.CopyRows(part);
                    }
                }
                finally
                {
                    Context.Pool.End();
                }
            }
        }
        else
        {
            ReadOnlySpan<T> source = _inputs.Span;
            for (int r = 0; r < count; r++)
            {
                int row = DataRow(_next + r);
                source.Slice(row * _inputWidth, _inputWidth).CopyTo(inputs.Slice(r * _inputWidth));
            }
        }

        ReadOnlySpan<T> sourceTargets = _targets.Span;
        for (int r = 0; r < count; r++)
        {
            int row = _order[_next + r];
            sourceTargets.Slice(DataRow(_next + r) * _outputWidth, _outputWidth).CopyTo(targets.Slice(r * _outputWidth));
            if (_classes is not null)
            {
                classes[r] = _classes[row];
            }
        }

        if (_weights is not null)
        {
            if (_batchWeights.Length < batchRows)
            {
                _batchWeights = new T[batchRows];
            }

            for (int r = 0; r < count; r++)
            {
                _batchWeights[r] = _weights[_order[_next + r]];
            }

            _batchCount = count;
        }

        _next += count;
        if (Gather != GatherMode.Background || !StartBackgroundCopy(batchRows))
        {
            PrefetchNextBatch(batchRows);
        }

        return count;
    }

    /// <summary>The row of the inputs and targets at position <paramref name="position"/> of this epoch's order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int DataRow(int position) => _index is null ? _order[position] : _index[_order[position]];

    public override void Dispose()
    {
        FinishBackgroundCopy();
        LinePrefetch.Clear();
        base.Dispose();
    }

    /// <summary>Hands the copy of the next batch's input rows to the idle worker, which copies them into the staging
    /// buffer while this batch trains. The context's worker pool stays held meanwhile: this mode is only chosen when the step's
    /// products run on one thread anyway.</summary>
    /// <returns>Whether the copy was handed over; false at the end of the epoch, or when the pool is busy with another
    /// caller's job (the rows are then prefetched instead).</returns>
    private bool StartBackgroundCopy(int batchRows)
    {
        int count = Math.Min(batchRows, _rows - _next);
        if (count == 0 || !Context.Pool.TryAcquire())
        {
            return false;
        }

        if (Pass is { } pass ? _staging.Length != pass.Input.Length : _staging.Length < batchRows * _inputWidth)
        {
            // Of the pass's input length when batches are handed over by exchanging the arrays.
            _staging = new T[Pass?.Input.Length ?? batchRows * _inputWidth];
        }

        // The job writes the staging array through the feeder's field, not a pointer: nothing needs to stay pinned
        // while the step runs, and the array is never replaced while a copy is pending.
        _gather ??= new GatherJob(this);
        _gather.BeginStaging(_next, count);
        _staged = _next;
        _stagedCount = count;
        _pending = true;
        try
        {
            // Part 0 is the caller's and empty; part 1 is offered to the worker. The caller comes back for it (and
            // runs it itself if no worker has started it) in FinishBackgroundCopy.
            Context.Pool.Start(_gather, 2);
        }
        catch
        {
            _pending = false;
            _staged = -1;
            Context.Pool.End();
            throw;
        }

        return true;
    }

    /// <summary>Waits for a background copy (running it here if the worker never started it) and releases the pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FinishBackgroundCopy()
    {
        if (!_pending)
        {
            return;
        }

        _pending = false;
        try
        {
            int part;
            while ((part = Context.Pool.ClaimNext()) > 0)
            {
                _gather!.CopyRows(part);
            }
        }
        finally
        {
            Context.Pool.End();
        }
    }

    /// <summary>Asks the CPU to start loading the input rows of the next batch, so that they arrive while this batch
    /// trains: shuffled rows come from anywhere in a large array, and their cache misses would otherwise stall the next
    /// copy. The first <see cref="PrefetchBytesPerRow"/> bytes of each row are requested at once; on the training thread
    /// alone (<see cref="GatherMode.Caller"/>) the rest of each row is queued (<see cref="LinePrefetch"/>) and requested a
    /// few lines at a time between the micro-kernel calls of this batch's products. Requesting every line of 64 rows at
    /// once stalls the training thread itself on full miss buffers (a profile of the float 784-128-10 step at batch 64
    /// showed 6% of its time in this method).</summary>
    /// <remarks>The row addresses are taken inside a fixed block and requested after it: the arrays a network trains on
    /// are large (they do not move in the large-object heap), and a prefetch of an address that has moved or been
    /// freed neither faults nor changes a value; it only goes unused.
    /// <para>Row starts against every line, alternating builds, one thread (seconds an epoch): float64 784-128-10 at
    /// batch 64 (rows of 98 lines) 0.389–0.394 → 0.367–0.379; float 784-128-10 (49 lines) 0.185–0.210 against
    /// 0.186–0.198 over eight pairs and 784-32-10 at batch 16 0.0888–0.115 against 0.0874–0.117 over six: unchanged.
    /// The queued rest against row starts alone: docs/performance.md, "The next batch's lines between tiles".</para></remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void PrefetchNextBatch(int batchRows)
    {
        int count = Math.Min(batchRows, _rows - _next);
        int rowBytes = _inputWidth * sizeof(T);
        int bytes = Math.Min(rowBytes, PrefetchBytesPerRow);
        if (_rowStarts.Length < count)
        {
            _rowStarts = new nint[batchRows];
        }

        fixed (T* inputs = _inputs.Span)
        {
            for (int r = 0; r < count; r++)
            {
                byte* row = (byte*)(inputs + ((long)DataRow(_next + r) * _inputWidth));
                _rowStarts[r] = (nint)row;
                if (Sse.IsSupported)
                {
                    for (int offset = 0; offset < bytes; offset += 64)
                    {
                        Sse.Prefetch1(row + offset);
                    }

                    Sse.Prefetch1(row + bytes - 1);
                }
            }
        }

        // The rest of each row a few lines at a time while this batch's products run.
        if (Gather == GatherMode.Caller)
        {
            LinePrefetch.Queue(_rowStarts, count, rowBytes, bytes);
        }
    }

    /// <summary>How much of the start of each row <see cref="PrefetchNextBatch"/> requests: four cache lines.</summary>
    private const int PrefetchBytesPerRow = 256;

    /// <summary>Copies input rows on the worker pool: half of a batch on each of two threads into the caller's pinned
    /// destination (Shared), or a whole batch into the staging buffer on the worker (Background).</summary>
    private sealed unsafe class GatherJob(InMemoryFeeder<T> feeder) : ParallelWork
    {
        private T* _destination;
        private int _first;
        private int _count;
        private int _parts;
        private bool _staging;

        public void Begin(T* destination, int first, int count, int parts)
        {
            _destination = destination;
            _first = first;
            _count = count;
            _parts = parts;
            _staging = false;
        }

        public void BeginStaging(int first, int count)
        {
            _destination = null;
            _first = first;
            _count = count;
            _parts = 2;
            _staging = true;
        }

        internal override bool Execute(int part)
        {
            CopyRows(part);
            return true;
        }

        public void CopyRows(int part)
        {
            int width = feeder._inputWidth;
            if (_staging)
            {
                // The whole batch is part 1's; part 0 (the caller's) has nothing to do.
                if (part == 1)
                {
                    Span<T> staging = feeder._staging;
                    ReadOnlySpan<T> source = feeder._inputs.Span;
                    for (int r = 0; r < _count; r++)
                    {
                        int row = feeder.DataRow(_first + r);
                        source.Slice(row * width, width).CopyTo(staging.Slice(r * width, width));
                    }
                }

                return;
            }

            int firstRow = _count * part / _parts, end = _count * (part + 1) / _parts;
            ReadOnlySpan<T> inputs = feeder._inputs.Span;
            for (int r = firstRow; r < end; r++)
            {
                int row = feeder.DataRow(_first + r);
                inputs.Slice(row * width, width).CopyTo(new Span<T>(_destination + ((long)r * width), width));
            }
        }
    }
}

/// <summary>How a feeder copies the shuffled input rows of a batch.</summary>
internal enum GatherMode
{
    /// <summary>The training thread copies them, and asks the CPU to prefetch the next batch's rows.</summary>
    Caller,

    /// <summary>The training thread and a pool worker copy half each: for networks whose products are split across
    /// threads too.</summary>
    Shared,

    /// <summary>A pool worker copies the next batch while this one trains: for networks on several threads whose
    /// products are too small to split, which leave the worker idle.</summary>
    Background,
}
