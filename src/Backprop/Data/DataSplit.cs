using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>Seeded train/test splits: stratified by class for classification, shuffled for regression.</summary>
/// <remarks>
/// <para>The number of test rows is round(testFraction · n). A stratified split gives every class its share of them
/// by largest remainders, so each class's test count is within one of testFraction · (its count) and the class
/// proportions of both parts match the whole as closely as whole rows allow. Which rows of a class are taken is
/// chosen by a <see cref="DeterministicRandom"/> seeded with <c>seed</c>: equal seeds give equal splits.</para>
/// <para>The index arrays are sorted ascending, so a split keeps the original order of rows within each part.</para>
/// <para><see cref="FitOptions.ValidationFraction"/> holds out exactly the test rows of this class for the same fraction
/// and seed: those of <see cref="StratifiedIndices"/> when the rows have classes (labels, one-hot rows, or the 0/1
/// targets of a binary classifier), those of <see cref="ShuffledIndices"/> otherwise.</para>
/// <para>Thread safety: stateless: every method may be called from any number of threads at once. It only reads its
/// arguments (which no other thread may change during the call) and returns new results; each call makes its own
/// generator from the seed.</para>
/// </remarks>
public static class DataSplit
{
    /// <summary>Chooses test rows so that every class keeps its proportion in both parts.</summary>
    /// <param name="labels">The class of every row, each at least 0.</param>
    /// <param name="testFraction">The fraction of rows to hold out for testing, in (0, 1).</param>
    /// <param name="seed">The seed of the choice.</param>
    /// <returns>The training and test row indices, ascending.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is not in (0, 1), or a label is negative.</exception>
    /// <exception cref="ArgumentException">The split would leave the training or the test part empty.</exception>
    public static SplitIndices StratifiedIndices(ReadOnlySpan<int> labels, double testFraction, int seed)
    {
        CheckFraction(testFraction);
        return RequireBothParts(ChooseStratified(labels, testFraction, seed), testFraction);
    }

    /// <summary>The rows <see cref="StratifiedIndices"/> chooses, without its check that both parts have rows: for a
    /// caller that reports an empty part in its own terms (<see cref="FitOptions.ValidationFraction"/>).</summary>
    internal static SplitIndices ChooseStratified(ReadOnlySpan<int> labels, double testFraction, int seed)
    {
        int n = labels.Length;
        int testCount = TestCount(n, testFraction);
        var byClass = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (labels[i] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] must be at least 0, but it is {labels[i]}.");
            }

            if (!byClass.TryGetValue(labels[i], out var rows))
            {
                byClass[labels[i]] = rows = [];
            }

