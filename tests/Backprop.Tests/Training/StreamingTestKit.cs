using System.Numerics;

namespace Backprop.Tests.Training;

/// <summary>
/// A source that makes its samples on the fly: sample i has the inputs [i, (7i + j) mod 13 / 13 …] and the single target i,
/// so that what the trainer visits can be told from the targets alone. It counts the readers it opens and disposes,
/// and can poison one sample's first input with NaN.
/// </summary>
internal sealed class GeneratedSource<T>(long rows, int inputs = 2, long poisonedRow = -1) : ISampleSource<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public string Name => "generated";

    public int InputSize => inputs;

    public int OutputSize => 1;

    public bool HasClasses => false;

    public long Rows => rows;

    public long PoisonedRow => poisonedRow;

    public int Opened { get; private set; }

    public int Disposed { get; private set; }

    public ISampleReader<T> OpenReader()
    {
        Opened++;
        return new Reader(this);
    }

    private sealed class Reader(GeneratedSource<T> source) : ISampleReader<T>
    {
        private long _next;

        public int Read(Span<T> x, Span<T> y, Span<int> classes)
        {
            int count = (int)Math.Min(x.Length / source.InputSize, source.Rows - _next);
            for (int r = 0; r < count; r++, _next++)
            {
                var row = x.Slice(r * source.InputSize, source.InputSize);
                row[0] = _next == source.PoisonedRow ? T.NaN : T.CreateChecked(_next);
                for (int j = 1; j < row.Length; j++)
                {
                    row[j] = T.CreateChecked((7 * _next + j) % 13) / T.CreateChecked(13);
                }

                y[r] = T.CreateChecked(_next);
            }

            return count;
        }

        public void Dispose() => source.Disposed++;
    }
}

/// <summary>
/// A loss of zero (so the weights never change) that sees every batch's targets: it records the first target of every
/// row, epoch by epoch, or, with <c>record: false</c>, only counts the rows and sums their targets (allocating nothing).
/// </summary>
internal sealed class VisitLoss(bool record = true) : ILossFunction, ITrainingObserver
{
    private List<long> _current = [];

    public string Name => "visits";

    public LossReduction Reduction => LossReduction.Mean;

    public List<List<long>> Epochs { get; } = [];

    public long Rows { get; private set; }

    public double Sum { get; private set; }

    public void OnEpochBegin(int epoch)
    {
        if (record)
        {
            _current = [];
            Epochs.Add(_current);
        }
    }

    public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < targets.Length; i += width)
        {
            double id = double.CreateChecked(targets[i]);
            if (record)
            {
                _current.Add((long)id);
            }

            Rows++;
            Sum += id;
        }

        return T.Zero;
    }

    public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T> => outputGradients.Clear();
}

/// <summary>The bytes allocated on the training thread per window of 20 batches from the end of batch <c>fromBatch</c>
/// on: <see cref="Allocated"/> is the least of the whole windows (see <see cref="AllocationMeter"/>: a one-time
/// allocation by the runtime lands in one window, an allocation per batch in every window).</summary>
internal sealed class AllocationProbe(int fromBatch) : ITrainingObserver
{
    private const int Window = 20;
    private long _windowStart;
    private long _least = long.MaxValue;

    public int Batches { get; private set; }

    public long Allocated => _least;

    public void OnBatchEnd(int epoch, int batch, double loss)
    {
        long now = GC.GetAllocatedBytesForCurrentThread();
        if (batch >= fromBatch && (batch - fromBatch) % Window == 0)
        {
            if (batch > fromBatch)
            {
                _least = Math.Min(_least, now - _windowStart);
            }

            _windowStart = now;
        }

        Batches = batch;
    }
}
