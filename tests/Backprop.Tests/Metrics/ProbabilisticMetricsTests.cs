using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.MetricsTests;

/// <summary>ROC-AUC, average precision, log-loss, balanced accuracy and the multi-label accuracies against values
/// worked out by hand (and, for sweeps, against plainly written definitions).</summary>
public class ProbabilisticMetricsTests
{
    [Fact]
    public void Roc_auc_of_the_scikit_learn_example_is_three_quarters()
    {
        // Sorted by score: 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0). Of the 4 positive–negative pairs, 3 are ranked right.
        Metrics.RocAuc<double>([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).Should().Be(0.75);
    }

    [Fact]
    public void Tied_scores_form_one_diagonal_step_of_the_roc_curve()
    {
        // Thresholds 0.9, 0.5, 0.2 give (FPR, TPR) = (0, ½), (½, 1), (1, 1). Trapezoids from (0, 0):
        // 0 + ½·(½ + 1)/2 + ½·1 = 0.875; as pairs: the positive at 0.5 ties the negative at 0.5 (½), all else right: 3.5 / 4.
        Metrics.RocAuc<double>([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]).Should().Be(0.875);
        Metrics.RocAuc<double>([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]).Should().Be(0.5);
        Metrics.RocAuc<float>([0, 1, 1], [0.1f, 0.2f, 0.3f]).Should().Be(1);
        Metrics.RocAuc<float>([1, 0, 0], [0.1f, 0.2f, 0.3f]).Should().Be(0);
    }

    [Fact]
    public void Roc_auc_equals_the_pair_count_with_ties_as_halves()
    {
        foreach (int n in new[] { 2, 3, 7, 20, 101 })
        {
            var random = new DeterministicRandom(n);
            var actual = new int[n];
            var scores = new double[n];
            for (int i = 0; i < n; i++)
            {
                actual[i] = i < 2 ? i : random.NextInt32(2);
                scores[i] = Math.Round(random.NextDouble() * 5) / 5; // six values: many ties
            }

            double pairs = 0, count = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    if (actual[i] == 1 && actual[j] == 0)
                    {
                        count++;
                        pairs += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }
                }
            }

            Metrics.RocAuc<double>(actual, scores).Should().BeApproximately(pairs / count, 1e-12, $"n = {n}");
        }
    }

    [Fact]
    public void Average_precision_of_the_scikit_learn_example_is_five_sixths()
    {
        // Thresholds 0.8: P = 1, R = ½; 0.4: R unchanged; 0.35: P = ⅔, R = 1. AP = ½·1 + ½·⅔.
        Metrics.AveragePrecision<double>([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).Should().BeApproximately(5.0 / 6, 1e-15);
    }

    [Fact]
    public void Tied_scores_enter_the_precision_recall_curve_together()
    {
        // 0.9: P = 1, R = ½; 0.5 (one positive, one negative together): P = ⅔, R = 1. No point for the positive alone.
        Metrics.AveragePrecision<double>([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]).Should().BeApproximately(5.0 / 6, 1e-15);

        // Every score equal: one threshold, P = fraction of positives, R = 1.
        Metrics.AveragePrecision<double>([0, 1, 0, 0], [0.3, 0.3, 0.3, 0.3]).Should().Be(0.25);
    }

    [Fact]
    public void Average_precision_is_the_mean_over_positives_of_the_precision_at_their_score()
    {
        foreach (int n in new[] { 1, 2, 5, 20, 101 })
        {
            var random = new DeterministicRandom(100 + n);
            var actual = new int[n];
            var scores = new double[n];
            for (int i = 0; i < n; i++)
            {
                actual[i] = i == 0 ? 1 : random.NextInt32(2);
                scores[i] = Math.Round(random.NextDouble() * 4) / 4;
            }

            double sum = 0;
            int positives = 0;
            for (int i = 0; i < n; i++)
            {
                if (actual[i] == 1)
                {
                    positives++;
                    int above = 0, positiveAbove = 0;
                    for (int j = 0; j < n; j++)
                    {
                        if (scores[j] >= scores[i])
                        {
                            above++;
                            positiveAbove += actual[j];
                        }
                    }

                    sum += (double)positiveAbove / above;
                }
            }

            Metrics.AveragePrecision<double>(actual, scores).Should().BeApproximately(sum / positives, 1e-12, $"n = {n}");
        }
    }

    [Fact]
    public void Several_classes_average_one_versus_rest()
    {
        var probabilities = Matrix<double>.Build.DenseOfRowArrays(
            [0.6, 0.3, 0.1],
            [0.2, 0.5, 0.3],
            [0.1, 0.2, 0.7],
            [0.3, 0.4, 0.3]);
        int[] labels = [0, 1, 2, 2];

        // Class 0: 0.6 above 0.2, 0.1, 0.3: 1. Class 1: 0.5 above 0.3, 0.2, 0.4: 1.
        // Class 2: positives 0.7, 0.3 against negatives 0.1, 0.3: 1 + 1 + 1 + ½ of 4 pairs = 0.875.
        Metrics.RocAuc(probabilities, labels).Should().BeApproximately((1 + 1 + 0.875) / 3, 1e-15);

        // AP class 0: 1; class 1: 0.5 is highest: 1. Class 2: 0.7: P = 1, R = ½; 0.3 (the positive with the negative 0.3): P = ⅔, R = 1.
        Metrics.AveragePrecision(probabilities, labels).Should().BeApproximately((1 + 1 + (0.5 + 0.5 * 2 / 3)) / 3, 1e-15);

        // One column: the binary metrics of that column.
        var column = Matrix<double>.Build.DenseOfColumnArrays([0.1, 0.4, 0.35, 0.8]);
        Metrics.RocAuc(column, [0, 0, 1, 1]).Should().Be(0.75);
        Metrics.AveragePrecision(column, [0, 0, 1, 1]).Should().BeApproximately(5.0 / 6, 1e-15);
    }

    [Fact]
    public void Multi_label_ranking_metrics_average_the_columns()
    {
        var scores = Matrix<double>.Build.DenseOfRowArrays([0.9, 0.1], [0.2, 0.8], [0.6, 0.7], [0.1, 0.3]);
        var targets = Matrix<double>.Build.DenseOfRowArrays([1, 0], [0, 1], [0, 1], [1, 0]);

        // Column 0: positives 0.9, 0.1 against 0.2, 0.6: 2 of 4 pairs. Column 1: positives 0.8, 0.7 against 0.1, 0.3: 4 of 4.
        Metrics.RocAuc(scores, targets).Should().Be((0.5 + 1) / 2);

        // Column 0: 0.9: P = 1, R = ½; 0.6, 0.2 add no recall; 0.1: P = ½, R = 1. Column 1: 1.
        Metrics.AveragePrecision(scores, targets).Should().Be((0.5 + 0.25 + 1) / 2);
    }

    [Fact]
    public void Log_loss_is_the_mean_negative_log_probability_of_the_truth()
    {
        Metrics.LogLoss<double>([1, 0, 1], [0.9, 0.2, 0.6]).Should().BeApproximately(-(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.6)) / 3, 1e-15);
        Metrics.LogLoss<double>([0, 1], [0.5, 0.5]).Should().BeApproximately(Math.Log(2), 1e-15);

        var probabilities = Matrix<double>.Build.DenseOfRowArrays([0.7, 0.2, 0.1], [0.2, 0.2, 0.6]);
        Metrics.LogLoss(probabilities, [0, 2]).Should().BeApproximately(-(Math.Log(0.7) + Math.Log(0.6)) / 2, 1e-15);
        Metrics.LogLoss(Matrix<double>.Build.DenseOfColumnArrays([0.9, 0.2]), [1, 0]).Should().BeApproximately(-(Math.Log(0.9) + Math.Log(0.8)) / 2, 1e-15);
    }

    [Fact]
    public void Log_loss_clips_certain_probabilities_to_the_machine_epsilon()
    {
        Metrics.LogLoss<double>([1], [0.0]).Should().Be(-Math.Log(Math.Pow(2, -52)));
        Metrics.LogLoss<float>([0], [1f]).Should().Be(-Math.Log(Math.Pow(2, -23)));
        Metrics.LogLoss<double>([1], [1.0]).Should().BeApproximately(Math.Pow(2, -52), 1e-30);
    }

    [Fact]
    public void Balanced_accuracy_is_the_mean_recall_of_the_classes_that_occur()
    {
        // Recall of class 0: ⅔, of class 1: 1.
        Metrics.BalancedAccuracy([0, 0, 0, 1], [0, 0, 1, 1]).Should().BeApproximately((2.0 / 3 + 1) / 2, 1e-15);

        // Always predicting the majority: accuracy 0.75, balanced accuracy 0.5.
        Metrics.BalancedAccuracy([0, 0, 0, 1], [0, 0, 0, 0]).Should().Be(0.5);

        // Class 2 is only predicted, never actual: it is not averaged, but it costs class 0 half its recall.
        Metrics.BalancedAccuracy([0, 0], [0, 2]).Should().Be(0.5);
        new ConfusionMatrix([0, 1, 1, 2, 2, 2], [0, 1, 0, 2, 2, 1], 4).BalancedAccuracy.Should().BeApproximately((1 + 0.5 + 2.0 / 3) / 3, 1e-15);
    }

    [Fact]
    public void Multi_label_accuracies_count_rows_and_single_labels()
    {
        var targets = Matrix<double>.Build.DenseOfRowArrays([1, 0, 1], [0, 1, 0]);
        bool[][] predicted = [[true, false, true], [false, false, false]];

        Metrics.ExactMatchAccuracy(targets, predicted).Should().Be(0.5);
        Metrics.HammingAccuracy(targets, predicted).Should().Be(5.0 / 6);
    }

    [Fact]
    public void Bad_inputs_are_rejected_with_the_argument_named()
    {
        FluentActions.Invoking(() => Metrics.RocAuc<double>([1, 1], [0.2, 0.3])).Should().Throw<ArgumentException>()
            .WithParameterName("actual").WithMessage("*both classes*all 2 are of class 1*");
        FluentActions.Invoking(() => Metrics.AveragePrecision<double>([0, 0], [0.2, 0.3])).Should().Throw<ArgumentException>()
            .WithParameterName("actual").WithMessage("*class 1*none*");
        FluentActions.Invoking(() => Metrics.RocAuc<double>([0, 2], [0.2, 0.3])).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("actual").WithMessage("actual[1] must be a class in [0, 1], but it is 2*");
        FluentActions.Invoking(() => Metrics.RocAuc<double>([0, 1], [0.2, double.NaN])).Should().Throw<ArgumentException>()
            .WithParameterName("scores");
        FluentActions.Invoking(() => Metrics.RocAuc<double>([0, 1], [0.2])).Should().Throw<ArgumentException>()
            .WithParameterName("scores");
        FluentActions.Invoking(() => Metrics.LogLoss<double>([0, 1], [0.2, 1.5])).Should().Throw<ArgumentException>()
            .WithParameterName("probabilities").WithMessage("*[0, 1]*value 1*1.5*");
        FluentActions.Invoking(() => Metrics.RocAuc(Matrix<double>.Build.DenseOfRowArrays([0.5, 0.5], [0.4, 0.6]), [0, 0]))
            .Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*class 0 against the rest*all 2 are of class 1*");
        FluentActions.Invoking(() => Metrics.HammingAccuracy(Matrix<double>.Build.DenseOfRowArrays([0.5, 1]), [[true, true]]))
            .Should().Throw<ArgumentException>().WithParameterName("targets").WithMessage("*0*1*row 0, column 0 is 0.5*");
        FluentActions.Invoking(() => Metrics.ExactMatchAccuracy(Matrix<double>.Build.DenseOfRowArrays([0, 1]), [[true]]))
            .Should().Throw<ArgumentException>().WithParameterName("predicted").WithMessage("predicted[0]*2*holds 1*");
        FluentActions.Invoking(() => Metrics.BalancedAccuracy([0, -1], [0, 0])).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("actual");
    }
}
