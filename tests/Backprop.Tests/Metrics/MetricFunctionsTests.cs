using MathNet.Numerics.LinearAlgebra;

// Not Backprop.Tests.Metrics: a namespace of that name would hide the class Backprop.Metrics from every test in
// Backprop.Tests.* ("Metrics.Accuracy" would bind to the namespace).
namespace Backprop.Tests.MetricsTests;

public class MetricFunctionsTests
{
    // Row 0: true class 2 is second (0.5 is higher). Row 1: true class 0 is first. Row 2: true class 1 is tied with
    // classes 0 and 2 behind 0.4, so it is in the top 2. Row 3: true class 0 is behind 0.8 and 0.1, so third.
    private static readonly Matrix<double> Scores = Matrix<double>.Build.DenseOfRowArrays(
        [0.1, 0.5, 0.3, 0.1],
        [0.7, 0.1, 0.1, 0.1],
        [0.2, 0.2, 0.2, 0.4],
        [0.05, 0.05, 0.1, 0.8]);

    private static readonly int[] Labels = [2, 0, 1, 0];

    [Fact]
    public void Accuracy_is_the_fraction_of_equal_classes()
    {
        Metrics.Accuracy([0, 1, 2, 1], [0, 2, 2, 1]).Should().Be(0.75);
        Metrics.Accuracy([3], [3]).Should().Be(1);
    }

    [Theory]
    [InlineData(1, 0.25)]
    [InlineData(2, 0.75)]
    [InlineData(3, 1.0)]
    [InlineData(4, 1.0)]
    public void Top_k_accuracy_counts_the_true_class_among_the_k_best(int k, double expected)
    {
        Metrics.TopKAccuracy(Scores, Labels, k).Should().Be(expected);
        Metrics.TopKAccuracy(Matrix<float>.Build.Dense(4, 4, (r, c) => (float)Scores[r, c]), Labels, k).Should().Be(expected);
    }

    [Fact]
    public void Arg_max_picks_the_first_of_the_largest()
    {
        Metrics.ArgMax(Scores).Should().Equal(1, 0, 3, 3);
        Metrics.ArgMax(Matrix<double>.Build.DenseOfRowArrays([1.0, 3.0, 3.0])).Should().Equal(1);
    }

