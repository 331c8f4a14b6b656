namespace Backprop.Numerics;

// Work over the items of a batch (samples, image planes, groups of samples) split into contiguous ranges that the caller
// and the workers of a ComputeContext run at once. Each item's results depend on that item alone (a subclass writes
// nothing that another item reads), so they are bit-identical however the ranges are shared out, and on one thread.
// A subclass holds the call's operands (pinned by the caller for the length of Run) and per-part scratch: part p runs
// on one thread at a time, so part p's scratch is never shared.
internal abstract class SampleParallelWork : PartitionedWork
{
    private int _count;
    private int _parts;

    // How many parts Run splits `count` items into: more than one when the context may use several threads and the
    // work (in the context's units, flops) passes its split threshold; never more parts than items.
    internal static int PartsFor(ComputeContext context, int maxDegreeOfParallelism, int count, double work) =>
        maxDegreeOfParallelism > 1 && count > 1 && context.WouldSplit(work)
            ? Math.Min(context.PartsFor(maxDegreeOfParallelism), count)
            : 1;

    // Runs RunRange over items [0, count) in `parts` contiguous ranges (see PartsFor): part 0 on the caller, the others on
    // the context's workers, or every part on the caller, in order, when the pool is held by another caller.
    internal void Run(ComputeContext context, int count, int parts)
    {
        _count = count;
        _parts = Math.Max(1, parts);
        RunOn(context.Pool, _parts);
    }

    protected sealed override void RunPart(int part)
    {
        int first = (int)((long)_count * part / _parts), end = (int)((long)_count * (part + 1) / _parts);
        if (first < end)
        {
            RunRange(part, first, end);
        }
    }

    // Processes items [first, end) as part `part`.
    protected abstract void RunRange(int part, int first, int end);
}
