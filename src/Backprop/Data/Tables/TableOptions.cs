namespace Backprop.Data;

/// <summary>How <see cref="CsvTable"/> reads a table: header, delimiter, the label (or regression target) column,
/// column kinds, missing values and their policies.</summary>
/// <remarks>
/// <para>By default the first non-blank line is a header, fields are separated by ',', every column except the label is
/// a feature whose kind is inferred, and a missing value (an empty field, <c>NA</c> or <c>?</c>) is an error.</para>
/// <para>Thread safety: init-only: one instance may be shared by any number of reads, as long as the lists it holds do
/// not change.</para>
/// </remarks>
public sealed class TableOptions
{
    /// <summary>Whether the first non-blank line holds the column names. True by default.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The character between fields. ',' by default.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>The class label column of a classifier: its values (text or numbers) become class names. Null by default;
    /// at most one of <see cref="Label"/> and <see cref="Target"/> may be set.</summary>
    public ColumnId? Label { get; init; }

    /// <summary>The numeric target column of a regression. Null by default.</summary>
    public ColumnId? Target { get; init; }

    /// <summary>Per-column settings; columns not listed are features of kind <see cref="ColumnKind.Auto"/> with the
    /// table's <see cref="Missing"/> policy. Empty by default.</summary>
    public IReadOnlyList<ColumnOptions> Columns { get; init; } = [];

    /// <summary>The texts (after trimming spaces and tabs outside quotes) that mean "missing", compared ordinally; an empty
    /// field is always missing. <c>NA</c> and <c>?</c> by default.</summary>
    public IReadOnlyList<string> MissingValues { get; init; } = ["NA", "?"];

    /// <summary>The missing-value policy of every column that <see cref="Columns"/> does not give one;
    /// <see cref="MissingValuePolicy.Error"/> by default. A default of <see cref="MissingValuePolicy.Mean"/> or
    /// <see cref="MissingValuePolicy.Median"/> is for numeric columns: categorical ones then impute their most frequent
    /// value. The label or target column never has missing values.</summary>
    public MissingValuePolicy Missing { get; init; }
}
