using System.Globalization;

namespace Backprop.Data;

/// <summary>
/// Reads CSV tables with a header, text labels, categorical columns and missing values into a <see cref="DataTable"/>,
/// choosing columns by header name or index.
/// </summary>
/// <remarks>
/// <para>The text is read as by <see cref="Csv"/>: UTF-8 (or the encoding of a byte-order mark), plain or gzip-compressed
/// (detected from the first two bytes), fields trimmed of spaces and tabs and optionally quoted ("…", "" for a quote,
/// on one line), lines ended by \n, \r\n or \r in any mix, blank lines skipped, every line as many fields as the first.
/// Numbers are parsed in the invariant culture whatever the machine's culture.</para>
/// <para>A column's kind is declared in <see cref="TableOptions.Columns"/> or inferred: numeric when every value that
/// is not missing parses as a finite number, categorical otherwise. A value is missing when it is empty or one of
/// <see cref="TableOptions.MissingValues"/>; a missing value in a column whose policy is
/// <see cref="MissingValuePolicy.Error"/>, and any missing label or target, is an error. Imputation itself is done by
/// <see cref="TablePipeline"/>, from the training rows only.</para>
/// <para>Every problem with the content is an <see cref="InvalidDataException"/> naming the source, the 1-based line, the
/// column's number and name, and the value, for example
/// <c>penguins.csv, line 5, column 3 ("bill_length_mm"): "" is missing, and the column's missing-value policy is Error …</c>.
/// Column names in a header must be unique.</para>
/// <para>Thread safety: stateless: every method may be called from any number of threads at once. A stream given to a
/// stream overload belongs to that call.</para>
/// </remarks>
public static class CsvTable
{
    /// <summary>Reads a table from a file.</summary>
    /// <param name="path">The file's path, plain or gzip-compressed.</param>
    /// <param name="options">Header, delimiter, label, column kinds and missing values; the defaults of <see cref="TableOptions"/> when null.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or the options name a column that does not exist, name one twice, set both a label and a target, or ask for a mean or median of a categorical column.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index in the options is outside the file's columns, or the delimiter is a quote or a line break.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file has no data lines, lines of different lengths, a malformed quote, duplicate column names, a value that is not a number in a numeric column, or a missing value where the policy is <see cref="MissingValuePolicy.Error"/>; the message names the line, column and value.</exception>
    public static DataTable Read(string path, TableOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Read(stream, path, options);
    }

