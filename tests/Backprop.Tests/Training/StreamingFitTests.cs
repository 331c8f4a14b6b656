using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

public class StreamingFitTests
{
    private const int Rows = 50;

    public static TheoryData<string, bool, bool, int> EquivalenceCases()
    {
        var cases = new TheoryData<string, bool, bool, int>();
        foreach (string type in new[] { "float", "double" })
        {
            foreach (bool shuffle in new[] { true, false })
            {
                foreach (bool labels in new[] { true, false })
                {
                    cases.Add(type, shuffle, labels, 65_536);
                }
            }

            // A buffer exactly the size of the data: it still fits, and the (B + 1)th read is what tells.
            cases.Add(type, true, true, Rows);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(EquivalenceCases))]
    public void A_source_that_fits_the_buffer_trains_bit_for_bit_as_in_memory_data(string type, bool shuffle, bool labels, int buffer)
    {
        if (type == "float")
        {
            Equivalence<float>(shuffle, labels, buffer);
        }
        else
        {
            Equivalence<double>(shuffle, labels, buffer);
        }
    }

    private static void Equivalence<T>(bool shuffle, bool labels, int buffer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Matrix<T>.Build.DenseOfMatrix(TestData.Random<double>(Rows, 4, seed: 11).Map(v => T.CreateChecked(v)));
        int[] classes = Enumerable.Range(0, Rows).Select(i => (i * 7 + i / 5) % 3).ToArray();
        var y = Matrix<T>.Build.DenseOfMatrix(TestData.Random<double>(Rows, 3, seed: 12).Map(v => T.CreateChecked(v)));
        var validationX = Matrix<T>.Build.DenseOfMatrix(TestData.Random<double>(7, 4, seed: 13).Map(v => T.CreateChecked(v)));
        ValidationData<T> validation = labels
            ? new(validationX, [0, 1, 2, 0, 1, 2, 2])
            : new(validationX, Matrix<T>.Build.DenseOfMatrix(TestData.Random<double>(7, 3, seed: 14).Map(v => T.CreateChecked(v))));
        // 8 does not divide 50; 3 epochs, then 2 more in a second call that continues the epoch numbers.
        var options = new FitOptions { Epochs = 3, BatchSize = 8, Shuffle = shuffle, Seed = 5, ShuffleBufferSize = buffer };
        var more = new FitOptions { Epochs = 2, BatchSize = 8, Shuffle = shuffle, Seed = 5, ShuffleBufferSize = buffer };

        Trainer<T> NewTrainer() => new(
            new Network<T>(4, seed: 3, new Dense<T>(6, Activations.Tanh), new Dense<T>(3, labels ? Activations.Softmax : Activations.Identity)),
            labels ? Losses.CrossEntropy : Losses.MeanSquaredError, new Adam(0.01));

        var memory = NewTrainer();
        var memoryLosses = new BatchLosses();
        var memoryHistory = labels
            ? memory.Fit(x, classes, options, validation)
            : memory.Fit(x, y, WithObserver(options, memoryLosses), validation);
        var memoryMore = labels ? memory.Fit(x, classes, more, validation) : memory.Fit(x, y, more, validation);

        var streamed = NewTrainer();
        var streamedLosses = new BatchLosses();
        var source = labels ? new InMemorySampleSource<T>(x, classes, 3) : new InMemorySampleSource<T>(x, y);
        var streamedHistory = streamed.Fit(source, labels ? options : WithObserver(options, streamedLosses), validation);
        var streamedMore = streamed.Fit(source, more, validation);

        TrainerTests.Snapshot(streamed.Network).Should().BeEquivalentTo(TrainerTests.Snapshot(memory.Network), o => o.WithStrictOrdering());
        foreach (var (s, m) in new[] { (streamedHistory, memoryHistory), (streamedMore, memoryMore) })
        {
            s.Epochs.Select(e => e.Epoch).Should().Equal(m.Epochs.Select(e => e.Epoch));
            s.Loss.Should().Equal(m.Loss);
            s.ValidationLoss.Should().Equal(m.ValidationLoss);
            s.Accuracy.Should().Equal(m.Accuracy);
            s.ValidationAccuracy.Should().Equal(m.ValidationAccuracy);
            s.Accuracy.Should().HaveCount(labels ? s.EpochsCompleted : 0);
        }

        streamedLosses.Values.Should().Equal(memoryLosses.Values);
        streamed.EpochsCompleted.Should().Be(5);
    }

    private static FitOptions WithObserver(FitOptions options, ITrainingObserver observer) => new()
    {
        Epochs = options.Epochs, BatchSize = options.BatchSize, Shuffle = options.Shuffle, Seed = options.Seed,
        ShuffleBufferSize = options.ShuffleBufferSize, Observers = [observer],
    };

