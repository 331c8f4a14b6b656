using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Backprop.Numerics;

// A job split into numbered parts. Part 0 always runs on the caller; the others are offered to the workers.
internal abstract class ParallelWork
{
    // Runs one part on a worker thread; false declines it, and the caller then runs it itself.
    internal abstract bool Execute(int part);
}

// A small persistent pool of background threads for the numeric kernels: no allocation per job, no closures, and a
// caller that never waits on a worker that has not started: parts nobody has claimed yet are run by the caller
// itself. One job runs at a time; a caller that finds the pool busy runs its job alone (TryAcquire returns false).
//
// Protocol: the caller resets the part states, publishes the job and bumps the generation; each worker i spins
// (then blocks) until the generation changes, then claims part i + 1 with a compare-exchange on its state, which is
// tagged with the generation so that a late worker can never claim a part of a later job. The caller runs part 0,
// then claims and runs whatever is still pending (ClaimNext), waiting only for parts a worker is running; if that wait
// shows the workers are being descheduled, callers run alone for a while (see the contention backoff below).
internal static class ParallelWorkers
{
    private const long Pending = 0;
    private const long Running = 1;
    private const long Done = 2;
    private const long Cancelled = 3;
    private const int StateBits = 2;

    // How long an idle worker polls before it blocks (a trainer calls again within microseconds): busy for the first
    // 10 µs, then yielding its core to any other runnable thread between polls, up to 100 µs.
    private static readonly long _busySpinTicks = Stopwatch.Frequency / 100_000;
    private static readonly long _spinTicks = Stopwatch.Frequency / 10_000;

    // Contention backoff: a caller that had to wait for a worker longer than half its own share took (the worker was
    // descheduled: more runnable threads than cores) runs alone for a while, 1 ms at first and doubling up to 250 ms
    // while it keeps happening, and the workers block meanwhile, so an oversubscribed machine costs a rare probe.
    private static readonly long _minWaitTicks = Stopwatch.Frequency / 50_000;
    private static readonly long _minBackoffTicks = Stopwatch.Frequency / 1_000;
    private static readonly long _maxBackoffTicks = Stopwatch.Frequency / 4;
    private static long _aloneUntil;
    private static long _backoffTicks = _minBackoffTicks;
    private static long _startTicks;
    private static long _ownShareTicks;
    private static long _waitTicks;

    private static readonly Worker?[] _workers = new Worker?[Math.Clamp(Environment.ProcessorCount - 1, 0, 63)];
    private static readonly long[] _states = new long[_workers.Length + 1];
    private static readonly Lock _createLock = new();
    private static long _generation;
    private static int _busy;
    private static int _partCount;
    private static ParallelWork? _work;
    private static Exception? _error;

    // Whether a caller holds the pool for a job now.
    internal static bool IsHeld => Volatile.Read(ref _busy) != 0;

    // The most parts a job can be split into: the caller and one per worker.
    internal static int MaxParts => _workers.Length + 1;

