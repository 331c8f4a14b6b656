using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Backprop.Tests.Properties;

/// <summary>
/// Saving and loading round-trips: a trained network saved with <see cref="Network{T}.Save(Stream)"/> loads as the same
/// architecture with bit-identical parameters and predictions, and saves again to the very same bytes; a checkpoint
/// saved with <see cref="Trainer{T}.SaveCheckpoint(string)"/> (to a file) resumes training exactly where the trainer
/// was (optimizer state, epoch count and dropout generators). In float and in double. A run that diverges
/// (<see cref="FitOutcome"/>) is saved with the weights it kept, and must diverge the same way once resumed.
/// </summary>
[Properties(MaxTest = PropertyConfig.MaxTest, Replay = PropertyConfig.Replay, Arbitrary = new[] { typeof(Generators) })]
public sealed class SerializationProperties
{
    [Property]
    public Property SaveLoadRoundTripsInFloat(TrainingCase c) => RoundTrips<float>(c);

    [Property]
    public Property SaveLoadRoundTripsInDouble(TrainingCase c) => RoundTrips<double>(c);

    private static Property RoundTrips<T>(TrainingCase c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = c.Network.MakeInputs<T>(c.Rows, c.DataSeed);
        var y = c.Network.MakeTargets<T>(c.Rows, c.DataSeed);
        var network = c.Network.Build<T>();
        var trainer = new Trainer<T>(network, c.Network.Head.Loss, c.Optimizer.Create());
        var trained = FitOutcome.Of(trainer, x, y, c.FitOptions());

        byte[] saved = Save(network);
        var loaded = Network<T>.Load(new MemoryStream(saved));

        loaded.ToString().Should().Be(network.ToString());
        loaded.InputSize.Should().Be(network.InputSize);
        loaded.Seed.Should().Be(network.Seed);
        loaded.ParameterCount.Should().Be(network.ParameterCount);
        for (int l = 0; l < network.Layers.Count; l++)
        {
            SameLayer(network.Layers[l], loaded.Layers[l], l);
        }

        BitAssert.SameParameters(network, loaded, "the loaded network");
        BitAssert.Identical<T>(network.Predict(x).ToRowMajorArray(), loaded.Predict(x).ToRowMajorArray(), "the loaded network's predictions");
        Save(loaded).Should().Equal(saved, "saving a loaded network must give the bytes it was loaded from");

        // A checkpoint, through a file: resuming for one more epoch equals going on with the original trainer.
        string path = Path.Combine(Path.GetTempPath(), $"backprop-property-{Guid.NewGuid():N}.bpnn");
        Trainer<T> resumed;
        try
        {
            trainer.SaveCheckpoint(path);
            resumed = Trainer<T>.LoadCheckpoint(path);
        }
        finally
        {
            File.Delete(path);
        }

        resumed.EpochsCompleted.Should().Be(trainer.EpochsCompleted);
        resumed.Loss.ToString().Should().Be(trainer.Loss.ToString());
        resumed.Optimizer.GetType().Should().Be(trainer.Optimizer.GetType());
        resumed.Optimizer.LearningRate.Should().Be(trainer.Optimizer.LearningRate);
        BitAssert.SameParameters(network, resumed.Network, "the checkpoint's network");

        var uninterrupted = FitOutcome.Of(trainer, x, y, c.FitOptions(epochs: 1));
        var continued = FitOutcome.Of(resumed, x, y, c.FitOptions(epochs: 1));
        BitAssert.SameParameters(network, resumed.Network, "one more epoch after the checkpoint, resumed vs uninterrupted");
        continued.Description.Should().Be(uninterrupted.Description, "the resumed trainer must end its epoch as the uninterrupted one");
        return Prop.Classify(true, trained.Diverged || uninterrupted.Diverged, "diverged (identically)")
            .Classify(c.Network.Layers.Any(l => l is DropoutSpec { Rate: > 0 }), "dropout");
    }

    private static byte[] Save<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        network.Save(stream);
        return stream.ToArray();
    }

    private static void SameLayer<T>(Layer<T> expected, Layer<T> actual, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        actual.GetType().Should().Be(expected.GetType(), "layer {0} must load as the same kind of layer", index);
        actual.InputSize.Should().Be(expected.InputSize);
        actual.OutputSize.Should().Be(expected.OutputSize);
        switch (expected)
        {
            case Dense<T> dense:
                var loaded = (Dense<T>)actual;
                loaded.Activation.GetType().Should().Be(dense.Activation.GetType());
                loaded.Activation.Name.Should().Be(dense.Activation.Name);
                (loaded.Activation as LeakyReLU)?.Alpha.Should().Be(((LeakyReLU)dense.Activation).Alpha);
                (loaded.Activation as Elu)?.Alpha.Should().Be(((Elu)dense.Activation).Alpha);
                loaded.Initializer.Name.Should().Be(dense.Initializer.Name);
                loaded.L1.Should().Be(dense.L1);
                loaded.L2.Should().Be(dense.L2);
                break;
            case Dropout<T> dropout:
                ((Dropout<T>)actual).Rate.Should().Be(dropout.Rate);
                ((Dropout<T>)actual).Seed.Should().Be(dropout.Seed);
                break;
        }
    }
}