    [Theory]
    [InlineData(10)]
    [InlineData(7)]
    [InlineData(200)]
    public void A_source_larger_than_the_buffer_visits_every_sample_once_per_epoch_through_a_bounded_buffer(int batchSize)
    {
        const int n = 1000, buffer = 64;
        var visits = new VisitLoss();
        var trainer = new Trainer<float>(new Network<float>(2, new Dense<float>(1)), visits, new Sgd(0.1));

        var history = trainer.Fit(new GeneratedSource<float>(n), new FitOptions { Epochs = 3, BatchSize = batchSize, Seed = 9, ShuffleBufferSize = buffer, Observers = [visits] });

        history.EpochsCompleted.Should().Be(3);
        visits.Epochs.Should().HaveCount(3);
        foreach (var epoch in visits.Epochs)
        {
            epoch.Order().Should().Equal(Enumerable.Range(0, n).Select(i => (long)i));
            epoch.Should().NotEqual(Enumerable.Range(0, n).Select(i => (long)i), "the rows are shuffled");
            // Bounded: when the k-th row is drawn, only the first B + k rows have been read (B + 1 before the first draw).
            epoch.Select((id, k) => id - (buffer + k)).Should().OnlyContain(excess => excess <= 0);
        }

        visits.Epochs[0].Should().NotEqual(visits.Epochs[1], "every epoch has its own order");
    }

    [Fact]
    public void Streaming_order_is_fixed_by_the_seed()
    {
        List<List<long>> Run(int seed, int buffer)
        {
            var visits = new VisitLoss();
            new Trainer<double>(new Network<double>(2, new Dense<double>(1)), visits, new Sgd(0.1))
                .Fit(new GeneratedSource<double>(300), new FitOptions { Epochs = 2, BatchSize = 16, Seed = seed, ShuffleBufferSize = buffer, Observers = [visits] });
            return visits.Epochs;
        }

        foreach (int buffer in new[] { 32, 1000 })
        {
            Run(1, buffer).Should().BeEquivalentTo(Run(1, buffer), o => o.WithStrictOrdering());
            Run(1, buffer)[0].Should().NotEqual(Run(2, buffer)[0]);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1000)]
    public void Without_shuffling_the_samples_go_in_file_order(int buffer)
    {
        var visits = new VisitLoss();
        new Trainer<float>(new Network<float>(2, new Dense<float>(1)), visits, new Sgd(0.1))
            .Fit(new GeneratedSource<float>(100), new FitOptions { Epochs = 2, BatchSize = 7, Shuffle = false, ShuffleBufferSize = buffer, Observers = [visits] });

        visits.Epochs.Should().HaveCount(2).And.AllSatisfy(e => e.Should().Equal(Enumerable.Range(0, 100).Select(i => (long)i)));
    }

    [Fact]
    public void A_million_generated_samples_train_through_a_small_buffer_in_bounded_memory()
    {
        // Measured as bytes allocated by the training thread, which bound what training adds to the heap and, unlike the
        // process-wide heap size, do not count what tests running in parallel allocate.
        const long n = 1_000_000;
        var counter = new VisitLoss(record: false);
        var network = new Network<float>(2, new Dense<float>(1)) { MaxDegreeOfParallelism = 1 };
        var trainer = new Trainer<float>(network, counter, new Sgd(0.1));
        var options = new FitOptions { Epochs = 1, BatchSize = 100, Seed = 1, ShuffleBufferSize = 1000 };
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        trainer.Fit(new GeneratedSource<float>(n), options);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        counter.Rows.Should().Be(n);
        counter.Sum.Should().Be(n * (n - 1) / 2.0, "every sample is visited once");
        allocated.Should().BeLessThan(1 << 20, "less than a byte per sample: nothing is allocated per sample (49 KB in all when written)");
    }

    [Fact]
    public void Training_steps_allocate_nothing_per_batch_in_memory_or_streamed()
    {
        var network = new Network<float>(3, 1, new Dense<float>(8, Activations.ReLU), new Dense<float>(1)) { MaxDegreeOfParallelism = 1 };
        var trainer = new Trainer<float>(network, Losses.MeanSquaredError, new Sgd(1e-6));
        var x = Matrix<float>.Build.Dense(300, 3, (r, c) => (r * 3 + c) % 17 / 17f);
        var y = Matrix<float>.Build.Dense(300, 1, (r, _) => r % 5 / 5f);

        var inMemory = new AllocationProbe(fromBatch: 3);
        trainer.Fit(x, y, new FitOptions { Epochs = 1, BatchSize = 4, Observers = [inMemory] });
        var whole = new AllocationProbe(fromBatch: 3);
        trainer.Fit(new InMemorySampleSource<float>(x, y), new FitOptions { Epochs = 1, BatchSize = 4, Observers = [whole] });
        var buffered = new AllocationProbe(fromBatch: 3);
        trainer.Fit(new GeneratedSource<float>(2000, inputs: 3), new FitOptions { Epochs = 1, BatchSize = 4, ShuffleBufferSize = 50, Observers = [buffered] });
        var fileOrder = new AllocationProbe(fromBatch: 3);
        trainer.Fit(new GeneratedSource<float>(2000, inputs: 3), new FitOptions { Epochs = 1, BatchSize = 4, Shuffle = false, ShuffleBufferSize = 50, Observers = [fileOrder] });

        foreach (var probe in new[] { inMemory, whole, buffered, fileOrder })
        {
            probe.Batches.Should().BeGreaterThan(70);
            probe.Allocated.Should().Be(0);
        }
    }

