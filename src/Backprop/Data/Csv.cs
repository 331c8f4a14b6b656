using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

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
/// <para>These methods read the whole file into memory; to train from a file too large for that, read it line by line
/// with <see cref="CsvSampleSource{T}"/>.</para>
/// <para>Thread safety: stateless: every method may be called from any number of threads at once, also on the same
/// file (each path-based call opens its own stream) and with one shared <see cref="CsvOptions"/>. A stream given to the
/// stream overloads belongs to that call: never pass one stream to two calls at once.</para>
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
        var (features, labelColumn) = ResolveColumns(options, table.Width);
        var matrix = table.ParseMatrix<T>(features);
        var labels = new int[table.Rows.Count];
        for (int r = 0; r < labels.Length; r++)
        {
            labels[r] = table.ParseLabel(r, labelColumn[0]);
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
        return new RegressionData<T>(table.ParseMatrix<T>(features), table.ParseMatrix<T>(target)) { FeatureNames = table.Names(features) };
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

    /// <summary>The 0-based feature and target columns of data <paramref name="width"/> columns wide: the targets are
    /// <paramref name="targetColumns"/>, or <see cref="CsvOptions.LabelColumn"/> when null; the features are
    /// <see cref="CsvOptions.FeatureColumns"/>, or every other column.</summary>
    internal static (int[] Features, int[] Targets) ResolveColumns(CsvOptions options, int width, IReadOnlyList<int>? targetColumns = null)
    {
        int[] targets;
        if (targetColumns is null)
        {
            targets = [Resolve(options.LabelColumn, width, "options.LabelColumn", nameof(options))];
        }
        else
        {
            if (targetColumns.Count == 0)
            {
                throw new ArgumentException("targetColumns must name at least one column, but it is empty.", nameof(targetColumns));
            }

            targets = new int[targetColumns.Count];
            for (int i = 0; i < targets.Length; i++)
            {
                targets[i] = Resolve(targetColumns[i], width, $"targetColumns[{i}]", nameof(targetColumns));
                if (Array.IndexOf(targets, targets[i], 0, i) is int first and >= 0)
                {
                    throw new ArgumentException($"targetColumns[{i}] names column {targets[i]} again (already targetColumns[{first}]); each target column may appear once.", nameof(targetColumns));
                }
            }
        }

        int[] features;
        if (options.FeatureColumns is null)
        {
            features = Enumerable.Range(0, width).Where(c => Array.IndexOf(targets, c) < 0).ToArray();
        }
        else
        {
            features = new int[options.FeatureColumns.Count];
            for (int i = 0; i < features.Length; i++)
            {
                features[i] = Resolve(options.FeatureColumns[i], width, $"options.FeatureColumns[{i}]", nameof(options));
                if (Array.IndexOf(targets, features[i]) is int target and >= 0)
                {
                    string which = targetColumns is null
                        ? $"the label column (options.LabelColumn = {options.LabelColumn})"
                        : $"a target column (targetColumns[{target}] = {targetColumns[target]})";
                    throw new ArgumentException($"options.FeatureColumns[{i}] is column {options.FeatureColumns[i]}, which is also {which}; a column cannot be both.", nameof(options));
                }

                if (Array.IndexOf(features, features[i], 0, i) is int first and >= 0)
                {
                    throw new ArgumentException($"options.FeatureColumns[{i}] names column {features[i]} again (already options.FeatureColumns[{first}]); each feature column may appear once.", nameof(options));
                }
            }
        }

        if (features.Length == 0)
        {
            throw new ArgumentException($"The data has {width} column(s) and no feature column is left besides the {(targetColumns is null ? "label column" : "target columns")}; at least one feature column is needed.", nameof(options));
        }

        return (features, targets);
    }

    /// <summary>Parses a finite number in the invariant culture.</summary>
    /// <returns>Null on success, else what is wrong with the text, to follow it in a message ("is empty; …").</returns>
    internal static string? ParseNumber<T>(ReadOnlySpan<char> text, out T value)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (text.Length == 0)
        {
            value = T.Zero;
            return "is empty; missing values are not supported";
        }

        if (!T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return "is not a number (expected the invariant culture's form, such as 12.5 or -3e-2)";
        }

        if (!T.IsFinite(value))
        {
            bool overflow = !T.IsNaN(value) && !text.Contains("inf", StringComparison.OrdinalIgnoreCase) && !text.Contains('∞');
            return overflow ? $"is too large for {typeof(T).Name}" : "is not a finite number";
        }

        return null;
    }

    /// <summary>Parses a class label: a whole number from 0 to int.MaxValue − 1 (the largest label + 1 is the class
    /// count, so int.MaxValue itself cannot be a label).</summary>
    internal static bool TryParseLabel(ReadOnlySpan<char> text, out int label) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out label) && label is >= 0 and < int.MaxValue;

    /// <summary>What a label that is not one says after its text.</summary>
    internal const string NotALabel = "is not a class label (a whole number from 0 to 2147483646, such as 3)";

    /// <summary>The error for a field's value: the source, line, column, the column's name when there is a header, and the text.</summary>
    internal static InvalidDataException BadField(string sourceName, int line, int column, string[]? header, ReadOnlySpan<char> text, string problem)
    {
        string name = header is null ? "" : $" (\"{header[column]}\")";
        return new InvalidDataException($"{sourceName}, line {line}, column {column + 1}{name}: \"{text}\" {problem}.");
    }

    private static int Resolve(int column, int width, string name, string paramName)
    {
        int resolved = column < 0 ? width + column : column;
        if (resolved < 0 || resolved >= width)
        {
            throw new ArgumentOutOfRangeException(paramName, column,
                $"{name} must be in [{-width}, {width - 1}] (0-based, negative from the end) because the data has {width} columns, but it is {column}.");
        }

        return resolved;
    }

    private static Table ReadTable(Stream stream, string sourceName, bool hasHeader, char delimiter)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        CsvRecordReader.CheckDelimiter(delimiter);
        using var records = new CsvRecordReader(Decompression.OpenMaybeGzip(stream, leaveOpen: true, sourceName), sourceName, delimiter, hasHeader);
        var table = new Table(sourceName);
        while (records.Read())
        {
            var fields = new string[records.Width];
            for (int c = 0; c < fields.Length; c++)
            {
                fields[c] = records[c].ToString();
            }

            table.Rows.Add(new Row(records.LineNumber, fields));
        }

        if (table.Rows.Count == 0)
        {
            throw records.NoDataLines();
        }

        table.Width = records.Width;
        table.Header = records.Header;
        return table;
    }

    private sealed record Row(int Line, string[] Fields);

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
                    if (ParseNumber(Rows[r].Fields[columns[c]], out values[r * columns.Length + c]) is string problem)
                    {
                        throw Bad(r, columns[c], problem);
                    }
                }
            }

            return Matrix<T>.Build.DenseOfRowMajor(Rows.Count, columns.Length, values);
        }

        public int ParseLabel(int row, int column) =>
            TryParseLabel(Rows[row].Fields[column], out int label) ? label : throw Bad(row, column, NotALabel);

        private InvalidDataException Bad(int row, int column, string problem) =>
            BadField(sourceName, Rows[row].Line, column, Header, Rows[row].Fields[column], problem);
    }
}
