using System.Globalization;

namespace Backprop.Data;

/// <summary>A table read by <see cref="CsvTable"/>: feature columns (numeric or categorical, with missing values marked),
/// and a class label column or a numeric regression target.</summary>
/// <remarks>
/// <para>Turn it into a network's inputs with a <see cref="TablePipeline"/> fitted on the training rows.</para>
/// <para>Thread safety: immutable: share it between threads freely.</para>
/// </remarks>
public sealed class DataTable
{
    private readonly int[] _lines;

    internal DataTable(string sourceName, string[] header, IReadOnlyList<TableColumn> features, TableColumn? label, TableColumn? target, int[] lines)
    {
        (SourceName, ColumnNames, Features, Label, Target, _lines) = (sourceName, header, features, label, target, lines);
    }

    /// <summary>Where the table came from (a file name), as error messages name it.</summary>
    public string SourceName { get; }

    /// <summary>The names of every column of the file, in file order: the header, or "column 1", "column 2", … without one.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>The number of rows.</summary>
    public int RowCount => _lines.Length;

    /// <summary>The feature columns, in file order.</summary>
    public IReadOnlyList<TableColumn> Features { get; }

    /// <summary>The class label column (categorical: its texts are the class names), or null.</summary>
    public TableColumn? Label { get; }

    /// <summary>The numeric regression target column, or null.</summary>
    public TableColumn? Target { get; }

    /// <summary>The distinct labels, sorted: numerically when every label is a whole number, else ordinally. Empty
    /// without a label column.</summary>
    public IReadOnlyList<string> ClassNames => Label is null ? [] : SortClassNames(Label.TextArray!.Distinct(StringComparer.Ordinal)!);

    /// <summary>The feature column named <paramref name="name"/>.</summary>
    /// <param name="name">The column's name.</param>
    /// <returns>The column.</returns>
    /// <exception cref="KeyNotFoundException">No feature column has that name.</exception>
    public TableColumn this[string name] =>
        Features.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"{SourceName} has no feature column \"{name}\"; its feature columns are {string.Join(", ", Features.Select(c => $"\"{c.Name}\""))}.");

    /// <summary>The 1-based line of the file that row <paramref name="row"/> came from.</summary>
    /// <param name="row">The 0-based row.</param>
    /// <returns>The line number.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="row"/> is not a row.</exception>
    public int LineOf(int row) => _lines[row];

    /// <summary>A table of the given rows, in the given order.</summary>
    /// <param name="rows">0-based row indices; a row may appear more than once.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is not a row.</exception>
    public DataTable SelectRows(ReadOnlySpan<int> rows)
    {
        var lines = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)RowCount)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"rows[{i}] must be in [0, {RowCount - 1}], but it is {rows[i]}.");
            }

            lines[i] = _lines[rows[i]];
        }

        var features = new TableColumn[Features.Count];
        for (int c = 0; c < features.Length; c++)
        {
            features[c] = Features[c].Select(rows);
        }

        return new DataTable(SourceName, (string[])ColumnNames, features, Label?.Select(rows), Target?.Select(rows), lines);
    }

    /// <summary>Splits the rows into a training and a test table with <see cref="DataSplit"/>: stratified by class when the
    /// table has a label column, shuffled otherwise.</summary>
    /// <param name="testFraction">The fraction of rows to hold out for testing, in (0, 1).</param>
    /// <param name="seed">The seed of the choice.</param>
    /// <returns>The two tables, each in file order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException">The split would leave a part empty.</exception>
    public TrainTestSplit<DataTable> Split(double testFraction, int seed)
    {
        SplitIndices indices;
        if (Label is null)
        {
            indices = DataSplit.ShuffledIndices(RowCount, testFraction, seed);
        }
        else
        {
            var names = ClassNames;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < names.Count; i++)
            {
                index[names[i]] = i;
            }

            indices = DataSplit.StratifiedIndices(Label.TextArray!.Select(t => index[t!]).ToArray(), testFraction, seed);
        }

        return new TrainTestSplit<DataTable>(SelectRows(indices.Train), SelectRows(indices.Test));
    }

    /// <summary>Returns the source, the row count and the columns.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{SourceName}: {RowCount} rows; features {string.Join(", ", Features)}{(Label is null ? "" : $"; label {Label.Name}")}{(Target is null ? "" : $"; target {Target.Name}")}");

    internal static string[] SortClassNames(IEnumerable<string> names)
    {
        var list = names.ToArray();
        bool numeric = list.All(n => long.TryParse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
        return numeric
            ? list.OrderBy(n => long.Parse(n, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ThenBy(n => n, StringComparer.Ordinal).ToArray()
            : list.OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }
}
