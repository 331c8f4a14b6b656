using System.Globalization;
using System.Text;

namespace Backprop;

/// <summary>
/// The counts of a classifier's predictions by actual and predicted class, with the measures derived from them:
/// accuracy, and per class precision, recall and F1, and their macro averages.
/// </summary>
/// <remarks>
/// <para>Entry (a, p) counts the samples of actual class a predicted as class p; rows are actual classes, columns
/// predicted classes. For class c, with TP = (c, c), FP = Σ column c − TP, FN = Σ row c − TP:</para>
/// <para>precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2·TP / (2·TP + FP + FN) (the harmonic mean of
/// precision and recall). A measure whose denominator is 0 is defined as 0 (as scikit-learn's
/// <c>zero_division=0</c>): precision of a class never predicted, recall of a class that never occurs, F1 of a class
/// neither predicted nor occurring.</para>
/// <para>Macro averages are the plain means over all <see cref="ClassCount"/> classes, including any with no samples.
/// Accuracy = Σ diagonal / total.</para>
/// <para>Thread safety: immutable once made (the constructor takes the counts): every member may be called from any
/// number of threads at once.</para>
/// </remarks>
public sealed class ConfusionMatrix
{
    private readonly int[] _counts;

    /// <summary>Counts the predictions of a classifier.</summary>
    /// <param name="actual">The true class of every sample, each in [0, <paramref name="classCount"/>).</param>
    /// <param name="predicted">The predicted class of every sample, as many as <paramref name="actual"/>, each in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">The number of classes; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is less than 1, or a class is outside [0, <paramref name="classCount"/>).</exception>
    /// <exception cref="ArgumentException"><paramref name="actual"/> is empty, or the two differ in length.</exception>
    public ConfusionMatrix(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, int classCount)
    {
        Guard.Positive(classCount, nameof(classCount));
        MetricChecks.SameNonEmptyLength(actual.Length, predicted.Length, nameof(actual), nameof(predicted));
        MetricChecks.Labels(actual, classCount, nameof(actual));
        MetricChecks.Labels(predicted, classCount, nameof(predicted));
        ClassCount = classCount;
        SampleCount = actual.Length;
        _counts = new int[classCount * classCount];
        for (int i = 0; i < actual.Length; i++)
        {
            _counts[actual[i] * classCount + predicted[i]]++;
        }
    }

    /// <summary>The class names that <see cref="ToString"/> shows instead of class indices, or null (the default).</summary>
    public IReadOnlyList<string>? ClassNames { get; private init; }

    /// <summary>The same counts, shown with class names (such as <see cref="Backprop.Data.TablePipeline.ClassNames"/>).</summary>
    /// <param name="classNames">One name per class, in class-index order.</param>
    /// <returns>A new matrix with the names.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="classNames"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="classNames"/> does not have one name per class.</exception>
    public ConfusionMatrix WithClassNames(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count != ClassCount || classNames.Any(n => n is null))
        {
            throw new ArgumentException($"classNames must have one name per class ({ClassCount}), without nulls, but it has {classNames.Count}.", nameof(classNames));
        }

