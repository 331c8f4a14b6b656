using System.Globalization;

namespace Backprop.Data;

/// <summary>How numeric columns are scaled by a <see cref="TablePipeline"/>, from the training rows.</summary>
public enum NumericScaling
{
    /// <summary>(x − mean) / standard deviation (the population one, n in the denominator; 1 for a constant column), as
    /// <see cref="StandardScaler"/> and scikit-learn's StandardScaler.</summary>
    Standardize,

    /// <summary>(x − min) / (max − min) into [0, 1] (divided by 1 for a constant column), as <see cref="MinMaxScaler"/>.</summary>
    MinMax,

    /// <summary>Left as they are.</summary>
    None,
}

/// <summary>What a fitted <see cref="TablePipeline"/> does to one column: the value that replaces a missing one, the
/// scaling of a number or the vocabulary of a category, and which features it fills.</summary>
/// <remarks>
/// <para>A numeric column gives one feature, (x − <see cref="Center"/>) / <see cref="Scale"/>, computed in double and then
/// rounded to the network's element type; a categorical column gives one feature per category of
/// <see cref="Categories"/> (one-hot); either is followed by a 0/1 "was missing" feature when
/// <see cref="AddMissingIndicator"/> is set.</para>
/// <para>Thread safety: immutable.</para>
/// </remarks>
public sealed class PipelineColumn
{
    private readonly Dictionary<string, int> _categoryIndex;

    internal PipelineColumn(string name, int fileIndex, ColumnKind kind, MissingValuePolicy missing, bool indicator,
        double fillNumber, string? fillCategory, double center, double scale, string[] categories, int firstFeature)
    {
        (Name, FileIndex, Kind, Missing, AddMissingIndicator) = (name, fileIndex, kind, missing, indicator);
        (FillNumber, FillCategory, Center, Scale, Categories, FirstFeature) = (fillNumber, fillCategory, center, scale, categories, firstFeature);
        _categoryIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < categories.Length; i++)
        {
            _categoryIndex[categories[i]] = i;
        }
    }

    /// <summary>The column's name in the table.</summary>
    public string Name { get; }

    /// <summary>The column's 0-based position in the training file, where a raw row given as text has its value.</summary>
    public int FileIndex { get; }

    /// <summary><see cref="ColumnKind.Numeric"/> or <see cref="ColumnKind.Categorical"/>.</summary>
    public ColumnKind Kind { get; }

    /// <summary>What replaces a missing value (and, in a categorical column, an unknown category).</summary>
    public MissingValuePolicy Missing { get; }

    /// <summary>Whether a 0/1 "was missing" feature follows the column's own features.</summary>
    public bool AddMissingIndicator { get; }

    /// <summary>The number that replaces a missing value of a numeric column (from the training rows); NaN with
    /// <see cref="MissingValuePolicy.Error"/> or for a categorical column.</summary>
    public double FillNumber { get; }

    /// <summary>The category that replaces a missing value or an unknown category; null with
    /// <see cref="MissingValuePolicy.Error"/> or for a numeric column.</summary>
    public string? FillCategory { get; }

    /// <summary>What is subtracted from a number: the training mean (standardising), minimum (min-max) or 0.</summary>
    public double Center { get; }

    /// <summary>What the centred number is divided by: the training standard deviation, range, or 1.</summary>
    public double Scale { get; }

    /// <summary>The categories seen in training, sorted ordinally: the one-hot features in order. Empty for a numeric column.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>The column's first feature (0-based) in a transformed row.</summary>
    public int FirstFeature { get; }

    /// <summary>The number of features the column fills: 1 or the category count, plus 1 with an indicator.</summary>
    public int FeatureCount => (Kind == ColumnKind.Numeric ? 1 : Categories.Count) + (AddMissingIndicator ? 1 : 0);

    /// <summary>The names of the column's features: the name; "name=category" per category; "name (missing)".</summary>
    internal IEnumerable<string> FeatureNames()
    {
        if (Kind == ColumnKind.Numeric)
        {
            yield return Name;
        }
        else
        {
            foreach (var category in Categories)
            {
                yield return $"{Name}={category}";
            }
        }

        if (AddMissingIndicator)
        {
            yield return $"{Name} (missing)";
        }
    }

    /// <summary>The index of a category, or −1 when it was not seen in training.</summary>
    internal int CategoryIndex(ReadOnlySpan<char> category) =>
        _categoryIndex.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(category, out int index) ? index : -1;

    /// <summary>Writes the column's features for one value, into <paramref name="features"/> (the row's whole feature
    /// span). <paramref name="missing"/> says the value is missing; <paramref name="number"/> is the parsed number of a
    /// numeric column. Returns null on success, else what is wrong with the value (to follow it in a message).</summary>
    internal string? Fill<T>(bool missing, double number, ReadOnlySpan<char> text, Span<T> features)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        bool flagged = missing;
        var own = features.Slice(FirstFeature, FeatureCount);
        if (Kind == ColumnKind.Numeric)
        {
            if (missing)
            {
                if (Missing == MissingValuePolicy.Error)
                {
                    return MissingProblem;
                }

                number = FillNumber;
            }

            own[0] = T.CreateChecked((number - Center) / Scale);
        }
        else
        {
            int index = missing ? -1 : CategoryIndex(text);
            if (index < 0)
            {
                if (Missing == MissingValuePolicy.Error)
                {
                    return missing ? MissingProblem : UnknownProblem();
                }

                flagged = true;
                index = CategoryIndex(FillCategory);
            }

            own[..Categories.Count].Clear();
            own[index] = T.One;
        }

        if (AddMissingIndicator)
        {
            own[^1] = flagged ? T.One : T.Zero;
        }

        return null;
    }

    internal const string MissingProblem = "is missing, and the column's missing-value policy is Error (set TableOptions.Missing or ColumnOptions.Missing to impute it)";

    private string UnknownProblem() =>
        $"is a category not seen in training ({(Categories.Count <= 10 ? string.Join(", ", Categories.Select(c => $"\"{c}\"")) : $"{Categories.Count} categories")}), and the column's missing-value policy is Error (an unknown category is treated as a missing value)";

    /// <summary>Returns the column's name, kind and fitted values.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() => Kind == ColumnKind.Numeric
        ? string.Create(CultureInfo.InvariantCulture, $"{Name}: numeric, (x − {Center:G6}) / {Scale:G6}, missing: {Missing}")
        : $"{Name}: categorical, {Categories.Count} categories, missing: {Missing}";
}
