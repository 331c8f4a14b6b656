using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>
/// Turns the rows of a table into a network's inputs, as fitted on the training rows: missing values imputed (mean,
/// median or most frequent), numeric columns standardised or min-max scaled, categorical columns one-hot encoded, "was
/// missing" indicators added; and class labels into class indices. Saved in the model file beside the network, with
/// free key/value <see cref="Metadata"/>, and applied to raw rows by <see cref="TablePredictor{T}"/>.
/// </summary>
/// <remarks>
/// <para>Fit it on the training rows only (<see cref="Fit"/>): the test rows then meet the training means, scales,
/// vocabularies and fill values, as new data will, and no information leaks from them into the model.</para>
/// <para>Features come in file order of the columns: a numeric column gives one, a categorical column one per training
/// category (sorted ordinally), each followed by its indicator when asked for. <see cref="FeatureNames"/> names them.</para>
/// <para>Missing values and unknown categories: a missing value becomes the column's fill value (<see cref="PipelineColumn.FillNumber"/>
/// or <see cref="PipelineColumn.FillCategory"/>), or is an error under <see cref="MissingValuePolicy.Error"/>. A category
/// not seen in training is treated as a missing value: the most frequent category (and indicator 1), or an error.</para>
/// <para>Thread safety: the transforms may be called from any number of threads at once; <see cref="Metadata"/> is a plain
/// dictionary: fill it before sharing the pipeline, and only read it afterwards.</para>
/// </remarks>
public sealed partial class TablePipeline
{
    private readonly PipelineColumn[] _columns;
    private readonly string[] _classNames;
    private readonly Dictionary<string, int> _classIndex = new(StringComparer.Ordinal);

    internal TablePipeline(string[] columnNames, PipelineColumn[] columns, string? labelName, int labelIndex, string? targetName, int targetIndex,
        string[] classNames, TableValues values, char delimiter)
    {
        (ColumnNames, _columns, LabelName, LabelIndex, TargetName, TargetIndex, _classNames, Values, Delimiter) =
            (columnNames, columns, labelName, labelIndex, targetName, targetIndex, classNames, values, delimiter);
        for (int i = 0; i < classNames.Length; i++)
        {
            _classIndex[classNames[i]] = i;
        }

        FeatureNames = columns.SelectMany(c => c.FeatureNames()).ToArray();
    }

    /// <summary>The names of every column of the training file, in order: the columns of a raw row given as text.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>What is done to each feature column, in file order.</summary>
    public IReadOnlyList<PipelineColumn> Columns => _columns;

    /// <summary>The names of the features (the network's inputs), in order: a numeric column's name, "name=category" for
    /// each category of a categorical one, "name (missing)" for an indicator.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The number of features: the network's input size.</summary>
    public int FeatureCount => FeatureNames.Count;

    /// <summary>The class names (the network's outputs, in order) of a classifier: the training labels, sorted
    /// numerically when all are whole numbers, else ordinally. Empty for a regression.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>The label column's name, or null.</summary>
    public string? LabelName { get; }

    /// <summary>The regression target column's name, or null.</summary>
    public string? TargetName { get; }

