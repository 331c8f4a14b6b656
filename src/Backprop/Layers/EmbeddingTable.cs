using System.Globalization;

namespace Backprop;

/// <summary>
/// One lookup table of an <see cref="Embedding{T}"/> layer: a vocabulary of ids, the width of the vector each id maps
/// to, and the input columns whose ids it maps (one table may serve several columns, which then share their vectors).
/// </summary>
/// <remarks>Thread safety: immutable: safe to share between threads and layers.</remarks>
public sealed class EmbeddingTable
{
    private readonly int[] _columns;

    /// <summary>Creates the description of a table.</summary>
    /// <param name="vocabularySize">The number of ids, V: the ids are the integers 0 … V − 1; at least 1.</param>
    /// <param name="width">The length of each id's vector; at least 1.</param>
    /// <param name="columns">The input columns (flat indices into the input sample) whose values are ids of this table, at
    /// least one, none negative, no column twice.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabularySize"/> or <paramref name="width"/> is less
    /// than 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="columns"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="columns"/> is empty, holds a negative column or a column twice.</exception>
    public EmbeddingTable(int vocabularySize, int width, params int[] columns)
        : this(vocabularySize, width, columns, allowEmpty: false)
    {
    }

    private EmbeddingTable(int vocabularySize, int width, int[] columns, bool allowEmpty)
    {
        Guard.Positive(vocabularySize, nameof(vocabularySize));
        Guard.Positive(width, nameof(width));
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0 && !allowEmpty)
        {
            throw new ArgumentException("columns must name at least one input column, but it is empty.", nameof(columns));
        }

        for (int i = 0; i < columns.Length; i++)
        {
            if (columns[i] < 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"columns[{i}] must be a column index of at least 0, but it is {columns[i]}."), nameof(columns));
            }

            if (Array.IndexOf(columns, columns[i], 0, i) >= 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"columns names column {columns[i]} twice (at {Array.IndexOf(columns, columns[i])} and {i}); each column is mapped once."), nameof(columns));
            }
        }

        VocabularySize = vocabularySize;
        Width = width;
        _columns = (int[])columns.Clone();
    }

    /// <summary>The number of ids, V: the valid ids are 0 … V − 1.</summary>
    public int VocabularySize { get; }

    /// <summary>The length of each id's vector.</summary>
    public int Width { get; }

    /// <summary>The input columns mapped through this table, as given; empty for a table that maps every column of the
    /// input (<see cref="Embedding{T}(int, int, IInitializer?)"/>).</summary>
    public IReadOnlyList<int> Columns => _columns;

    /// <summary>Whether the table maps every column of the input.</summary>
    public bool MapsEveryColumn => _columns.Length == 0;

    /// <summary>A table that maps every column of the input.</summary>
    internal static EmbeddingTable EveryColumn(int vocabularySize, int width) => new(vocabularySize, width, [], allowEmpty: true);

    /// <summary>Describes the table.</summary>
    /// <returns>For example "1000×16 for columns 0, 2" or "1000×16 for every column".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{VocabularySize}×{Width} for {(MapsEveryColumn ? "every column" : "columns " + string.Join(", ", _columns))}");
}
