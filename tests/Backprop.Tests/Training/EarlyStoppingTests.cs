using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

/// <summary>Early stopping as an observer over any recorded metric, and observers that stop training themselves.</summary>
public class EarlyStoppingTests
{
    private static (Matrix<double> X, int[] Labels) Separable(int rows, int seed)
    {
        var x = TestData.Random<double>(rows, 2, seed);
        int[] labels = Enumerable.Range(0, rows).Select(r => x[r, 0] + 0.5 * x[r, 1] > 0.1 ? 1 : 0).ToArray();
        return (x, labels);
    }

    private static Network<double> Classifier() =>
        new(2, seed: 3, new Dense<double>(6, Activations.Tanh), new Dense<double>(2, Activations.Softmax));

    /// <summary>The reference rule, written out: the epoch (1-based index + offset) of the best value, and the number of
    /// epochs run before <paramref name="patience"/> epochs in a row failed to improve by more than <paramref name="minDelta"/>.</summary>
    private static (int BestEpoch, int EpochsRun) Reference(IReadOnlyList<double> values, bool maximise, int patience, double minDelta)
    {
        double best = maximise ? double.NegativeInfinity : double.PositiveInfinity;
        int bestEpoch = 0, bad = 0;
        for (int i = 0; i < values.Count; i++)
        {
            if (maximise ? values[i] > best + minDelta : values[i] < best - minDelta)
            {
                (best, bestEpoch, bad) = (values[i], i + 1, 0);
            }
            else if (++bad >= patience)
            {
                return (bestEpoch, i + 1);
            }
        }

        return (bestEpoch, values.Count);
    }