    /// <summary>Reads a table from a stream, such as an embedded resource.</summary>
    /// <param name="stream">The CSV text, plain or gzip-compressed; read to its end, not disposed.</param>
    /// <param name="sourceName">The name of the data in error messages, such as its file name.</param>
    /// <param name="options">Header, delimiter, label, column kinds and missing values; the defaults of <see cref="TableOptions"/> when null.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is null.</exception>
    /// <exception cref="ArgumentException">The options name a column that does not exist, name one twice, set both a label and a target, or ask for a mean or median of a categorical column.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index in the options is outside the data's columns, or the delimiter is a quote or a line break.</exception>
    /// <exception cref="InvalidDataException">The data has no data lines, lines of different lengths, a malformed quote, duplicate column names, a value that is not a number in a numeric column, or a missing value where the policy is <see cref="MissingValuePolicy.Error"/>; the message names the line, column and value.</exception>
    public static DataTable Read(Stream stream, string sourceName, TableOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= new TableOptions();
        CheckOptions(options);
        CsvRecordReader.CheckDelimiter(options.Delimiter);
        var rows = new List<string[]>();
        var lines = new List<int>();
        string[]? header;
        int width;
        using (var records = new CsvRecordReader(Decompression.OpenMaybeGzip(stream, leaveOpen: true, sourceName), sourceName, options.Delimiter, options.HasHeader))
        {
            while (records.Read())
            {
                var fields = new string[records.Width];
                for (int c = 0; c < fields.Length; c++)
                {
                    fields[c] = records[c].ToString();
                }

                rows.Add(fields);
                lines.Add(records.LineNumber);
            }

            header = records.Header;
            if (rows.Count == 0)
            {
                throw records.NoDataLines();
            }

            width = records.Width;
        }

        if (header is not null)
        {
            CheckUniqueNames(header, sourceName);
        }

        var names = header ?? Enumerable.Range(1, width).Select(c => string.Create(CultureInfo.InvariantCulture, $"column {c}")).ToArray();
        var values = new TableValues(options.MissingValues);
        var plan = Plan(options, header, width, sourceName);
        var lineArray = lines.ToArray();
        var features = new List<TableColumn>();
        TableColumn? label = null, target = null;
        for (int c = 0; c < width; c++)
        {
            var (kind, policy, indicator) = plan[c];
            if (kind == ColumnKind.Ignored)
            {
                continue;
            }

            var field = new FieldSource(rows, lineArray, c, sourceName, header);
            if (c == plan.LabelColumn)
            {
                label = new TableColumn(names[c], c, ColumnKind.Categorical, MissingValuePolicy.Error, false, null, ReadTexts(field, values, MissingValuePolicy.Error, "the label column"));
            }
            else if (c == plan.TargetColumn)
            {
                target = new TableColumn(names[c], c, ColumnKind.Numeric, MissingValuePolicy.Error, false, ReadNumbers(field, values, MissingValuePolicy.Error, "the target column"), null);
            }
            else
            {
                double[]? parsed = null;
                if (kind == ColumnKind.Auto)
                {
                    // Parsed once: the numbers of a numeric column are kept, not parsed again.
                    parsed = TryNumbers(field, values);
                    kind = parsed is not null ? ColumnKind.Numeric : ColumnKind.Categorical;
                }

                if (kind == ColumnKind.Categorical && policy is MissingValuePolicy.Mean or MissingValuePolicy.Median && !plan.Declared(c))
                {
                    // The table's default mean or median is for numbers: text columns impute their most frequent value.
                    policy = MissingValuePolicy.MostFrequent;
                }

                if (kind == ColumnKind.Categorical && policy is MissingValuePolicy.Mean or MissingValuePolicy.Median)
                {
                    throw new ArgumentException($"The column \"{names[c]}\" of {sourceName} holds text categories, whose missing values cannot be replaced by a {policy.ToString().ToLowerInvariant()}; use MissingValuePolicy.MostFrequent or Error for it, or declare it ColumnKind.Numeric.", nameof(options));
                }

                features.Add(kind == ColumnKind.Numeric
                    ? new TableColumn(names[c], c, kind, policy, indicator, Usable(parsed, policy) ?? ReadNumbers(field, values, policy, "its missing-value policy"), null)
                    : new TableColumn(names[c], c, kind, policy, indicator, null, ReadTexts(field, values, policy, "its missing-value policy")));
            }
        }

        if (features.Count == 0)
        {
            throw new ArgumentException($"{sourceName} has {width} column(s) and none is left as a feature besides the label, target and ignored columns; at least one feature column is needed.", nameof(options));
        }

        return new DataTable(sourceName, names, features, label, target, lineArray);
    }

    private static void CheckOptions(TableOptions options)
    {
        if (options.Label is not null && options.Target is not null)
        {
            throw new ArgumentException($"options.Label ({options.Label}) and options.Target ({options.Target}) are both set; a table has a class label or a regression target, not both.", nameof(options));
        }

        if (options.Columns is null || options.Columns.Any(c => c is null))
        {
            throw new ArgumentException("options.Columns must be a list of column options without nulls.", nameof(options));
        }

        if (options.MissingValues is null || options.MissingValues.Any(m => m is null))
        {
            throw new ArgumentException("options.MissingValues must be a list of texts without nulls.", nameof(options));
        }
    }

