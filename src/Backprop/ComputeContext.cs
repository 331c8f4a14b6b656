using Backprop.Numerics;

namespace Backprop;

/// <summary>
/// Where a network's numeric work runs: a pool of worker threads, the most threads one job may use, and the rule for
/// when a job is worth splitting. A network is given one (<see cref="Network{T}.Context"/>) or shares
/// <see cref="Shared"/>; <see cref="Gemm"/> takes one per call.
/// </summary>
/// <remarks>
/// <para>A job (a matrix product, an optimizer's update of a large parameter, the copy of a shuffled batch) holds its
/// context's pool while it runs. One job holds a pool at a time: a job that finds its context's pool busy runs alone
/// on its caller's thread. That never changes a result: every job is split by output ranges fixed by its shapes alone,
/// never inside a sum, so it is bit-identical on one thread or many, alone or beside other jobs.</para>
/// <para>So networks trained at once on different threads are all correct whatever contexts they use; only their speed
/// differs. Networks that share a context (by default, <see cref="Shared"/>) take turns at its workers; give each its
/// own context for each to get cores of its own. A context's contention backoff is its own as well: a caller that had
/// to wait for a descheduled worker makes the callers of that context alone run on their own threads for a while
/// (1 ms, doubling up to 250 ms while it keeps happening).</para>
/// <para>Threads: a context starts its <see cref="MaxDegreeOfParallelism"/> − 1 worker threads on its first split job.
/// They are background threads (they never keep a process alive); an idle one polls for about 100 µs and then blocks.
/// They reference the pool only, never the context, a network or a job they have finished, so they keep nothing alive:
/// <see cref="Dispose"/> ends them, and so does the context's finalizer once nothing references the context (neither
/// the caller nor a network given it). <see cref="Shared"/> lives as long as the process; disposing it does nothing.
/// </para>
/// <para>Thread safety: thread-safe: any number of networks, trainers and <see cref="Gemm"/> calls may use one context
/// at once. <see cref="Dispose"/> may be called while jobs run: they finish on their callers' threads, and later jobs
/// run alone, with the same results.</para>
/// </remarks>
public sealed class ComputeContext : IDisposable
{
    /// <summary>The most threads a context may use: its caller and up to 255 workers.</summary>
    public const int MaxThreads = 256;

    /// <summary>The default <see cref="ParallelThresholdFlops"/>: 2²¹ floating-point operations, about 20 µs of one core's work.</summary>
    /// <remarks>Alone, two threads win on a product from about 2¹⁷ flops; inside a training step they do not until
    /// about 2²¹: a split makes the weights and gradients travel between the cores' caches every step (measured on the
    /// 784-32-10 net at batch 16, whose products are 2^19.6 flops: 26 µs a step on one thread, 36 µs on two with the
    /// lower threshold).</remarks>
    public const long DefaultParallelThresholdFlops = 1L << 21;

    // The contention backoff of every context's pool (WorkerPool). Declared before _shared: static fields are initialised
    // in the order they are written, and the shared context read them while they were still zero, which left it a
    // backoff of one timer tick, that is none.
    private static readonly TimeSpan _minBackoff = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan _maxBackoff = TimeSpan.FromMilliseconds(250);

    // Immutable in the sense that matters: its threads and thresholds are fixed; its pool serves one job at a time and
    // a job that finds it busy runs alone with the same result (the no-static-mutable-state test names it).
    private static readonly ComputeContext _shared = new(DefaultThreads(), isShared: true);

    private readonly WorkerPool _pool;
    private readonly bool _isShared;
    private int _disposed;

    /// <summary>Creates a context that may use every processor: <see cref="Environment.ProcessorCount"/> threads (at
    /// most <see cref="MaxThreads"/>).</summary>
    public ComputeContext()
        : this(DefaultThreads(), isShared: false)
    {
    }