    [Theory]
    [InlineData(TrainingMetric.ValidationAccuracy, MonitorMode.Auto, true)]
    [InlineData(TrainingMetric.Accuracy, MonitorMode.Auto, true)]
    [InlineData(TrainingMetric.ValidationLoss, MonitorMode.Auto, false)]
    [InlineData(TrainingMetric.Loss, MonitorMode.Auto, false)]
    [InlineData(TrainingMetric.ValidationAccuracy, MonitorMode.Min, false)]
    [InlineData(TrainingMetric.ValidationLoss, MonitorMode.Max, true)]
    public void Early_stopping_watches_the_chosen_metric_in_its_direction_and_restores_the_best_weights(TrainingMetric metric, MonitorMode mode, bool maximise)
    {
        var (x, labels) = Separable(60, seed: 1);
        var network = Classifier();
        var recorder = new WeightRecorder(network);
        const int Patience = 3;
        var history = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.3)).Fit(x, labels, new FitOptions
        {
            Epochs = 200,
            BatchSize = 8,
            Seed = 2,
            ValidationFraction = 0.25,
            Observers = [recorder],
            EarlyStopping = new EarlyStopping { Monitor = metric, Mode = mode, Patience = Patience, MinDelta = 1e-3 },
        });

        var values = history.Epochs.Select(e => e.MetricValue(metric)!.Value).ToArray();
        var (bestEpoch, epochsRun) = Reference(values, maximise, Patience, 1e-3);
        history.EpochsCompleted.Should().Be(epochsRun);
        history.StoppedEarly.Should().BeTrue("every metric here stalls or turns within 200 epochs");
        history.BestEpoch.Should().Be(bestEpoch);
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(recorder.AfterEpoch[bestEpoch], o => o.WithStrictOrdering());
    }

    [Fact]
    public void Early_stopping_can_watch_the_hamming_accuracy_of_a_multi_label_classifier()
    {
        var x = TestData.Random<double>(48, 3, seed: 4);
        var y = Matrix<double>.Build.Dense(48, 3, (r, c) => x[r, c] + 0.3 * x[r, (c + 1) % 3] > 0 ? 1 : 0);
        var network = new Network<double>(3, seed: 1, new Dense<double>(6, Activations.Tanh), new Dense<double>(3, Activations.Sigmoid));
        var validation = new ValidationData<double>(TestData.Random<double>(16, 3, seed: 5), Matrix<double>.Build.Dense(16, 3, (r, c) => (r + c) % 2));

        var history = new Trainer<double>(network, Losses.BinaryCrossEntropy, new Adam(0.05)).Fit(x, y, new FitOptions
        {
            Epochs = 100,
            BatchSize = 8,
            EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.ValidationHammingAccuracy, Patience = 4, RestoreBestWeights = false },
        }, validation);

        var (bestEpoch, epochsRun) = Reference(history.ValidationHammingAccuracy, maximise: true, patience: 4, minDelta: 0);
        history.EpochsCompleted.Should().Be(epochsRun);
        history.BestEpoch.Should().Be(bestEpoch);
    }

    [Fact]
    public void The_default_watches_the_validation_loss_and_else_the_training_loss()
    {
        var (x, labels) = Separable(40, seed: 6);
        var options = new FitOptions { Epochs = 300, BatchSize = 40, EarlyStopping = new EarlyStopping { Patience = 2, MinDelta = 1e-2 } };

        var plain = new Trainer<double>(Classifier(), Losses.CrossEntropy, new Sgd(0.1)).Fit(x, labels, options);
        var (best, run) = Reference(plain.Loss, maximise: false, patience: 2, minDelta: 1e-2);
        (plain.BestEpoch, plain.EpochsCompleted).Should().Be((best, run));

        var validated = new Trainer<double>(Classifier(), Losses.CrossEntropy, new Sgd(0.1))
            .Fit(x, labels, new FitOptions { Epochs = 300, BatchSize = 40, ValidationFraction = 0.3, EarlyStopping = options.EarlyStopping });
        (best, run) = Reference(validated.ValidationLoss, maximise: false, patience: 2, minDelta: 1e-2);
        (validated.BestEpoch, validated.EpochsCompleted).Should().Be((best, run));
    }

    [Theory]
    [InlineData(TrainingMetric.ValidationAccuracy, "*ValidationAccuracy*epoch 1*validation data*")]
    [InlineData(TrainingMetric.ValidationLoss, "*ValidationLoss*epoch 1*validation data*")]
    [InlineData(TrainingMetric.Accuracy, "*Accuracy*epoch 1*classes*")]
    [InlineData(TrainingMetric.HammingAccuracy, "*HammingAccuracy*epoch 1*multi-label*")]
    public void A_metric_the_run_does_not_record_is_reported_by_name(TrainingMetric metric, string message)
    {
        var act = () => new Trainer<double>(new Network<double>(2, new Dense<double>(2)), Losses.MeanSquaredError, new Sgd(0.1))
            .Fit(TestData.Random<double>(8, 2, 1), TestData.Random<double>(8, 2, 2),
                new FitOptions { Epochs = 3, EarlyStopping = new EarlyStopping { Monitor = metric } });

        act.Should().Throw<InvalidOperationException>().WithMessage(message);
    }

    [Fact]
    public void Early_stopping_in_the_observers_trains_as_in_the_options()
    {
        var (x, labels) = Separable(60, seed: 1);
        var stopping = new EarlyStopping { Monitor = TrainingMetric.ValidationAccuracy, Patience = 2 };
        var a = Classifier();
        var b = Classifier();

        var inOptions = new Trainer<double>(a, Losses.CrossEntropy, new Sgd(0.3))
            .Fit(x, labels, new FitOptions { Epochs = 100, BatchSize = 8, ValidationFraction = 0.25, EarlyStopping = stopping });
        var inObservers = new Trainer<double>(b, Losses.CrossEntropy, new Sgd(0.3))
            .Fit(x, labels, new FitOptions { Epochs = 100, BatchSize = 8, ValidationFraction = 0.25, Observers = [stopping] });

        inObservers.Loss.Should().Equal(inOptions.Loss);
        (inObservers.BestEpoch, inObservers.StoppedEarly).Should().Be((inOptions.BestEpoch, inOptions.StoppedEarly));
        TrainerTests.Snapshot(b).Should().BeEquivalentTo(TrainerTests.Snapshot(a), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Options_with_early_stopping_may_be_shared_by_runs_at_once()
    {
        var (x, labels) = Separable(60, seed: 1);
        var options = new FitOptions
        {
            Epochs = 60,
            BatchSize = 8,
            ValidationFraction = 0.25,
            EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.ValidationAccuracy, Patience = 3 },
        };
        var alone = Classifier();
        var expected = new Trainer<double>(alone, Losses.CrossEntropy, new Sgd(0.3)).Fit(x, labels, options);

        var networks = Enumerable.Range(0, 4).Select(_ => Classifier()).ToArray();
        var histories = networks.AsParallel().WithDegreeOfParallelism(4)
            .Select(n => new Trainer<double>(n, Losses.CrossEntropy, new Sgd(0.3)).Fit(x, labels, options)).ToArray();

        foreach (var (history, network) in histories.Zip(networks))
        {
            history.Loss.Should().Equal(expected.Loss);
            history.BestEpoch.Should().Be(expected.BestEpoch);
            TrainerTests.Snapshot(network).Should().BeEquivalentTo(TrainerTests.Snapshot(alone), o => o.WithStrictOrdering());
        }
    }

    [Fact]
    public void An_observer_stops_training_at_the_end_of_the_epoch_it_asks_in()
    {
        var x = TestData.Random<double>(12, 2, 1);
        var y = TestData.Random<double>(12, 1, 2);
        var network = new Network<double>(2, new Dense<double>(1));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));
        trainer.Fit(x, y, new FitOptions { Epochs = 3, BatchSize = 4 });
        var stopper = new Stopper(stopInEpoch: 5, stopInBatch: 2);
        var log = new Log();

        var history = trainer.Fit(x, y, new FitOptions { Epochs = 4, BatchSize = 4, Observers = [stopper, log] });

        history.EpochsCompleted.Should().Be(2);
        history.StoppedEarly.Should().BeTrue();
        history.BestEpoch.Should().BeNull();
        trainer.EpochsCompleted.Should().Be(5);
        log.Events.Should().Equal(
            "train 4-7", "begin 4", "batch 4.1", "batch 4.2", "batch 4.3", "end 4",
            "begin 5", "batch 5.1", "batch 5.2", "batch 5.3", "end 5", "train end 2 epochs, stop True");
        var context = stopper.Context.Should().BeOfType<TrainingContext<double>>().Subject;
        context.Trainer.Should().BeSameAs(trainer);
        log.Context.Should().BeSameAs(context);
        context.History.Should().BeSameAs(history);
    }

    [Fact]
    public void A_stop_asked_in_the_last_epoch_or_before_the_first_is_honoured()
    {
        var x = TestData.Random<double>(8, 2, 1);
        var y = TestData.Random<double>(8, 1, 2);
        var trainer = new Trainer<double>(new Network<double>(2, new Dense<double>(1)), Losses.MeanSquaredError, new Sgd(0.1));

        var last = trainer.Fit(x, y, new FitOptions { Epochs = 2, Observers = [new Stopper(stopInEpoch: 2, stopInBatch: 1)] });
        (last.EpochsCompleted, last.StoppedEarly).Should().Be((2, false));

        var none = trainer.Fit(x, y, new FitOptions { Epochs = 2, Observers = [new Stopper(stopInEpoch: 0, stopInBatch: 0)] });
        (none.EpochsCompleted, none.StoppedEarly, trainer.EpochsCompleted).Should().Be((0, true, 2));
    }

    [Fact]
    public void A_cancelled_run_keeps_the_weights_of_its_last_step_and_ends_no_observer()
    {
        var (x, labels) = Separable(40, seed: 2);
        var network = Classifier();
        var log = new Log();
        using var source = new CancellationTokenSource();
        var canceller = new Canceller(network, epoch: 6, source);

        var act = () => new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.3)).Fit(x, labels, new FitOptions
        {
            Epochs = 10,
            BatchSize = 8,
            Observers = [canceller, log],
            EarlyStopping = new EarlyStopping { Patience = 100 },
        }, cancellationToken: source.Token);

        act.Should().Throw<OperationCanceledException>();
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(canceller.Captured, o => o.WithStrictOrdering());
        log.Events.Should().NotContain(e => e.StartsWith("train end", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, 0.0, "*EarlyStopping.Patience*at least 1*")]
    [InlineData(2, -1.0, "*EarlyStopping.MinDelta*at least 0*")]
    public void Bad_settings_of_an_early_stopping_observer_are_rejected(int patience, double minDelta, string message)
    {
        var fit = (FitOptions options) => new Trainer<double>(new Network<double>(2, new Dense<double>(1)), Losses.MeanSquaredError, new Sgd(0.1))
            .Fit(TestData.Random<double>(4, 2, 1), TestData.Random<double>(4, 1, 2), options);
        var stopping = new EarlyStopping { Patience = patience, MinDelta = minDelta };

        FluentActions.Invoking(() => fit(new FitOptions { EarlyStopping = stopping })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("options." + message[1..]);
        FluentActions.Invoking(() => fit(new FitOptions { Observers = [stopping] })).Should().Throw<ArgumentOutOfRangeException>().WithMessage(message);
        FluentActions.Invoking(() => fit(new FitOptions { EarlyStopping = new EarlyStopping { Mode = (MonitorMode)7 } })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Mode*7*");
    }

    [Fact]
    public void Every_epoch_result_gives_its_metrics_by_name()
    {
        var result = new EpochResult(3, 0.5, 0.6, 0.7, 0.8, 0.01, TimeSpan.FromSeconds(1)) { HammingAccuracy = 0.9, ValidationHammingAccuracy = 0.95 };

        Enum.GetValues<TrainingMetric>().Select(m => result.MetricValue(m)).Should().Equal(0.5, 0.6, 0.7, 0.8, 0.9, 0.95);
        new EpochResult(1, 0.5, null, null, null, 0.01, TimeSpan.Zero).MetricValue(TrainingMetric.ValidationAccuracy).Should().BeNull();
        FluentActions.Invoking(() => result.MetricValue((TrainingMetric)42)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("metric");
    }

    private sealed class WeightRecorder(Network<double> network) : ITrainingObserver
    {
        public Dictionary<int, double[][]> AfterEpoch { get; } = [];

        public void OnEpochEnd(EpochResult result) => AfterEpoch[result.Epoch] = TrainerTests.Snapshot(network);
    }

    /// <summary>Asks to stop in a given epoch and batch, or in <see cref="OnTrainBegin"/> when the epoch is 0.</summary>
    private sealed class Stopper(int stopInEpoch, int stopInBatch) : ITrainingObserver
    {
        public TrainingContext? Context { get; private set; }

        public void OnTrainBegin(TrainingContext context)
        {
            Context = context;
            if (stopInEpoch == 0)
            {
                context.StopTraining();
            }
        }

        public void OnBatchEnd(int epoch, int batch, double loss)
        {
            if (epoch == stopInEpoch && batch == stopInBatch)
            {
                Context!.StopTraining();
            }
        }
    }

    private sealed class Log : ITrainingObserver
    {
        public List<string> Events { get; } = [];

        public TrainingContext? Context { get; private set; }

        public void OnTrainBegin(TrainingContext context)
        {
            Context = context;
            Events.Add($"train {context.FirstEpoch}-{context.LastEpoch}");
        }

        public void OnEpochBegin(int epoch) => Events.Add($"begin {epoch}");

        public void OnBatchEnd(int epoch, int batch, double loss) => Events.Add($"batch {epoch}.{batch}");

        public void OnEpochEnd(EpochResult result) => Events.Add($"end {result.Epoch}");

        public void OnTrainEnd(TrainingContext context) =>
            Events.Add($"train end {context.History.EpochsCompleted} epochs, stop {context.StopRequested}");
    }

    private sealed class Canceller(Network<double> network, int epoch, CancellationTokenSource source) : ITrainingObserver
    {
        public double[][]? Captured { get; private set; }

        public void OnBatchEnd(int e, int batch, double loss)
        {
            if (e == epoch && batch == 2)
            {
                Captured = TrainerTests.Snapshot(network);
                source.Cancel();
            }
        }
    }
}
