namespace Backprop.Data;

/// <summary>What a feature column of a table holds.</summary>
public enum ColumnKind
{
    /// <summary>Inferred from the data: <see cref="Numeric"/> when every value that is not missing is a number in the
    /// invariant culture, else <see cref="Categorical"/>.</summary>
    Auto,

    /// <summary>Numbers in the invariant culture ('.' decimal point, exponents allowed); a value that is not one is an error.</summary>
    Numeric,

    /// <summary>Text categories (compared ordinally, case-sensitive), one-hot encoded by <see cref="TablePipeline"/>.</summary>
    Categorical,

    /// <summary>Not read: neither a feature nor the label.</summary>
    Ignored,
}

/// <summary>What happens to a missing value of a column (an empty field, or one of <see cref="TableOptions.MissingValues"/>),
/// when the table is read and when a <see cref="TablePredictor{T}"/> meets one in a raw row.</summary>
public enum MissingValuePolicy
{
    /// <summary>A missing value is an error naming the file, line, column and value (the default).</summary>
    Error,

    /// <summary>Replaced by the mean of the column's training values (numeric columns only).</summary>
    Mean,

    /// <summary>Replaced by the median of the column's training values (numeric columns only): the middle value, or the
    /// mean of the two middle values.</summary>
    Median,

    /// <summary>Replaced by the column's most frequent training value (the smallest of equally frequent numbers, the
    /// ordinally first of equally frequent categories).</summary>
    MostFrequent,
}