    [Fact]
    public void Top_k_checks_its_arguments()
    {
        FluentActions.Invoking(() => Metrics.TopKAccuracy(Scores, Labels, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k")
            .WithMessage("k must be in [1, 4]*but it is 0.*");
        FluentActions.Invoking(() => Metrics.TopKAccuracy(Scores, Labels, 5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
        FluentActions.Invoking(() => Metrics.TopKAccuracy(Scores, [2, 0, 4, 0], 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels")
            .WithMessage("labels[2] must be a class in [0, 3], but it is 4.*");
        FluentActions.Invoking(() => Metrics.TopKAccuracy(Scores, [2, 0], 1)).Should().Throw<ArgumentException>().WithParameterName("labels");
        var withNaN = Scores.Clone();
        withNaN[1, 2] = double.NaN;
        FluentActions.Invoking(() => Metrics.TopKAccuracy(withNaN, Labels, 1)).Should().Throw<ArgumentException>().WithParameterName("scores")
            .WithMessage("*row 1, column 2 is NaN*");
        FluentActions.Invoking(() => Metrics.TopKAccuracy<double>(null!, Labels, 1)).Should().Throw<ArgumentNullException>().WithParameterName("scores");
    }

    [Fact]
    public void Accuracy_checks_its_arguments()
    {
        FluentActions.Invoking(() => Metrics.Accuracy([0, 1], [0])).Should().Throw<ArgumentException>().WithParameterName("predicted");
        FluentActions.Invoking(() => Metrics.Accuracy([], [])).Should().Throw<ArgumentException>().WithParameterName("actual")
            .WithMessage("actual must hold at least one sample, but it is empty.*");
    }

    [Fact]
    public void Regression_errors_of_one_output()
    {
        // Errors −0.5, 0, 1, −1; mean of y 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 2.25.
        double[] y = [1, 2, 3, 4], yHat = [1.5, 2, 2, 5];
        Metrics.MeanSquaredError<double>(y, yHat).Should().Be(2.25 / 4);
        Metrics.MeanAbsoluteError<double>(y, yHat).Should().Be(2.5 / 4);
        Metrics.RSquared<double>(y, yHat).Should().BeApproximately(1 - 2.25 / 5, 1e-15);
        Metrics.RSquared<float>([1f, 2f, 3f, 4f], [1.5f, 2f, 2f, 5f]).Should().BeApproximately(0.55, 1e-7);
    }

    [Fact]
    public void Regression_errors_of_matrices_are_over_all_elements_and_r2_averages_columns()
    {
        var y = Matrix<double>.Build.DenseOfColumnArrays([1.0, 2, 3, 4], [0.0, 0, 1, 1]);
        var yHat = Matrix<double>.Build.DenseOfColumnArrays([1.5, 2, 2, 5], [0.0, 0, 1, 1]);
        Metrics.MeanSquaredError(y, yHat).Should().Be(2.25 / 8);
        Metrics.MeanAbsoluteError(y, yHat).Should().Be(2.5 / 8);
        Metrics.RSquared(y, yHat).Should().BeApproximately((0.55 + 1) / 2, 1e-15);
    }

    [Fact]
    public void R2_is_1_for_perfect_predictions_0_for_the_mean_and_handles_constant_targets()
    {
        double[] y = [1, 2, 3];
        Metrics.RSquared<double>(y, y).Should().Be(1);
        Metrics.RSquared<double>(y, [2, 2, 2]).Should().Be(0);
        Metrics.RSquared<double>([2, 2, 2], [2, 2, 2]).Should().Be(1);
        Metrics.RSquared<double>([2, 2, 2], [2, 2, 3]).Should().Be(0);
        Metrics.RSquared<double>(y, [3, 2, 1]).Should().Be(-3);
    }

    [Fact]
    public void Regression_metrics_check_their_arguments()
    {
        var y = Matrix<double>.Build.Dense(3, 2);
        FluentActions.Invoking(() => Metrics.MeanSquaredError(y, Matrix<double>.Build.Dense(3, 1))).Should().Throw<ArgumentException>().WithParameterName("predicted")
            .WithMessage("predicted must have the shape of actual (3 × 2), but it is 3 × 1.*");
        var bad = Matrix<double>.Build.Dense(3, 2);
        bad[2, 1] = double.PositiveInfinity;
        FluentActions.Invoking(() => Metrics.RSquared(y, bad)).Should().Throw<ArgumentException>().WithParameterName("predicted")
            .WithMessage("*row 2, column 1 is Infinity*");
        FluentActions.Invoking(() => Metrics.MeanAbsoluteError<double>([1, 2], [1])).Should().Throw<ArgumentException>().WithParameterName("predicted");
        FluentActions.Invoking(() => Metrics.MeanAbsoluteError<double>([], [])).Should().Throw<ArgumentException>().WithParameterName("actual");
        FluentActions.Invoking(() => Metrics.RSquared<double>([double.NaN], [1])).Should().Throw<ArgumentException>().WithParameterName("actual");
        FluentActions.Invoking(() => Metrics.MeanSquaredError(null!, y)).Should().Throw<ArgumentNullException>().WithParameterName("actual");
    }

    [Fact]
    public void A_trained_classifier_can_be_scored_in_a_few_lines()
    {
        var x = Matrix<double>.Build.DenseOfRowArrays([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]);
        int[] labels = [0, 1, 1, 0];
        var network = new Network<double>(2, seed: 1, new Dense<double>(8, Activations.Tanh), new Dense<double>(2, Activations.Softmax));
        new Trainer<double>(network, Losses.CrossEntropy, new Adam(0.05)).Fit(x, labels, new FitOptions { Epochs = 300, BatchSize = 4 });

        var scores = network.Predict(x);
        var matrix = new ConfusionMatrix(labels, Metrics.ArgMax(scores), 2);
        matrix.Accuracy.Should().Be(1);
        Metrics.TopKAccuracy(scores, labels, 1).Should().Be(1);
    }
}