    // Takes the pool for one job; false if another caller holds it or contention backoff is on (run the job alone).
    internal static bool TryAcquire() =>
        _workers.Length > 0
        && Stopwatch.GetTimestamp() >= Volatile.Read(ref _aloneUntil)
        && Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    // Offers parts 1..parts - 1 of `work` to the workers; the pool must be held (TryAcquire), 2 ≤ parts ≤ MaxParts.
    internal static void Start(ParallelWork work, int parts)
    {
        Debug.Assert(parts >= 2 && parts <= MaxParts, $"a job has 2 to {MaxParts} parts, not {parts}");
        EnsureWorkers(parts - 1);
        long generation = _generation + 1;
        for (int part = 1; part < parts; part++)
        {
            Volatile.Write(ref _states[part], Tag(generation, Pending));
        }

        _work = work;
        _partCount = parts;
        _error = null;
        _ownShareTicks = 0;
        _waitTicks = 0;
        _startTicks = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _generation, generation);
        for (int i = 0; i < parts - 1; i++)
        {
            _workers[i]!.Wake();
        }
    }

    // Claims the next part no worker has started, for the caller to run; waits while workers are still running
    // parts; -1 once every part is done.
    internal static int ClaimNext()
    {
        long generation = _generation;
        if (_ownShareTicks == 0)
        {
            _ownShareTicks = Math.Max(1, Stopwatch.GetTimestamp() - _startTicks);
        }

        SpinWait spinner = default;
        long waitStart = 0;
        while (true)
        {
            bool running = false;
            for (int part = 1; part < _partCount; part++)
            {
                long state = Volatile.Read(ref _states[part]);
                if (state == Tag(generation, Pending)
                    && Interlocked.CompareExchange(ref _states[part], Tag(generation, Done), state) == state)
                {
                    _waitTicks += waitStart == 0 ? 0 : Stopwatch.GetTimestamp() - waitStart;
                    return part;
                }

                running |= state == Tag(generation, Running);
            }

            if (!running)
            {
                _waitTicks += waitStart == 0 ? 0 : Stopwatch.GetTimestamp() - waitStart;
                return -1;
            }

            if (waitStart == 0)
            {
                waitStart = Stopwatch.GetTimestamp();
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    // Waits for the parts workers are running, cancels those nobody claimed, releases the pool, and rethrows a
    // worker's exception. Call exactly once after Start, also when the caller's own part threw.
    internal static void End()
    {
        long generation = _generation;
        SpinWait spinner = default;
        for (int part = 1; part < _partCount; part++)
        {
            Interlocked.CompareExchange(ref _states[part], Tag(generation, Cancelled), Tag(generation, Pending));
            while (Volatile.Read(ref _states[part]) == Tag(generation, Running))
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        // Waiting on a worker for over half as long as the caller's own share took: the worker lost its core meanwhile.
        if (_ownShareTicks > 0 && _waitTicks > Math.Max(_minWaitTicks, _ownShareTicks / 2))
        {
            Volatile.Write(ref _aloneUntil, Stopwatch.GetTimestamp() + _backoffTicks);
            _backoffTicks = Math.Min(_maxBackoffTicks, 2 * _backoffTicks);
        }
        else if (_ownShareTicks > 0)
        {
            _backoffTicks = _minBackoffTicks;
        }

        Exception? error = _error;
        _error = null;
        _work = null;
        Volatile.Write(ref _busy, 0);
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private static long Tag(long generation, long state) => (generation << StateBits) | state;

    private static void EnsureWorkers(int count)
    {
        if (_workers[count - 1] is not null)
        {
            return;
        }

        lock (_createLock)
        {
            for (int i = 0; i < count; i++)
            {
                _workers[i] ??= new Worker(i);
            }
        }
    }

    // Runs part index + 1 of each job, if the caller has not taken it first.
    private sealed class Worker
    {
        private readonly AutoResetEvent _wake = new(false);
        private readonly int _index;
        private int _sleeping;

        internal Worker(int index)
        {
            _index = index;
            var thread = new Thread(Loop)
            {
                IsBackground = true,
                Name = $"Backprop worker {index + 1}",
            };
            thread.Start();
        }

        // Called after the generation was bumped (a full fence): wakes the thread if it has blocked.
        internal void Wake()
        {
            if (Volatile.Read(ref _sleeping) != 0)
            {
                _wake.Set();
            }
        }

        private void Loop()
        {
            long seen = 0;
            while (true)
            {
                long generation = WaitForJob(seen);
                seen = generation;
                int part = _index + 1;
                if (part >= Volatile.Read(ref _partCount))
                {
                    continue;
                }

                long pending = Tag(generation, Pending);
                if (Interlocked.CompareExchange(ref _states[part], Tag(generation, Running), pending) != pending)
                {
                    continue;
                }

                // While this part is claimed the caller cannot finish the job, so _work is this job's.
                bool done = true;
                try
                {
                    done = _work!.Execute(part);
                }
                catch (Exception ex)
                {
                    _error = ex;
                }

                Volatile.Write(ref _states[part], Tag(generation, done ? Done : Pending));
            }
        }

        private long WaitForJob(long seen)
        {
            long start = Stopwatch.GetTimestamp();
            int spins = 0;
            while (true)
            {
                long generation = Volatile.Read(ref _generation);
                if (generation != seen)
                {
                    return generation;
                }

                // Poll (while callers run alone for contention, block at once: spinning would only take cores away).
                long now = Stopwatch.GetTimestamp();
                if (now >= Volatile.Read(ref _aloneUntil))
                {
                    if (++spins < 64 || now - start < _busySpinTicks)
                    {
                        Thread.SpinWait(8);
                        continue;
                    }

                    if (now - start < _spinTicks)
                    {
                        Thread.Yield();
                        continue;
                    }
                }

                // Announce the sleep with a full fence, then look once more: a caller bumps the generation before it
                // reads _sleeping, so one of the two always sees the other.
                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _generation) == seen)
                {
                    _wake.WaitOne();
                }

                Volatile.Write(ref _sleeping, 0);
                start = Stopwatch.GetTimestamp();
                spins = 0;
            }
        }
    }
}
