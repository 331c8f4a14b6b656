using System.Buffers;
using System.Globalization;
using System.Numerics;

namespace Backprop.Data;

/// <summary>What a <see cref="TablePredictor{T}"/> predicts for one raw row: a class name with every class's
/// probability, or the regression outputs.</summary>
/// <remarks>Thread safety: immutable.</remarks>
public sealed class TablePrediction
{
    internal TablePrediction(string? className, int classIndex, double[] probabilities, double[] values) =>
        (ClassName, ClassIndex, Probabilities, Values) = (className, classIndex, probabilities, values);

    /// <summary>The predicted class's name (the most probable; the first of equals); null for a regression.</summary>
    public string? ClassName { get; }

    /// <summary>The predicted class's index into <see cref="TablePipeline.ClassNames"/>; −1 for a regression.</summary>
    public int ClassIndex { get; }

    /// <summary>Every class's probability, in the order of <see cref="TablePipeline.ClassNames"/>; empty for a regression.</summary>
    public IReadOnlyList<double> Probabilities { get; }

    /// <summary>The network's raw outputs, in double.</summary>
    public IReadOnlyList<double> Values { get; }

    /// <summary>Returns the class and its probability, or the values.</summary>
    /// <returns>For example <c>Gentoo (p = 0.9981)</c>.</returns>
    public override string ToString() => ClassName is null
        ? string.Join(", ", Values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))
        : string.Create(CultureInfo.InvariantCulture, $"{ClassName} (p = {Probabilities[ClassIndex]:0.0000})");
}

