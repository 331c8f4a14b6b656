using System.Globalization;
using System.Text;

namespace Backprop.Data;

/// <content>The pipeline as the settings block of a model file (docs/model-format.md, "Table pipeline").</content>
public sealed partial class TablePipeline
{
    private const int MaxStringBytes = 65_536;

    /// <summary>The pipeline as settings: every list as arrays, every list of texts packed as their lengths and their concatenation.</summary>
    /// <exception cref="NotSupportedException">A list of texts (a vocabulary, say) is longer than a setting can hold.</exception>
    internal ComponentSettings ToSettings()
    {
        var s = new ComponentSettings();
        s.Set("format", 1);
        Pack(s, "columns", ColumnNames);
        s.Set("label", LabelName ?? "").Set("label_index", LabelIndex);
        s.Set("target", TargetName ?? "").Set("target_index", TargetIndex);
        Pack(s, "classes", _classNames);
        Pack(s, "missing_values", Values.MissingValues);
        s.Set("delimiter", (int)Delimiter);
        Pack(s, "feature_columns", _columns.Select(c => c.Name).ToArray());
        s.Set("file_index", _columns.Select(c => (long)c.FileIndex).ToArray());
        s.Set("kind", _columns.Select(c => (long)c.Kind).ToArray());
        s.Set("missing", _columns.Select(c => (long)c.Missing).ToArray());
        s.Set("indicator", _columns.Select(c => c.AddMissingIndicator ? 1L : 0L).ToArray());
        s.Set("fill", _columns.Select(c => double.IsNaN(c.FillNumber) ? 0 : c.FillNumber).ToArray());
        Pack(s, "fill_category", _columns.Select(c => c.FillCategory ?? "").ToArray());
        s.Set("center", _columns.Select(c => c.Center).ToArray());
        s.Set("scale", _columns.Select(c => c.Scale).ToArray());
        s.Set("category_counts", _columns.Select(c => (long)c.Categories.Count).ToArray());
        Pack(s, "categories", _columns.SelectMany(c => c.Categories).ToArray());
        Pack(s, "metadata_keys", Metadata.Keys.ToArray());
        Pack(s, "metadata_values", Metadata.Values.ToArray());
        return s;
    }

