namespace Backprop.Data;

/// <summary>A column of a table, named by its header name or by its 0-based position in the file (negative counts from
/// the end: −1 is the last column). Strings and integers convert to it implicitly: <c>Label = "species"</c>, <c>Label = 0</c>.</summary>
/// <remarks>Thread safety: immutable.</remarks>
public readonly record struct ColumnId
{
    private ColumnId(string? name, int index) => (Name, Index) = (name, index);

    /// <summary>The header name, or null when the column is named by position.</summary>
    public string? Name { get; }

    /// <summary>The 0-based position (negative from the end) when <see cref="Name"/> is null.</summary>
    public int Index { get; }

    /// <summary>The column whose header is <paramref name="name"/> (compared ordinally, case-sensitive).</summary>
    /// <param name="name">The header name.</param>
    /// <returns>The column.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public static ColumnId Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new ColumnId(name, 0);
    }

    /// <summary>The column at 0-based position <paramref name="index"/> (negative from the end).</summary>
    /// <param name="index">The position.</param>
    /// <returns>The column.</returns>
    public static ColumnId At(int index) => new(null, index);

    /// <summary>The column whose header is <paramref name="name"/>.</summary>
    /// <param name="name">The header name.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public static implicit operator ColumnId(string name) => Named(name);

    /// <summary>The column at position <paramref name="index"/>.</summary>
    /// <param name="index">The 0-based position, negative from the end.</param>
    public static implicit operator ColumnId(int index) => At(index);

    /// <summary>The name in quotes, or the position.</summary>
    /// <returns>For example <c>"species"</c> or <c>column 3</c>.</returns>
    public override string ToString() => Name is null ? FormattableString.Invariant($"column index {Index}") : $"\"{Name}\"";

    /// <summary>The 0-based position of the column in a table with <paramref name="header"/> (null: no header) and
    /// <paramref name="width"/> columns.</summary>
    internal int Resolve(string[]? header, int width, string sourceName, string paramName)
    {
        if (Name is null)
        {
            int resolved = Index < 0 ? width + Index : Index;
            if (resolved < 0 || resolved >= width)
            {
                throw new ArgumentOutOfRangeException(paramName, Index,
                    $"{paramName} is column index {Index}, but {sourceName} has {width} columns: it must be in [{-width}, {width - 1}] (0-based, negative from the end).");
            }

            return resolved;
        }

        if (header is null)
        {
            throw new ArgumentException($"{paramName} names the column \"{Name}\", but the table has no header (TableOptions.HasHeader is false): name columns by index instead.", paramName);
        }

        int found = Array.IndexOf(header, Name);
        if (found < 0)
        {
            throw new ArgumentException($"{paramName} names the column \"{Name}\", but {sourceName} has no such column; its columns are {string.Join(", ", header.Select(h => $"\"{h}\""))}.", paramName);
        }

        return found;
    }
}
