using System.Numerics;

namespace Backprop;

/// <summary>
/// Where <c>Fit</c>'s epoch loop gets its mini-batches: each epoch, the rows of the training data in that epoch's order,
/// copied batch by batch into the trainer's pass. The loop itself (steps, observers, schedule, history, early stopping,
/// cancellation) is the same whether the data is in memory (<see cref="InMemoryFeeder{T}"/>) or streamed
/// (<see cref="ShuffleBufferFeeder{T}"/>).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal abstract class BatchFeeder<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether every row has a class, which <see cref="NextBatch"/> reports for the training accuracy.</summary>
    public abstract bool HasClasses { get; }

    /// <summary>Starts epoch <paramref name="epoch"/> (1-based): its order of rows depends only on it and the options' seed.</summary>
    /// <returns>The number of rows of the epoch when known, else <see cref="int.MaxValue"/>: no batch is larger.</returns>
    public abstract int BeginEpoch(int epoch);

    /// <summary>Copies the next rows of the epoch into the spans, as many as they hold while rows remain, with their
    /// classes when <see cref="HasClasses"/>.</summary>
    /// <returns>The number of rows copied; 0 once the epoch is over.</returns>
    public abstract int NextBatch(Span<T> inputs, Span<T> targets, Span<int> classes);

    /// <summary>The weights of the rows of the last batch when the data is weighted; empty otherwise.</summary>
    public virtual ReadOnlyMemory<T> BatchWeights => default;

    /// <summary>Releases what the current epoch holds open (a reader of the source).</summary>
    public virtual void Dispose()
    {
    }
}