    [Fact]
    public void Readers_are_disposed_after_every_epoch_and_when_training_fails()
    {
        var source = new GeneratedSource<double>(40);
        var trainer = new Trainer<double>(new Network<double>(2, new Dense<double>(1)), Losses.MeanSquaredError, new Sgd(0.01));

        trainer.Fit(source, new FitOptions { Epochs = 3, BatchSize = 8, ShuffleBufferSize = 10 });
        (source.Opened, source.Disposed).Should().Be((3, 3));

        var poisoned = new GeneratedSource<double>(40, poisonedRow: 25);
        FluentActions.Invoking(() => trainer.Fit(poisoned, new FitOptions { Epochs = 3, BatchSize = 8, ShuffleBufferSize = 10 }))
            .Should().Throw<ArgumentException>();
        (poisoned.Opened, poisoned.Disposed).Should().Be((1, 1));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(10)]
    public void A_non_finite_sample_is_named_by_source_and_position_and_stops_before_it_is_used(int buffer)
    {
        var network = new Network<double>(2, seed: 1, new Dense<double>(1));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(1e-4));
        var before = TrainerTests.Snapshot(network);
        var steps = new BatchLosses();

        var act = () => trainer.Fit(new GeneratedSource<double>(40, poisonedRow: 33), new FitOptions { BatchSize = 4, Shuffle = false, ShuffleBufferSize = buffer, Observers = [steps] });

        act.Should().Throw<ArgumentException>().WithParameterName("source")
            .WithMessage("generated, sample 33 (0-based, in reading order), has NaN as input 0; training needs finite numbers.*");
        if (buffer > 40)
        {
            // The whole source is read before the first step: nothing was trained on.
            steps.Values.Should().BeEmpty();
            TrainerTests.Snapshot(network).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
        }
        else
        {
            // Read as it goes, in order: the 8 batches of samples 0..31 were trained on, not the one holding sample 33.
            steps.Values.Should().HaveCount(8);
        }

