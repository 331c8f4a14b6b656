using System.Globalization;
using System.Numerics;
using System.Text;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>
/// Reads numeric CSV files into matrices: features as a <see cref="Matrix{T}"/>, with class labels as <c>int[]</c> or
/// regression targets as a matrix.
/// </summary>
/// <remarks>
/// <para>Numbers are parsed in the invariant culture ('.' is the decimal point, exponents such as 1e-3 are allowed),
/// whatever the machine's culture. Fields may be surrounded by spaces and may be quoted ("…", with "" for a quote).
/// Blank lines are skipped. Every data line must have as many fields as the first.</para>
/// <para>Files may be gzip-compressed: this is detected from the first two bytes (1F 8B), not from the file name.
/// Concatenated gzip members read as one file; gzip data that is corrupt, truncated, or followed by bytes that are not
/// gzip is refused rather than read short.</para>
/// <para>Every problem with the content is an <see cref="InvalidDataException"/> whose message names the source, the
/// 1-based line and column and the offending text, for example
/// <c>data.csv, line 12, column 3 ("bmi"): "2l.5" is not a number.</c></para>
/// </remarks>
public static class Csv
{
    /// <summary>Reads a classification data set: the feature columns and an integer class label column.</summary>
    /// <typeparam name="T">The element type of the features.</typeparam>
    /// <param name="path">The file's path, plain or gzip-compressed.</param>
    /// <param name="options">Header, delimiter and columns; the defaults of <see cref="CsvOptions"/> (no header, ',', label in the last column) when null.</param>
    /// <returns>The features (rows × feature columns) and one label per row.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or the options name a feature column twice or the label column as a feature, or leave no feature column (the data has only the label column).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index in <paramref name="options"/> is outside the file's columns.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file has no data lines, lines of different lengths, a value that is not a finite number, or a label that is not a whole number from 0 to 2147483646; the message names the line and column.</exception>
    public static ClassificationData<T> ReadClassification<T>(string path, CsvOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = OpenFile(path);
        return ReadClassification<T>(stream, path, options);
    }

    /// <summary>Reads a classification data set from a stream, such as an embedded resource.</summary>
    /// <typeparam name="T">The element type of the features.</typeparam>
    /// <param name="stream">The CSV text, plain or gzip-compressed; read to its end, not disposed.</param>
    /// <param name="sourceName">The name of the data in error messages, such as its file name.</param>
    /// <param name="options">Header, delimiter and columns; the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <returns>The features (rows × feature columns) and one label per row.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is null.</exception>
    /// <exception cref="ArgumentException">The options name a feature column twice or the label column as a feature, or leave no feature column (the data has only the label column).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index in <paramref name="options"/> is outside the data's columns.</exception>
    /// <exception cref="InvalidDataException">The data has no data lines, lines of different lengths, a value that is not a finite number, or a label that is not a whole number from 0 to 2147483646; the message names the line and column.</exception>
    public static ClassificationData<T> ReadClassification<T>(Stream stream, string sourceName, CsvOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SupportedElementType<T>();
        options ??= new CsvOptions();
        var table = ReadTable(stream, sourceName, options.HasHeader, options.Delimiter);
        var (features, label) = ResolveColumns(options, table.Width);
        var matrix = table.ParseMatrix<T>(features);
        var labels = new int[table.Rows.Count];
        for (int r = 0; r < labels.Length; r++)
        {
            labels[r] = table.ParseLabel(r, label);
        }

        return new ClassificationData<T>(matrix, labels) { FeatureNames = table.Names(features) };
    }

    /// <summary>Reads a regression data set: the feature columns and one numeric target column.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="path">The file's path, plain or gzip-compressed.</param>
    /// <param name="options">Header, delimiter and columns (<see cref="CsvOptions.LabelColumn"/> is the target); the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <returns>The features (rows × feature columns) and the targets (rows × 1).</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or the options name a feature column twice or the target column as a feature, or leave no feature column (the data has only the target column).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index in <paramref name="options"/> is outside the file's columns.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file has no data lines, lines of different lengths, or a value that is not a finite number; the message names the line and column.</exception>
    public static RegressionData<T> ReadRegression<T>(string path, CsvOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = OpenFile(path);
        return ReadRegression<T>(stream, path, options);
    }

