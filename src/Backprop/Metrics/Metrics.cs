using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>
/// Measures of a trained model's quality: classification accuracy, top-k and balanced accuracy; for scores and
/// probabilities ROC-AUC, average precision (PR-AUC) and log-loss; for multi-label predictions exact-match and Hamming
/// accuracy; and the regression errors MSE, MAE and R².
/// </summary>
/// <remarks>
/// <para>Matrices hold one sample per row, as everywhere in the library: the targets and the network's
/// <see cref="Network{T}.Predict(Matrix{T})"/> output, for example. The span overloads take one value per sample.
/// For the confusion matrix, precision, recall and F1, see <see cref="ConfusionMatrix"/>.</para>
/// <para>Every method checks that its inputs agree in shape, are not empty and hold only finite numbers.</para>
/// <para>Thread safety: stateless: every method may be called from any number of threads at once. It only reads its
/// arguments (which no other thread may change during the call) and returns new results.</para>
/// </remarks>
public static partial class Metrics
{
    /// <summary>The fraction of samples whose predicted class equals the actual class.</summary>
    /// <param name="actual">The true classes.</param>
    /// <param name="predicted">The predicted classes (for example from <see cref="Network{T}.PredictClasses(Matrix{T})"/>), as many as <paramref name="actual"/>.</param>
    /// <returns>(number of i with actualᵢ = predictedᵢ) / n, in [0, 1].</returns>
    /// <exception cref="ArgumentException"><paramref name="actual"/> is empty, or the two differ in length.</exception>
    public static double Accuracy(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted)
    {
        MetricChecks.SameNonEmptyLength(actual.Length, predicted.Length, nameof(actual), nameof(predicted));
        int correct = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] == predicted[i])
            {
                correct++;
            }
        }

        return (double)correct / actual.Length;
    }

    /// <summary>The index of the largest score of every row: the predicted class of every sample.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="scores">Scores or probabilities, one row per sample and one column per class.</param>
    /// <returns>One class index per row; the first index wins a tie (as <see cref="Network{T}.PredictClasses(Matrix{T})"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="scores"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="scores"/> has no rows or columns, or a value that is not finite.</exception>
    public static int[] ArgMax<T>(Matrix<T> scores)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] values = RowMajorScores(scores, nameof(scores));
        int rows = scores.RowCount, columns = scores.ColumnCount;
        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> row = values.AsSpan(r * columns, columns);
            int best = 0;
            for (int j = 1; j < columns; j++)
            {
                if (row[j] > row[best])
                {
                    best = j;
                }
            }

            classes[r] = best;
        }

        return classes;
    }

    /// <summary>The fraction of samples whose actual class is among the <paramref name="k"/> highest-scored classes.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="scores">Scores or probabilities, one row per sample and one column per class.</param>
    /// <param name="labels">The true class of every row, each in [0, columns).</param>
    /// <param name="k">How many of the top classes count; in [1, columns]. With k = 1 this is the accuracy of <see cref="ArgMax{T}"/> (up to ties).</param>
    /// <returns>(number of rows where fewer than k classes score strictly higher than the true class) / rows, in [0, 1].
    /// Ties count in the true class's favour, as Keras's <c>in_top_k</c>: a class tied with the k-th score is in the top k.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="scores"/> or <paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="scores"/> has no rows or columns or a value that is not finite, or its row count differs from the number of labels.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside [1, columns], or a label is outside [0, columns).</exception>
    public static double TopKAccuracy<T>(Matrix<T> scores, int[] labels, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] values = RowMajorScores(scores, nameof(scores));
        ArgumentNullException.ThrowIfNull(labels);
        int rows = scores.RowCount, columns = scores.ColumnCount;
        if (labels.Length != rows)
        {
            throw new ArgumentException($"labels must hold one label per row of scores ({rows}), but it holds {labels.Length}.", nameof(labels));
        }

        if (k < 1 || k > columns)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {columns}] (the number of classes, the columns of scores), but it is {k}.");
        }

        MetricChecks.Labels(labels, columns, nameof(labels));
        int hits = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> row = values.AsSpan(r * columns, columns);
            T truth = row[labels[r]];
            int higher = 0;
            for (int j = 0; j < columns; j++)
            {
                if (row[j] > truth)
                {
                    higher++;
                }
            }

            if (higher < k)
            {
                hits++;
            }
        }

        return (double)hits / rows;
    }

    /// <summary>The mean squared error over every element: Σ (yᵢⱼ − ŷᵢⱼ)² / (rows·columns).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The targets, one row per sample.</param>
    /// <param name="predicted">The predictions, of the same shape.</param>
    /// <returns>A value ≥ 0.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The matrices are empty, differ in shape, or hold a value that is not finite.</exception>
    public static double MeanSquaredError<T>(Matrix<T> actual, Matrix<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (y, yHat, _) = Pair(actual, predicted);
        return MeanSquaredError<T>(y, yHat);
    }

    /// <summary>The mean squared error: Σ (yᵢ − ŷᵢ)² / n.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The targets.</param>
    /// <param name="predicted">The predictions, as many as <paramref name="actual"/>.</param>
    /// <returns>A value ≥ 0.</returns>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or hold a value that is not finite.</exception>
    public static double MeanSquaredError<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(actual, predicted);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double difference = double.CreateChecked(actual[i]) - double.CreateChecked(predicted[i]);
            sum += difference * difference;
        }

        return sum / actual.Length;
    }

    /// <summary>The mean absolute error over every element: Σ |yᵢⱼ − ŷᵢⱼ| / (rows·columns).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The targets, one row per sample.</param>
    /// <param name="predicted">The predictions, of the same shape.</param>
    /// <returns>A value ≥ 0.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The matrices are empty, differ in shape, or hold a value that is not finite.</exception>
    public static double MeanAbsoluteError<T>(Matrix<T> actual, Matrix<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (y, yHat, _) = Pair(actual, predicted);
        return MeanAbsoluteError<T>(y, yHat);
    }

    /// <summary>The mean absolute error: Σ |yᵢ − ŷᵢ| / n.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The targets.</param>
    /// <param name="predicted">The predictions, as many as <paramref name="actual"/>.</param>
    /// <returns>A value ≥ 0.</returns>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or hold a value that is not finite.</exception>
    public static double MeanAbsoluteError<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(actual, predicted);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            sum += Math.Abs(double.CreateChecked(actual[i]) - double.CreateChecked(predicted[i]));
        }

        return sum / actual.Length;
    }

    /// <summary>The coefficient of determination R², averaged over the columns (outputs) with equal weights, as
    /// scikit-learn's <c>r2_score</c> does by default.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The targets, one row per sample.</param>
    /// <param name="predicted">The predictions, of the same shape.</param>
    /// <returns>The mean over columns of R²ⱼ; see <see cref="RSquared{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The matrices are empty, differ in shape, or hold a value that is not finite.</exception>
    public static double RSquared<T>(Matrix<T> actual, Matrix<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (y, yHat, rows) = Pair(actual, predicted);
        int columns = actual.ColumnCount;
        double sum = 0;
        for (int j = 0; j < columns; j++)
        {
            // MathNet's storage is column-major: column j is one contiguous run.
            sum += RSquaredCore<T>(y.AsSpan(j * rows, rows), yHat.AsSpan(j * rows, rows));
        }

        return sum / columns;
    }

    /// <summary>The coefficient of determination: R² = 1 − SS_res / SS_tot, with SS_res = Σ (yᵢ − ŷᵢ)² and
    /// SS_tot = Σ (yᵢ − ȳ)².</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The targets.</param>
    /// <param name="predicted">The predictions, as many as <paramref name="actual"/>.</param>
    /// <returns>1 for perfect predictions, 0 for always predicting the mean, negative for worse. When the targets are
    /// all equal (SS_tot = 0), 1 if the predictions are exact and 0 otherwise (scikit-learn's convention).</returns>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or hold a value that is not finite.</exception>
    public static double RSquared<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(actual, predicted);
        return RSquaredCore(actual, predicted);
    }

    private static double RSquaredCore<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double mean = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            mean += double.CreateChecked(actual[i]);
        }

        mean /= actual.Length;
        double residual = 0, total = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double y = double.CreateChecked(actual[i]);
            double error = y - double.CreateChecked(predicted[i]), spread = y - mean;
            residual += error * error;
            total += spread * spread;
        }

        if (total == 0)
        {
            return residual == 0 ? 1 : 0;
        }

        return 1 - residual / total;
    }

    private static void CheckValues<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MetricChecks.SameNonEmptyLength(actual.Length, predicted.Length, nameof(actual), nameof(predicted));
        Guard.FiniteValues(actual, 1, nameof(actual));
        Guard.FiniteValues(predicted, 1, nameof(predicted));
    }

    /// <summary>Checks two matrices of one shape and returns their column-major values and the row count.</summary>
    private static (T[] Actual, T[] Predicted, int Rows) Pair<T>(Matrix<T> actual, Matrix<T> predicted)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.RowCount == 0 || actual.ColumnCount == 0)
        {
            throw new ArgumentException($"actual must hold at least one value, but it is {actual.RowCount} × {actual.ColumnCount}.", nameof(actual));
        }

        if (predicted.RowCount != actual.RowCount || predicted.ColumnCount != actual.ColumnCount)
        {
            throw new ArgumentException(
                $"predicted must have the shape of actual ({actual.RowCount} × {actual.ColumnCount}), but it is {predicted.RowCount} × {predicted.ColumnCount}.",
                nameof(predicted));
        }

        T[] y = actual.ToColumnMajorArray(), yHat = predicted.ToColumnMajorArray();
        MetricChecks.FiniteColumnMajor<T>(y, actual.RowCount, nameof(actual));
        MetricChecks.FiniteColumnMajor<T>(yHat, actual.RowCount, nameof(predicted));
        return (y, yHat, actual.RowCount);
    }

    private static T[] RowMajorScores<T>(Matrix<T> scores, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(scores, paramName);
        if (scores.RowCount == 0 || scores.ColumnCount == 0)
        {
            throw new ArgumentException($"{paramName} must have at least one row and one column, but it is {scores.RowCount} × {scores.ColumnCount}.", paramName);
        }

        T[] values = scores.ToRowMajorArray();
        Guard.FiniteValues<T>(values, scores.ColumnCount, paramName);
        return values;
    }
}