        trainer.EpochsCompleted.Should().Be(0);
    }

    [Fact]
    public void A_target_outside_the_losss_domain_or_a_bad_class_is_named_by_sample()
    {
        var x = Matrix<float>.Build.Dense(6, 2, (r, c) => r + c);
        var targets = Matrix<float>.Build.Dense(6, 1, (r, _) => r == 4 ? 2f : 0.5f);
        var trainer = new Trainer<float>(new Network<float>(2, new Dense<float>(1, Activations.Sigmoid)), Losses.BinaryCrossEntropy, new Sgd(0.1));

        FluentActions.Invoking(() => trainer.Fit(new InMemorySampleSource<float>(x, targets, "six rows"), new FitOptions { Shuffle = false }))
            .Should().Throw<ArgumentException>().WithParameterName("source")
            .WithMessage("six rows, sample 4 (0-based, in reading order), has a target the loss rejects: *[0, 1]*2*");

        var classifier = new Trainer<float>(new Network<float>(2, new Dense<float>(3, Activations.Softmax)), Losses.CrossEntropy, new Sgd(0.1));
        FluentActions.Invoking(() => classifier.Fit(new BadClassSource(), new FitOptions()))
            .Should().Throw<ArgumentException>().WithMessage("bad classes, sample 1 (0-based, in reading order), has the class 3, but classes must be in [0, 2]*");
    }

    [Fact]
    public void Bad_arguments_are_rejected_before_reading()
    {
        var trainer = new Trainer<float>(new Network<float>(2, new Dense<float>(1)), Losses.MeanSquaredError, new Sgd(0.1));
        var source = new GeneratedSource<float>(10);

        FluentActions.Invoking(() => trainer.Fit((ISampleSource<float>)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => trainer.Fit(new GeneratedSource<float>(10, inputs: 3)))
            .Should().Throw<ArgumentException>().WithParameterName("source").WithMessage("*3 inputs and 1 targets*network takes 2 inputs and gives 1 outputs*");
        FluentActions.Invoking(() => trainer.Fit(source, new FitOptions { ValidationFraction = 0.2 }))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*ValidationFraction is 0.2*pass validation data*");
        FluentActions.Invoking(() => trainer.Fit(source, new FitOptions { ShuffleBufferSize = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ShuffleBufferSize must be at least 1, but it is 0*");
        FluentActions.Invoking(() => trainer.Fit(source, new FitOptions { ShuffleBufferSize = int.MaxValue - 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ShuffleBufferSize*larger than .NET allows*");
        source.Opened.Should().Be(0);

        FluentActions.Invoking(() => trainer.Fit(new GeneratedSource<float>(0)))
            .Should().Throw<ArgumentException>().WithParameterName("source").WithMessage("The source generated gave no samples in epoch 1*");
        trainer.EpochsCompleted.Should().Be(0);
    }

    [Fact]
    public void Cancellation_mid_epoch_leaves_the_weights_of_a_finished_step_and_closes_the_reader()
    {
        var options = new FitOptions { Epochs = 4, BatchSize = 8, Seed = 3, ShuffleBufferSize = 16 };
        Network<double> NewNetwork() => new(2, seed: 4, new Dense<double>(5, Activations.Tanh), new Dense<double>(1));

        var reference = NewNetwork();
        var probe = new CancelAt(reference, epoch: 2, batch: 3, cancel: null);
        new Trainer<double>(reference, Losses.MeanSquaredError, new Sgd(1e-4)).Fit(new GeneratedSource<double>(60), With(options, probe));

        using var cancellation = new CancellationTokenSource();
        var network = NewNetwork();
        var source = new GeneratedSource<double>(60);
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(1e-4));
        var act = () => trainer.Fit(source, With(options, new CancelAt(network, epoch: 2, batch: 3, cancellation)), cancellationToken: cancellation.Token);

        act.Should().Throw<OperationCanceledException>();
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(probe.Captured!, o => o.WithStrictOrdering());
        trainer.EpochsCompleted.Should().Be(1);
        (source.Opened, source.Disposed).Should().Be((2, 2));

        // Free again, and the next call continues from epoch 2.
        trainer.Fit(source, new FitOptions { Epochs = 1, ShuffleBufferSize = 16 }).Epochs.Single().Epoch.Should().Be(2);
    }

    [Fact]
    public async Task FitAsync_trains_from_a_source_as_Fit_does()
    {
        var x = TestData.Random<double>(30, 2, seed: 1);
        var y = TestData.Random<double>(30, 1, seed: 2);
        Trainer<double> NewTrainer() => new(new Network<double>(2, seed: 1, new Dense<double>(1)), Losses.MeanSquaredError, new Sgd(0.1));
        var a = NewTrainer();
        var b = NewTrainer();

        var expected = a.Fit(new InMemorySampleSource<double>(x, y), new FitOptions { Epochs = 2 });
        var actual = await b.FitAsync(new InMemorySampleSource<double>(x, y), new FitOptions { Epochs = 2 });

        actual.Loss.Should().Equal(expected.Loss);
        TrainerTests.Snapshot(b.Network).Should().BeEquivalentTo(TrainerTests.Snapshot(a.Network), o => o.WithStrictOrdering());
    }

    private static FitOptions With(FitOptions options, ITrainingObserver observer) => new()
    {
        Epochs = options.Epochs, BatchSize = options.BatchSize, Seed = options.Seed, ShuffleBufferSize = options.ShuffleBufferSize, Observers = [observer],
    };

    private sealed class BatchLosses : ITrainingObserver
    {
        public List<double> Values { get; } = [];

        public void OnBatchEnd(int epoch, int batch, double loss) => Values.Add(loss);
    }

    private sealed class CancelAt(Network<double> network, int epoch, int batch, CancellationTokenSource? cancel) : ITrainingObserver
    {
        public double[][]? Captured { get; private set; }

        public void OnBatchEnd(int e, int b, double loss)
        {
            if (e == epoch && b == batch)
            {
                Captured = TrainerTests.Snapshot(network);
                cancel?.Cancel();
            }
        }
    }

    /// <summary>Three samples of two inputs whose second claims the class 3 of a three-class network.</summary>
    private sealed class BadClassSource : ISampleSource<float>
    {
        public string Name => "bad classes";

        public int InputSize => 2;

        public int OutputSize => 3;

        public bool HasClasses => true;

        public ISampleReader<float> OpenReader() => new Reader();

        private sealed class Reader : ISampleReader<float>
        {
            private bool _done;

            public int Read(Span<float> inputs, Span<float> targets, Span<int> classes)
            {
                if (_done)
                {
                    return 0;
                }

                _done = true;
                inputs[..6].Fill(0.5f);
                targets[..9].Clear();
                targets[0] = targets[5] = targets[8] = 1;
                classes[0] = 0;
                classes[1] = 3;
                classes[2] = 2;
                return 3;
            }

            public void Dispose()
            {
            }
        }
    }
}
