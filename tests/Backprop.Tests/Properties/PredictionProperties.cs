using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Backprop.Tests.Properties;

/// <summary>
/// Predicting a batch equals predicting its rows one by one, bit for bit, whatever the batch size and the thread count
/// (<see cref="Network{T}.MaxDegreeOfParallelism"/> 1 and 2), in float and in double; and PredictClasses agrees.
/// </summary>
/// <remarks>
/// The small shapes (≤ 8 units, ≤ 9 rows) never reach the 2¹⁷ flops above which a product splits over threads,
/// nor the GEMM's other tiling thresholds, so the "wide" properties repeat the check on larger shapes
/// (<see cref="Generators.WideNetworkCaseGen"/>); FsCheck's summary says how many of their cases took which path.
/// </remarks>
[Properties(MaxTest = PropertyConfig.MaxTest, Replay = PropertyConfig.Replay, Arbitrary = new[] { typeof(Generators) })]
public sealed class PredictionProperties
{
    [Property]
    public void BatchPredictionEqualsRowByRowInFloat(NetworkCase c) => BatchEqualsRows<float>(c);

    [Property]
    public void BatchPredictionEqualsRowByRowInDouble(NetworkCase c) => BatchEqualsRows<double>(c);

    [Property(MaxTest = PropertyConfig.MaxTest / 2)]
    public Property WideBatchPredictionEqualsRowByRowInFloat(WideNetworkCase c)
    {
        BatchEqualsRows<float>(c.Case);
        return Paths(c.Case);
    }

    [Property(MaxTest = PropertyConfig.MaxTest / 2)]
    public Property WideBatchPredictionEqualsRowByRowInDouble(WideNetworkCase c)
    {
        BatchEqualsRows<double>(c.Case);
        return Paths(c.Case);
    }

    /// <summary>Which GEMM paths the case's batch product takes (the thresholds of Numerics/GemmDriver.cs).</summary>
    private static Property Paths(NetworkCase c)
    {
        var widths = new[] { c.Network.Inputs }.Concat(c.Network.Layers.OfType<DenseSpec>().Select(d => d.Units)).ToArray();
        bool parallel = widths.Zip(widths.Skip(1)).Any(p => 2.0 * c.Batch * p.First * p.Second >= 1 << 17);
        return Prop.Classify(true, parallel, "eligible for 2 threads")
            .Classify(c.Network.Inputs > GemmDriver<GemmSimd512<float>, Vector512<float>, float>.KcMax, "two K blocks");
    }

    private static void BatchEqualsRows<T>(NetworkCase c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = c.Network.Build<T>();
        RandomizeBiases(network, c.DataSeed);
        var x = c.Network.MakeInputs<T>(c.Batch, c.DataSeed);

        T[] batch = network.Predict(x).ToRowMajorArray();
        int width = network.OutputSize;

        // One output is a binary classifier: a sigmoid's probability above 0.5, an identity's logit above 0; any other
        // activation has no classes.
        var activation = network.Layers[^1].Activation;
        bool hasClasses = width > 1 || activation is Sigmoid or Identity;
        if (!hasClasses)
        {
            FluentActions.Invoking(() => network.PredictClasses(x)).Should().Throw<InvalidOperationException>();
        }

        T cut = activation is Sigmoid ? T.CreateChecked(0.5) : T.Zero;
        int Expected(ReadOnlySpan<T> row) => width == 1 ? (row[0] > cut ? 1 : 0) : ArgMax(row);
        int[] classes = hasClasses ? network.PredictClasses(x) : [];

        var destination = new T[width];
        for (int r = 0; r < c.Batch; r++)
        {
            T[] row = x.Row(r).ToArray();
            BitAssert.Identical<T>(batch.AsSpan(r * width, width), network.Predict(row), $"Predict of row {r} alone vs in the batch");
            network.Predict(row, destination);
            BitAssert.Identical<T>(batch.AsSpan(r * width, width), destination, $"Predict(row {r}, destination) vs in the batch");
            if (hasClasses)
            {
                classes[r].Should().Be(Expected(batch.AsSpan(r * width, width)), "PredictClasses of row {0} must be the index of its largest output (first on a tie), or its threshold for one output", r);
            }
        }

        network.MaxDegreeOfParallelism = 2;
        BitAssert.Identical<T>(batch, network.Predict(x).ToRowMajorArray(), "Predict with MaxDegreeOfParallelism 2 vs 1");
        if (hasClasses)
        {
            network.PredictClasses(x).Should().Equal(classes, "PredictClasses must not depend on the thread count");
        }
    }

    /// <summary>Biases start at 0; give them values so that the bias addition is exercised too.</summary>
    internal static void RandomizeBiases<T>(Network<T> network, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(unchecked(seed + 2));
        foreach (var dense in network.Layers.OfType<Dense<T>>())
        {
            var biases = dense.Parameters[1].Values;
            for (int j = 0; j < biases.Length; j++)
            {
                biases[j] = T.CreateChecked(random.NextDouble() - 0.5);
            }
        }
    }

    private static int ArgMax<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++)
        {
            if (values[j] > values[best])
            {
                best = j;
            }
        }

        return best;
    }
}
