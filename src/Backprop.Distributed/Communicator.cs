namespace Backprop.Distributed;

/// <summary>
/// A group of processes that train together, numbered 0 … <see cref="Size"/> − 1: the few collective operations the
/// data-parallel trainer needs. <see cref="Mpi.World"/> is every process <c>mpiexec</c> started;
/// <see cref="SingleProcess"/> is this process alone (the one-process reference a distributed run is identical to).
/// </summary>
/// <remarks>
/// <para>Every process must call the collective members (<see cref="Barrier"/>, <see cref="Broadcast{T}"/>,
/// <see cref="AllReduceSum{T}"/>, <see cref="AllGather{T}"/>) in the same order with the same lengths, or the processes
/// wait for each other forever; <see cref="Send{T}"/> and <see cref="Receive{T}"/> pair one process with another.
/// Element types: <see cref="float"/>, <see cref="double"/> and <see cref="int"/> for sums; any unmanaged type for the
/// rest (sent as bytes).</para>
/// <para>Thread safety: call it from one thread at a time.</para>
/// </remarks>
public abstract class Communicator
{
    private protected Communicator()
    {
    }

    /// <summary>This process alone: rank 0 of 1, whose collectives copy or do nothing.</summary>
    public static Communicator SingleProcess { get; } = new SingleProcessCommunicator();

    /// <summary>This process's number, from 0 to <see cref="Size"/> − 1.</summary>
    public abstract int Rank { get; }

    /// <summary>The number of processes.</summary>
    public abstract int Size { get; }

    /// <summary>Waits until every process has called it.</summary>
    public abstract void Barrier();

    /// <summary>Copies <paramref name="data"/> of process <paramref name="root"/> into <paramref name="data"/> of every
    /// other process.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The values: read on the root, overwritten elsewhere; the same length everywhere.</param>
    /// <param name="root">The process whose values are sent.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not in [0, <see cref="Size"/>).</exception>
    public abstract void Broadcast<T>(Span<T> data, int root)
        where T : unmanaged;

    /// <summary>Replaces <paramref name="data"/> on every process by the element-wise sum over all processes.</summary>
    /// <remarks>The order of the additions is MPI's, which may vary with the process count: use it only where every
    /// element has one nonzero contribution (then the sum is exact), or where the order does not matter.</remarks>
    /// <typeparam name="T"><see cref="float"/>, <see cref="double"/> or <see cref="int"/>.</typeparam>
    /// <param name="data">The values, the same length everywhere.</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is another type.</exception>
    public abstract void AllReduceSum<T>(Span<T> data)
        where T : unmanaged;

    /// <summary>Gathers every process's <paramref name="mine"/> into <paramref name="all"/>, in rank order.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="mine">This process's values, the same length on every process.</param>
    /// <param name="all">Receives <see cref="Size"/> × the length of <paramref name="mine"/> values: rank 0's first.</param>
    /// <exception cref="ArgumentException"><paramref name="all"/> does not hold <see cref="Size"/> × the length of <paramref name="mine"/> values.</exception>
    public abstract void AllGather<T>(ReadOnlySpan<T> mine, Span<T> all)
        where T : unmanaged;

    /// <summary>Sends <paramref name="data"/> to one process, which receives it with <see cref="Receive{T}"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The values.</param>
    /// <param name="destination">The receiving process.</param>
    /// <param name="tag">A number the receiver names too.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="destination"/> is not another process.</exception>
    public abstract void Send<T>(ReadOnlySpan<T> data, int destination, int tag)
        where T : unmanaged;

    /// <summary>Receives values sent by one process with <see cref="Send{T}"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">Receives the values; its length must be the sent length.</param>
    /// <param name="source">The sending process.</param>
    /// <param name="tag">The number the sender gave.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="source"/> is not another process.</exception>
    public abstract void Receive<T>(Span<T> data, int source, int tag)
        where T : unmanaged;

    /// <summary>Ends every process at once with <paramref name="errorCode"/>: the way out when this process failed and the
    /// others would otherwise wait for it forever. For one process, it ends this process.</summary>
    /// <param name="errorCode">The exit code.</param>
    public abstract void Abort(int errorCode);

    /// <summary>Checks that <paramref name="rank"/> is a process of this communicator.</summary>
    private protected void CheckRank(int rank, string paramName, bool allowSelf)
    {
        if (rank < 0 || rank >= Size || (!allowSelf && rank == Rank))
        {
            throw new ArgumentOutOfRangeException(paramName, rank,
                $"{paramName} must be {(allowSelf ? "a rank" : "another process's rank")} in [0, {Size}){(allowSelf ? "" : $" other than this process's {Rank}")}, but it is {rank}.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name} (rank {Rank} of {Size})";
}

/// <summary>This process alone.</summary>
internal sealed class SingleProcessCommunicator : Communicator
{
    public override int Rank => 0;

    public override int Size => 1;

    public override void Barrier()
    {
    }

    public override void Broadcast<T>(Span<T> data, int root) => CheckRank(root, nameof(root), allowSelf: true);

    public override void AllReduceSum<T>(Span<T> data)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(int))
        {
            throw new NotSupportedException($"AllReduceSum adds float, double or int values, not {typeof(T).Name}.");
        }
    }

    public override void AllGather<T>(ReadOnlySpan<T> mine, Span<T> all)
    {
        if (all.Length != mine.Length)
        {
            throw new ArgumentException($"all must hold Size × {mine.Length} = {mine.Length} values, but it holds {all.Length}.", nameof(all));
        }

        mine.CopyTo(all);
    }

    public override void Send<T>(ReadOnlySpan<T> data, int destination, int tag) => CheckRank(destination, nameof(destination), allowSelf: false);

    public override void Receive<T>(Span<T> data, int source, int tag) => CheckRank(source, nameof(source), allowSelf: false);

    public override void Abort(int errorCode) => Environment.Exit(errorCode);
}