/// <summary>
/// A network with the <see cref="TablePipeline"/> it was trained behind, saved and loaded as one model file: it takes a
/// raw row (a CSV line, field texts, or column name → text) and returns class names with probabilities, or values.
/// </summary>
/// <remarks>
/// <para>A raw row is read as the training file was: the same delimiter, quotes, trimming and missing-value texts; numbers
/// in the invariant culture. Given as a CSV line or a list of texts, it has either every column of the training file in
/// file order (label and ignored columns included: their texts are not read) or just the feature columns in order.
/// Given as a dictionary, each feature column is looked up by name; an absent name is a missing value.</para>
/// <para>Missing values and unknown categories follow each column's policy (<see cref="PipelineColumn.Missing"/>): the
/// training fill value, or an <see cref="ArgumentException"/> naming the column and value under
/// <see cref="MissingValuePolicy.Error"/>. An unknown category is treated as a missing value.</para>
/// <para>Probabilities: a softmax output layer's outputs; otherwise the softmax of the outputs (logits); for a one-output
/// binary classifier, p(second class) is the sigmoid's output (or the sigmoid of a logit) and p(first) = 1 − p.</para>
/// <para>Predictions equal, bit for bit, those of the network on <see cref="TablePipeline.Transform{T}"/> of the same
/// rows, before and after saving and loading.</para>
/// <para>Thread safety: <c>Predict</c> may be called from any number of threads at once (it uses pooled buffers and
/// allocates only its result); nothing may train the network meanwhile.</para>
/// </remarks>
/// <typeparam name="T">The element type of the network.</typeparam>
public sealed class TablePredictor<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pairs a trained network with the pipeline that makes its inputs.</summary>
    /// <param name="network">The network; its input size must be the pipeline's feature count.</param>
    /// <param name="pipeline">The fitted pipeline.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The network's input size is not the pipeline's feature count, or its output
    /// size does not fit the class count (one output per class, or one output for two classes).</exception>
    public TablePredictor(Network<T> network, TablePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (network.InputSize != pipeline.FeatureCount)
        {
            throw new ArgumentException($"network takes {network.InputSize} inputs, but pipeline makes {pipeline.FeatureCount} features ({string.Join(", ", pipeline.FeatureNames.Take(8))}{(pipeline.FeatureCount > 8 ? ", …" : "")}).", nameof(network));
        }

        int classes = pipeline.ClassNames.Count;
        if (classes > 0 && network.OutputSize != classes && !(classes == 2 && network.OutputSize == 1))
        {
            throw new ArgumentException($"network has {network.OutputSize} outputs, but pipeline has {classes} classes; a classifier needs one output per class (or one output for two classes).", nameof(network));
        }

        Network = network;
        Pipeline = pipeline;
    }

    /// <summary>The network.</summary>
    public Network<T> Network { get; }

    /// <summary>The pipeline.</summary>
    public TablePipeline Pipeline { get; }

    /// <summary>Saves the network and the pipeline into one model file, atomically (format version 2 with a table pipeline, docs/model-format.md).</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="NotSupportedException">A layer cannot be saved, or a list of the pipeline (a vocabulary) is too long for the format.</exception>
    /// <exception cref="IOException">The file cannot be written; the previous file, if any, is left as it was.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelFile.WriteAtomically(ModelFile.Encode(Network, trainer: null, Pipeline.ToSettings()), path, p => new FileStream(p, FileMode.CreateNew, FileAccess.Write));
    }

    /// <summary>Writes the network and the pipeline to a stream.</summary>
    /// <param name="stream">A writable stream; not closed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="NotSupportedException">A layer cannot be saved, or a list of the pipeline is too long for the format.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ModelFile.Encode(Network, trainer: null, Pipeline.ToSettings()));
    }

    /// <summary>Loads a network and its pipeline from a model file saved by <see cref="Save(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file for <typeparamref name="T"/>, or holds no table pipeline.</exception>
    public static TablePredictor<T> Load(string path) => Load(path, ModelRegistry.BuiltIns);

    /// <summary>Loads a network (with layers of your own, registered in <paramref name="registry"/>) and its pipeline.</summary>
    /// <param name="path">The file.</param>
    /// <param name="registry">The registry of layer, activation and initializer types.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file for <typeparamref name="T"/>, or holds no table pipeline.</exception>
    public static TablePredictor<T> Load(string path, ModelRegistry registry)
    {
        using var stream = ModelFile.OpenRead(path);
        return Load(stream, registry);
    }

    /// <summary>Loads a network and its pipeline from a stream.</summary>
    /// <param name="stream">A readable stream at the file's start; read to its end, not closed.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid model file for <typeparamref name="T"/>, or holds no table pipeline.</exception>
    public static TablePredictor<T> Load(Stream stream) => Load(stream, ModelRegistry.BuiltIns);

    /// <summary>Loads a network (with types registered in <paramref name="registry"/>) and its pipeline from a stream.</summary>
    /// <param name="stream">A readable stream at the file's start; read to its end, not closed.</param>
    /// <param name="registry">The registry of layer, activation and initializer types.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid model file for <typeparamref name="T"/>, or holds no table pipeline.</exception>
    public static TablePredictor<T> Load(Stream stream, ModelRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(registry);
        var (network, _) = ModelFile.Decode<T>(ModelFile.ReadAll(stream), wantTraining: false, registry, out var settings);
        if (settings is null)
        {
            throw new InvalidDataException("The model file holds a network without a table pipeline: it was saved with ModelFile.Save, not TablePredictor.Save; load it with ModelFile.Load.");
        }

        var pipeline = TablePipeline.FromSettings(settings);
        try
        {
            return new TablePredictor<T>(network, pipeline);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The model file's network and table pipeline do not fit together: {e.Message}", e);
        }
    }

    /// <summary>Encodes the pipeline's numeric scaling and the network as one ONNX model: a Sub and a Div node
    /// ((x − center) / scale, per column) before the network's nodes (see <see cref="OnnxExporter"/>). Its input is one
    /// float per feature column, in <see cref="TablePipeline.Columns"/> order, every value present: imputation is not
    /// exported.</summary>
    /// <returns>The model's bytes.</returns>
    /// <exception cref="NotSupportedException">A column is categorical (text categories need string inputs, which this
    /// exporter does not write) or has a missing-value indicator; the message names the column. Or the network cannot be
    /// exported (see <see cref="OnnxExporter.ToOnnxBytes{T}(Network{T})"/>).</exception>
    /// <exception cref="ArgumentException">A weight, center or scale is outside the float32 range.</exception>
    public byte[] ToOnnxBytes()
    {
        foreach (var column in Pipeline.Columns)
        {
            if (column.Kind == ColumnKind.Categorical)
            {
                throw new NotSupportedException($"The column \"{column.Name}\" holds text categories, which the ONNX export cannot encode (it writes float inputs only); export the network alone (Network.ToOnnxBytes) and one-hot encode that column before it, or read the column as numbers.");
            }

            if (column.AddMissingIndicator)
            {
                throw new NotSupportedException($"The column \"{column.Name}\" has a missing-value indicator, which the ONNX export cannot compute (its inputs have no missing values); fit the pipeline without ColumnOptions.AddMissingIndicator to export it.");
            }
        }

        var center = Pipeline.Columns.Select(c => c.Center).ToArray();
        var scale = Pipeline.Columns.Select(c => c.Scale).ToArray();
        var model = OnnxGraphBuilder.Build(Network, center, scale);
        using var stream = new MemoryStream();
        model.WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Predicts from one CSV line, as in the training file (see the remarks for which columns it may have).</summary>
    /// <param name="line">The line: fields separated by the training file's delimiter, optionally quoted.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="line"/> is null.</exception>
    /// <exception cref="ArgumentException">The line has a malformed quote or the wrong number of fields, a value is not a
    /// number in a numeric column, or a value is missing (or a category unknown) where the policy is <see cref="MissingValuePolicy.Error"/>.</exception>
    public TablePrediction Predict(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        return Predict(SplitLine(line, Pipeline.Delimiter));
    }

    /// <summary>Predicts from the texts of one row's fields (see the remarks for which columns it may have).</summary>
    /// <param name="fields">The texts; null means missing.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="fields"/> is null.</exception>
    /// <exception cref="ArgumentException">The row has the wrong number of fields, a value is not a number in a numeric
    /// column, or a value is missing (or a category unknown) where the policy is <see cref="MissingValuePolicy.Error"/>.</exception>
    public TablePrediction Predict(IReadOnlyList<string?> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var columns = Pipeline.Columns;
        bool whole = fields.Count == Pipeline.ColumnNames.Count;
        if (!whole && fields.Count != columns.Count)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The row has {fields.Count} fields, but the model reads rows of the training file's {Pipeline.ColumnNames.Count} columns ({string.Join(", ", Pipeline.ColumnNames)}) or of its {columns.Count} feature columns ({string.Join(", ", columns.Select(c => c.Name))})."), nameof(fields));
        }

        return Run(i => fields[whole ? columns[i].FileIndex : i]);
    }

    /// <summary>Predicts from a row given as column name → text; an absent or null value is missing.</summary>
    /// <param name="row">The texts by column name.</param>
    /// <returns>The prediction.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="row"/> is null.</exception>
    /// <exception cref="ArgumentException">A name is not a column of the training file, a value is not a number in a
    /// numeric column, or a value is missing (or a category unknown) where the policy is <see cref="MissingValuePolicy.Error"/>.</exception>
    public TablePrediction Predict(IReadOnlyDictionary<string, string?> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        foreach (var key in row.Keys)
        {
            if (!Pipeline.ColumnNames.Contains(key))
            {
                throw new ArgumentException($"row has the column \"{key}\", which the training file did not have; its columns are {string.Join(", ", Pipeline.ColumnNames.Select(n => $"\"{n}\""))}.", nameof(row));
            }
        }

        var columns = Pipeline.Columns;
        return Run(i => row.TryGetValue(columns[i].Name, out var text) ? text : null);
    }

    private TablePrediction Run(Func<int, string?> textOf)
    {
        int inputs = Network.InputSize, outputs = Network.OutputSize;
        T[] features = ArrayPool<T>.Shared.Rent(inputs);
        T[] result = ArrayPool<T>.Shared.Rent(outputs);
        try
        {
            var x = features.AsSpan(0, inputs);
            var columns = Pipeline.Columns;
            for (int i = 0; i < columns.Count; i++)
            {
                var column = columns[i];
                ReadOnlySpan<char> text = (textOf(i) ?? "").AsSpan().Trim(" \t");
                bool missing = Pipeline.Values.IsMissing(text);
                double number = 0;
                string? problem = null;
                if (!missing && column.Kind == ColumnKind.Numeric)
                {
                    problem = Csv.ParseNumber(text, out number);
                }

                problem ??= column.Fill(missing, number, text, x);
                if (problem is not null)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The row's column {column.FileIndex + 1} (\"{column.Name}\"): \"{text}\" {problem}."));
                }
            }

            var y = result.AsSpan(0, outputs);
            Network.Predict(x, y);
            return Interpret(y);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(features);
            ArrayPool<T>.Shared.Return(result);
        }
    }

    private TablePrediction Interpret(ReadOnlySpan<T> y)
    {
        var values = new double[y.Length];
        for (int j = 0; j < y.Length; j++)
        {
            values[j] = double.CreateChecked(y[j]);
        }

        var names = Pipeline.ClassNames;
        if (names.Count == 0)
        {
            return new TablePrediction(null, -1, [], values);
        }

        var activation = Network.Layers[^1].Activation;
        double[] probabilities;
        if (y.Length == 1)
        {
            double p = activation is Sigmoid ? values[0] : 1 / (1 + Math.Exp(-values[0]));
            probabilities = [1 - p, p];
        }
        else if (activation is Softmax)
        {
            probabilities = (double[])values.Clone();
        }
        else
        {
            double max = values.Max(), sum = 0;
            probabilities = values.Select(v => Math.Exp(v - max)).ToArray();
            foreach (double e in probabilities)
            {
                sum += e;
            }

            for (int j = 0; j < probabilities.Length; j++)
            {
                probabilities[j] /= sum;
            }
        }

        int best = 0;
        for (int j = 1; j < probabilities.Length; j++)
        {
            if (probabilities[j] > probabilities[best])
            {
                best = j;
            }
        }

        return new TablePrediction(names[best], best, probabilities, values);
    }

    /// <summary>Splits one CSV line into trimmed fields, honouring double quotes ("" for a quote), as the table reader does.</summary>
    internal static string[] SplitLine(string line, char delimiter)
    {
        line = line.TrimEnd('\r', '\n');
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        int i = 0;
        while (true)
        {
            while (i < line.Length && line[i] is ' ' or '\t' && line[i] != delimiter)
            {
                i++;
            }

            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                int open = i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The row's quote opened at character {open + 1} is not closed."), nameof(line));
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    field.Append(line[i++]);
                }

                while (i < line.Length && line[i] != delimiter)
                {
                    if (line[i] is not (' ' or '\t'))
                    {
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The row has text after the closing quote at character {i + 1}."), nameof(line));
                    }

                    i++;
                }

                fields.Add(field.ToString());
            }
            else
            {
                int end = line.IndexOf(delimiter, i);
                end = end < 0 ? line.Length : end;
                fields.Add(line[i..end].TrimEnd(" \t".ToCharArray()));
                i = end;
            }

            if (i >= line.Length)
            {
                return fields.ToArray();
            }

            i++;
        }
    }
}
