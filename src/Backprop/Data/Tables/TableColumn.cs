using System.Globalization;

namespace Backprop.Data;

/// <summary>One column of a <see cref="DataTable"/>: numbers (NaN where missing) or text categories (null where
/// missing), with its name, its place in the file and its missing-value policy.</summary>
/// <remarks>Thread safety: immutable once read: share it between threads freely.</remarks>
public sealed class TableColumn
{
    private readonly double[]? _numbers;
    private readonly string?[]? _texts;

    internal TableColumn(string name, int fileIndex, ColumnKind kind, MissingValuePolicy missing, bool indicator, double[]? numbers, string?[]? texts)
    {
        (Name, FileIndex, Kind, Missing, AddMissingIndicator, _numbers, _texts) = (name, fileIndex, kind, missing, indicator, numbers, texts);
        MissingCount = numbers is not null ? numbers.Count(double.IsNaN) : texts!.Count(t => t is null);
    }

    /// <summary>The column's name: its header, or "column N" (1-based) in a file without a header.</summary>
    public string Name { get; }

    /// <summary>The column's 0-based position in the file.</summary>
    public int FileIndex { get; }

    /// <summary><see cref="ColumnKind.Numeric"/> or <see cref="ColumnKind.Categorical"/>, declared or inferred.</summary>
    public ColumnKind Kind { get; }

    /// <summary>What happens to its missing values.</summary>
    public MissingValuePolicy Missing { get; }

    /// <summary>Whether a "was missing" indicator feature follows the column's features.</summary>
    public bool AddMissingIndicator { get; }

    /// <summary>The number of rows.</summary>
    public int Count => _numbers?.Length ?? _texts!.Length;

    /// <summary>The number of missing values.</summary>
    public int MissingCount { get; }

    /// <summary>The values of a numeric column, NaN where missing; null for a categorical column.</summary>
    public IReadOnlyList<double>? Numbers => _numbers;

    /// <summary>The values of a categorical column, null where missing; null for a numeric column.</summary>
    public IReadOnlyList<string?>? Texts => _texts;

    /// <summary>Whether row <paramref name="row"/>'s value is missing.</summary>
    /// <param name="row">The 0-based row.</param>
    /// <returns>True when missing.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="row"/> is not a row.</exception>
    public bool IsMissing(int row) => _numbers is not null ? double.IsNaN(_numbers[row]) : _texts![row] is null;

    internal double[]? NumberArray => _numbers;

    internal string?[]? TextArray => _texts;

    internal TableColumn Select(ReadOnlySpan<int> rows)
    {
        double[]? numbers = _numbers is null ? null : new double[rows.Length];
        string?[]? texts = _texts is null ? null : new string?[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            if (numbers is not null)
            {
                numbers[i] = _numbers![rows[i]];
            }
            else
            {
                texts![i] = _texts![rows[i]];
            }
        }

        return new TableColumn(Name, FileIndex, Kind, Missing, AddMissingIndicator, numbers, texts);
    }

    /// <summary>Returns the name, kind and missing count.</summary>
    /// <returns>For example <c>sex (Categorical, 11 missing)</c>.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Kind}, {MissingCount} missing)");
}
