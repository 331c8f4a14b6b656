using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Distributed;

/// <summary>
/// One training step over a global batch that every process holds, computed by the processes together: the batch is
/// cut into <c>S</c> gradient shards (rows [k·B/S, (k+1)·B/S)), process r computes the shards
/// [r·S/N, (r+1)·S/N), and the shards' gradients are added left to right in shard order along the ranks, so that every
/// process count gives the same sum, bit for bit.
/// </summary>
/// <remarks>
/// <para>The sum: G = ((…((0 + c₀·g₀) + c₁·g₁) + …) + c_{S−1}·g_{S−1}), element by element, each term rounded once
/// (x·c, then the addition; no fused multiply-add), where g_k is shard k's gradient computed from zero by the trainer's own
/// steps (its loss reduced over the shard's rows) and c_k = W_k / W its share of the batch (W_k: the shard's row count, or
/// its Σ weights; W: the batch's), or 1 for a summed loss. Process 0 starts from zero, each later process receives the
/// running sum from the one before, adds its shards in order and passes it on; the last process broadcasts G.</para>
/// <para>The loss is Σ_k c_k·loss_k in shard order (each loss_k with the regularisation penalty, whose shares add up to
/// one penalty), and the outputs of every row are gathered for the epoch's accuracy; every process then checks and clips
/// the same G and runs the same update, so weights and optimizer state stay identical everywhere.</para>
/// </remarks>
internal sealed class DataParallelStep<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int SumTag = 16;

    /// <summary>The elements of the running sum passed from rank to rank at a time: 64 KiB of floats.</summary>
    private const int ChunkLength = 16_384;

    private readonly Trainer<T> _trainer;
    private readonly Communicator _communicator;
    private readonly int _shards;
    private readonly Parameter<T>[] _parameters;
    private readonly int _parameterCount;
    private readonly Dropout<T>[] _dropouts;
    private readonly double[] _shardLosses;
    private readonly T[] _scales;
    private readonly bool[] _computed;
    private readonly T[] _sum;
    private readonly T[][] _stored;
    private ForwardPass<T>? _shardPass;
    private double[] _gathered = [];

    public DataParallelStep(Trainer<T> trainer, Communicator communicator, int shards)
    {
        _trainer = trainer;
        _communicator = communicator;
        _shards = shards;
        _parameters = UniqueParameters(trainer.Network);
        _parameterCount = _parameters.Sum(p => p.Length);
        _dropouts = [.. AllLayers(trainer.Network.Layers).OfType<Dropout<T>>()];
        _shardLosses = new double[shards];
        _scales = new T[shards];
        _computed = new bool[shards];
        _sum = new T[_parameterCount];

        // Process 0 adds each of its shards to the sum as soon as it is computed; a later process must keep its shards'
        // gradients until the running sum arrives from the process before it.
        int mine = LastShard - FirstShard;
        _stored = communicator.Rank == 0 ? [] : [.. Enumerable.Range(0, mine).Select(_ => new T[_parameterCount])];
        Step = Run;
    }

    /// <summary>The step as the delegate <see cref="Trainer{T}.FitStep"/> takes (made once: no allocation per step).</summary>
    public Func<ForwardPass<T>, int, int, int, double?, double> Step { get; }

    /// <summary>Stopwatch ticks spent from the end of this process's shards to the summed gradient (collectives, waiting
    /// for the other processes, and adding the running sum).</summary>
    public long CommunicationTicks { get; private set; }

    /// <summary>The first shard this process computes.</summary>
    public int FirstShard => (int)((long)_communicator.Rank * _shards / _communicator.Size);

    /// <summary>One past the last shard this process computes.</summary>
    public int LastShard => (int)((long)(_communicator.Rank + 1) * _shards / _communicator.Size);

    /// <summary>Every layer, those inside containers (<see cref="Residual{T}"/>) included.</summary>
    public static IEnumerable<Layer<T>> AllLayers(IEnumerable<Layer<T>> layers)
    {
        foreach (var layer in layers)
        {
            yield return layer;
            if (layer is Residual<T> residual)
            {
                foreach (var inner in AllLayers(residual.Layers))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>The network's parameters in layer order, each array once (tied parameters share theirs).</summary>
    public static Parameter<T>[] UniqueParameters(Network<T> network)
    {
        var seen = new HashSet<T[]>(ReferenceEqualityComparer.Instance);
        return [.. network.Layers.SelectMany(l => l.Parameters).Where(p => seen.Add(p.GradientArray))];
    }

    private double Run(ForwardPass<T> pass, int count, int epoch, int batch, double? maxNorm)
    {
        var network = _trainer.Network;
        int inputWidth = network.InputSize, outputWidth = network.OutputSize, last = network.Layers.Count - 1;
        int rank = _communicator.Rank, size = _communicator.Size, first = FirstShard, end = LastShard;
        pass.Rows = count;
        bool weighted = !pass.SampleWeights.IsEmpty;
        bool mean = _trainer.Loss.Reduction != LossReduction.Sum;
        double total = pass.WeightTotal();
        var shardPass = ShardPass((count + _shards - 1) / _shards);
        T[] outputs = pass.ActivationBuffers[last];
        if (size > 1)
        {
            // Rows of other processes' shards: zero, so that the sum over the processes below gathers every row exactly
            // (each element has one nonzero term).
            outputs.AsSpan(0, count * outputWidth).Clear();
        }

        Array.Clear(_shardLosses);
        Array.Clear(_sum);
        for (int k = 0; k < _shards; k++)
        {
            int r0 = ShardStart(k, count), rows = ShardStart(k + 1, count) - r0;
            double shardWeight = weighted ? Total(pass.SampleWeights.Span.Slice(r0, rows)) : rows;
            _computed[k] = k >= first && k < end && rows > 0 && shardWeight != 0;
            if (!_computed[k])
            {
                // Not computed here (another process's, empty, or weighing nothing): the dropout masks it would draw
                // are drawn past, so that every process's generators stay where one process's are.
                SkipDropout(rows);
                continue;
            }

            pass.Input.AsSpan(r0 * inputWidth, rows * inputWidth).CopyTo(shardPass.Input);
            pass.Targets.AsSpan(r0 * outputWidth, rows * outputWidth).CopyTo(shardPass.Targets);
            shardPass.SampleWeights = weighted ? pass.SampleWeights.Slice(r0, rows) : default;
            _trainer.ForwardCore(shardPass, rows, training: true);
            double loss = _trainer.LocalGradientsCore(shardPass);
            _trainer.BackpropagateCore(shardPass, computeInputGradients: false);
            shardPass.ActivationBuffers[last].AsSpan(0, rows * outputWidth).CopyTo(outputs.AsSpan(r0 * outputWidth));

            double share = mean ? shardWeight / total : 1;
            _shardLosses[k] = loss * share;
            _scales[k] = T.CreateChecked(share);
            if (rank == 0)
            {
                // The running sum starts here, from zero: add the shard at once.
                AddGradients(_sum, _scales[k]);
            }
            else
            {
                Flatten(_stored[k - first]);
            }
        }

        long communicating = Stopwatch.GetTimestamp();
        if (size > 1)
        {
            // One all-reduce for the shard losses and every row's outputs, as doubles (a float converts exactly): each
            // element has one nonzero term, so the sum in any order is exact.
            int length = _shards + (count * outputWidth);
            if (_gathered.Length < length)
            {
                _gathered = new double[length];
            }

            var gathered = _gathered.AsSpan(0, length);
            _shardLosses.CopyTo(gathered);
            var rowOutputs = gathered[_shards..];
            var mine = outputs.AsSpan(0, count * outputWidth);
            for (int i = 0; i < rowOutputs.Length; i++)
            {
                rowOutputs[i] = double.CreateTruncating(mine[i]);
            }

            _communicator.AllReduceSum(gathered);
            gathered[.._shards].CopyTo(_shardLosses);
            for (int i = 0; i < rowOutputs.Length; i++)
            {
                mine[i] = T.CreateTruncating(rowOutputs[i]);
            }
        }

        double batchLoss = 0;
        for (int k = 0; k < _shards; k++)
        {
            batchLoss += _shardLosses[k];
        }

        pass.Loss = batchLoss;
        if (!double.IsFinite(batchLoss))
        {
            // Every process sees the same loss, so every process stops here together.
            throw new TrainingDivergedException(epoch, batch, -1, "loss", batchLoss);
        }

        // The chain along the ranks: receive the running sum, add this process's shards in order, pass it on; the last
        // process broadcasts the total. In chunks, so that the ranks work as a pipeline: while rank r adds chunk c,
        // rank r + 1 adds chunk c − 1. Every element still gets its terms in shard order.
        if (size > 1)
        {
            for (int start = 0; start < _sum.Length; start += ChunkLength)
            {
                int length = Math.Min(ChunkLength, _sum.Length - start);
                var chunk = _sum.AsSpan(start, length);
                if (rank > 0)
                {
                    _communicator.Receive(chunk, rank - 1, SumTag);
                    for (int k = first; k < end; k++)
                    {
                        if (_computed[k])
                        {
                            TensorPrimitives.MultiplyAdd<T>(_stored[k - first].AsSpan(start, length), _scales[k], chunk, chunk);
                        }
                    }
                }

                if (rank < size - 1)
                {
                    _communicator.Send<T>(chunk, rank + 1, SumTag);
                }
            }
        }

        if (size > 1)
        {
            _communicator.Broadcast<T>(_sum, size - 1);
        }

        CommunicationTicks += Stopwatch.GetTimestamp() - communicating;
        int offset = 0;
        foreach (var parameter in _parameters)
        {
            _sum.AsSpan(offset, parameter.Length).CopyTo(parameter.GradientArray);
            offset += parameter.Length;
        }

        GradientHealth.CheckAndClip(network.Layers, epoch, batch, maxNorm);
        _trainer.UpdateCore(count);
        pass.Stage = ForwardPassStage.WeightsUpdated;
        return batchLoss;
    }

    /// <summary>The first row of shard <paramref name="shard"/> in a batch of <paramref name="count"/> rows: ⌊k·B/S⌋.</summary>
    private int ShardStart(int shard, int count) => (int)((long)shard * count / _shards);

    /// <summary>sum ← sum + scale·g over every parameter's gradient, in parameter order (each product rounded, then the sum).</summary>
    private void AddGradients(T[] sum, T scale)
    {
        int offset = 0;
        foreach (var parameter in _parameters)
        {
            var target = sum.AsSpan(offset, parameter.Length);
            TensorPrimitives.MultiplyAdd<T>(parameter.GradientArray, scale, target, target);
            offset += parameter.Length;
        }
    }

    private void Flatten(T[] destination)
    {
        int offset = 0;
        foreach (var parameter in _parameters)
        {
            parameter.GradientArray.CopyTo(destination, offset);
            offset += parameter.Length;
        }
    }

    private void SkipDropout(int rows)
    {
        foreach (var dropout in _dropouts)
        {
            if (dropout.Rate == 0)
            {
                continue;
            }

            long draws = (long)rows * dropout.SavedForBackwardSize;
            var random = dropout.Random;
            for (long i = 0; i < draws; i++)
            {
                random.NextUInt64();
            }
        }
    }

    private ForwardPass<T> ShardPass(int rows)
    {
        if (_shardPass is null || _shardPass.Capacity < rows)
        {
            _shardPass = new ForwardPass<T>(_trainer.Network, Math.Max(rows, 1));
        }

        return _shardPass;
    }

    private static double Total(ReadOnlySpan<T> weights)
    {
        double total = 0;
        foreach (T w in weights)
        {
            total += double.CreateChecked(w);
        }

        return total;
    }
}