    /// <summary>Reads a regression data set from a stream, such as an embedded resource.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="stream">The CSV text, plain or gzip-compressed; read to its end, not disposed.</param>
    /// <param name="sourceName">The name of the data in error messages, such as its file name.</param>
    /// <param name="options">Header, delimiter and columns (<see cref="CsvOptions.LabelColumn"/> is the target); the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <returns>The features (rows × feature columns) and the targets (rows × 1).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is null.</exception>
    /// <exception cref="ArgumentException">The options name a feature column twice or the target column as a feature, or leave no feature column (the data has only the target column).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index in <paramref name="options"/> is outside the data's columns.</exception>
    /// <exception cref="InvalidDataException">The data has no data lines, lines of different lengths, or a value that is not a finite number; the message names the line and column.</exception>
    public static RegressionData<T> ReadRegression<T>(Stream stream, string sourceName, CsvOptions? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SupportedElementType<T>();
        options ??= new CsvOptions();
        var table = ReadTable(stream, sourceName, options.HasHeader, options.Delimiter);
        var (features, target) = ResolveColumns(options, table.Width);
        return new RegressionData<T>(table.ParseMatrix<T>(features), table.ParseMatrix<T>([target])) { FeatureNames = table.Names(features) };
    }

    /// <summary>Reads every column of a numeric CSV file into one matrix.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="path">The file's path, plain or gzip-compressed.</param>
    /// <param name="hasHeader">Whether the first non-blank line holds column names, which are skipped.</param>
    /// <param name="delimiter">The character between fields.</param>
    /// <returns>A rows × columns matrix.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file has no data lines, lines of different lengths, or a value that is not a finite number; the message names the line and column.</exception>
    public static Matrix<T> ReadMatrix<T>(string path, bool hasHeader = false, char delimiter = ',')
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = OpenFile(path);
        return ReadMatrix<T>(stream, path, hasHeader, delimiter);
    }

    /// <summary>Reads every column of numeric CSV data from a stream into one matrix.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="stream">The CSV text, plain or gzip-compressed; read to its end, not disposed.</param>
    /// <param name="sourceName">The name of the data in error messages, such as its file name.</param>
    /// <param name="hasHeader">Whether the first non-blank line holds column names, which are skipped.</param>
    /// <param name="delimiter">The character between fields.</param>
    /// <returns>A rows × columns matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data has no data lines, lines of different lengths, or a value that is not a finite number; the message names the line and column.</exception>
    public static Matrix<T> ReadMatrix<T>(Stream stream, string sourceName, bool hasHeader = false, char delimiter = ',')
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SupportedElementType<T>();
        var table = ReadTable(stream, sourceName, hasHeader, delimiter);
        return table.ParseMatrix<T>(Enumerable.Range(0, table.Width).ToArray());
    }

    private static FileStream OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return File.OpenRead(path);
    }

    private static (int[] Features, int Label) ResolveColumns(CsvOptions options, int width)
    {
        int label = Resolve(options.LabelColumn, width, "options.LabelColumn");
        int[] features;
        if (options.FeatureColumns is null)
        {
            features = Enumerable.Range(0, width).Where(c => c != label).ToArray();
        }
        else
        {
            features = new int[options.FeatureColumns.Count];
            for (int i = 0; i < features.Length; i++)
            {
                features[i] = Resolve(options.FeatureColumns[i], width, $"options.FeatureColumns[{i}]");
                if (features[i] == label)
                {
                    throw new ArgumentException($"options.FeatureColumns[{i}] is column {options.FeatureColumns[i]}, which is also the label column (options.LabelColumn = {options.LabelColumn}); a column cannot be both.", nameof(options));
                }

                if (Array.IndexOf(features, features[i], 0, i) is int first and >= 0)
                {
                    throw new ArgumentException($"options.FeatureColumns[{i}] names column {features[i]} again (already options.FeatureColumns[{first}]); each feature column may appear once.", nameof(options));
                }
            }
        }

        if (features.Length == 0)
        {
            throw new ArgumentException($"The data has {width} column(s) and no feature column is left besides the label column; at least one feature column is needed.", nameof(options));
        }

        return (features, label);
    }

    private static int Resolve(int column, int width, string name)
    {
        int resolved = column < 0 ? width + column : column;
        if (resolved < 0 || resolved >= width)
        {
            throw new ArgumentOutOfRangeException("options", column,
                $"{name} must be in [{-width}, {width - 1}] (0-based, negative from the end) because the data has {width} columns, but it is {column}.");
        }

        return resolved;
    }

    private static Table ReadTable(Stream stream, string sourceName, bool hasHeader, char delimiter)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentOutOfRangeException(nameof(delimiter), delimiter, $"The delimiter cannot be a quote or a line break, but it is U+{(int)delimiter:X4}.");
        }

        var decompressed = Decompression.OpenMaybeGzip(stream, leaveOpen: true, sourceName);
        using var reader = new StreamReader(decompressed, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var table = new Table(sourceName);
        int lineNumber = 0, firstLine = 0;
        string? line;
        var fields = new List<Field>();
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            fields.Clear();
            Split(line, delimiter, fields, sourceName, lineNumber);
            if (table.Width == 0)
            {
                table.Width = fields.Count;
                firstLine = lineNumber;
            }
            else if (fields.Count != table.Width)
            {
                throw new InvalidDataException(
                    $"{sourceName}, line {lineNumber}: expected {table.Width} fields separated by '{delimiter}' (as on line {firstLine}), but found {fields.Count}.");
            }

            if (hasHeader && table.Header is null)
            {
                table.Header = fields.Select(f => f.Text).ToArray();
                continue;
            }

            table.Rows.Add(new Row(lineNumber, fields.ToArray()));
        }

        if (table.Rows.Count == 0)
        {
            throw new InvalidDataException($"{sourceName}: there are no data lines{(hasHeader && table.Header is not null ? " after the header" : "")}; at least one is needed.");
        }

        return table;
    }

    /// <summary>Splits one line into trimmed fields, honouring double quotes; records where each field starts.</summary>
    private static void Split(string line, char delimiter, List<Field> fields, string sourceName, int lineNumber)
    {
        int i = 0;
        while (true)
        {
            while (i < line.Length && line[i] is ' ' or '\t' && line[i] != delimiter)
            {
                i++;
            }

            int start = i;
            string text;
            if (i < line.Length && line[i] == '"')
            {
                var builder = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new InvalidDataException($"{sourceName}, line {lineNumber}, column {fields.Count + 1}: the quote opened at character {start + 1} is not closed on this line.");
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            builder.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    builder.Append(line[i++]);
                }

                text = builder.ToString();
                while (i < line.Length && line[i] != delimiter)
                {
                    if (line[i] is not (' ' or '\t'))
                    {
                        throw new InvalidDataException($"{sourceName}, line {lineNumber}, column {fields.Count + 1}: unexpected text after the closing quote at character {i + 1}.");
                    }

                    i++;
                }
            }
            else
            {
                int end = line.IndexOf(delimiter, i);
                if (end < 0)
                {
                    end = line.Length;
                }

                text = line[i..end].TrimEnd(' ', '\t');
                i = end;
            }

            fields.Add(new Field(text, start + 1));
            if (i >= line.Length)
            {
                return;
            }

            i++; // the delimiter
        }
    }

    private readonly record struct Field(string Text, int Character);

    private sealed record Row(int Line, Field[] Fields);

    private sealed class Table(string sourceName)
    {
        public string[]? Header { get; set; }

        public int Width { get; set; }

        public List<Row> Rows { get; } = [];

        public IReadOnlyList<string>? Names(int[] columns) => Header is null ? null : columns.Select(c => Header[c]).ToArray();

        public Matrix<T> ParseMatrix<T>(int[] columns)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var values = new T[Rows.Count * columns.Length];
            for (int r = 0; r < Rows.Count; r++)
            {
                for (int c = 0; c < columns.Length; c++)
                {
                    values[r * columns.Length + c] = ParseNumber<T>(r, columns[c]);
                }
            }

            return Matrix<T>.Build.DenseOfRowMajor(Rows.Count, columns.Length, values);
        }

        public int ParseLabel(int row, int column)
        {
            string text = Rows[row].Fields[column].Text;
            // The largest label + 1 is the class count, so int.MaxValue itself cannot be a label.
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int label) && label is >= 0 and < int.MaxValue)
            {
                return label;
            }

            throw Bad(row, column, $"is not a class label (a whole number from 0 to {int.MaxValue - 1}, such as 3)");
        }

        private T ParseNumber<T>(int row, int column)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            string text = Rows[row].Fields[column].Text;
            if (text.Length == 0)
            {
                throw Bad(row, column, "is empty; missing values are not supported");
            }

            if (!T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out T value))
            {
                throw Bad(row, column, "is not a number (expected the invariant culture's form, such as 12.5 or -3e-2)");
            }

            if (!T.IsFinite(value))
            {
                bool overflow = !T.IsNaN(value) && !text.Contains("inf", StringComparison.OrdinalIgnoreCase) && !text.Contains('∞');
                throw Bad(row, column, overflow ? $"is too large for {typeof(T).Name}" : "is not a finite number");
            }

            return value;
        }

        private InvalidDataException Bad(int row, int column, string problem)
        {
            var record = Rows[row];
            string name = Header is null ? "" : $" (\"{Header[column]}\")";
            return new InvalidDataException(
                $"{sourceName}, line {record.Line}, column {column + 1}{name}: \"{record.Fields[column].Text}\" {problem}.");
        }
    }
}
