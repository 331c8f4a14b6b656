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
    private bool _checking;

    // Per part of the check: whether its ranges hold a NaN or ±∞ (each part writes its own entry).
    private bool[] _nonFinite = [];

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
    // alone when its pool is busy with another caller's job: the same ranges, the same result); NotSplit, having done
    // nothing, when no parameter is worth splitting for a batch of `rows` rows.
    //
    // With checkFinite, every gradient is first checked for NaN and ±∞, each large one by range on the thread that will
    // update that range (the same ranges), so that a gradient computed on a worker is read by that worker alone; the
    // caller checks the small ones. NonFinite, having updated nothing, when one is not finite: the caller then names it
    // (GradientHealth). Checked on the caller instead, the worker's share of the largest gradient crossed between the
    // cores' caches every step.
    internal UpdateOutcome Run(IOptimizer optimizer, ComputeContext context, int maxDegreeOfParallelism, int rows, bool checkFinite = false)
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
            return UpdateOutcome.NotSplit;
        }

        if (checkFinite && !AllFinite(context, parts))
        {
            return UpdateOutcome.NonFinite;
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

        return UpdateOutcome.Updated;
    }

    // Whether every gradient is finite: the large ones checked by range on the threads that update those ranges, the
    // others here. Exact (no sum that could overflow): a value is finite or it is not.
    private bool AllFinite(ComputeContext context, int parts)
    {
        for (int i = 0; i < _all.Length; i++)
        {
            if (!_large[i] && Guard.IndexOfNonFinite<T>(_all[i].GradientArray) >= 0)
            {
                return false;
            }
        }

        if (_nonFinite.Length < parts)
        {
            _nonFinite = new bool[parts];
        }

        Array.Clear(_nonFinite);
        _parts = parts;
        _checking = true;
        try
        {
            RunOn(context.Pool, parts);
        }
        finally
        {
            _checking = false;
        }

        for (int part = 0; part < parts; part++)
        {
            if (_nonFinite[part])
            {
                return false;
            }
        }

        return true;
    }

    protected override void RunPart(int part)
    {
        if (_checking)
        {
            bool nonFinite = false;
            for (int i = 0; i < _all.Length && !nonFinite; i++)
            {
                if (_large[i])
                {
                    (int start, int length) = Range(_all[i].Length, part, _parts);
                    nonFinite = Guard.IndexOfNonFinite<T>(_all[i].GradientArray.AsSpan(start, length)) >= 0;
                }
            }

            _nonFinite[part] = nonFinite;
            return;
        }

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

/// <summary>What <see cref="ParallelUpdate{T}.Run"/> did.</summary>
internal enum UpdateOutcome
{
    /// <summary>Nothing: no parameter is worth splitting; the caller updates them all.</summary>
    NotSplit,

    /// <summary>Every parameter was updated.</summary>
    Updated,

    /// <summary>Nothing: a gradient is NaN or infinite.</summary>
    NonFinite,
}
