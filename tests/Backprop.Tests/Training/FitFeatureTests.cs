using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

public class FitFeatureTests
{
    private static Network<double> SmallNetwork(int seed = 1) =>
        new(3, seed, new Dense<double>(6, Activations.Tanh), new Dense<double>(2));

    [Fact]
    public void Early_stopping_stops_at_the_right_epoch_and_restores_the_best_weights()
    {
        // Validation losses scripted per epoch: best at epoch 3, then no improvement beyond MinDelta for 2 epochs.
        double[] script = [5.0, 4.0, 3.0, 2.995, 3.5, 1.0, 0.5];
        var x = TestData.Random<double>(8, 3, seed: 1);
        var y = TestData.Random<double>(8, 2, seed: 2);
        var validationX = TestData.Random<double>(3, 3, seed: 3);
        var validationY = TestData.Random<double>(3, 2, seed: 4);
        var loss = new ScriptedValidationLoss(script, validationRows: 3);
        var network = SmallNetwork();
        var snapshots = new WeightRecorder(network);
        var trainer = new Trainer<double>(network, loss, new Sgd(0.1));

        var history = trainer.Fit(x, y, new FitOptions
        {
            Epochs = 7,
            BatchSize = 4,
            EarlyStopping = new EarlyStopping { Patience = 2, MinDelta = 0.01, RestoreBestWeights = true },
            Observers = [loss, snapshots],
        }, new ValidationData<double>(validationX, validationY));

        history.EpochsCompleted.Should().Be(5);
        history.StoppedEarly.Should().BeTrue();
        history.BestEpoch.Should().Be(3);
        history.ValidationLoss.Should().Equal([5.0, 4.0, 3.0, 2.995, 3.5], (a, b) => Math.Abs(a - b) < 1e-12);
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(snapshots.AfterEpoch[3], o => o.WithStrictOrdering());
        TrainerTests.Snapshot(network).Should().NotBeEquivalentTo(snapshots.AfterEpoch[5]);
    }

    [Fact]
    public void Without_restoring_the_weights_are_the_last_epochs()
    {
        double[] script = [1.0, 2.0, 3.0];
        var loss = new ScriptedValidationLoss(script, validationRows: 3);
        var network = SmallNetwork();
        var snapshots = new WeightRecorder(network);
        var history = new Trainer<double>(network, loss, new Sgd(0.1)).Fit(
            TestData.Random<double>(8, 3, 1), TestData.Random<double>(8, 2, 2),
            new FitOptions { Epochs = 10, BatchSize = 4, EarlyStopping = new EarlyStopping { Patience = 2, RestoreBestWeights = false }, Observers = [loss, snapshots] },
            new ValidationData<double>(TestData.Random<double>(3, 3, 3), TestData.Random<double>(3, 2, 4)));

        history.EpochsCompleted.Should().Be(3);
        history.BestEpoch.Should().Be(1);
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(snapshots.AfterEpoch[3], o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_huge_learning_rate_on_a_relu_regression_raises_the_documented_exception_and_leaves_finite_weights()
    {
        var x = TestData.Random<double>(64, 4, seed: 7, scale: 3);
        var y = Matrix<double>.Build.Dense(64, 1, (r, _) => x.Row(r).Sum());
        var network = new Network<double>(4, new Dense<double>(16, Activations.ReLU), new Dense<double>(1));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(1e6));

        var act = () => trainer.Fit(x, y, new FitOptions { Epochs = 20, BatchSize = 8 });

        var thrown = act.Should().Throw<TrainingDivergedException>().Which;
        thrown.Epoch.Should().BeGreaterThan(0);
        thrown.Batch.Should().BeGreaterThan(0);
        double.IsFinite(thrown.Value).Should().BeFalse();
        thrown.Message.Should().Contain($"epoch {thrown.Epoch}, batch {thrown.Batch}");
        if (thrown.LayerIndex >= 0)
        {
            thrown.Message.Should().Contain($"layer {thrown.LayerIndex}'s {thrown.Parameter}");
        }

        network.Layers.SelectMany(l => l.Parameters).SelectMany(p => p.Values.ToArray()).Should().OnlyContain(v => double.IsFinite(v));
        network.Predict(x).Enumerate().Should().OnlyContain(v => double.IsFinite(v));
    }

    [Fact]
    public void A_non_finite_gradient_is_named_by_layer_and_parameter()
    {
        // An activation whose derivative is NaN at one point poisons the first layer's gradients only.
        var network = new Network<double>(2, new Dense<double>(3, new PoisonedDerivative()), new Dense<double>(1));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));
        var before = TrainerTests.Snapshot(network);

