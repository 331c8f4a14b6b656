using System.Runtime.Intrinsics;
using Backprop.Numerics;
using FsCheck;
using FsCheck.Fluent;

namespace Backprop.Tests.Properties;

/// <summary>
/// FsCheck generators and shrinkers of random networks and training runs. The sizes are those of the issue: input
/// width 1–6; 1–3 Dense layers (0–2 hidden and the output layer) of 1–8 units, each hidden one possibly preceded by a
/// Dropout layer (so is the output layer); every built-in hidden activation; every valid output activation and loss
/// pair (<see cref="Catalogue.Heads"/>); batches of 1–9 rows; every built-in optimizer.
/// </summary>
/// <remarks>
/// Shrinking goes towards a smaller, plainer case: fewer layers, units, inputs and rows, the identity activation, the
/// identity + MSE head, plain SGD, one epoch, no dropout, no penalties, no clipping. Every shrunk case is valid, so a
/// failing property reports the smallest failing case it can reach in the readable form of the case's ToString.
/// </remarks>
public static class Generators
{
    private static readonly Gen<int> Seeds = Gen.Choose(int.MinValue, int.MaxValue);

    private static readonly Gen<double> Penalties = Gen.Frequency(
        (3, Gen.Constant(0.0)),
        (1, Gen.Elements(1e-3, 1e-2)));

    private static readonly Gen<InitializerChoice> InitializerChoices = Gen.Frequency(
        (2, Gen.Constant(Catalogue.Glorot)),
        (1, Gen.Elements(Catalogue.Initializers)));

    private static readonly Gen<DenseSpec> HiddenLayers =
        from units in Gen.Choose(1, 8)
        from activation in Gen.Elements(Catalogue.HiddenActivations)
        from initializer in InitializerChoices
        from l1 in Penalties
        from l2 in Penalties
        select new DenseSpec(units, activation, initializer, l1, l2);

    /// <summary>Null (no dropout) three times in four.</summary>
    private static readonly Gen<DropoutSpec?> Dropouts = Gen.Frequency(
        (3, Gen.Constant<DropoutSpec?>(null)),
        (1, from rate in Gen.Elements(0.0, 0.1, 0.25, 0.5)
            from seed in Seeds
            select (DropoutSpec?)new DropoutSpec(rate, seed)));

    public static readonly Gen<NetworkSpec> Networks =
        from inputs in Gen.Choose(1, 6)
        from hiddenCount in Gen.Choose(0, 2)
        from hidden in HiddenLayers.ArrayOf(hiddenCount)
        from dropouts in Dropouts.ArrayOf(hiddenCount + 1)
        from head in Gen.Elements(Catalogue.Heads)
        from outputUnits in Gen.Choose(head.MinUnits, 8)
        from outputInitializer in InitializerChoices
        from l1 in Penalties
        from l2 in Penalties
        from seed in Seeds
        select new NetworkSpec(
            inputs,
            Interleave(dropouts, [.. hidden, new DenseSpec(outputUnits, head.Output, outputInitializer, l1, l2)]),
            head,
            seed);

    public static readonly Gen<NetworkCase> NetworkCaseGen =
        from network in Networks
        from batch in Gen.Choose(1, 9)
        from dataSeed in Seeds
        select new NetworkCase(network, batch, dataSeed);

    public static readonly Gen<TrainingCase> TrainingCaseGen =
        from network in Networks
        from offset in Gen.Choose(1, int.MaxValue)
        from optimizer in Gen.Elements(Catalogue.Optimizers)
        from batchSize in Gen.Choose(1, 9)
        from rows in Gen.Choose(1, 3 * batchSize)
        from epochs in Gen.Choose(1, 3)
        from fitSeed in Seeds
        from clip in Gen.Frequency((3, Gen.Constant<double?>(null)), (1, Gen.Elements<double?>(0.1, 1.0)))
        from dataSeed in Seeds
        select new TrainingCase(network, unchecked(network.Seed + offset), optimizer, rows, batchSize, epochs, fitSeed, clip, dataSeed);

    /// <summary>
    /// Larger shapes than the issue's, for the prediction property only: widths up to 128 units (several column panels),
    /// inputs up to 40 past the GEMM's longest K block (two blocks), batches up to 160 rows (many row tiles and every remainder),
    /// so that most products are big enough (2¹⁷ flops) to split over two threads when the worker pool is free.
    /// </summary>
    public static readonly Gen<WideNetworkCase> WideNetworkCaseGen =
        from inputs in Gen.Frequency((3, Gen.Choose(1, 64)), (1, Gen.Choose(GemmDriver<GemmSimd512<float>, Vector512<float>, float>.KcMax - 20, GemmDriver<GemmSimd512<float>, Vector512<float>, float>.KcMax + 40)))
        from hiddenCount in Gen.Choose(0, 1)
        from hidden in HiddenLayers.ArrayOf(hiddenCount)
        from hiddenUnits in Gen.Choose(1, 128).ArrayOf(hiddenCount)
        from head in Gen.Elements(Catalogue.Heads)
        from outputUnits in Gen.Choose(head.MinUnits, 128)
        from seed in Seeds
        from batch in Gen.Choose(1, 160)
        from dataSeed in Seeds
        select new WideNetworkCase(new NetworkCase(
            new NetworkSpec(
                inputs,
                [.. hidden.Select((d, i) => d with { Units = hiddenUnits[i] }), new DenseSpec(outputUnits, head.Output, Catalogue.Glorot)],
                head,
                seed),
            batch,
            dataSeed));