    private static void Pack(ComponentSettings settings, string key, IReadOnlyList<string> texts)
    {
        string joined = string.Concat(texts);
        if (Encoding.UTF8.GetByteCount(joined) > MaxStringBytes)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"The pipeline's {key.Replace('_', ' ')} ({texts.Count} texts) take {Encoding.UTF8.GetByteCount(joined)} bytes of UTF-8, more than a model file setting holds ({MaxStringBytes}): the pipeline cannot be saved."));
        }

        settings.Set(key + "_lengths", texts.Select(t => (long)t.Length).ToArray()).Set(key, joined);
    }

    /// <summary>Recreates a pipeline from its settings, checking every count and value.</summary>
    /// <exception cref="InvalidDataException">The settings are not a valid pipeline.</exception>
    internal static TablePipeline FromSettings(ComponentSettings s)
    {
        try
        {
            if (s.GetInt32("format") != 1)
            {
                throw Bad($"it has pipeline format {s.GetInt64("format")}, but this library reads format 1");
            }

            var columnNames = Unpack(s, "columns");
            int width = columnNames.Length;
            string label = s.GetString("label"), target = s.GetString("target");
            int labelIndex = s.GetInt32("label_index"), targetIndex = s.GetInt32("target_index");
            if (labelIndex < -1 || labelIndex >= width || targetIndex < -1 || targetIndex >= width)
            {
                throw Bad("the label or target index is outside the columns");
            }

            var classes = Unpack(s, "classes");
            var missingValues = Unpack(s, "missing_values");
            int delimiter = s.GetInt32("delimiter");
            if (delimiter is < 1 or > char.MaxValue or '"' or '\r' or '\n')
            {
                throw Bad(string.Create(CultureInfo.InvariantCulture, $"the delimiter U+{delimiter:X4} cannot separate fields"));
            }

            var names = Unpack(s, "feature_columns");
            int count = names.Length;
            var fileIndex = Exactly(s.GetInt64s("file_index"), count, "file_index");
            var kind = Exactly(s.GetInt64s("kind"), count, "kind");
            var missing = Exactly(s.GetInt64s("missing"), count, "missing");
            var indicator = Exactly(s.GetInt64s("indicator"), count, "indicator");
            var fill = Exactly(s.GetDoubles("fill"), count, "fill");
            var fillCategory = Exactly(Unpack(s, "fill_category"), count, "fill_category");
            var center = Exactly(s.GetDoubles("center"), count, "center");
            var scale = Exactly(s.GetDoubles("scale"), count, "scale");
            var categoryCounts = Exactly(s.GetInt64s("category_counts"), count, "category_counts");
            var categories = Unpack(s, "categories");
            if (categoryCounts.Any(n => n < 0) || categoryCounts.Sum() != categories.Length)
            {
                throw Bad("the category counts do not add up to the categories stored");
            }

            var columns = new PipelineColumn[count];
            int feature = 0, nextCategory = 0;
            for (int c = 0; c < count; c++)
            {
                var columnKind = (ColumnKind)kind[c];
                var policy = (MissingValuePolicy)missing[c];
                if (columnKind is not (ColumnKind.Numeric or ColumnKind.Categorical) || !Enum.IsDefined(policy) || fileIndex[c] < 0 || fileIndex[c] >= width
                    || indicator[c] is not (0 or 1) || !(scale[c] > 0))
                {
                    throw Bad(string.Create(CultureInfo.InvariantCulture, $"feature column {c} (\"{names[c]}\") has an invalid kind, policy, place, indicator or scale"));
                }

                var own = categories[nextCategory..(nextCategory + (int)categoryCounts[c])];
                nextCategory += own.Length;
                bool numeric = columnKind == ColumnKind.Numeric;
                bool imputes = policy != MissingValuePolicy.Error;
                if (numeric ? own.Length != 0 : own.Length == 0 || (imputes && !own.Contains(fillCategory[c], StringComparer.Ordinal)) || own.Distinct(StringComparer.Ordinal).Count() != own.Length)
                {
                    throw Bad(string.Create(CultureInfo.InvariantCulture, $"feature column {c} (\"{names[c]}\") has an inconsistent vocabulary"));
                }

                columns[c] = new PipelineColumn(names[c], (int)fileIndex[c], columnKind, policy, indicator[c] == 1,
                    numeric && imputes ? fill[c] : double.NaN, !numeric && imputes ? fillCategory[c] : null, center[c], scale[c], own, feature);
                feature += columns[c].FeatureCount;
            }

            var pipeline = new TablePipeline(columnNames, columns, labelIndex < 0 ? null : label, labelIndex, targetIndex < 0 ? null : target, targetIndex,
                classes, new TableValues(missingValues), (char)delimiter);
            var keys = Unpack(s, "metadata_keys");
            var values = Exactly(Unpack(s, "metadata_values"), keys.Length, "metadata_values");
            for (int i = 0; i < keys.Length; i++)
            {
                if (!pipeline.Metadata.TryAdd(keys[i], values[i]))
                {
                    throw Bad($"the metadata key \"{keys[i]}\" appears twice");
                }
            }

            return pipeline;
        }
        catch (ArgumentException e)
        {
            throw Bad(e.Message.TrimEnd('.'));
        }
        catch (OverflowException)
        {
            throw Bad("a count or length is out of range");
        }
    }

    private static InvalidDataException Bad(string problem) => new($"The table pipeline is invalid: {problem}.");

    private static TItem[] Exactly<TItem>(TItem[] values, int count, string key) =>
        values.Length == count ? values : throw Bad(string.Create(CultureInfo.InvariantCulture, $"'{key}' has {values.Length} entries, but there are {count}"));

    private static string[] Unpack(ComponentSettings s, string key)
    {
        var lengths = s.GetInt64s(key + "_lengths");
        string joined = s.GetString(key);
        if (lengths.Any(n => n < 0) || lengths.Sum() != joined.Length)
        {
            throw Bad($"the lengths of '{key}' do not add up to its text");
        }

        var texts = new string[lengths.Length];
        int at = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = joined.Substring(at, (int)lengths[i]);
            at += (int)lengths[i];
        }

        return texts;
    }
}
