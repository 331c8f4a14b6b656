using System.Globalization;
using System.Text;

namespace Backprop;

/// <summary>
/// The binary form of a component (its registered type name and its <see cref="ComponentSettings"/>) in format version 2:
/// a count, then per value its key, a one-byte type tag and the value; nested components recursively, at most
/// <see cref="ComponentSettings.MaxDepth"/> deep. Reading checks every count and length against the bytes left before
/// allocating, and every number for finiteness.
/// </summary>
internal static class SettingsCodec
{
    internal const byte TagDouble = 1;
    internal const byte TagInt64 = 2;
    internal const byte TagBoolean = 3;
    internal const byte TagString = 4;
    internal const byte TagDoubles = 5;
    internal const byte TagInt64s = 6;
    internal const byte TagComponent = 7;
    internal const byte TagComponents = 8;

    /// <summary>The most values one component's settings may hold.</summary>
    internal const int MaxValues = 4096;

    /// <summary>The longest string value, in UTF-8 bytes.</summary>
    internal const int MaxStringBytes = 1 << 16;

    public static void WriteComponent(ModelWriter writer, ComponentDescription component, int depth)
    {
        writer.String(component.TypeName);
        WriteSettings(writer, component.Settings, depth);
    }

    public static void WriteSettings(ModelWriter writer, ComponentSettings settings, int depth)
    {
        if (depth > ComponentSettings.MaxDepth)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"Components are nested more than {ComponentSettings.MaxDepth} deep, which the model format cannot store."));
        }

        if (settings.Count > MaxValues)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"A component's settings hold {settings.Count} values; the model format stores at most {MaxValues}."));
        }

        writer.Int32(settings.Count);
        foreach (var (key, value) in settings.Entries)
        {
            if (Encoding.UTF8.GetByteCount(key) > byte.MaxValue)
            {
                throw new NotSupportedException($"The setting key '{key}' is longer than the model format's {byte.MaxValue} bytes.");
            }

            writer.String(key);
            switch (value)
            {
                case double d:
                    writer.Byte(TagDouble);
                    writer.Double(d);
                    break;
                case long l:
                    writer.Byte(TagInt64);
                    writer.Int64(l);
                    break;
                case bool b:
                    writer.Byte(TagBoolean);
                    writer.Byte(b ? (byte)1 : (byte)0);
                    break;
                case string s:
                    if (Encoding.UTF8.GetByteCount(s) > MaxStringBytes)
                    {
                        throw new NotSupportedException($"The setting '{key}' is a string longer than the model format's {MaxStringBytes} bytes.");
                    }

                    writer.Byte(TagString);
                    writer.LongString(s);
                    break;
                case double[] doubles:
                    writer.Byte(TagDoubles);
                    writer.Int32(doubles.Length);
                    foreach (double d in doubles)
                    {
                        writer.Double(d);
                    }

                    break;
                case long[] longs:
                    writer.Byte(TagInt64s);
                    writer.Int32(longs.Length);
                    foreach (long l in longs)
                    {
                        writer.Int64(l);
                    }

                    break;
                case ComponentDescription component:
                    writer.Byte(TagComponent);
                    WriteComponent(writer, component, depth + 1);
                    break;
                case ComponentDescription[] components:
                    writer.Byte(TagComponents);
                    writer.Int32(components.Length);
                    foreach (var component in components)
                    {
                        WriteComponent(writer, component, depth + 1);
                    }

                    break;
                default:
                    throw new NotSupportedException($"The setting '{key}' holds a {value.GetType().Name}, which the model format cannot store.");
            }
        }
    }

    public static ComponentDescription ReadComponent(ref ModelReader reader, string what, int depth)
    {
        int at = reader.Position;
        string name = reader.String(what + "'s type name");
        try
        {
            ModelRegistry.CheckTypeName(name, "typeName");
        }
        catch (ArgumentException)
        {
            throw ModelFormatError.At($"{what}'s type name \"{name}\" is not a valid name (1 to 128 ASCII letters, digits, '_', '.', '-' or ':')", at);
        }

        return new ComponentDescription(name, ReadSettings(ref reader, $"{what} ('{name}')", depth));
    }

    public static ComponentSettings ReadSettings(ref ModelReader reader, string what, int depth)
    {
        if (depth > ComponentSettings.MaxDepth)
        {
            throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture,
                $"{what} is nested more than {ComponentSettings.MaxDepth} components deep"), reader.Position);
        }

        // Each value takes at least 3 bytes (an empty key's length, a tag, a boolean), so a count is checked against that.
        int count = reader.Int32InRange(what + "'s settings count", 0, Math.Min(MaxValues, reader.Remaining / 3));
        var settings = new ComponentSettings();
        for (int i = 0; i < count; i++)
        {
            int keyAt = reader.Position;
            string key = reader.String(string.Create(CultureInfo.InvariantCulture, $"{what}'s setting {i}'s key"));
            string where = $"{what}'s setting '{key}'";
            int tagAt = reader.Position;
            byte tag = reader.Byte(where + "'s type");
            object value = tag switch
            {
                TagDouble => reader.FiniteDouble(where),
                TagInt64 => reader.Int64(where),
                TagBoolean => ReadBoolean(ref reader, where),
                TagString => reader.LongString(where, MaxStringBytes),
                TagDoubles => ReadDoubles(ref reader, where),
                TagInt64s => ReadInt64s(ref reader, where),
                TagComponent => ReadComponent(ref reader, where, depth + 1),
                TagComponents => ReadComponents(ref reader, where, depth + 1),
                _ => throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"{where} has the unknown type tag {tag}"), tagAt),
            };

            if (key.Length == 0 || settings.Contains(key))
            {
                throw ModelFormatError.At($"{what} has {(key.Length == 0 ? "an empty setting key" : $"the setting '{key}' twice")}", keyAt);
            }

            settings.AddRaw(key, value);
        }

        return settings;
    }

    private static bool ReadBoolean(ref ModelReader reader, string what)
    {
        int at = reader.Position;
        return reader.Byte(what) switch
        {
            0 => false,
            1 => true,
            byte other => throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"{what} is a yes/no value of {other}; it must be 0 or 1"), at),
        };
    }

    private static double[] ReadDoubles(ref ModelReader reader, string what)
    {
        int count = reader.Int32InRange(what + "'s length", 0, reader.Remaining / 8);
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.FiniteDouble(string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]"));
        }

        return values;
    }

    private static long[] ReadInt64s(ref ModelReader reader, string what)
    {
        int count = reader.Int32InRange(what + "'s length", 0, reader.Remaining / 8);
        var values = new long[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.Int64(what);
        }

        return values;
    }

    private static ComponentDescription[] ReadComponents(ref ModelReader reader, string what, int depth)
    {
        // A component takes at least 6 bytes: a one-byte name length, a name byte, a four-byte settings count.
        int count = reader.Int32InRange(what + "'s length", 0, reader.Remaining / 6);
        var components = new ComponentDescription[count];
        for (int i = 0; i < count; i++)
        {
            components[i] = ReadComponent(ref reader, string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]"), depth);
        }

        return components;
    }
}
