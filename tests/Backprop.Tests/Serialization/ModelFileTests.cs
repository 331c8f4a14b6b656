using System.Numerics;
using System.Security.Cryptography;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Serialization;

public class ModelFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-model-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> ActivationNames() =>
        ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu", "softmax"];

    private static IActivation ActivationByName(string name) => name switch
    {
        "identity" => Activations.Identity,
        "sigmoid" => Activations.Sigmoid,
        "tanh" => Activations.Tanh,
        "relu" => Activations.ReLU,
        "leaky_relu" => new LeakyReLU(0.2),
        "elu" => new Elu(0.7),
        "softplus" => Activations.Softplus,
        "gelu" => Activations.GELU,
        "silu" => Activations.SiLU,
        _ => Activations.Softmax,
    };

    internal static Network<T> MakeNetwork<T>(IActivation hidden, int seed = 3)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(5, seed,
            new Dense<T>(7, hidden, Initializers.HeUniform) { L2 = 1e-3 },
            new Dropout<T>(0.25, seed: 11),
            new Dense<T>(4, Activations.Softmax, Initializers.Uniform(0.3)) { L1 = 1e-4 });

    private static void ShouldPredictIdentically<T>(Network<T> expected, Network<T> actual)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        actual.ToString().Should().Be(expected.ToString());
        actual.Seed.Should().Be(expected.Seed);
        var x = TestData.Random<T>(9, expected.InputSize, seed: 17, scale: 3);
        var a = expected.Predict(x).Enumerate().Select(v => double.CreateChecked(v)).ToArray();
        var b = actual.Predict(x).Enumerate().Select(v => double.CreateChecked(v)).ToArray();
        b.Select(BitConverter.DoubleToInt64Bits).Should().Equal(a.Select(BitConverter.DoubleToInt64Bits));
        TrainerTestsSnapshot(actual).Should().BeEquivalentTo(TrainerTestsSnapshot(expected), o => o.WithStrictOrdering());
    }

    private static double[][] TrainerTestsSnapshot<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T> => Training.TrainerTests.Snapshot(network);

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void A_float_network_round_trips_bit_for_bit(string activation)
    {
        var network = MakeNetwork<float>(ActivationByName(activation));
        string path = Path.Combine(_folder, "model.bpnn");
        network.Save(path);
        ShouldPredictIdentically(network, Network<float>.Load(path));
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void A_double_network_round_trips_bit_for_bit_through_a_stream(string activation)
    {
        var network = MakeNetwork<double>(ActivationByName(activation));
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        ShouldPredictIdentically(network, Network<double>.Load(stream));
    }

    public static TheoryData<string> OptimizerNames() => ["sgd", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "rprop"];

    private static IOptimizer OptimizerByName(string name) => name switch
    {
        "sgd" => new Sgd(0.05, momentum: 0.9, weightDecay: 1e-4),
        "nesterov" => new Sgd(0.05, momentum: 0.8, nesterov: true),
        "adam" => new Adam(1e-2),
        "adamw" => new AdamW(1e-2, weightDecay: 0.05),
        "rmsprop" => new RmsProp(1e-2, momentum: 0.5, centered: true),
        "adagrad" => new Adagrad(0.1, initialAccumulatorValue: 0.1),
        _ => new Rprop(0.01),
    };

    private static (Matrix<T> X, int[] Labels) ClassificationData<T>()
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (TestData.Random<T>(60, 5, seed: 21), Enumerable.Range(0, 60).Select(i => i * 7 % 4).ToArray());

    private static void ResumeEqualsUninterrupted<T>(string optimizer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, labels) = ClassificationData<T>();
        var options = new FitOptions { Epochs = 2, BatchSize = optimizer == "rprop" ? 60 : 16, Seed = 5 };

        var uninterrupted = new Trainer<T>(MakeNetwork<T>(Activations.Tanh), Losses.CrossEntropy, OptimizerByName(optimizer));
        uninterrupted.Fit(x, labels, new FitOptions { Epochs = 5, BatchSize = options.BatchSize, Seed = 5 });

        var first = new Trainer<T>(MakeNetwork<T>(Activations.Tanh), Losses.CrossEntropy, OptimizerByName(optimizer));
        first.Fit(x, labels, options);
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = ModelFile.LoadCheckpoint<T>(checkpoint);
        resumed.EpochsCompleted.Should().Be(2);
        resumed.Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = options.BatchSize, Seed = 5 });

        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, $"after resuming with {optimizer}");

        resumed.Optimizer.LearningRate.Should().Be(uninterrupted.Optimizer.LearningRate);
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void Resuming_a_float_checkpoint_equals_uninterrupted_training(string optimizer) => ResumeEqualsUninterrupted<float>(optimizer);

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void Resuming_a_double_checkpoint_equals_uninterrupted_training(string optimizer) => ResumeEqualsUninterrupted<double>(optimizer);

    [Fact]
    public void A_checkpoint_file_round_trips_the_loss_and_optimizer_settings()
    {
        var network = MakeNetwork<double>(Activations.ReLU);
        var trainer = new Trainer<double>(network, new Huber(0.5, LossReduction.Sum), new Adam(3e-3, beta1: 0.8, beta2: 0.99, epsilon: 1e-7, weightDecay: 1e-3));
        trainer.Fit(TestData.Random<double>(20, 5, 1), TestData.Random<double>(20, 4, 2), new FitOptions { Epochs = 1, BatchSize = 5 });
        string path = Path.Combine(_folder, "checkpoint.bpnn");
        trainer.SaveCheckpoint(path);

        var loaded = Trainer<double>.LoadCheckpoint(path);

        loaded.Loss.Should().BeOfType<Huber>().Which.Should().BeEquivalentTo(new { Delta = 0.5, Reduction = LossReduction.Sum });
        loaded.Optimizer.Should().BeOfType<Adam>().Which.Should().BeEquivalentTo(new { LearningRate = 3e-3, Beta1 = 0.8, Beta2 = 0.99, Epsilon = 1e-7, WeightDecay = 1e-3 });
        ShouldPredictIdentically(network, loaded.Network);
        Network<double>.Load(path).ToString().Should().Be(network.ToString());
    }

    [Fact]
    public void Loading_a_plain_model_as_a_checkpoint_says_so()
    {
        string path = Path.Combine(_folder, "plain.bpnn");
        MakeNetwork<float>(Activations.ReLU).Save(path);
        FluentActions.Invoking(() => Trainer<float>.LoadCheckpoint(path)).Should().Throw<InvalidDataException>().WithMessage("*without training state*Load*");
    }

    [Fact]
    public void The_wrong_element_type_is_named()
    {
        using var stream = new MemoryStream();
        MakeNetwork<double>(Activations.ReLU).Save(stream);
        stream.Position = 0;
        FluentActions.Invoking(() => Network<float>.Load(stream)).Should().Throw<InvalidDataException>()
            .WithMessage("*double network*Network<double>*not Network<Single>*");
    }

    [Fact]
    public void A_layer_that_cannot_be_saved_is_refused_at_save_time_with_its_index_and_type_named()
    {
        var network = new Network<double>(2, new Dense<double>(2), new UnsavableLayer());
        FluentActions.Invoking(() => network.Save(new MemoryStream())).Should().Throw<NotSupportedException>()
            .WithMessage("*Layer 1*UnsavableLayer*ISerializableComponent*");
    }

    [Fact]
    public void An_unregistered_activation_saves_but_loads_only_with_its_registration()
    {
        var network = new Network<double>(2, new Dense<double>(2), new Dense<double>(1, new CustomActivation()));
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        FluentActions.Invoking(() => Network<double>.Load(stream)).Should().Throw<InvalidDataException>()
            .WithMessage("*activation type 'custom'*AddActivation(\"custom\"*");
        stream.Position = 0;
        var registry = new ModelRegistry().AddActivation("custom", _ => new CustomActivation());
        ShouldPredictIdentically(network, Network<double>.Load(stream, registry));
    }

    [Fact]
    public void A_failed_save_leaves_the_previous_file_intact()
    {
        string path = Path.Combine(_folder, "keep.bpnn");
        var original = MakeNetwork<double>(Activations.Tanh, seed: 1);
        original.Save(path);
        byte[] before = File.ReadAllBytes(path);

        var act = () => ModelFile.WriteAtomically(ModelFile.Encode(MakeNetwork<double>(Activations.ReLU, seed: 2), trainer: null), path,
            temporary => new FailingStream(new FileStream(temporary, FileMode.CreateNew), failAfter: 100));

        act.Should().Throw<IOException>().WithMessage("*simulated*");
        File.ReadAllBytes(path).Should().Equal(before);
        Directory.GetFiles(_folder).Should().ContainSingle().Which.Should().Be(path);
        ShouldPredictIdentically(original, Network<double>.Load(path));
    }

    [Fact]
    public void A_file_that_is_not_a_model_says_so()
    {
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream("hello, world"u8.ToArray())))
            .Should().Throw<InvalidDataException>().WithMessage("*Not a Backprop model file*magic*");
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream([])))
            .Should().Throw<InvalidDataException>().WithMessage("*Not a Backprop model file*");
    }

    [Fact]
    public void A_newer_format_version_names_both_versions()
    {
        byte[] file = Encode(MakeNetwork<float>(Activations.ReLU));
        file[8] = 7;
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file)))
            .Should().Throw<InvalidDataException>().WithMessage("*format version 7*reads versions up to 2*");
    }

    [Fact]
    public void A_bad_checksum_is_reported()
    {
        byte[] file = Encode(MakeNetwork<float>(Activations.ReLU));
        file[^40] ^= 0x10;
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file)))
            .Should().Throw<InvalidDataException>().WithMessage("*checksum does not match*");
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file[..^10])))
            .Should().Throw<InvalidDataException>().WithMessage("*checksum*");
    }

    [Fact]
    public void A_lying_size_is_refused_without_allocating_it()
    {
        // A parameter's shape that claims more values than the file holds.
        byte[] file = Encode(new Network<float>(3, new Dense<float>(2)));
        int dimensionAt = IndexOf(file, "weights"u8) + "weights".Length + 1;
        BitConverter.GetBytes(1 << 24).CopyTo(file, dimensionAt);
        Resign(file);
        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file)))
            .Should().Throw<InvalidDataException>().WithMessage("*ends inside layer 0's parameter 'weights''s values*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);

        // A setting that makes the layer create more parameter values than the file holds for it.
        file = Encode(new Network<float>(3, new Dense<float>(2)));
        int unitsAt = UnitsOffset(file);
        BitConverter.GetBytes((long)(1 << 24)).CopyTo(file, unitsAt);
        Resign(file);
        before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file)))
            .Should().Throw<InvalidDataException>().WithMessage("*weights*more than the 8 the model file holds*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);

        BitConverter.GetBytes((long)int.MaxValue).CopyTo(file, unitsAt);
        Resign(file);
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>();
        BitConverter.GetBytes(-5L).CopyTo(file, unitsAt);
        Resign(file);
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>().WithMessage("*dense*units*");
    }

    [Fact]
    public void An_unknown_activation_is_refused_by_name()
    {
        byte[] file = Encode(new Network<float>(3, new Dense<float>(2, Activations.Tanh)));
        int at = IndexOf(file, "tanh"u8);
        "evil"u8.CopyTo(file.AsSpan(at));
        Resign(file);
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file)))
            .Should().Throw<InvalidDataException>().WithMessage("*activation type 'evil'*register it*AddActivation(\"evil\"*");
    }

    [Fact]
    public void A_saved_parameter_whose_shape_differs_from_the_built_one_names_layer_parameter_and_both_shapes()
    {
        // Two layers whose weights are 2×3 and 3×2: swapping the shapes' dimensions keeps the file's sizes consistent.
        byte[] file = Encode(new Network<float>(3, new Dense<float>(2)));
        int dimensionAt = IndexOf(file, "weights"u8) + "weights".Length + 1;
        BitConverter.GetBytes(3).CopyTo(file, dimensionAt);
        BitConverter.GetBytes(2).CopyTo(file, dimensionAt + 4);
        Resign(file);
        FluentActions.Invoking(() => Network<float>.Load(new MemoryStream(file))).Should().Throw<InvalidDataException>()
            .WithMessage("*Layer 0*'weights'*shape 2×3 when built*file holds the shape 3×2*");
    }

    [Fact]
    public void A_version_1_file_still_loads_and_fuzzes_safely()
    {
        byte[] valid = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Serialization", "Golden", "golden-v1-checkpoint.bpnn"));
        BitConverter.ToUInt16(valid, 8).Should().Be(1);
        ModelFile.LoadCheckpoint<double>(new MemoryStream(valid)).EpochsCompleted.Should().Be(3);
        FuzzLoads<double>(valid, 3_000);
    }

    [Fact]
    public void Ten_thousand_mutations_either_load_a_valid_network_or_throw_the_documented_exception()
    {
        var trainer = new Trainer<float>(MakeNetwork<float>(Activations.GELU), Losses.CrossEntropy, new Adam(1e-2));
        var (x, labels) = ClassificationData<float>();
        trainer.Fit(x, labels, new FitOptions { Epochs = 1, BatchSize = 30 });
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(trainer, checkpoint);
        FuzzLoads<float>(checkpoint.ToArray(), 10_000);
    }

    private static void FuzzLoads<T>(byte[] valid, int mutations)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(2024);
        int loaded = 0, rejected = 0, unsignedLoaded = 0;
        long worstAllocation = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (int i = 0; i < mutations; i++)
        {
            byte[] mutant = Mutate(valid, random, out bool resign);
            if (resign)
            {
                // Re-signed mutants get past the checksum, so the parser itself meets the damage.
                Resign(mutant);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var restored = ModelFile.LoadCheckpoint<T>(new MemoryStream(mutant));
                restored.Network.InputSize.Should().BeGreaterThan(0);
                restored.Network.Predict(new T[restored.Network.InputSize]).All(T.IsFinite).Should().BeTrue();
                loaded++;
                if (!resign && !mutant.AsSpan().SequenceEqual(valid))
                {
                    unsignedLoaded++;
                }
            }
            catch (InvalidDataException)
            {
                rejected++;
            }

            worstAllocation = Math.Max(worstAllocation, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        (loaded + rejected).Should().Be(mutations);
        // Damage without a matching checksum never loads; re-signed damage loads only as a well-formed network.
        unsignedLoaded.Should().Be(0);
        rejected.Should().BeGreaterThan(mutations / 2);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
        worstAllocation.Should().BeLessThan(16L << 20, "no mutant may make the loader allocate what its sizes claim");
    }

    private static byte[] Mutate(byte[] valid, DeterministicRandom random, out bool resign)
    {
        byte[] mutant = (byte[])valid.Clone();
        resign = random.NextInt32(2) == 0;
        switch (random.NextInt32(4))
        {
            case 0:
                // Flip one to four random bits.
                for (int k = random.NextInt32(4); k >= 0; k--)
                {
                    int bit = random.NextInt32(mutant.Length * 8);
                    mutant[bit / 8] ^= (byte)(1 << (bit % 8));
                }

                return mutant;
            case 1:
                // Truncate.
                return mutant[..random.NextInt32(mutant.Length)];
            case 2:
                // A 32-bit field set to a huge or negative value.
                int at = random.NextInt32(mutant.Length - 4);
                int[] huge = [int.MaxValue, int.MinValue, 1 << 24, 1 << 30, -1, 0x7FFF_FFF0];
                BitConverter.GetBytes(huge[random.NextInt32(huge.Length)]).CopyTo(mutant, at);
                return mutant;
            default:
                // A length byte of a name or a count set to a random value.
                mutant[random.NextInt32(Math.Min(mutant.Length, 200))] = (byte)random.NextInt32(256);
                return mutant;
        }
    }

    private static byte[] Encode<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T> => ModelFile.Encode(network, trainer: null);

    /// <summary>Recomputes the trailing SHA-256 after a deliberate change.</summary>
    private static void Resign(byte[] file)
    {
        if (file.Length >= 32)
        {
            SHA256.HashData(file.AsSpan(0, file.Length - 32), file.AsSpan(file.Length - 32));
        }
    }

    private static int IndexOf(byte[] file, ReadOnlySpan<byte> text) => file.AsSpan().IndexOf(text);

    /// <summary>The offset of the first dense layer's unit count: the 64-bit value after its "units" key and type tag.</summary>
    private static int UnitsOffset(byte[] file) => IndexOf(file, "units"u8) + 5 + 1;

    private sealed class CustomActivation : ElementwiseActivation
    {
        public override string Name => "custom";

        public override TValue Apply<TValue>(TValue z) => z;

        public override TValue Derivative<TValue>(TValue z) => TValue.One;
    }

    private sealed class UnsavableLayer : Layer<double>
    {
        protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random) => inputShape;

        protected override void OnForward(ReadOnlySpan<double> inputs, Span<double> saved, Span<double> activations, int rows, bool training) =>
            inputs.CopyTo(activations);

        protected override void OnComputeLocalGradients(ReadOnlySpan<double> saved, ReadOnlySpan<double> activations, ReadOnlySpan<double> outputGradients, Span<double> localGradients, int rows) =>
            outputGradients.CopyTo(localGradients);

        protected override void OnBackpropagate(ReadOnlySpan<double> inputs, ReadOnlySpan<double> localGradients, Span<double> inputGradients, int rows) =>
            localGradients.CopyTo(inputGradients);
    }

    private sealed class FailingStream(Stream inner, int failAfter) : Stream
    {
        private int _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter)
            {
                inner.Write(buffer[..(failAfter - _written)]);
                throw new IOException("simulated disk failure");
            }

            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
