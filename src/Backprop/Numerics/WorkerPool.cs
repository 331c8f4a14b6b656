using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Backprop.Numerics;

// A job split into numbered parts. Part 0 always runs on the caller; the others are offered to the workers.
internal abstract class ParallelWork
{
    // Runs one part on a worker thread; false declines it, and the caller then runs it itself.
    internal abstract bool Execute(int part);
}

// A job whose parts any thread may run (RunPart), driven by RunOn: the one protocol for it, so that its users do not
// each repeat the pool's acquire, start, claim and end steps.
internal abstract class PartitionedWork : ParallelWork
{
    internal sealed override bool Execute(int part)
    {
        RunPart(part);
        return true;
    }

    // Runs parts [0, parts): all on the caller, in order, when there is one part or the pool is held by another caller;
    // otherwise part 0 on the caller, the others on the pool's workers, and any part no worker has claimed on the caller.
    internal void RunOn(WorkerPool pool, int parts)
    {
        if (parts < 2 || !pool.TryAcquire())
        {
            for (int part = 0; part < parts; part++)
            {
                RunPart(part);
            }

            return;
        }

        RunHeld(pool, parts);
    }

    // Runs parts [0, parts) on a pool the caller has acquired (TryAcquire), and releases it: part 0 on the caller, the
    // others on the pool's workers, and any part no worker has claimed on the caller. For a job shared by several
    // callers, which may set its operands only once it holds the pool.
    internal void RunHeld(WorkerPool pool, int parts)
    {
        try
        {
            pool.Start(this, parts);
            RunPart(0);
            int next;
            while ((next = pool.ClaimNext()) > 0)
            {
                RunPart(next);
            }
        }
        finally
        {
            pool.End();
        }
    }

    // Runs part `part`; on one thread at a time for a given part.
    protected abstract void RunPart(int part);
}