        return new ConfusionMatrix(this) { ClassNames = classNames.ToArray() };
    }

    private ConfusionMatrix(ConfusionMatrix other) => (_counts, ClassCount, SampleCount) = (other._counts, other.ClassCount, other.SampleCount);

    /// <summary>The number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>The number of samples counted.</summary>
    public int SampleCount { get; }

    /// <summary>The number of samples of actual class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    /// <param name="actual">The actual class, the row.</param>
    /// <param name="predicted">The predicted class, the column.</param>
    /// <returns>The count.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A class is outside [0, <see cref="ClassCount"/>).</exception>
    public int this[int actual, int predicted]
    {
        get
        {
            CheckClass(actual, nameof(actual));
            CheckClass(predicted, nameof(predicted));
            return _counts[actual * ClassCount + predicted];
        }
    }

    /// <summary>The fraction of samples predicted correctly: Σ diagonal / <see cref="SampleCount"/>.</summary>
    public double Accuracy
    {
        get
        {
            long correct = 0;
            for (int c = 0; c < ClassCount; c++)
            {
                correct += _counts[c * ClassCount + c];
            }

            return (double)correct / SampleCount;
        }
    }

    /// <summary>The mean of <see cref="Precision"/> over all classes.</summary>
    public double MacroPrecision => Macro(Precision);

    /// <summary>The balanced accuracy: the mean of <see cref="Recall"/> over the classes that occur (support above 0),
    /// as scikit-learn's <c>balanced_accuracy_score</c>; equal to <see cref="Accuracy"/> when the classes are balanced,
    /// and 0.5 for a binary classifier that always predicts the majority class.</summary>
    public double BalancedAccuracy
    {
        get
        {
            double sum = 0;
            int present = 0;
            for (int c = 0; c < ClassCount; c++)
            {
                int support = RowSum(c);
                if (support > 0)
                {
                    sum += (double)TruePositives(c) / support;
                    present++;
                }
            }

            return sum / present;
        }
    }

    /// <summary>The mean of <see cref="Recall"/> over all classes.</summary>
    public double MacroRecall => Macro(Recall);

    /// <summary>The mean of <see cref="F1"/> over all classes.</summary>
    public double MacroF1 => Macro(F1);

    /// <summary>The number of samples whose actual class is <paramref name="class"/>: the sum of its row.</summary>
    /// <param name="class">A class in [0, <see cref="ClassCount"/>).</param>
    /// <returns>TP + FN.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="class"/> is outside [0, <see cref="ClassCount"/>).</exception>
    public int Support(int @class)
    {
        CheckClass(@class, nameof(@class));
        return RowSum(@class);
    }

    /// <summary>The number of samples predicted as <paramref name="class"/>: the sum of its column.</summary>
    /// <param name="class">A class in [0, <see cref="ClassCount"/>).</param>
    /// <returns>TP + FP.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="class"/> is outside [0, <see cref="ClassCount"/>).</exception>
    public int PredictedCount(int @class)
    {
        CheckClass(@class, nameof(@class));
        return ColumnSum(@class);
    }

    /// <summary>Precision of a class: TP / (TP + FP), the fraction of its predictions that are right; 0 if it is never predicted.</summary>
    /// <param name="class">A class in [0, <see cref="ClassCount"/>).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="class"/> is outside [0, <see cref="ClassCount"/>).</exception>
    public double Precision(int @class)
    {
        CheckClass(@class, nameof(@class));
        int predicted = ColumnSum(@class);
        return predicted == 0 ? 0 : (double)TruePositives(@class) / predicted;
    }

    /// <summary>Recall of a class: TP / (TP + FN), the fraction of its samples found; 0 if it never occurs.</summary>
    /// <param name="class">A class in [0, <see cref="ClassCount"/>).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="class"/> is outside [0, <see cref="ClassCount"/>).</exception>
    public double Recall(int @class)
    {
        CheckClass(@class, nameof(@class));
        int support = RowSum(@class);
        return support == 0 ? 0 : (double)TruePositives(@class) / support;
    }

    /// <summary>F1 score of a class: 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall; 0 if the class is neither predicted nor occurs.</summary>
    /// <param name="class">A class in [0, <see cref="ClassCount"/>).</param>
    /// <returns>A value in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="class"/> is outside [0, <see cref="ClassCount"/>).</exception>
    public double F1(int @class)
    {
        CheckClass(@class, nameof(@class));
        long tp = TruePositives(@class);
        long denominator = RowSum(@class) + (long)ColumnSum(@class);
        return denominator == 0 ? 0 : 2.0 * tp / denominator;
    }

    /// <summary>Copies the counts.</summary>
    /// <returns>A new <see cref="ClassCount"/> × <see cref="ClassCount"/> array, [actual, predicted].</returns>
    public int[,] ToArray()
    {
        var result = new int[ClassCount, ClassCount];
        for (int a = 0; a < ClassCount; a++)
        {
            for (int p = 0; p < ClassCount; p++)
            {
                result[a, p] = _counts[a * ClassCount + p];
            }
        }

        return result;
    }

    /// <summary>Formats the matrix as a table, one row per actual class with its support, precision, recall and F1,
    /// followed by the accuracy and the macro averages; numbers in the invariant culture, with 4 decimals.</summary>
    /// <returns>A multi-line table.</returns>
    public override string ToString()
    {
        var culture = CultureInfo.InvariantCulture;
        const string Corner = "actual\\predicted";
        string Name(int c) => ClassNames?[c] ?? c.ToString(culture);
        int countWidth = Math.Max(SampleCount.ToString(culture).Length, Enumerable.Range(0, ClassCount).Max(c => Name(c).Length));
        int labelWidth = Math.Max(Corner.Length, ClassNames is null ? 0 : ClassNames.Max(n => n.Length));
        const int MeasureWidth = 9;
        var text = new StringBuilder();
        text.Append(culture, $"Confusion matrix: {SampleCount} samples, {ClassCount} classes (rows: actual, columns: predicted)").AppendLine();
        text.Append(Corner.PadLeft(labelWidth));
        for (int p = 0; p < ClassCount; p++)
        {
            text.Append(' ').Append(Name(p).PadLeft(countWidth));
        }

        text.Append(" | ").Append("support".PadLeft(MeasureWidth)).Append("precision".PadLeft(MeasureWidth + 1))
            .Append("recall".PadLeft(MeasureWidth + 1)).Append("f1".PadLeft(MeasureWidth + 1)).AppendLine();
        for (int a = 0; a < ClassCount; a++)
        {
            text.Append(Name(a).PadLeft(labelWidth));
            for (int p = 0; p < ClassCount; p++)
            {
                text.Append(' ').Append(_counts[a * ClassCount + p].ToString(culture).PadLeft(countWidth));
            }

            text.Append(" | ").Append(RowSum(a).ToString(culture).PadLeft(MeasureWidth))
                .Append(' ').Append(Format(Precision(a)).PadLeft(MeasureWidth))
                .Append(' ').Append(Format(Recall(a)).PadLeft(MeasureWidth))
                .Append(' ').Append(Format(F1(a)).PadLeft(MeasureWidth)).AppendLine();
        }

        text.Append(culture, $"accuracy {Format(Accuracy)}, macro precision {Format(MacroPrecision)}, macro recall {Format(MacroRecall)}, macro F1 {Format(MacroF1)}");
        return text.ToString();
    }

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private int TruePositives(int @class) => _counts[@class * ClassCount + @class];

    private int RowSum(int row)
    {
        int sum = 0;
        for (int p = 0; p < ClassCount; p++)
        {
            sum += _counts[row * ClassCount + p];
        }

        return sum;
    }

    private int ColumnSum(int column)
    {
        int sum = 0;
        for (int a = 0; a < ClassCount; a++)
        {
            sum += _counts[a * ClassCount + column];
        }

        return sum;
    }

    private double Macro(Func<int, double> measure)
    {
        double sum = 0;
        for (int c = 0; c < ClassCount; c++)
        {
            sum += measure(c);
        }

        return sum / ClassCount;
    }

    private void CheckClass(int @class, string paramName)
    {
        if ((uint)@class >= (uint)ClassCount)
        {
            throw new ArgumentOutOfRangeException(paramName, @class, $"{paramName} must be a class in [0, {ClassCount - 1}], but it is {@class}.");
        }
    }
}