        var act = () => trainer.Fit(TestData.Random<double>(4, 2, 1), TestData.Random<double>(4, 1, 2), new FitOptions { Epochs = 1, BatchSize = 4 });

        var thrown = act.Should().Throw<TrainingDivergedException>().Which;
        (thrown.Epoch, thrown.Batch, thrown.LayerIndex, thrown.Parameter).Should().Be((1, 1, 0, "weights"));
        thrown.Message.Should().Contain("layer 0's weights contains NaN");
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Cancellation_mid_epoch_leaves_the_weights_of_a_finished_step()
    {
        var x = TestData.Random<double>(40, 3, seed: 1);
        var y = TestData.Random<double>(40, 2, seed: 2);
        var options = new FitOptions { Epochs = 5, BatchSize = 8, Seed = 3 };

        // The reference: the same training, observed right after epoch 2, batch 3.
        var reference = SmallNetwork();
        var probe = new BatchProbe(reference, epoch: 2, batch: 3, cancel: null);
        new Trainer<double>(reference, Losses.MeanSquaredError, new Sgd(0.1)).Fit(x, y, new FitOptions { Epochs = 5, BatchSize = 8, Seed = 3, Observers = [probe] });

        using var source = new CancellationTokenSource();
        var network = SmallNetwork();
        var canceller = new BatchProbe(network, epoch: 2, batch: 3, cancel: source);
        var act = () => new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1))
            .Fit(x, y, new FitOptions { Epochs = options.Epochs, BatchSize = options.BatchSize, Seed = options.Seed, Observers = [canceller] }, cancellationToken: source.Token);

        act.Should().Throw<OperationCanceledException>();
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(probe.Captured!, o => o.WithStrictOrdering());
        network.Predict(x).Enumerate().Should().OnlyContain(v => double.IsFinite(v));

        // The network is free again: it can be trained after the cancelled call.
        new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1)).Fit(x, y, new FitOptions { Epochs = 1 });
    }

    [Fact]
    public async Task FitAsync_trains_and_honours_cancellation()
    {
        var x = TestData.Random<double>(40, 3, seed: 1);
        var y = TestData.Random<double>(40, 2, seed: 2);
        var network = SmallNetwork();
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));

        var history = await trainer.FitAsync(x, y, new FitOptions { Epochs = 3 });
        history.EpochsCompleted.Should().Be(3);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await FluentActions.Awaiting(() => trainer.FitAsync(x, y, new FitOptions { Epochs = 3 }, cancellationToken: cancelled.Token))
            .Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public void A_second_concurrent_fit_on_the_same_network_throws()
    {
        var x = TestData.Random<double>(40, 3, seed: 1);
        var y = TestData.Random<double>(40, 2, seed: 2);
        var network = SmallNetwork();
        Exception? inner = null;
        var nested = new NestedFit(() =>
        {
            try
            {
                new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1)).Fit(x, y, new FitOptions { Epochs = 1 });
            }
            catch (Exception e)
            {
                inner = e;
            }
        });

        new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1)).Fit(x, y, new FitOptions { Epochs = 1, Observers = [nested] });

        inner.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("already being trained");
    }

    [Fact]
    public void Training_steps_and_gradient_checks_on_a_network_that_fit_is_training_throw_and_change_nothing()
    {
        var x = TestData.Random<double>(40, 3, seed: 1);
        var y = TestData.Random<double>(40, 2, seed: 2);
        var network = SmallNetwork();
        var errors = new List<Exception>();
        double[][]? during = null, after = null;
        var nested = new NestedFit(() =>
        {
            during = TrainerTests.Snapshot(network);
            var other = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));
            var batch = x.SubMatrix(0, 4, 0, 3);
            var targets = y.SubMatrix(0, 4, 0, 2);
            Action[] calls =
            [
                () => other.TrainBatch(batch, targets),
                () => other.TrainBatch(new double[12], new double[8]),
                () => other.Forward(batch),
                () => GradientCheck.Run(network, Losses.MeanSquaredError, batch, targets),
            ];
            foreach (var call in calls)
            {
                try
                {
                    call();
                }
                catch (Exception e)
                {
                    errors.Add(e);
                }
            }

            after = TrainerTests.Snapshot(network);
        });

        new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1)).Fit(x, y, new FitOptions { Epochs = 1, Observers = [nested] });

        errors.Should().HaveCount(4).And.AllSatisfy(e => e.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("already being trained"));
        after.Should().BeEquivalentTo(during, o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_validation_fraction_is_held_out_stratified_by_class()
    {
        var x = TestData.Random<double>(100, 3, seed: 1);
        int[] labels = Enumerable.Range(0, 100).Select(i => i < 80 ? 0 : 1).ToArray();
        var network = new Network<double>(3, new Dense<double>(2, Activations.Softmax));
        var sizes = new List<int>();

        var history = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.1))
            .Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 100, ValidationFraction = 0.25, Observers = [new BatchSizes(sizes)] });

        // 25% of 80 and of 20 are held out: 75 rows are trained on, in one batch per epoch.
        sizes.Should().Equal(75, 75);
        history.ValidationLoss.Should().HaveCount(2);
        history.ValidationAccuracy.Should().HaveCount(2);
        history.Accuracy.Should().HaveCount(2);
        // A stratified 25-row validation set holds 20 of class 0: always predicting class 0 scores exactly 0.8 there.
        history.ValidationAccuracy.Should().OnlyContain(a => a * 25 == Math.Round(a * 25));
    }

    [Fact]
    public void A_validation_fraction_that_leaves_a_side_empty_is_rejected() =>
        FluentActions.Invoking(() => new Trainer<double>(SmallNetwork(), Losses.MeanSquaredError, new Sgd(0.1))
                .Fit(TestData.Random<double>(2, 3, 1), TestData.Random<double>(2, 2, 2), new FitOptions { ValidationFraction = 0.1 }))
            .Should().Throw<ArgumentException>().WithMessage("*ValidationFraction*0 for validation*");

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    public void A_validation_fraction_outside_zero_to_one_is_rejected(double fraction) =>
        FluentActions.Invoking(() => new Trainer<double>(SmallNetwork(), Losses.MeanSquaredError, new Sgd(0.1))
                .Fit(TestData.Random<double>(4, 3, 1), TestData.Random<double>(4, 2, 2), new FitOptions { ValidationFraction = fraction }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ValidationFraction*[0, 1)*");

    [Fact]
    public void Gradient_clipping_bounds_the_global_norm_of_the_update()
    {
        var x = TestData.Random<double>(8, 3, seed: 1, scale: 10);
        var y = TestData.Random<double>(8, 2, seed: 2, scale: 100);
        var network = SmallNetwork();
        var before = TrainerTests.Snapshot(network).SelectMany(v => v).ToArray();

        new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.5)).Fit(x, y, new FitOptions { Epochs = 1, BatchSize = 8, MaxGradientNorm = 0.01 });

        var after = TrainerTests.Snapshot(network).SelectMany(v => v).ToArray();
        double step = Math.Sqrt(before.Zip(after).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        step.Should().BeApproximately(0.5 * 0.01, 1e-12);
    }

    [Fact]
    public void L2_and_L1_penalties_enter_the_objective_and_pass_the_gradient_check()
    {
        var network = new Network<double>(3, seed: 4,
            new Dense<double>(5, Activations.Tanh) { L2 = 0.05, L1 = 0.01 },
            new Dense<double>(2) { L2 = 0.1 });
        var weights = network.Layers.Cast<Dense<double>>().Select(d => d.Weights.AsColumnMajorArray()).ToArray();
        double expected = 0.05 * weights[0].Sum(w => w * w) + 0.01 * weights[0].Sum(Math.Abs) + 0.1 * weights[1].Sum(w => w * w);
        network.RegularizationPenalty().Should().BeApproximately(expected, 1e-14);

        var x = TestData.Random<double>(7, 3, seed: 5);
        var y = TestData.Random<double>(7, 2, seed: 6);
        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());

        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));
        double objective = trainer.Evaluate(x, y);
        double dataLoss = (network.Predict(x) - y).PointwisePower(2).Enumerate().Average();
        objective.Should().BeApproximately(dataLoss + expected, 1e-12);
    }

    [Fact]
    public void Progress_receives_every_epoch()
    {
        var reports = new List<EpochResult>();
        new Trainer<double>(SmallNetwork(), Losses.MeanSquaredError, new Sgd(0.1)).Fit(
            TestData.Random<double>(8, 3, 1), TestData.Random<double>(8, 2, 2),
            new FitOptions { Epochs = 3, Progress = new SynchronousProgress(reports) });

        reports.Select(r => r.Epoch).Should().Equal(1, 2, 3);
        reports.Should().OnlyContain(r => r.LearningRate == 0.1 && r.ValidationLoss == null && r.Accuracy == null);
    }

    [Fact]
    public void Classification_history_records_training_accuracy()
    {
        var (x, _) = TestData.Xor();
        int[] labels = [0, 1, 1, 0];
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(2, Activations.Softmax));
        var history = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.5, 0.9)).Fit(x, labels, new FitOptions { Epochs = 300, BatchSize = 4 });

        history.Accuracy.Should().HaveCount(300);
        history.Accuracy[^1].Should().Be(1.0);
    }

    [Fact]
    public void A_schedule_sets_the_learning_rate_of_every_epoch_from_the_starting_rate()
    {
        var optimizer = new Sgd(0.4);
        var history = new Trainer<double>(SmallNetwork(), Losses.MeanSquaredError, optimizer).Fit(
            TestData.Random<double>(8, 3, 1), TestData.Random<double>(8, 2, 2),
            new FitOptions { Epochs = 5, LearningRateSchedule = new StepSchedule(stepSize: 2, gamma: 0.5) });

        history.Epochs.Select(e => e.LearningRate).Should().Equal([0.4, 0.4, 0.2, 0.2, 0.1], (a, b) => Math.Abs(a - b) < 1e-15);
        optimizer.LearningRate.Should().BeApproximately(0.1, 1e-15);
    }

    [Fact]
    public void Reduce_on_plateau_hears_the_monitored_loss()
    {
        double[] script = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        var loss = new ScriptedValidationLoss(script, validationRows: 3);
        var history = new Trainer<double>(SmallNetwork(), loss, new Sgd(0.1)).Fit(
            TestData.Random<double>(8, 3, 1), TestData.Random<double>(8, 2, 2),
            new FitOptions { Epochs = 6, BatchSize = 4, Observers = [loss], LearningRateSchedule = new ReduceOnPlateauSchedule(factor: 0.5, patience: 1) },
            new ValidationData<double>(TestData.Random<double>(3, 3, 3), TestData.Random<double>(3, 2, 4)));

        // The loss never improves after epoch 1: the rate halves after every patience + 1 = 2 bad epochs.
        history.Epochs.Select(e => e.LearningRate).Should().Equal([0.1, 0.1, 0.1, 0.05, 0.05, 0.025], (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void A_schedule_that_reaches_zero_is_reported_by_name()
    {
        var act = () => new Trainer<double>(SmallNetwork(), Losses.MeanSquaredError, new Sgd(0.1)).Fit(
            TestData.Random<double>(8, 3, 1), TestData.Random<double>(8, 2, 2),
            new FitOptions { Epochs = 4, LearningRateSchedule = new CosineAnnealingSchedule(period: 2) });

        act.Should().Throw<InvalidOperationException>().WithMessage("*LearningRateSchedule*epoch 3*");
    }

    [Fact]
    public void A_network_with_dropout_passes_the_gradient_check_in_inference_mode()
    {
        var network = new Network<double>(4, seed: 3,
            new Dense<double>(6, Activations.Tanh), new Dropout<double>(0.5, seed: 1), new Dense<double>(2));
        var report = GradientCheck.Run(network, Losses.MeanSquaredError, TestData.Random<double>(5, 4, 1), TestData.Random<double>(5, 2, 2));
        report.MaxRelativeError.Should().BeLessThan(1e-6, report.ToString());
    }

    private sealed class SynchronousProgress(List<EpochResult> reports) : IProgress<EpochResult>
    {
        public void Report(EpochResult value) => reports.Add(value);
    }

    private sealed class BatchSizes(List<int> sizes) : ITrainingObserver
    {
        private int _batches;

        public void OnEpochBegin(int epoch) => _batches = 0;

        public void OnBatchEnd(int epoch, int batch, double loss) => _batches++;

        public void OnEpochEnd(EpochResult result) => sizes.Add(_batches == 1 ? 75 : -_batches);
    }

    private sealed class NestedFit(Action action) : ITrainingObserver
    {
        private bool _done;

        public void OnBatchEnd(int epoch, int batch, double loss)
        {
            if (!_done)
            {
                _done = true;
                action();
            }
        }
    }

    /// <summary>Captures the weights after a given batch and optionally cancels training there.</summary>
    private sealed class BatchProbe(Network<double> network, int epoch, int batch, CancellationTokenSource? cancel) : ITrainingObserver
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

    private sealed class WeightRecorder(Network<double> network) : ITrainingObserver
    {
        public Dictionary<int, double[][]> AfterEpoch { get; } = [];

        public void OnBatchEnd(int epoch, int batch, double loss) => AfterEpoch[epoch] = TrainerTests.Snapshot(network);
    }

    /// <summary>MSE for training; on the validation set (recognised by its row count) the scripted value of the current epoch.</summary>
    private sealed class ScriptedValidationLoss(double[] script, int validationRows) : ILossFunction, ITrainingObserver
    {
        private int _epoch;

        public string Name => "scripted";

        public LossReduction Reduction => LossReduction.Mean;

        public void OnEpochBegin(int epoch) => _epoch = epoch;

        public TValue Value<TValue>(ReadOnlySpan<TValue> outputs, ReadOnlySpan<TValue> targets, int width)
            where TValue : unmanaged, IFloatingPointIeee754<TValue> =>
            outputs.Length == validationRows * width
                ? TValue.CreateChecked(script[_epoch - 1])
                : Losses.MeanSquaredError.Value(outputs, targets, width);

        public void Gradient<TValue>(ReadOnlySpan<TValue> outputs, ReadOnlySpan<TValue> targets, Span<TValue> outputGradients, int width)
            where TValue : unmanaged, IFloatingPointIeee754<TValue> =>
            Losses.MeanSquaredError.Gradient(outputs, targets, outputGradients, width);
    }

    private sealed class PoisonedDerivative : ElementwiseActivation
    {
        public override string Name => "poisoned";

        public override TValue Apply<TValue>(TValue z) => z;

        public override TValue Derivative<TValue>(TValue z) => TValue.NaN;
    }
}