    /// <summary>Networks with a batch: the gradient-check and prediction properties.</summary>
    public static Arbitrary<NetworkCase> NetworkCases => Arb.From(NetworkCaseGen, Shrink);

    /// <summary>Larger networks with a larger batch: the prediction property's second half.</summary>
    public static Arbitrary<WideNetworkCase> WideNetworkCases => Arb.From(WideNetworkCaseGen, c => Shrink(c.Case).Select(s => new WideNetworkCase(s)));

    /// <summary>Training runs: the determinism and save/load properties.</summary>
    public static Arbitrary<TrainingCase> TrainingCases => Arb.From(TrainingCaseGen, Shrink);

    public static IEnumerable<NetworkCase> Shrink(NetworkCase c)
    {
        if (c.Batch > 1)
        {
            yield return c with { Batch = 1 };
            yield return c with { Batch = c.Batch / 2 };
            yield return c with { Batch = c.Batch - 1 };
        }

        foreach (var network in Shrink(c.Network))
        {
            yield return c with { Network = network };
        }
    }

    public static IEnumerable<TrainingCase> Shrink(TrainingCase c)
    {
        if (c.Epochs > 1)
        {
            yield return c with { Epochs = 1 };
        }

        if (c.Rows > 1)
        {
            yield return c with { Rows = 1 };
            yield return c with { Rows = c.Rows - 1 };
        }

        if (c.BatchSize > 1)
        {
            yield return c with { BatchSize = 1 };
            yield return c with { BatchSize = c.BatchSize - 1 };
        }

        if (c.Optimizer != Catalogue.SimplestOptimizer)
        {
            yield return c with { Optimizer = Catalogue.SimplestOptimizer };
        }

        if (c.MaxGradientNorm is not null)
        {
            yield return c with { MaxGradientNorm = null };
        }

        foreach (var network in Shrink(c.Network))
        {
            yield return c with { Network = network };
        }
    }

    public static IEnumerable<NetworkSpec> Shrink(NetworkSpec n)
    {
        var layers = n.Layers;

        // Remove a hidden Dense layer together with the dropout before it, or a dropout layer alone.
        for (int i = 0; i < layers.Count - 1; i++)
        {
            if (layers[i] is DenseSpec)
            {
                int from = i > 0 && layers[i - 1] is DropoutSpec ? i - 1 : i;
                yield return n with { Layers = [.. layers.Take(from), .. layers.Skip(i + 1)] };
            }
        }

        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is DropoutSpec)
            {
                yield return n with { Layers = [.. layers.Take(i), .. layers.Skip(i + 1)] };
            }
        }

        if (n.Head != Catalogue.SimplestHead)
        {
            yield return n with
            {
                Head = Catalogue.SimplestHead,
                Layers = Replace(layers, layers.Count - 1, n.Output with { Activation = Catalogue.SimplestHead.Output }),
            };
        }

        if (n.Inputs > 1)
        {
            yield return n with { Inputs = 1 };
            yield return n with { Inputs = n.Inputs / 2 };
            yield return n with { Inputs = n.Inputs - 1 };
        }

        for (int i = 0; i < layers.Count; i++)
        {
            bool output = i == layers.Count - 1;
            switch (layers[i])
            {
                case DenseSpec dense:
                    int fewest = output ? n.Head.MinUnits : 1;
                    if (dense.Units > fewest)
                    {
                        yield return n with { Layers = Replace(layers, i, dense with { Units = fewest }) };
                        yield return n with { Layers = Replace(layers, i, dense with { Units = Math.Max(fewest, dense.Units / 2) }) };
                        yield return n with { Layers = Replace(layers, i, dense with { Units = dense.Units - 1 }) };
                    }

                    if (!output && dense.Activation != Catalogue.Identity)
                    {
                        yield return n with { Layers = Replace(layers, i, dense with { Activation = Catalogue.Identity }) };
                    }

                    if (dense.Initializer != Catalogue.Glorot || dense.L1 != 0 || dense.L2 != 0)
                    {
                        yield return n with { Layers = Replace(layers, i, dense with { Initializer = Catalogue.Glorot, L1 = 0, L2 = 0 }) };
                    }

                    break;

                case DropoutSpec { Rate: > 0 } dropout:
                    yield return n with { Layers = Replace(layers, i, dropout with { Rate = 0 }) };
                    break;
            }
        }
    }

    /// <summary>The Dense layers with dropouts[i], where not null, before Dense layer i.</summary>
    private static LayerSpec[] Interleave(DropoutSpec?[] dropouts, DenseSpec[] dense)
    {
        var layers = new List<LayerSpec>();
        for (int i = 0; i < dense.Length; i++)
        {
            if (dropouts[i] is { } dropout)
            {
                layers.Add(dropout);
            }

            layers.Add(dense[i]);
        }

        return [.. layers];
    }

    private static LayerSpec[] Replace(IReadOnlyList<LayerSpec> layers, int index, LayerSpec layer)
    {
        var copy = layers.ToArray();
        copy[index] = layer;
        return copy;
    }
}