    /// <summary>Creates a context whose jobs use at most <paramref name="maxDegreeOfParallelism"/> threads: the
    /// caller's and up to <paramref name="maxDegreeOfParallelism"/> − 1 workers of its own, started on first use.</summary>
    /// <param name="maxDegreeOfParallelism">The most threads one job may use; 1 runs everything on the callers' threads.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is less than 1 or greater than <see cref="MaxThreads"/>.</exception>
    public ComputeContext(int maxDegreeOfParallelism)
        : this(CheckThreads(maxDegreeOfParallelism), isShared: false)
    {
    }

    private ComputeContext(int threads, bool isShared)
    {
        MaxDegreeOfParallelism = threads;
        _isShared = isShared;
        _pool = new WorkerPool(threads - 1, _minBackoff, _maxBackoff);
    }

    /// <summary>Ends the worker threads of a context nobody references any more (one not disposed).</summary>
    ~ComputeContext()
    {
        // Null when the constructor threw (an argument out of range): there is nothing to end then.
        _pool?.Shutdown();
    }

    /// <summary>The context every network uses unless it is given another, and <see cref="Gemm"/> when passed none:
    /// <see cref="Environment.ProcessorCount"/> threads (at most <see cref="MaxThreads"/>), the default thresholds.</summary>
    /// <remarks>Its pool serves one job at a time, so networks that train at once on it take turns at its workers
    /// (each job that finds it busy runs on its own thread, with the same result). It lives as long as the process;
    /// <see cref="Dispose"/> on it does nothing.</remarks>
    public static ComputeContext Shared => _shared;

    /// <summary>The most threads one job of this context may use: its caller's and its workers. A network uses the
    /// smaller of this and its own <see cref="Network{T}.MaxDegreeOfParallelism"/>.</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>The work, in floating-point operations (2·m·n·k for a product), from which a job is split across threads;
    /// smaller ones run on their caller's thread alone. <see cref="DefaultParallelThresholdFlops"/> unless set.</summary>
    /// <remarks>The same rule decides for the matrix products, the optimizer's update of a parameter (split where the
    /// parameter's gradient product is) and the copy of shuffled batches. It changes speed only, never a result.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public long ParallelThresholdFlops
    {
        get;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"{nameof(ParallelThresholdFlops)} must be at least 1, but it is {value}.");
            }

            field = value;
        }
    } = DefaultParallelThresholdFlops;

    /// <summary>Whether <see cref="Dispose"/> has ended the context's threads (never true for <see cref="Shared"/>).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The pool of this context's workers.</summary>
    internal WorkerPool Pool => _pool;

    /// <summary>The one GEMM job object of this context: only the holder of its pool writes it.</summary>
    internal GemmJob GemmJob { get; } = new();

    /// <summary>Ends the context's worker threads. Jobs running now finish on their callers' threads; later jobs of
    /// networks still given this context run on their callers' threads alone, with the same results. Does nothing on
    /// <see cref="Shared"/>, and nothing the second time.</summary>
    public void Dispose()
    {
        if (_isShared || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _pool.Shutdown();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        _isShared ? $"ComputeContext.Shared ({MaxDegreeOfParallelism} threads)" : $"ComputeContext ({MaxDegreeOfParallelism} threads{(IsDisposed ? ", disposed" : "")})";

    /// <summary>Whether a job of this many floating-point operations (2·m·n·k for a product) is split across threads:
    /// the one rule for the products, the optimizer's update (ParallelUpdate) and the batch copy (Trainer.GatherModeFor).</summary>
    internal bool WouldSplit(double flops) => flops >= ParallelThresholdFlops;

    /// <summary>The most parts a job of a caller allowing <paramref name="maxDegreeOfParallelism"/> threads is split into.</summary>
    internal int PartsFor(int maxDegreeOfParallelism) => Math.Clamp(maxDegreeOfParallelism, 1, _pool.MaxParts);

    private static int DefaultThreads() => Math.Clamp(Environment.ProcessorCount, 1, MaxThreads);

    private static int CheckThreads(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism < 1 || maxDegreeOfParallelism > MaxThreads)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, $"{nameof(maxDegreeOfParallelism)} must be between 1 and {MaxThreads}, but it is {maxDegreeOfParallelism}.");
        }

        return maxDegreeOfParallelism;
    }
}