    private static void CheckUniqueNames(string[] header, string sourceName)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < header.Length; c++)
        {
            if (!seen.TryAdd(header[c], c))
            {
                throw new InvalidDataException(
                    $"{sourceName}: the header names column {seen[header[c]] + 1} and column {c + 1} both \"{header[c]}\"; column names must be unique to choose columns by name and to name features (rename one, or read the file with HasHeader = false).");
            }
        }
    }

    private sealed class ColumnPlan((ColumnKind Kind, MissingValuePolicy Policy, bool Indicator)[] columns, HashSet<int> declaredPolicies)
    {
        public bool Declared(int column) => declaredPolicies.Contains(column);

        public int LabelColumn { get; init; } = -1;

        public int TargetColumn { get; init; } = -1;

        public (ColumnKind Kind, MissingValuePolicy Policy, bool Indicator) this[int column] => columns[column];
    }

    private static ColumnPlan Plan(TableOptions options, string[]? header, int width, string sourceName)
    {
        var columns = new (ColumnKind, MissingValuePolicy, bool)[width];
        Array.Fill(columns, (ColumnKind.Auto, options.Missing, false));
        var declared = new Dictionary<int, int>();
        var declaredPolicies = new HashSet<int>();
        for (int i = 0; i < options.Columns.Count; i++)
        {
            var column = options.Columns[i];
            int c = column.Column.Resolve(header, width, sourceName, $"options.Columns[{i}].Column");
            if (!declared.TryAdd(c, i))
            {
                throw new ArgumentException($"options.Columns[{i}] ({column.Column}) is column {c + 1} again (already options.Columns[{declared[c]}]); each column may be declared once.", nameof(options));
            }

            columns[c] = (column.Kind, column.Missing ?? options.Missing, column.AddMissingIndicator);
            if (column.Missing is not null)
            {
                declaredPolicies.Add(c);
            }
        }

        int label = options.Label is { } l ? l.Resolve(header, width, sourceName, "options.Label") : -1;
        int target = options.Target is { } t ? t.Resolve(header, width, sourceName, "options.Target") : -1;
        int special = Math.Max(label, target);
        if (special >= 0 && declared.TryGetValue(special, out int index) && options.Columns[index].Kind == ColumnKind.Ignored)
        {
            throw new ArgumentException($"options.Columns[{index}] ignores column {special + 1}, which is also the {(label >= 0 ? "label" : "target")}; a column cannot be both.", nameof(options));
        }

        return new ColumnPlan(columns, declaredPolicies) { LabelColumn = label, TargetColumn = target };
    }

    private readonly record struct FieldSource(List<string[]> Rows, int[] Lines, int Column, string SourceName, string[]? Header)
    {
        public string this[int row] => Rows[row][Column];

        public InvalidDataException Bad(int row, string problem) => Csv.BadField(SourceName, Lines[row], Column, Header, Rows[row][Column], problem);
    }

    /// <summary>The column's numbers (NaN where missing), or null when a value that is not missing is not a number.</summary>
    private static double[]? TryNumbers(FieldSource field, TableValues values)
    {
        var numbers = new double[field.Rows.Count];
        for (int r = 0; r < numbers.Length; r++)
        {
            string text = field[r];
            if (values.IsMissing(text))
            {
                numbers[r] = double.NaN;
            }
            else if (Csv.ParseNumber(text, out numbers[r]) is not null)
            {
                return null;
            }
        }

        return numbers;
    }

    /// <summary>Numbers parsed during inference, unless they hold a missing value the policy refuses (reading them
    /// again then reports it with its line).</summary>
    private static double[]? Usable(double[]? parsed, MissingValuePolicy policy) =>
        parsed is not null && (policy != MissingValuePolicy.Error || Array.FindIndex(parsed, double.IsNaN) < 0) ? parsed : null;

    private static double[] ReadNumbers(FieldSource field, TableValues values, MissingValuePolicy policy, string whose)
    {
        var numbers = new double[field.Rows.Count];
        for (int r = 0; r < numbers.Length; r++)
        {
            string text = field[r];
            if (values.IsMissing(text))
            {
                numbers[r] = policy == MissingValuePolicy.Error ? throw field.Bad(r, TableValues.MissingProblem(whose)) : double.NaN;
            }
            else if (Csv.ParseNumber(text, out numbers[r]) is string problem)
            {
                throw field.Bad(r, problem);
            }
        }

        return numbers;
    }

    private static string?[] ReadTexts(FieldSource field, TableValues values, MissingValuePolicy policy, string whose)
    {
        var texts = new string?[field.Rows.Count];
        var interned = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int r = 0; r < texts.Length; r++)
        {
            string text = field[r];
            if (values.IsMissing(text))
            {
                texts[r] = policy == MissingValuePolicy.Error ? throw field.Bad(r, TableValues.MissingProblem(whose)) : null;
            }
            else
            {
                // One string per distinct category: a million rows of three species hold three strings.
                texts[r] = interned.TryGetValue(text, out var same) ? same : interned[text] = text;
            }
        }

        return texts;
    }
}

/// <summary>Which texts are missing values: the empty text and a configured set.</summary>
internal sealed class TableValues(IReadOnlyList<string> missingValues)
{
    private readonly HashSet<string> _missing = new(missingValues, StringComparer.Ordinal);

    public IReadOnlyList<string> MissingValues { get; } = missingValues.ToArray();

    public bool IsMissing(ReadOnlySpan<char> text) => text.Length == 0 || (_missing.Count > 0 && _missing.GetAlternateLookup<ReadOnlySpan<char>>().Contains(text));

    public static string MissingProblem(string whose) => whose switch
    {
        "its missing-value policy" => "is missing, and the column's missing-value policy is Error (set TableOptions.Missing or ColumnOptions.Missing to impute it)",
        _ => $"is missing, but {whose} cannot have missing values",
    };
}
