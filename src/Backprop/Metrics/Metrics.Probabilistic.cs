using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <content>Metrics of binary, multi-class and multi-label classifiers from their scores and probabilities, and of
/// multi-label predictions.</content>
public static partial class Metrics
{
    /// <summary>The area under the ROC curve of a binary classifier: the probability that a random sample of class 1
    /// scores higher than a random sample of class 0, ties counting one half.</summary>
    /// <remarks>
    /// <para>The curve's points are (false positive rate, true positive rate) at every distinct score taken as the
    /// threshold, from the highest down, plus (0, 0); the area is summed by trapezoids, so that samples with equal scores
    /// form one diagonal step, as scikit-learn's <c>roc_auc_score</c>. That equals the Mann–Whitney statistic
    /// U / (P·N), counting a tie between a positive and a negative as ½.</para>
    /// <para>Any scores that rank the samples will do: probabilities, logits, or other decision values.</para>
    /// </remarks>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The true class of every sample: 0 or 1; both must occur.</param>
    /// <param name="scores">The score of class 1 for every sample, as many as <paramref name="actual"/>.</param>
    /// <returns>A value in [0, 1]: 1 when every sample of class 1 scores above every sample of class 0, 0.5 for scores
    /// that do not tell the classes apart.</returns>
    /// <exception cref="ArgumentException">The spans are empty or differ in length, a score is not finite, or only one class occurs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class is neither 0 nor 1.</exception>
    public static double RocAuc<T>(ReadOnlySpan<int> actual, ReadOnlySpan<T> scores)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (positive, values) = BinaryInputs(actual, scores, nameof(actual), nameof(scores));
        return Ranking(positive, values, nameof(actual), nameof(actual), precisionRecall: false);
    }

    /// <summary>ROC-AUC from a score matrix: of a binary classifier for one column, and for several columns the
    /// one-vs-rest macro average over classes, as scikit-learn's <c>roc_auc_score(multi_class="ovr")</c>.</summary>
    /// <remarks>For class c, the samples of class c are the positives and column c their scores; the result is the plain
    /// mean over classes of <see cref="RocAuc{T}(ReadOnlySpan{int}, ReadOnlySpan{T})"/>. Give probabilities (softmax
    /// outputs) for several classes: raw logits rank each column differently from the probabilities computed from them.</remarks>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="scores">One row per sample: one column with the score of class 1, or one column per class.</param>
    /// <param name="labels">The true class of every row: 0 or 1 for one column, in [0, columns) for several.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="scores"/> has no rows or columns or a value that is not finite,
    /// its row count differs from the number of labels, or a class (for one column: one of the two classes) has no samples
    /// or all of them.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    public static double RocAuc<T>(Matrix<T> scores, int[] labels)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OneVersusRest(scores, labels, precisionRecall: false);

    /// <summary>ROC-AUC of a multi-label classifier: the macro average over labels (columns) of the binary ROC-AUC of
    /// every column, as scikit-learn's <c>roc_auc_score</c> on an indicator matrix.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="scores">One row per sample, one column per label: its score or probability.</param>
    /// <param name="targets">The true labels, of the same shape: 1 where the sample has the label, 0 where not.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The matrices are empty or differ in shape, a value is not finite, a target is
    /// neither 0 nor 1, or a label is on for every sample or for none.</exception>
    public static double RocAuc<T>(Matrix<T> scores, Matrix<T> targets)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        PerLabel(scores, targets, precisionRecall: false);

    /// <summary>The average precision of a binary classifier: the area under its precision–recall curve, summed as
    /// scikit-learn's <c>average_precision_score</c>.</summary>
    /// <remarks>AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores taken as thresholds from the highest down, where Pₙ and
    /// Rₙ are the precision and recall of calling class 1 every sample scoring at least the n-th threshold, and R₀ = 0.
    /// Samples with equal scores enter together; there is no interpolation between points. A random ranking scores
    /// about the fraction of class 1, a perfect one 1.</remarks>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The true class of every sample: 0 or 1; class 1 must occur.</param>
    /// <param name="scores">The score of class 1 for every sample, as many as <paramref name="actual"/>.</param>
    /// <returns>A value in (0, 1].</returns>
    /// <exception cref="ArgumentException">The spans are empty or differ in length, a score is not finite, or no sample is of class 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class is neither 0 nor 1.</exception>
    public static double AveragePrecision<T>(ReadOnlySpan<int> actual, ReadOnlySpan<T> scores)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (positive, values) = BinaryInputs(actual, scores, nameof(actual), nameof(scores));
        return Ranking(positive, values, nameof(actual), nameof(actual), precisionRecall: true);
    }

    /// <summary>Average precision from a score matrix: of a binary classifier for one column, and for several columns the
    /// one-vs-rest macro average over classes (each class against the others, its column as the scores).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="scores">One row per sample: one column with the score of class 1, or one column per class.</param>
    /// <param name="labels">The true class of every row: 0 or 1 for one column, in [0, columns) for several.</param>
    /// <returns>A value in (0, 1].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="scores"/> has no rows or columns or a value that is not finite,
    /// its row count differs from the number of labels, or a class (for one column: class 1) has no samples.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    public static double AveragePrecision<T>(Matrix<T> scores, int[] labels)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OneVersusRest(scores, labels, precisionRecall: true);

    /// <summary>Average precision of a multi-label classifier: the macro average over labels (columns) of every column's
    /// binary average precision.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="scores">One row per sample, one column per label: its score or probability.</param>
    /// <param name="targets">The true labels, of the same shape: 1 where the sample has the label, 0 where not.</param>
    /// <returns>A value in (0, 1].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The matrices are empty or differ in shape, a value is not finite, a target is
    /// neither 0 nor 1, or a label is on for no sample.</exception>
    public static double AveragePrecision<T>(Matrix<T> scores, Matrix<T> targets)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        PerLabel(scores, targets, precisionRecall: true);

    /// <summary>The log-loss (binary cross-entropy) of predicted probabilities: −(1/n)·Σ [yᵢ·ln pᵢ + (1 − yᵢ)·ln(1 − pᵢ)].</summary>
    /// <remarks>Each probability is first clipped to [ε, 1 − ε], ε the machine epsilon of <typeparamref name="T"/>
    /// (2⁻⁵² for double, 2⁻²³ for float), as scikit-learn's <c>log_loss</c> does, so that a confident wrong answer costs
    /// a large but finite amount.</remarks>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The true class of every sample: 0 or 1.</param>
    /// <param name="probabilities">The predicted probability of class 1 for every sample, in [0, 1].</param>
    /// <returns>A value ≥ 0; ln 2 ≈ 0.693 for always answering 0.5.</returns>
    /// <exception cref="ArgumentException">The spans are empty or differ in length, or a probability is not in [0, 1].</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class is neither 0 nor 1.</exception>
    public static double LogLoss<T>(ReadOnlySpan<int> actual, ReadOnlySpan<T> probabilities)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MetricChecks.SameNonEmptyLength(actual.Length, probabilities.Length, nameof(actual), nameof(probabilities));
        MetricChecks.Labels(actual, 2, nameof(actual));
        double epsilon = MachineEpsilon<T>(), sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double p = Probability(probabilities[i], epsilon, nameof(probabilities), i);
            sum -= Math.Log(actual[i] == 1 ? p : 1 - p);
        }

        return sum / actual.Length;
    }

    /// <summary>The log-loss of predicted class probabilities: −(1/n)·Σ ln pᵢ,yᵢ, the mean negative log-probability of
    /// every sample's true class; for one column, the binary log-loss of <see cref="LogLoss{T}(ReadOnlySpan{int}, ReadOnlySpan{T})"/>.</summary>
    /// <remarks>The probabilities are used as given (rows are not renormalised), each clipped to [ε, 1 − ε] as in the
    /// binary overload; scikit-learn's <c>log_loss</c> gives the same for rows that sum to 1.</remarks>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="probabilities">One row per sample: the probability of class 1, or one column per class (softmax outputs).</param>
    /// <param name="labels">The true class of every row: 0 or 1 for one column, in [0, columns) for several.</param>
    /// <returns>A value ≥ 0; ln k for always answering 1/k.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="probabilities"/> has no rows or columns or a value not in
    /// [0, 1], or its row count differs from the number of labels.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is out of range.</exception>
    public static double LogLoss<T>(Matrix<T> probabilities, int[] labels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] values = RowMajorScores(probabilities, nameof(probabilities));
        int columns = CheckLabelsOfRows(probabilities, labels);
        if (columns == 1)
        {
            return LogLoss<T>(labels, values);
        }

        double epsilon = MachineEpsilon<T>(), sum = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            for (int j = 0; j < columns; j++)
            {
                double p = Probability(values[r * columns + j], epsilon, nameof(probabilities), r * columns + j);
                if (j == labels[r])
                {
                    sum -= Math.Log(p);
                }
            }
        }

        return sum / labels.Length;
    }

    /// <summary>The balanced accuracy: the mean over the classes that occur in <paramref name="actual"/> of the fraction
    /// of each class's samples predicted correctly (its recall), as scikit-learn's <c>balanced_accuracy_score</c>.</summary>
    /// <remarks>Unlike the accuracy it is not fooled by imbalance: always predicting the majority of two classes scores
    /// 0.5. A class that is only predicted, never actual, lowers the recall of the classes it was mistaken for.</remarks>
    /// <param name="actual">The true classes, each ≥ 0.</param>
    /// <param name="predicted">The predicted classes, as many as <paramref name="actual"/>, each ≥ 0.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="actual"/> is empty, or the two differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class is negative.</exception>
    public static double BalancedAccuracy(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted)
    {
        MetricChecks.SameNonEmptyLength(actual.Length, predicted.Length, nameof(actual), nameof(predicted));
        MetricChecks.Labels(actual, int.MaxValue, nameof(actual));
        MetricChecks.Labels(predicted, int.MaxValue, nameof(predicted));
        int classes = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            classes = Math.Max(classes, Math.Max(actual[i], predicted[i]) + 1);
        }

        return new ConfusionMatrix(actual, predicted, classes).BalancedAccuracy;
    }

    /// <summary>The exact-match ratio (subset accuracy) of multi-label predictions: the fraction of samples whose every
    /// label is predicted right, as scikit-learn's <c>accuracy_score</c> on indicator matrices.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="targets">The true labels, one row per sample and one column per label: 1 where the sample has the label, 0 where not.</param>
    /// <param name="predicted">The predicted labels, for example from <see cref="Network{T}.PredictLabels"/>: one array of flags per row of <paramref name="targets"/>.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> is empty or has a value that is neither 0 nor 1,
    /// or <paramref name="predicted"/> differs from it in rows or in a row's length.</exception>
    public static double ExactMatchAccuracy<T>(Matrix<T> targets, bool[][] predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var truth = LabelMatrix(targets, nameof(targets));
        CheckPredictedLabels(predicted, targets.RowCount, targets.ColumnCount);
        int exact = 0;
        for (int r = 0; r < predicted.Length; r++)
        {
            if (truth[r].AsSpan().SequenceEqual(predicted[r]))
            {
                exact++;
            }
        }

        return (double)exact / predicted.Length;
    }

    /// <summary>The Hamming accuracy of multi-label predictions: the fraction of single labels (sample × label)
    /// predicted right, 1 − scikit-learn's <c>hamming_loss</c>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="targets">The true labels, one row per sample and one column per label: 1 where the sample has the label, 0 where not.</param>
    /// <param name="predicted">The predicted labels: one array of flags per row of <paramref name="targets"/>.</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="targets"/> is empty or has a value that is neither 0 nor 1,
    /// or <paramref name="predicted"/> differs from it in rows or in a row's length.</exception>
    public static double HammingAccuracy<T>(Matrix<T> targets, bool[][] predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var truth = LabelMatrix(targets, nameof(targets));
        CheckPredictedLabels(predicted, targets.RowCount, targets.ColumnCount);
        long right = 0;
        for (int r = 0; r < predicted.Length; r++)
        {
            for (int j = 0; j < predicted[r].Length; j++)
            {
                if (truth[r][j] == predicted[r][j])
                {
                    right++;
                }
            }
        }

        return (double)right / ((long)targets.RowCount * targets.ColumnCount);
    }

    /// <summary>ROC-AUC or average precision of one binary ranking: <paramref name="positive"/>[i] is whether sample i is
    /// of class 1, <paramref name="scores"/>[i] its score; thresholds at every distinct score, from the highest down.
    /// <paramref name="what"/> describes the classes for the exception, <paramref name="paramName"/> names their argument.</summary>
    internal static double Ranking(ReadOnlySpan<bool> positive, ReadOnlySpan<double> scores, string paramName, string what, bool precisionRecall)
    {
        int n = positive.Length, positives = 0;
        for (int i = 0; i < n; i++)
        {
            positives += positive[i] ? 1 : 0;
        }

        int negatives = n - positives;
        if (positives == 0 || (!precisionRecall && negatives == 0))
        {
            throw new ArgumentException(precisionRecall
                ? $"Average precision needs at least one sample of class 1 in {what}, but there is none."
                : $"ROC-AUC needs samples of both classes in {what}, but all {n} are of class {(positives == 0 ? 0 : 1)}.", paramName);
        }

        // Descending scores: sort the negated scores, carrying the samples' indices.
        var keys = new double[n];
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            keys[i] = -scores[i];
            order[i] = i;
        }

        Array.Sort(keys, order);
        long truePositives = 0, falsePositives = 0, previousTrue = 0, previousFalse = 0;
        double area = 0;
        for (int i = 0; i < n;)
        {
            // Every sample with this score is on the same side of the threshold: one step of the curve.
            double key = keys[i];
            for (; i < n && keys[i] == key; i++)
            {
                if (positive[order[i]])
                {
                    truePositives++;
                }
                else
                {
                    falsePositives++;
                }
            }

            area += precisionRecall
                ? (truePositives - previousTrue) / (double)positives * (truePositives / (double)(truePositives + falsePositives))
                : (falsePositives - previousFalse) * (truePositives + previousTrue) / 2.0;
            previousTrue = truePositives;
            previousFalse = falsePositives;
        }

        return precisionRecall ? area : area / ((double)positives * negatives);
    }

    private static (bool[] Positive, double[] Scores) BinaryInputs<T>(ReadOnlySpan<int> actual, ReadOnlySpan<T> scores, string actualName, string scoresName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MetricChecks.SameNonEmptyLength(actual.Length, scores.Length, actualName, scoresName);
        MetricChecks.Labels(actual, 2, actualName);
        Guard.FiniteValues(scores, 1, scoresName);
        var positive = new bool[actual.Length];
        var values = new double[actual.Length];
        for (int i = 0; i < actual.Length; i++)
        {
            positive[i] = actual[i] == 1;
            values[i] = double.CreateChecked(scores[i]);
        }

        return (positive, values);
    }

    private static double OneVersusRest<T>(Matrix<T> scores, int[] labels, bool precisionRecall)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] values = RowMajorScores(scores, nameof(scores));
        int columns = CheckLabelsOfRows(scores, labels);
        if (columns == 1)
        {
            var (positive, column) = BinaryInputs<T>(labels, values, nameof(labels), nameof(scores));
            return Ranking(positive, column, nameof(labels), nameof(labels), precisionRecall);
        }

        int rows = labels.Length;
        var isClass = new bool[rows];
        var score = new double[rows];
        double sum = 0;
        for (int c = 0; c < columns; c++)
        {
            for (int r = 0; r < rows; r++)
            {
                isClass[r] = labels[r] == c;
                score[r] = double.CreateChecked(values[r * columns + c]);
            }

            sum += Ranking(isClass, score, nameof(labels), string.Create(CultureInfo.InvariantCulture, $"labels (class {c} against the rest)"), precisionRecall);
        }

        return sum / columns;
    }

    private static double PerLabel<T>(Matrix<T> scores, Matrix<T> targets, bool precisionRecall)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] values = RowMajorScores(scores, nameof(scores));
        var truth = LabelMatrix(targets, nameof(targets));
        if (targets.RowCount != scores.RowCount || targets.ColumnCount != scores.ColumnCount)
        {
            throw new ArgumentException(
                $"targets must have the shape of scores ({scores.RowCount} × {scores.ColumnCount}), but it is {targets.RowCount} × {targets.ColumnCount}.", nameof(targets));
        }

        int rows = scores.RowCount, columns = scores.ColumnCount;
        var positive = new bool[rows];
        var score = new double[rows];
        double sum = 0;
        for (int j = 0; j < columns; j++)
        {
            for (int r = 0; r < rows; r++)
            {
                positive[r] = truth[r][j];
                score[r] = double.CreateChecked(values[r * columns + j]);
            }

            sum += Ranking(positive, score, nameof(targets), string.Create(CultureInfo.InvariantCulture, $"targets (column {j})"), precisionRecall);
        }

        return sum / columns;
    }

    /// <summary>Checks one label per row of a score matrix, each a class of it (0 or 1 for one column); returns the columns.</summary>
    private static int CheckLabelsOfRows<T>(Matrix<T> scores, int[] labels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != scores.RowCount)
        {
            throw new ArgumentException($"labels must hold one label per row of scores ({scores.RowCount}), but it holds {labels.Length}.", nameof(labels));
        }

        int columns = scores.ColumnCount;
        MetricChecks.Labels(labels, Math.Max(columns, 2), nameof(labels));
        return columns;
    }

    /// <summary>A 0/1 target matrix as flags, row by row.</summary>
    private static bool[][] LabelMatrix<T>(Matrix<T> targets, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(targets, paramName);
        if (targets.RowCount == 0 || targets.ColumnCount == 0)
        {
            throw new ArgumentException($"{paramName} must have at least one row and one column, but it is {targets.RowCount} × {targets.ColumnCount}.", paramName);
        }

        var flags = new bool[targets.RowCount][];
        for (int r = 0; r < targets.RowCount; r++)
        {
            flags[r] = new bool[targets.ColumnCount];
            for (int j = 0; j < targets.ColumnCount; j++)
            {
                T value = targets[r, j];
                if (value != T.Zero && value != T.One)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"{paramName} must hold only 0 (label off) and 1 (label on), but the element at row {r}, column {j} is {value}."), paramName);
                }

                flags[r][j] = value == T.One;
            }
        }

        return flags;
    }

    private static void CheckPredictedLabels(bool[][] predicted, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        if (predicted.Length != rows)
        {
            throw new ArgumentException($"predicted must hold one row per row of targets ({rows}), but it holds {predicted.Length}.", nameof(predicted));
        }

        for (int r = 0; r < rows; r++)
        {
            if (predicted[r] is null || predicted[r].Length != columns)
            {
                throw new ArgumentException(
                    $"predicted[{r}] must hold one flag per label ({columns}, the columns of targets), but it {(predicted[r] is null ? "is null" : $"holds {predicted[r].Length}")}.", nameof(predicted));
            }
        }
    }

    /// <summary>The machine epsilon of <typeparamref name="T"/>: the gap between 1 and the next larger value.</summary>
    private static double MachineEpsilon<T>()
        where T : unmanaged, IFloatingPointIeee754<T> =>
        double.CreateChecked(T.BitIncrement(T.One) - T.One);

    /// <summary>A probability checked to lie in [0, 1] and clipped to [ε, 1 − ε].</summary>
    private static double Probability<T>(T value, double epsilon, string paramName, int index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double p = double.CreateChecked(value);
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{paramName} must hold probabilities in [0, 1], but its value {index} (row-major) is {p}."), paramName);
        }

        return Math.Clamp(p, epsilon, 1 - epsilon);
    }
}