// A small persistent pool of background threads for the numeric kernels, owned by one ComputeContext: no allocation
// per job, no closures, and a caller that never waits on a worker that has not started: parts nobody has claimed yet
// are run by the caller itself. One job runs at a time; a caller that finds the pool busy runs its job alone
// (TryAcquire returns false), with the same result.
//
// Protocol: the caller resets the part states, publishes the job and bumps the generation; each worker i spins
// (then blocks) until the generation changes, then claims part i + 1 with a compare-exchange on its state, which is
// tagged with the generation so that a late worker can never claim a part of a later job. The caller runs part 0,
// then claims and runs whatever is still pending (ClaimNext), waiting only for parts a worker is running; if that wait
// shows the workers are being descheduled, callers of this pool run alone for a while (the contention backoff below).
//
// Lifetime: the worker threads reference this pool, never its ComputeContext, and hold a job only while they run a
// part of it. Shutdown (the context's Dispose, or its finalizer once nothing references the context) makes every
// worker leave its loop; a job still in flight then finishes on its caller, which runs the unclaimed parts itself.
internal sealed class WorkerPool
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

    // Contention backoff: a caller that had to wait for a worker longer than half its own share took, in
    // SlowJobsBeforeBackoff jobs in a row (the worker keeps being descheduled: more runnable threads than cores), runs
    // alone for a while, _minBackoffTicks at first and doubling up to _maxBackoffTicks while it keeps happening, and the
    // workers block meanwhile, so an oversubscribed machine costs a rare probe. The state is this pool's: another
    // context's callers are not slowed down by it.
    //
    // One slow job alone is not enough: on a quiet 2-vCPU guest a worker is late now and then (a wake-up, an
    // interrupt), and backing off on every such job ran up to a sixth of the 784-1024-1024-10 network's products alone
    // (its epoch 2.41-2.63 s on two threads against 2.37-2.46 s with three in a row required, four alternating runs
    // each), and 784-128-10's took 0.192-0.198 s against 0.188-0.195 s. A descheduled worker is late in every job, so
    // three in a row still back off within a few jobs.
    private static readonly long _minWaitTicks = Stopwatch.Frequency / 50_000;
    private readonly long _minBackoffTicks;
    private readonly long _maxBackoffTicks;
    private long _aloneUntil;
    private long _backoffTicks;
    private long _startTicks;
    private long _ownShareTicks;
    private long _waitTicks;

    // Jobs in a row whose caller waited on a worker for over half its own share; the backoff starts at this many.
    internal const int SlowJobsBeforeBackoff = 3;
    private int _slowJobs;

    private readonly Worker?[] _workers;
    private readonly long[] _states;
    private readonly Lock _createLock = new();
    private long _generation;
    private int _busy;
    private int _stopped;
    private int _partCount;
    private ParallelWork? _work;
    private Exception? _error;

    // A pool of `workers` threads (created on first use), with the given contention backoff bounds.
    internal WorkerPool(int workers, TimeSpan minBackoff, TimeSpan maxBackoff)
    {
        _workers = new Worker?[workers];
        _states = new long[workers + 1];
        _minBackoffTicks = Math.Max(1, (long)(minBackoff.TotalSeconds * Stopwatch.Frequency));
        _maxBackoffTicks = Math.Max(_minBackoffTicks, (long)(maxBackoff.TotalSeconds * Stopwatch.Frequency));
        _backoffTicks = _minBackoffTicks;
    }

    // The contention backoff's bounds: how long callers first run alone, and the most that doubles up to.
    internal TimeSpan MinBackoff => Stopwatch.GetElapsedTime(0, _minBackoffTicks);

    internal TimeSpan MaxBackoff => Stopwatch.GetElapsedTime(0, _maxBackoffTicks);

    // Whether callers run their jobs alone now (contention backoff), for tests.
    internal bool IsBackingOff => Stopwatch.GetTimestamp() < Volatile.Read(ref _aloneUntil);

    // Whether a caller holds the pool for a job now.
    internal bool IsHeld => Volatile.Read(ref _busy) != 0;

    // The most parts a job can be split into: the caller and one per worker.
    internal int MaxParts => _workers.Length + 1;

    // Takes the pool for one job; false if another caller holds it or contention backoff is on (run the job alone).
    internal bool TryAcquire() =>
        _workers.Length > 0
        && Volatile.Read(ref _stopped) == 0
        && Stopwatch.GetTimestamp() >= Volatile.Read(ref _aloneUntil)
        && Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    // Offers parts 1..parts - 1 of `work` to the workers; the pool must be held (TryAcquire), 2 ≤ parts ≤ MaxParts.
    internal void Start(ParallelWork work, int parts)
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
            _workers[i]?.Wake();
        }
    }

    // Claims the next part no worker has started, for the caller to run; waits while workers are still running
    // parts; -1 once every part is done.
    internal int ClaimNext()
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
    internal void End()
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

        // Waiting on a worker for over half as long as the caller's own share took, in SlowJobsBeforeBackoff jobs in a
        // row: the worker keeps losing its core.
        if (_ownShareTicks > 0 && _waitTicks > Math.Max(_minWaitTicks, _ownShareTicks / 2))
        {
            if (++_slowJobs >= SlowJobsBeforeBackoff)
            {
                Volatile.Write(ref _aloneUntil, Stopwatch.GetTimestamp() + _backoffTicks);
                _backoffTicks = Math.Min(_maxBackoffTicks, 2 * _backoffTicks);
            }
        }
        else if (_ownShareTicks > 0)
        {
            _slowJobs = 0;
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

    // Makes every worker leave its loop (each as soon as it is between two parts) and refuses later jobs. A job now in
    // flight completes: its caller runs whatever no worker has claimed. Idempotent; safe from a finalizer thread.
    internal void Shutdown()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        lock (_createLock)
        {
            foreach (Worker? worker in _workers)
            {
                worker?.Stop();
            }
        }
    }

    // The number of worker threads started and not yet stopped (for tests).
    internal int LiveWorkers
    {
        get
        {
            int live = 0;
            foreach (Worker? worker in _workers)
            {
                live += worker is { IsAlive: true } ? 1 : 0;
            }

            return live;
        }
    }

    private void EnsureWorkers(int count)
    {
        if (_workers[count - 1] is not null)
        {
            return;
        }

        lock (_createLock)
        {
            // After Shutdown no thread is started: Start then wakes nobody, and the caller runs every part.
            if (Volatile.Read(ref _stopped) != 0)
            {
                return;
            }

            for (int i = 0; i < count; i++)
            {
                _workers[i] ??= new Worker(this, i);
            }
        }
    }

    // Runs part index + 1 of each job of its pool, if the caller has not taken it first, until the pool shuts down.
    private sealed class Worker
    {
        private readonly AutoResetEvent _wake = new(false);
        private readonly WorkerPool _pool;
        private readonly int _index;
        private readonly Thread _thread;
        private int _sleeping;

        internal Worker(WorkerPool pool, int index)
        {
            _pool = pool;
            _index = index;
            _thread = new Thread(Loop)
            {
                IsBackground = true,
                Name = $"Backprop worker {index + 1}",
            };
            _thread.Start();
        }

        internal bool IsAlive => _thread.IsAlive;

        // Called after the generation was bumped (a full fence): wakes the thread if it has blocked.
        internal void Wake()
        {
            if (Volatile.Read(ref _sleeping) != 0)
            {
                _wake.Set();
            }
        }

        // Called after the pool was marked stopped: the event stays set until the thread next waits, so a thread that
        // is about to block returns at once and sees the mark.
        internal void Stop() => _wake.Set();

        private void Loop()
        {
            WorkerPool pool = _pool;
            long seen = 0;
            while (true)
            {
                long generation = WaitForJob(seen);
                if (generation < 0)
                {
                    return;
                }

                seen = generation;
                int part = _index + 1;
                if (part >= Volatile.Read(ref pool._partCount))
                {
                    continue;
                }

                long pending = Tag(generation, Pending);
                if (Interlocked.CompareExchange(ref pool._states[part], Tag(generation, Running), pending) != pending)
                {
                    continue;
                }

                // While this part is claimed the caller cannot finish the job, so _work is this job's.
                bool done = true;
                try
                {
                    done = RunPart(pool, part);
                }
                catch (Exception ex)
                {
                    pool._error = ex;
                }

                Volatile.Write(ref pool._states[part], Tag(generation, done ? Done : Pending));
            }
        }

        // Runs one part in a frame of its own, so that no slot of the worker's long-lived Loop frame keeps the job (and
        // through it a context or a network) reachable after the part is done: the JIT may report a spilled local as
        // live for a whole method, which let an idle worker keep its undisposed context alive.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool RunPart(WorkerPool pool, int part) => pool._work!.Execute(part);

        // The next job's generation, or -1 once the pool has shut down.
        private long WaitForJob(long seen)
        {
            WorkerPool pool = _pool;
            long start = Stopwatch.GetTimestamp();
            int spins = 0;
            while (true)
            {
                if (Volatile.Read(ref pool._stopped) != 0)
                {
                    return -1;
                }

                long generation = Volatile.Read(ref pool._generation);
                if (generation != seen)
                {
                    return generation;
                }

                // Poll (while callers run alone for contention, block at once: spinning would only take cores away).
                long now = Stopwatch.GetTimestamp();
                if (now >= Volatile.Read(ref pool._aloneUntil))
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
                // reads _sleeping, so one of the two always sees the other; Shutdown marks the pool stopped before it
                // sets the event, which stays set until this thread waits.
                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref pool._generation) == seen && Volatile.Read(ref pool._stopped) == 0)
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
