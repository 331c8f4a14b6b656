using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Sdk;

namespace Backprop.Tests.Properties;

/// <summary>
/// Training is deterministic under a seed: two networks built with the same seed and trained by <c>Fit</c> with the
/// same options (shuffled mini-batches, dropout, any optimizer, optional clipping) end bit-identical, also with two
/// threads and also when the epochs are split over two <c>Fit</c> calls; a different weight seed ends elsewhere.
/// In float and in double. A run that diverges (<see cref="FitOutcome"/>) must diverge at the same step with the same
/// weights. The two-thread run only splits products on the larger shapes of <see cref="PredictionProperties"/>'s wide
/// cases; on these small ones it checks that the setting changes nothing.
/// </summary>
[Properties(MaxTest = PropertyConfig.MaxTest, Replay = PropertyConfig.Replay, Arbitrary = new[] { typeof(Generators) })]
public sealed class TrainingDeterminismProperties
{
    [Property]
    public Property TrainingIsDeterministicUnderASeedInFloat(TrainingCase c) => Deterministic<float>(c);

    [Property]
    public Property TrainingIsDeterministicUnderASeedInDouble(TrainingCase c) => Deterministic<double>(c);

    private static Property Deterministic<T>(TrainingCase c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = c.Network.MakeInputs<T>(c.Rows, c.DataSeed);
        var y = c.Network.MakeTargets<T>(c.Rows, c.DataSeed);

        var (first, firstOutcome) = Train(c, x, y, c.Network.Seed);
        var (second, secondOutcome) = Train(c, x, y, c.Network.Seed);
        BitAssert.SameParameters(first, second, "a second run with the same seed");
        secondOutcome.Description.Should().Be(firstOutcome.Description, "a second run must end the same way, with bit-identical epoch losses");
        if (firstOutcome.History is { } history)
        {
            BitAssert.Identical<double>(history.Loss.ToArray(), secondOutcome.History!.Loss.ToArray(), "the epoch losses of a second run");
            history.EpochsCompleted.Should().Be(c.Epochs);
        }

        var (parallel, parallelOutcome) = Train(c, x, y, c.Network.Seed, threads: 2);
        BitAssert.SameParameters(first, parallel, "a run with MaxDegreeOfParallelism 2");
        parallelOutcome.Description.Should().Be(firstOutcome.Description, "a run with two threads must end the same way");

        if (c.Epochs > 1 && !firstOutcome.Diverged)
        {
            // Epoch k's shuffle depends only on the seed and k: one epoch and then the rest equals all at once.
            var network = c.Network.Build<T>();
            var trainer = new Trainer<T>(network, c.Network.Head.Loss, c.Optimizer.Create());
            trainer.Fit(x, y, c.FitOptions(epochs: 1));
            trainer.Fit(x, y, c.FitOptions(epochs: c.Epochs - 1));
            trainer.EpochsCompleted.Should().Be(c.Epochs);
            BitAssert.SameParameters(first, network, $"1 + {c.Epochs - 1} epochs in two Fit calls");
        }

        var (other, _) = Train(c, x, y, c.OtherSeed);
        if (!BitAssert.AnyParameterDiffers(first, other))
        {
            throw new XunitException($"Seeds {c.Network.Seed} and {c.OtherSeed} trained to the very same {other.ParameterCount} weights and biases.");
        }

        return Prop.Classify(true, firstOutcome.Diverged, "diverged (identically)")
            .Classify(c.Network.Layers.Any(l => l is DropoutSpec { Rate: > 0 }), "dropout");
    }

    private static (Network<T> Network, FitOutcome Outcome) Train<T>(TrainingCase c, Matrix<T> x, Matrix<T> y, int seed, int threads = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = c.Network.Build<T>(seed);
        network.MaxDegreeOfParallelism = threads;
        return (network, FitOutcome.Of(new Trainer<T>(network, c.Network.Head.Loss, c.Optimizer.Create()), x, y, c.FitOptions()));
    }
}
