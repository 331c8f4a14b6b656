namespace Backprop.Data;

/// <summary>How <see cref="Csv"/> reads a file: the delimiter, whether the first line is a header, and which columns
/// are features and which the label or target.</summary>
/// <remarks>
/// <para>Column indices here are 0-based, like C# arrays; negative indices count from the end (−1 is the last
/// column). The line and column numbers in error messages are 1-based, as editors show them.</para>
/// <para>Thread safety: init-only: one instance may be shared by any number of reads and threads, as long as the list
/// given as <see cref="FeatureColumns"/> is not changed.</para>
/// </remarks>
public sealed class CsvOptions
{
    /// <summary>Whether the first non-blank line holds column names rather than values. False by default.</summary>
    public bool HasHeader { get; init; }

    /// <summary>The character between fields. ',' by default.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>The column of the class label or regression target: 0-based, or negative to count from the end.
    /// −1 (the last column) by default.</summary>
    public int LabelColumn { get; init; } = -1;

    /// <summary>The feature columns, in the order they become matrix columns: 0-based, or negative to count from the
    /// end. Null (the default) means every column except <see cref="LabelColumn"/>, in file order.</summary>
    public IReadOnlyList<int>? FeatureColumns { get; init; }
}