    /// <summary>Free key/value metadata saved with the pipeline (a data set's source, a version, a description).</summary>
    public IDictionary<string, string> Metadata { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The label column's 0-based place in the file, or −1.</summary>
    internal int LabelIndex { get; }

    /// <summary>The target column's 0-based place in the file, or −1.</summary>
    internal int TargetIndex { get; }

    internal TableValues Values { get; }

    internal char Delimiter { get; }

    /// <summary>Fits the pipeline on training rows: fill values, scales and vocabularies from these rows only.</summary>
    /// <param name="training">The training table.</param>
    /// <param name="scaling">How numeric columns are scaled; standardised by default.</param>
    /// <param name="options">The options the table was read with (for the missing-value texts and delimiter that raw rows
    /// use at prediction time); the defaults of <see cref="TableOptions"/> when null.</param>
    /// <returns>The fitted pipeline.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="training"/> is null.</exception>
    /// <exception cref="ArgumentException">A column that imputes missing values has no value at all in the training rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scaling"/> is not a defined value.</exception>
    public static TablePipeline Fit(DataTable training, NumericScaling scaling = NumericScaling.Standardize, TableOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (!Enum.IsDefined(scaling))
        {
            throw new ArgumentOutOfRangeException(nameof(scaling), scaling, $"scaling must be a defined NumericScaling, but it is {(int)scaling}.");
        }

        options ??= new TableOptions();
        var columns = new PipelineColumn[training.Features.Count];
        int feature = 0;
        for (int i = 0; i < columns.Length; i++)
        {
            var column = training.Features[i];
            columns[i] = column.Kind == ColumnKind.Numeric ? FitNumeric(column, scaling, feature, training.SourceName) : FitCategorical(column, feature, training.SourceName);
            feature += columns[i].FeatureCount;
        }

        return new TablePipeline(training.ColumnNames.ToArray(), columns, training.Label?.Name, training.Label?.FileIndex ?? -1,
            training.Target?.Name, training.Target?.FileIndex ?? -1, training.ClassNames.ToArray(), new TableValues(options.MissingValues), options.Delimiter);
    }

    private static PipelineColumn FitNumeric(TableColumn column, NumericScaling scaling, int firstFeature, string source)
    {
        var values = column.NumberArray!;
        var observed = values.Where(v => !double.IsNaN(v)).ToArray();
        double fill = double.NaN;
        if (column.Missing != MissingValuePolicy.Error)
        {
            if (observed.Length == 0)
            {
                throw new ArgumentException($"The column \"{column.Name}\" of {source} has no value in the training rows to compute its {column.Missing} from.", "training");
            }

            Array.Sort(observed);
            fill = column.Missing switch
            {
                MissingValuePolicy.Mean => Mean(observed),
                MissingValuePolicy.Median => observed.Length % 2 == 1 ? observed[observed.Length / 2] : (observed[observed.Length / 2 - 1] + observed[observed.Length / 2]) / 2,
                _ => observed.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key,
            };
        }

        // The scale is fitted on the imputed column, as scikit-learn's imputer-then-scaler pipeline does.
        var imputed = values.Select(v => double.IsNaN(v) ? fill : v).ToArray();
        double center = 0, scale = 1;
        switch (scaling)
        {
            case NumericScaling.Standardize:
                center = Mean(imputed);
                double sum = 0;
                foreach (double v in imputed)
                {
                    sum += (v - center) * (v - center);
                }

                double deviation = Math.Sqrt(sum / imputed.Length);
                scale = deviation > 0 && double.IsFinite(deviation) ? deviation : 1;
                break;
            case NumericScaling.MinMax:
                center = imputed.Min();
                double range = imputed.Max() - center;
                scale = range > 0 && double.IsFinite(range) ? range : 1;
                break;
        }

        return new PipelineColumn(column.Name, column.FileIndex, ColumnKind.Numeric, column.Missing, column.AddMissingIndicator, fill, null, center, scale, [], firstFeature);
    }

    private static PipelineColumn FitCategorical(TableColumn column, int firstFeature, string source)
    {
        var observed = column.TextArray!.Where(t => t is not null).Select(t => t!).ToArray();
        if (observed.Length == 0)
        {
            throw new ArgumentException($"The categorical column \"{column.Name}\" of {source} has no value in the training rows: it has no categories.", "training");
        }

        var categories = observed.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        string? fill = column.Missing == MissingValuePolicy.Error ? null
            : observed.GroupBy(t => t, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        return new PipelineColumn(column.Name, column.FileIndex, ColumnKind.Categorical, column.Missing, column.AddMissingIndicator, double.NaN, fill, 0, 1, categories, firstFeature);
    }

    private static double Mean(double[] values)
    {
        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }

    /// <summary>The features of every row of a table (training, test or new rows read with the same options).</summary>
    /// <typeparam name="T">The element type of the network.</typeparam>
    /// <param name="table">The rows; it must have every column the pipeline was fitted on, with the same kinds.</param>
    /// <returns>A rows × <see cref="FeatureCount"/> matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="table"/> is null.</exception>
    /// <exception cref="ArgumentException">The table lacks a column of the pipeline, or has it with another kind.</exception>
    /// <exception cref="InvalidDataException">A value is missing, or a category unknown, in a column whose policy is <see cref="MissingValuePolicy.Error"/>; the message names the line, column and value.</exception>
    public Matrix<T> Transform<T>(DataTable table)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(table);
        Guard.SupportedElementType<T>();
        var sources = _columns.Select(c => SourceOf(table, c)).ToArray();
        int width = FeatureCount;
        var values = new T[table.RowCount * width];
        for (int r = 0; r < table.RowCount; r++)
        {
            var row = values.AsSpan(r * width, width);
            for (int c = 0; c < _columns.Length; c++)
            {
                var source = sources[c];
                string? problem = source.Kind == ColumnKind.Numeric
                    ? _columns[c].Fill(double.IsNaN(source.NumberArray![r]), source.NumberArray[r], default, row)
                    : _columns[c].Fill(source.TextArray![r] is null, 0, source.TextArray[r], row);
                if (problem is not null)
                {
                    string text = source.Kind == ColumnKind.Numeric ? "" : source.TextArray![r] ?? "";
                    throw Csv.BadField(table.SourceName, table.LineOf(r), source.FileIndex, table.ColumnNames.ToArray(), text, problem);
                }
            }
        }

        return Matrix<T>.Build.DenseOfRowMajor(table.RowCount, width, values);
    }

    private TableColumn SourceOf(DataTable table, PipelineColumn column)
    {
        var source = table.Features.FirstOrDefault(f => f.Name == column.Name)
            ?? throw new ArgumentException($"table ({table.SourceName}) has no feature column \"{column.Name}\", which the pipeline was fitted with; its feature columns are {string.Join(", ", table.Features.Select(f => $"\"{f.Name}\""))}.", nameof(table));
        if (source.Kind != column.Kind)
        {
            throw new ArgumentException($"The column \"{column.Name}\" of {table.SourceName} is {source.Kind}, but the pipeline was fitted on it as {column.Kind}; declare its kind in TableOptions.Columns.", nameof(table));
        }

