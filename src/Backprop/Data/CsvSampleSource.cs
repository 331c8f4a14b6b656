using System.Numerics;

namespace Backprop.Data;

/// <summary>
/// A CSV file read as a <see cref="ISampleSource{T}"/>: one line at a time, never the whole file, for training on data
/// that does not fit in memory. Classification sources turn a label column into one-hot targets; regression sources
/// take one or more target columns as they are.
/// </summary>
/// <remarks>
/// <para>The text is read as <see cref="Csv"/> reads it (invariant culture, optional header, quoted fields, blank lines
/// skipped, gzip detected from the first two bytes), with the columns chosen by <see cref="CsvOptions"/>, and every
/// problem is the same <see cref="InvalidDataException"/> naming the source, line and column, raised when the reader
/// reaches the line. A label outside [0, class count) is such a problem too.</para>
/// <para>Making the source reads the header and the first data line, to learn the number of columns; each epoch then
/// opens the data again. Reading a line allocates nothing once the reader's buffers have grown to the longest line.</para>
/// <para>Thread safety: immutable once made: <see cref="OpenReader"/> may be called from several threads at once, and
/// each reader reads its own stream, for one thread at a time. A stream factory given to the <c>Func&lt;Stream&gt;</c>
/// overloads must then be safe to call concurrently, returning a new stream each time.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class CsvSampleSource<T> : ISampleSource<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<Stream> _open;
    private readonly CsvOptions _options;
    private readonly int[] _features;
    private readonly int[] _targets;
    private readonly int _classCount;
    private readonly int _width;

    private CsvSampleSource(Func<Stream> open, string name, CsvOptions? options, int classCount, IReadOnlyList<int>? targetColumns)
    {
        Guard.SupportedElementType<T>();
        _open = open;
        Name = name;
        _options = options ?? new CsvOptions();
        _classCount = classCount;
        CsvRecordReader.CheckDelimiter(_options.Delimiter);
        string[]? header;
        using (var records = OpenRecords())
        {
            if (!records.Read())
            {
                throw records.NoDataLines();
            }

            (_width, header) = (records.Width, records.Header);
        }

        (_features, _targets) = Csv.ResolveColumns(_options, _width, targetColumns);
        FeatureNames = header is null ? null : _features.Select(c => header[c]).ToArray();
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int InputSize => _features.Length;

    /// <inheritdoc />
    public int OutputSize => _classCount > 0 ? _classCount : _targets.Length;

    /// <inheritdoc />
    public bool HasClasses => _classCount > 0;

    /// <summary>The names of the feature columns from the header, or null when the data has none.</summary>
    public IReadOnlyList<string>? FeatureNames { get; }

    /// <summary>A classification source over a file: the feature columns and an integer class label column.</summary>
    /// <param name="path">The file's path, plain or gzip-compressed.</param>
    /// <param name="classCount">The number of classes: the width of the one-hot targets and the network's output size; at least 1.</param>
    /// <param name="options">Header, delimiter and columns (<see cref="CsvOptions.LabelColumn"/> is the label); the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <returns>The source; the file is opened again by every reader.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or the options name a feature column twice or the label column as a feature.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is less than 1, or a column index in <paramref name="options"/> is outside the file's columns.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file has no data lines, or its first lines are malformed.</exception>
    public static CsvSampleSource<T> Classification(string path, int classCount, CsvOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Classification(() => File.OpenRead(path), path, classCount, options);
    }

    /// <summary>A classification source over streams, such as a network download or an archive entry.</summary>
    /// <param name="open">Opens the data from its start; called once now and once per reader. The source disposes every stream it opens.</param>
    /// <param name="sourceName">The name of the data in error messages.</param>
    /// <param name="classCount">The number of classes: the width of the one-hot targets; at least 1.</param>
    /// <param name="options">Header, delimiter and columns; the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="open"/> or <paramref name="sourceName"/> is null, or <paramref name="open"/> returned null.</exception>
    /// <exception cref="ArgumentException">The options name a feature column twice or the label column as a feature.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is less than 1, or a column index in <paramref name="options"/> is outside the data's columns.</exception>
    /// <exception cref="InvalidDataException">The data has no data lines, or its first lines are malformed.</exception>
    public static CsvSampleSource<T> Classification(Func<Stream> open, string sourceName, int classCount, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(sourceName);
        Guard.Positive(classCount, nameof(classCount));
        return new CsvSampleSource<T>(open, sourceName, options, classCount, targetColumns: null);
    }

    /// <summary>A regression source over a file: the feature columns and one or more numeric target columns.</summary>
    /// <param name="path">The file's path, plain or gzip-compressed.</param>
    /// <param name="options">Header, delimiter and feature columns; the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <param name="targetColumns">The target columns, in the order of the network's outputs (0-based, negative from the
    /// end); null for the single column <see cref="CsvOptions.LabelColumn"/>, as <see cref="Csv.ReadRegression{T}(string, CsvOptions?)"/> reads.</param>
    /// <returns>The source; the file is opened again by every reader.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, <paramref name="targetColumns"/> is empty or names a column twice, or the options name a feature column twice or a target column as a feature.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index is outside the file's columns.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file has no data lines, or its first lines are malformed.</exception>
    public static CsvSampleSource<T> Regression(string path, CsvOptions? options = null, IReadOnlyList<int>? targetColumns = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Regression(() => File.OpenRead(path), path, options, targetColumns);
    }

    /// <summary>A regression source over streams.</summary>
    /// <param name="open">Opens the data from its start; called once now and once per reader. The source disposes every stream it opens.</param>
    /// <param name="sourceName">The name of the data in error messages.</param>
    /// <param name="options">Header, delimiter and feature columns; the defaults of <see cref="CsvOptions"/> when null.</param>
    /// <param name="targetColumns">The target columns; null for the single column <see cref="CsvOptions.LabelColumn"/>.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="open"/> or <paramref name="sourceName"/> is null, or <paramref name="open"/> returned null.</exception>
    /// <exception cref="ArgumentException"><paramref name="targetColumns"/> is empty or names a column twice, or the options name a feature column twice or a target column as a feature.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column index is outside the data's columns.</exception>
    /// <exception cref="InvalidDataException">The data has no data lines, or its first lines are malformed.</exception>
    public static CsvSampleSource<T> Regression(Func<Stream> open, string sourceName, CsvOptions? options = null, IReadOnlyList<int>? targetColumns = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(sourceName);
        return new CsvSampleSource<T>(open, sourceName, options, classCount: 0, targetColumns);
    }

    /// <inheritdoc />
    public ISampleReader<T> OpenReader() => new Reader(this, OpenRecords());

    private CsvRecordReader OpenRecords()
    {
        var stream = _open() ?? throw new ArgumentNullException("open", $"The stream factory of {Name} returned null; it must open the data from its start.");
        try
        {
            return new CsvRecordReader(Decompression.OpenMaybeGzip(stream, sourceName: Name), Name, _options.Delimiter, _options.HasHeader);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private sealed class Reader(CsvSampleSource<T> source, CsvRecordReader records) : SampleReader<T>(source.InputSize, source.OutputSize)
    {
        protected override int ReadRows(Span<T> inputs, Span<T> targets, Span<int> classes, int rows)
        {
            int[] features = source._features, targetColumns = source._targets;
            int outputs = source.OutputSize;
            int r = 0;
            for (; r < rows && records.Read(); r++)
            {
                if (records.Width != source._width)
                {
                    throw new InvalidDataException($"{source.Name}, line {records.LineNumber}: the data has {records.Width} fields per line, but it had {source._width} when the source was made; it changed since.");
                }

                var x = inputs.Slice(r * features.Length, features.Length);
                for (int c = 0; c < features.Length; c++)
                {
                    Parse(features[c], out x[c]);
                }

                var y = targets.Slice(r * outputs, outputs);
                if (source._classCount == 0)
                {
                    for (int c = 0; c < targetColumns.Length; c++)
                    {
                        Parse(targetColumns[c], out y[c]);
                    }

                    continue;
                }

                int column = targetColumns[0];
                if (!Csv.TryParseLabel(records[column], out int label))
                {
                    throw records.BadField(column, Csv.NotALabel);
                }

                if (label >= source._classCount)
                {
                    throw records.BadField(column, $"is not a class label in [0, {source._classCount - 1}]: the source has {source._classCount} classes");
                }

                y.Clear();
                y[label] = T.One;
                if (!classes.IsEmpty)
                {
                    classes[r] = label;
                }
            }

            return r;
        }

        protected override void Release() => records.Dispose();

        private void Parse(int column, out T value)
        {
            if (Csv.ParseNumber(records[column], out value) is string problem)
            {
                throw records.BadField(column, problem);
            }
        }
    }
}
