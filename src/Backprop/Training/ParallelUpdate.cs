using System.Numerics;
using Backprop.Numerics;

namespace Backprop;

// The optimizer's update of a network's parameters, with every large parameter split into contiguous ranges that the
// caller and the workers of the network's ComputeContext update at once. Only for elementwise optimizers (IOptimizer.IsElementwise): each value's
// update reads nothing but its own position, so the result is bit-identical however the ranges are shared out.
//
// Part p takes the same fraction of each parameter as part p of the weight-gradient product (Dense computes ∂L/∂W
// split by contiguous rows), so the thread that wrote a stretch of gradients is the one that reads it and updates the
// weights beside it, and those stay in its core's cache for its share of the next forward pass.
internal sealed class ParallelUpdate<T> : PartitionedWork
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // No parameter shorter than this is split: a part must be worth handing over.
    private const int MinLength = 1 << 12;

    // Range boundaries fall on multiples of this many values: whole cache lines (no two threads write one line) and
    // whole vectors at every width, so that each part is vectorised exactly as the whole parameter would be.
    private const int Alignment = 64;

    private readonly Parameter<T>[] _all;
    private readonly long[] _layerFlopsPerSample;
    private readonly OptimizerState<T>[] _states;
    private readonly bool[] _large;
    private IOptimizer? _optimizer;
    private int _parts;

    internal ParallelUpdate(IReadOnlyList<Layer<T>> layers)
    {
        _all = layers.SelectMany(l => l.Parameters).ToArray();
        // Each parameter's layer's stated forward cost per sample: its products are split when that cost times the
        // batch's rows passes the context's threshold.
        _layerFlopsPerSample = layers.SelectMany(l => l.Parameters.Select(_ => l.FlopsPerSample)).ToArray();
        _states = new OptimizerState<T>[_all.Length];
        _large = new bool[_all.Length];
    }

    // Updates every parameter, the large ones on up to maxDegreeOfParallelism threads of the context (on the caller
    // alone when its pool is busy with another caller's job: the same ranges, the same result); false, having done
    // nothing, when no parameter is worth splitting for a batch of `rows` rows.
    internal bool Run(IOptimizer optimizer, ComputeContext context, int maxDegreeOfParallelism, int rows)
    {
        int parts = context.PartsFor(maxDegreeOfParallelism);
        bool any = false;
        for (int i = 0; i < _all.Length; i++)
        {
            // Split only where the parameter's layer split its products too (its stated cost per sample times the rows;
            // for a dense layer 2·inputs·units·rows, the weight gradient's product): then the values of its large
            // parameters already live in both cores' caches. Splitting the update
            // of a parameter whose product ran on one thread makes the values cross between the caches every step
            // instead: the 784-32-10 net at batch 16 took 0.158 s an epoch on two threads that way, against 0.119 s
            // on one.
            _large[i] = parts > 1 && _all[i].Length >= MinLength && context.WouldSplit(_layerFlopsPerSample[i] * rows);
            any |= _large[i];
        }

        if (!any)
        {
            return false;
        }

        // Every state is found (or created, in parameter order, as a sequential update would) on this thread first,
        // with the range views of the large parameters, so that the parts only read shared structures.
        for (int i = 0; i < _all.Length; i++)
        {
            _states[i] = optimizer.BeginUpdate(_all[i]);
            if (!_large[i])
            {
                optimizer.UpdateRange(_all[i].ValueArray, _all[i].GradientArray, _states[i]);
                continue;
            }

            for (int part = 0; part < parts; part++)
            {
                (int start, int length) = Range(_all[i].Length, part, parts);
                _states[i].Part(part, parts, start, length);
            }
        }

        _optimizer = optimizer;
        _parts = parts;
        try
        {
            RunOn(context.Pool, parts);
        }
        finally
        {
            _optimizer = null;
        }

        return true;
    }

    protected override void RunPart(int part)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            if (_large[i])
            {
                (int start, int length) = Range(_all[i].Length, part, _parts);
                _optimizer!.UpdateRange(_all[i].ValueArray.AsSpan(start, length), _all[i].GradientArray.AsSpan(start, length), _states[i].Part(part, _parts, start, length));
            }
        }
    }

    // Values [start, start + length) of a parameter of `total` values for part `part` of `parts`.
    private static (int Start, int Length) Range(int total, int part, int parts)
    {
        int start = Boundary(total, part, parts);
        return (start, Boundary(total, part + 1, parts) - start);
    }

    private static int Boundary(int total, int part, int parts) =>
        part == parts ? total : (int)((long)total * part / parts) / Alignment * Alignment;
}
