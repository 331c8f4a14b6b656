using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace Backprop.Tests.Training;

/// <summary>Binary (one sigmoid or logit output) and multi-label (several) classification through the public API:
/// labels in <c>Fit</c>, thresholded predictions, accuracies in the history, and <c>EvaluateMetrics</c>.</summary>
public class BinaryClassificationTests(ITestOutputHelper output)
{
    private static readonly int[] XorLabels = [0, 1, 1, 0];

    [Fact]
    public void Xor_with_a_sigmoid_output_learns_from_labels_and_predicts_the_classes()
    {
        var (x, _) = TestData.Xor();
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(1, Activations.Sigmoid));
        var trainer = new Trainer<double>(network, Losses.BinaryCrossEntropy, new Sgd(0.5, 0.9));

        var history = trainer.Fit(x, XorLabels, new FitOptions { Epochs = 300, BatchSize = 4 });

        network.PredictClasses(x).Should().Equal(0, 1, 1, 0);
        history.Accuracy.Should().HaveCount(300);
        history.Accuracy[^1].Should().Be(1.0);
        history.HammingAccuracy.Should().BeEmpty("Hamming accuracy is for multi-label outputs");
    }

    [Fact]
    public void Xor_with_logits_learns_from_labels_and_predicts_the_classes()
    {
        var (x, _) = TestData.Xor();
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(1, Activations.Identity));
        var trainer = new Trainer<double>(network, Losses.BinaryCrossEntropyWithLogits, new Sgd(0.5, 0.9));

        var history = trainer.Fit(x, XorLabels, new FitOptions { Epochs = 300, BatchSize = 4 });

        network.PredictClasses(x).Should().Equal(0, 1, 1, 0);
        history.Accuracy[^1].Should().Be(1.0);
        var logits = network.Predict(x).Column(0);
        logits.Select(z => z > 0 ? 1 : 0).Should().Equal(new[] { 0, 1, 1, 0 }, "the classes are the signs of the logits");
    }

    [Fact]
    public void Xor_with_a_sigmoid_output_and_squared_error_is_a_binary_classifier_too()
    {
        var (x, y) = TestData.Xor();
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(1, Activations.Sigmoid));
        var history = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.5, 0.9)).Fit(x, y, new FitOptions { Epochs = 400, BatchSize = 4 });

        history.Accuracy.Should().HaveCount(400, "a 0/1 target column of a sigmoid output is classes");
        history.Accuracy[^1].Should().Be(1.0);
        network.PredictClasses(x).Should().Equal(0, 1, 1, 0);
    }

    [Fact]
    public void A_binary_target_column_gives_training_and_validation_accuracy()
    {
        var (x, y) = TestData.Xor();
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(1, Activations.Sigmoid));
        var trainer = new Trainer<double>(network, Losses.BinaryCrossEntropy, new Sgd(0.5, 0.9));

        var history = trainer.Fit(x, y, new FitOptions { Epochs = 300, BatchSize = 4 }, new ValidationData<double>(x, XorLabels));

        history.Accuracy.Should().HaveCount(300);
        history.ValidationAccuracy.Should().HaveCount(300);
        history.ValidationAccuracy[^1].Should().Be(1.0);
        history.Epochs.Should().OnlyContain(e => e.ValidationAccuracy * 4 == Math.Round(e.ValidationAccuracy!.Value * 4));
    }

    [Fact]
    public void Soft_binary_targets_give_no_accuracy()
    {
        var (x, _) = TestData.Xor();
        var soft = Matrix<double>.Build.DenseOfColumnArrays([0.1, 0.9, 0.9, 0.1]);
        var network = new Network<double>(2, seed: 1, new Dense<double>(1, Activations.Sigmoid));
        var history = new Trainer<double>(network, Losses.BinaryCrossEntropy, new Sgd(0.1)).Fit(x, soft, new FitOptions { Epochs = 2 });

        history.Accuracy.Should().BeEmpty();
    }

    [Fact]
    public void Labels_outside_zero_and_one_are_rejected_for_a_binary_classifier()
    {
        var (x, _) = TestData.Xor();
        var trainer = new Trainer<double>(new Network<double>(2, new Dense<double>(1, Activations.Sigmoid)), Losses.BinaryCrossEntropy, new Sgd(0.1));

        FluentActions.Invoking(() => trainer.Fit(x, [0, 1, 2, 0])).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("labels").WithMessage("labels[2] is 2, but a binary classifier*takes the labels 0 and 1*");
        FluentActions.Invoking(() => trainer.Fit(x, [0, -1, 1, 0])).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("labels").WithMessage("labels[1] is -1*");
        FluentActions.Invoking(() => trainer.Fit(x, [0, 1, 1])).Should().Throw<ArgumentException>()
            .WithParameterName("labels").WithMessage("*3 labels*4 input samples*");
    }

    [Fact]
    public void A_one_output_regression_network_rejects_labels_and_class_predictions()
    {
        var (x, _) = TestData.Xor();
        var network = new Network<double>(2, new Dense<double>(1, Activations.Tanh));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));

        FluentActions.Invoking(() => trainer.Fit(x, XorLabels)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("labels").WithMessage("labels[1] is 1*binary loss*");
        FluentActions.Invoking(() => network.PredictClasses(x)).Should().Throw<InvalidOperationException>()
            .WithMessage("PredictClasses*Sigmoid*Identity*Dense(1, tanh)*no classes*");
        FluentActions.Invoking(() => network.PredictLabels(x)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Thresholds_are_probabilities_on_sigmoid_and_logit_outputs_alike()
    {
        // z = x for both networks: the sigmoid's output is σ(x).
        Network<double> Make(IActivation activation)
        {
            var layer = new Dense<double>(1, activation);
            var network = new Network<double>(1, layer);
            layer.Weights[0, 0] = 1;
            layer.Biases[0] = 0;
            return network;
        }

        var x = Matrix<double>.Build.DenseOfColumnArrays([-2, -0.1, 0.1, 0.5, 1, 3]);
        foreach (var network in new[] { Make(Activations.Sigmoid), Make(Activations.Identity) })
        {
            network.PredictClasses(x).Should().Equal(0, 0, 1, 1, 1, 1);

            // σ(x) > 0.7 ⇔ x > ln(0.7 / 0.3) ≈ 0.847.
            network.PredictClasses(x, 0.7).Should().Equal(0, 0, 0, 0, 1, 1);
            network.PredictClasses(x, 0.2).Should().Equal(0, 1, 1, 1, 1, 1);
            network.PredictLabels(x, 0.7).Select(r => r.Single()).Should().Equal(false, false, false, false, true, true);
            FluentActions.Invoking(() => network.PredictClasses(x, 1.0)).Should().Throw<ArgumentOutOfRangeException>()
                .WithParameterName("threshold").WithMessage("*(0, 1)*1*");
            FluentActions.Invoking(() => network.PredictLabels(x, 0)).Should().Throw<ArgumentOutOfRangeException>()
                .WithParameterName("threshold");
        }
    }

    [Fact]
    public void Several_softmax_outputs_still_take_the_arg_max_and_refuse_a_threshold()
    {
        var layer = new Dense<double>(3, Activations.Softmax);
        var network = new Network<double>(2, layer);
        layer.Weights.Clear();
        layer.Biases[0] = 0;
        layer.Biases[1] = 1;
        layer.Biases[2] = 0.5;
        var x = Matrix<double>.Build.Dense(2, 2);

        network.PredictClasses(x).Should().Equal(1, 1);
        FluentActions.Invoking(() => network.PredictClasses(x, 0.5)).Should().Throw<InvalidOperationException>()
            .WithMessage("*one output*3*PredictLabels*");
        FluentActions.Invoking(() => network.PredictLabels(x)).Should().Throw<InvalidOperationException>()
            .WithMessage("PredictLabels*Dense(3, softmax)*arg-max*");
    }

    [Fact]
    public void An_imbalanced_binary_problem_is_learned_to_95_percent_held_out_accuracy()
    {
        var (features, labels) = BreastCancerLike(seed: 7);
        labels.Count(l => l == 1).Should().Be(212, "37 % of 569 are of class 1, as in the Wisconsin data");
        var (train, test) = DataSplit.Stratified(new ClassificationData<float>(features, labels), testFraction: 0.3, seed: 3);
        var scaler = new StandardScaler();
        var trainX = scaler.FitTransform(train.Features);
        var testX = scaler.Transform(test.Features);

        var network = new Network<float>(features.ColumnCount, seed: 2,
            new Dense<float>(16, Activations.ReLU, Initializers.HeUniform), new Dense<float>(1, Activations.Sigmoid));
        var trainer = new Trainer<float>(network, Losses.BinaryCrossEntropy, new Adam(0.005));
        var history = trainer.Fit(trainX, train.Labels, new FitOptions { Epochs = 60, BatchSize = 32, Seed = 1, ValidationFraction = 0.2 });

        double accuracy = Metrics.Accuracy(test.Labels, network.PredictClasses(testX));
        var result = trainer.EvaluateMetrics(testX, test.Labels);
        output.WriteLine($"held-out accuracy {accuracy:F4}; {result}");
        output.WriteLine(result.ConfusionMatrix!.ToString());

        accuracy.Should().BeGreaterThanOrEqualTo(0.95);
        history.ValidationAccuracy.Should().HaveCount(60);
        result.Kind.Should().Be(PredictionKind.Binary);
        result.SampleCount.Should().Be(test.Labels.Length);
        result.Accuracy.Should().Be(accuracy, "EvaluateMetrics thresholds as PredictClasses does");
        result.Loss.Should().BeApproximately(trainer.Evaluate(testX, Matrix<float>.Build.DenseOfColumnArrays(test.Labels.Select(l => (float)l).ToArray())), 1e-12);
        result.RocAuc.Should().BeGreaterThan(0.98);
        result.AveragePrecision.Should().BeGreaterThan(0.95);
        result.BalancedAccuracy.Should().BeGreaterThan(0.93);
        result.LogLoss.Should().BeLessThan(0.2);
        result.HammingAccuracy.Should().BeNull();
        result.MeanSquaredError.Should().BeNull();

        var probabilities = network.Predict(testX).Column(0).ToArray();
        result.RocAuc.Should().Be(Metrics.RocAuc<float>(test.Labels, probabilities));
        result.LogLoss.Should().Be(Metrics.LogLoss<float>(test.Labels, probabilities));
    }

    [Fact]
    public void Three_labels_each_on_its_own_input_are_learned_and_predicted()
    {
        var (x, y) = MultiLabel(600, seed: 11);
        var (testX, testY) = MultiLabel(300, seed: 12);
        var network = new Network<double>(4, seed: 5, new Dense<double>(16, Activations.Tanh), new Dense<double>(3, Activations.Sigmoid));
        var trainer = new Trainer<double>(network, Losses.BinaryCrossEntropy, new Adam(0.01));

        var history = trainer.Fit(x, y, new FitOptions { Epochs = 80, BatchSize = 32, Seed = 2 }, new ValidationData<double>(testX, testY));

        history.Accuracy.Should().HaveCount(80, "the exact-match ratio of a multi-label target matrix");
        history.HammingAccuracy.Should().HaveCount(80);
        history.ValidationHammingAccuracy.Should().HaveCount(80);
        history.Epochs.Should().OnlyContain(e => e.Accuracy <= e.HammingAccuracy, "a row with every label right has each label right");

        var predicted = network.PredictLabels(testX);
        double exact = Metrics.ExactMatchAccuracy(testY, predicted), hamming = Metrics.HammingAccuracy(testY, predicted);
        var result = trainer.EvaluateMetrics(testX, testY);
        output.WriteLine($"held-out exact match {exact:F4}, Hamming {hamming:F4}; {result}");

        exact.Should().BeGreaterThan(0.9);
        hamming.Should().BeGreaterThan(0.96);
        for (int label = 0; label < 3; label++)
        {
            int right = Enumerable.Range(0, testX.RowCount).Count(r => predicted[r][label] == (testY[r, label] == 1));
            (right / (double)testX.RowCount).Should().BeGreaterThan(0.93, $"label {label} follows input {label}");
        }

        result.Kind.Should().Be(PredictionKind.MultiLabel);
        result.Accuracy.Should().Be(exact);
        result.HammingAccuracy.Should().Be(hamming);
        history.ValidationAccuracy[^1].Should().Be(exact);
        history.ValidationHammingAccuracy[^1].Should().Be(hamming);
        result.RocAuc.Should().BeGreaterThan(0.98).And.Be(Metrics.RocAuc(network.Predict(testX), testY));
        result.ConfusionMatrix.Should().BeNull();
    }

    [Fact]
    public void Multi_label_with_logits_predicts_labels_from_their_signs()
    {
        var (x, y) = MultiLabel(600, seed: 11);
        var network = new Network<double>(4, seed: 5, new Dense<double>(16, Activations.Tanh), new Dense<double>(3, Activations.Identity));
        var trainer = new Trainer<double>(network, Losses.BinaryCrossEntropyWithLogits, new Adam(0.01));
        var history = trainer.Fit(x, y, new FitOptions { Epochs = 60, BatchSize = 32, Seed = 2 });

        var predicted = network.PredictLabels(x);
        Metrics.HammingAccuracy(y, predicted).Should().BeGreaterThan(0.95);
        history.HammingAccuracy.Should().HaveCount(60);
        var result = trainer.EvaluateMetrics(x, y);
        result.LogLoss.Should().BeApproximately(result.Loss, 1e-9, "with no penalty the loss is the log-loss of σ(z)");
    }

    [Fact]
    public void Labels_on_several_sigmoid_outputs_are_classes_scored_by_arg_max()
    {
        var (x, _) = TestData.Xor();
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(2, Activations.Sigmoid));
        var trainer = new Trainer<double>(network, Losses.BinaryCrossEntropy, new Sgd(0.5, 0.9));
        var history = trainer.Fit(x, XorLabels, new FitOptions { Epochs = 300, BatchSize = 4 });

        history.Accuracy[^1].Should().Be(1.0);
        history.HammingAccuracy.Should().BeEmpty();
        trainer.EvaluateMetrics(x, XorLabels).Kind.Should().Be(PredictionKind.MultiClass);
    }

    [Fact]
    public void Evaluate_metrics_fit_multi_class_and_regression_outputs()
    {
        var (x, _) = TestData.Xor();
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(2, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.5, 0.9));
        trainer.Fit(x, XorLabels, new FitOptions { Epochs = 300, BatchSize = 4 });

        var classes = trainer.EvaluateMetrics(x, XorLabels);
        classes.Kind.Should().Be(PredictionKind.MultiClass);
        classes.Accuracy.Should().Be(1);
        classes.BalancedAccuracy.Should().Be(1);
        classes.RocAuc.Should().Be(1);
        classes.ConfusionMatrix!.ClassCount.Should().Be(2);
        classes.LogLoss.Should().BeApproximately(classes.Loss, 1e-12);
        trainer.EvaluateMetrics(x, OneHot.Encode<double>(XorLabels, 2)).Should().BeEquivalentTo(classes);

        var regression = new Trainer<double>(new Network<double>(2, new Dense<double>(2)), Losses.MeanSquaredError, new Sgd(0.1));
        var y = TestData.Random<double>(4, 2, seed: 3);
        var measured = regression.EvaluateMetrics(x, y);
        measured.Kind.Should().Be(PredictionKind.Regression);
        measured.MeanSquaredError.Should().BeApproximately(measured.Loss, 1e-15);
        measured.RSquared.Should().Be(Metrics.RSquared(y, regression.Network.Predict(x)));
        measured.Accuracy.Should().BeNull();
        measured.ToString().Should().StartWith("Regression, 4 samples: loss ").And.Contain("R²");
    }

    /// <summary>A data set shaped like the Wisconsin breast-cancer data: 569 samples, 212 (37 %) of class 1, ten
    /// features of very different scales, nine of which shift by 1.5 standard deviations with the class.</summary>
    private static (Matrix<float> Features, int[] Labels) BreastCancerLike(int seed)
    {
        const int rows = 569, malignant = 212, columns = 10;
        var random = new DeterministicRandom(seed);
        var labels = Enumerable.Range(0, rows).Select(i => i < malignant ? 1 : 0).ToArray();
        random.Shuffle(labels.AsSpan());
        var features = Matrix<float>.Build.Dense(rows, columns);
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < columns; j++)
            {
                double shift = j == 9 ? 0 : (j % 3 == 2 ? -1.5 : 1.5);
                double scale = Math.Pow(10, (j % 4) - 1), offset = 5 * j;
                features[r, j] = (float)(offset + scale * (random.NextGaussian() + shift * labels[r]));
            }
        }

        return (features, labels);
    }

    /// <summary>Four inputs uniform in [−1, 1]; label 0 is x₀ &gt; 0, label 1 is x₁ &gt; 0.2, label 2 is x₂ &lt; −0.1; x₃ is noise.</summary>
    private static (Matrix<double> X, Matrix<double> Y) MultiLabel(int rows, int seed)
    {
        var x = TestData.Random<double>(rows, 4, seed);
        var y = Matrix<double>.Build.Dense(rows, 3, (r, j) => j switch
        {
            0 => x[r, 0] > 0 ? 1 : 0,
            1 => x[r, 1] > 0.2 ? 1 : 0,
            _ => x[r, 2] < -0.1 ? 1 : 0,
        });
        return (x, y);
    }
}