        return source;
    }

    /// <summary>The class index (into <see cref="ClassNames"/>) of every row's label.</summary>
    /// <param name="table">The rows, with the label column.</param>
    /// <returns>One class index per row.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="table"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The pipeline has no class names (it was fitted on a table without a label column).</exception>
    /// <exception cref="ArgumentException">The table has no label column.</exception>
    /// <exception cref="InvalidDataException">A label is a class not seen in training; the message names the line and value.</exception>
    public int[] Labels(DataTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (_classNames.Length == 0)
        {
            throw new InvalidOperationException("The pipeline has no class names: it was fitted on a table without a label column (TableOptions.Label).");
        }

        var label = table.Label ?? throw new ArgumentException($"table ({table.SourceName}) has no label column; read it with TableOptions.Label = \"{LabelName}\".", nameof(table));
        var labels = new int[table.RowCount];
        for (int r = 0; r < labels.Length; r++)
        {
            string text = label.TextArray![r]!;
            if (!_classIndex.TryGetValue(text, out labels[r]))
            {
                throw Csv.BadField(table.SourceName, table.LineOf(r), label.FileIndex, table.ColumnNames.ToArray(), text,
                    $"is a class not seen in training (the classes are {string.Join(", ", _classNames.Select(c => $"\"{c}\""))})");
            }
        }

        return labels;
    }

    /// <summary>The regression targets of every row, as a rows × 1 matrix.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="table">The rows, with the target column.</param>
    /// <returns>The targets.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="table"/> is null.</exception>
    /// <exception cref="ArgumentException">The table has no target column.</exception>
    public Matrix<T> Targets<T>(DataTable table)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(table);
        var target = table.Target ?? throw new ArgumentException($"table ({table.SourceName}) has no target column (TableOptions.Target).", nameof(table));
        return Matrix<T>.Build.Dense(table.RowCount, 1, (r, _) => T.CreateChecked(target.NumberArray![r]));
    }

    /// <summary>The class index of a class name, or −1.</summary>
    internal int ClassIndex(string name) => _classIndex.TryGetValue(name, out int index) ? index : -1;
}