            rows.Add(i);
        }

        // Largest remainders: floor of each class's exact share, then one more to the classes with the largest fractions.
        var groups = byClass.Values.ToArray();
        var quota = new int[groups.Length];
        var remainders = new (double Fraction, int Group)[groups.Length];
        int assigned = 0;
        for (int g = 0; g < groups.Length; g++)
        {
            double exact = testFraction * groups[g].Count;
            quota[g] = (int)Math.Floor(exact);
            remainders[g] = (exact - quota[g], g);
            assigned += quota[g];
        }

        foreach (var (_, g) in remainders.OrderByDescending(r => r.Fraction).ThenBy(r => r.Group).Take(testCount - assigned))
        {
            quota[g]++;
        }

        var random = new DeterministicRandom(seed);
        var test = new List<int>(testCount);
        var train = new List<int>(n - testCount);
        for (int g = 0; g < groups.Length; g++)
        {
            var rows = groups[g].ToArray();
            random.Shuffle<int>(rows);
            test.AddRange(rows.Take(quota[g]));
            train.AddRange(rows.Skip(quota[g]));
        }

        return Sorted(train, test);
    }

    /// <summary>Chooses test rows uniformly at random.</summary>
    /// <param name="count">The number of rows.</param>
    /// <param name="testFraction">The fraction of rows to hold out for testing, in (0, 1).</param>
    /// <param name="seed">The seed of the choice.</param>
    /// <returns>The training and test row indices, ascending.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="testFraction"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException">The split would leave the training or the test part empty.</exception>
    public static SplitIndices ShuffledIndices(int count, double testFraction, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckFraction(testFraction);
        return RequireBothParts(ChooseShuffled(count, testFraction, seed), testFraction);
    }

    /// <summary>The rows <see cref="ShuffledIndices"/> chooses, without its check that both parts have rows.</summary>
    internal static SplitIndices ChooseShuffled(int count, double testFraction, int seed)
    {
        int testCount = TestCount(count, testFraction);
        var rows = Enumerable.Range(0, count).ToArray();
        new DeterministicRandom(seed).Shuffle<int>(rows);
        return Sorted([.. rows.Skip(testCount)], [.. rows.Take(testCount)]);
    }

    /// <summary>Splits a classification data set, stratified by class (see <see cref="StratifiedIndices"/>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The data set.</param>
    /// <param name="testFraction">The fraction of rows to hold out for testing, in (0, 1).</param>
    /// <param name="seed">The seed of the choice.</param>
    /// <returns>The training and test parts; deconstruct with <c>var (train, test) = …</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException">The features and labels disagree in rows, or a part would be empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is not in (0, 1), or a label is negative.</exception>
    public static TrainTestSplit<ClassificationData<T>> Stratified<T>(ClassificationData<T> data, double testFraction, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckRows(data.Features.RowCount, data.Labels.Length, "data.Labels");
        var (train, test) = StratifiedIndices(data.Labels, testFraction, seed);
        return new(Select(data, train), Select(data, test));
    }

    /// <summary>Splits a regression data set at random (see <see cref="ShuffledIndices"/>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The data set.</param>
    /// <param name="testFraction">The fraction of rows to hold out for testing, in (0, 1).</param>
    /// <param name="seed">The seed of the choice.</param>
    /// <returns>The training and test parts; deconstruct with <c>var (train, test) = …</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException">The features and targets disagree in rows, or a part would be empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is not in (0, 1).</exception>
    public static TrainTestSplit<RegressionData<T>> Shuffled<T>(RegressionData<T> data, double testFraction, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckRows(data.Features.RowCount, data.Targets.RowCount, "data.Targets");
        var (train, test) = ShuffledIndices(data.Features.RowCount, testFraction, seed);
        return new(Select(data, train), Select(data, test));
    }

    /// <summary>Copies the chosen rows of a matrix, in the order given.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="matrix">The source.</param>
    /// <param name="rows">Row indices, each in [0, matrix.RowCount); repeats allowed.</param>
    /// <returns>A new rows.Length × matrix.ColumnCount matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the matrix's rows.</exception>
    public static Matrix<T> SelectRows<T>(Matrix<T> matrix, ReadOnlySpan<int> rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int width = matrix.ColumnCount;
        T[] source = matrix.ToRowMajorArray();
        var values = new T[rows.Length * width];
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)matrix.RowCount)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"rows[{i}] must be in [0, {matrix.RowCount - 1}] (the matrix has {matrix.RowCount} rows), but it is {rows[i]}.");
            }

            Array.Copy(source, rows[i] * width, values, i * width, width);
        }

        return Matrix<T>.Build.DenseOfRowMajor(rows.Length, width, values);
    }

    private static ClassificationData<T> Select<T>(ClassificationData<T> data, int[] rows)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(SelectRows(data.Features, rows), rows.Select(r => data.Labels[r]).ToArray()) { FeatureNames = data.FeatureNames };

    private static RegressionData<T> Select<T>(RegressionData<T> data, int[] rows)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(SelectRows(data.Features, rows), SelectRows(data.Targets, rows)) { FeatureNames = data.FeatureNames };

    private static int TestCount(int n, double testFraction) => (int)Math.Round(testFraction * n, MidpointRounding.AwayFromZero);

    private static SplitIndices Sorted(List<int> train, List<int> test)
    {
        train.Sort();
        test.Sort();
        return new SplitIndices([.. train], [.. test]);
    }

    private static SplitIndices RequireBothParts(SplitIndices split, double testFraction)
    {
        if (split.Train.Length == 0 || split.Test.Length == 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A test fraction of {testFraction} of {split.Train.Length + split.Test.Length} rows leaves {split.Train.Length} training and {split.Test.Length} test rows; both parts need at least one."),
                nameof(testFraction));
        }

        return split;
    }

    private static void CheckFraction(double testFraction)
    {
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction,
                string.Create(CultureInfo.InvariantCulture, $"testFraction must be in (0, 1), but it is {testFraction}."));
        }
    }

    private static void CheckRows(int features, int other, string name)
    {
        if (features != other)
        {
            throw new ArgumentException($"data.Features has {features} rows but {name} has {other}; they must match.", "data");
        }
    }
}
