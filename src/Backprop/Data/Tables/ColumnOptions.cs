namespace Backprop.Data;

/// <summary>How one column of a table is read: its kind, its missing-value policy and whether a "was missing" indicator
/// column is added for it.</summary>
/// <remarks>Thread safety: init-only: one instance may be shared by any number of reads.</remarks>
public sealed class ColumnOptions
{
    /// <summary>The column, by header name or index.</summary>
    public required ColumnId Column { get; init; }

    /// <summary>What the column holds; <see cref="ColumnKind.Auto"/> (inferred) by default.</summary>
    public ColumnKind Kind { get; init; }

    /// <summary>The column's missing-value policy; null (the default) takes <see cref="TableOptions.Missing"/>.</summary>
    public MissingValuePolicy? Missing { get; init; }

    /// <summary>Whether <see cref="TablePipeline"/> adds a feature that is 1 where the value was missing (or, at
    /// prediction time, an unknown category) and 0 elsewhere, after the column's own features. False by default.</summary>
    public bool AddMissingIndicator { get; init; }
}
