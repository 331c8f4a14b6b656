using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Backprop;

/// <summary>A bounds-checked cursor over a model file's bytes: every size is checked against what is left before anything is allocated.</summary>
internal ref struct ModelReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ModelReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public ReadOnlySpan<byte> Bytes(int count, string what)
    {
        if (count < 0 || count > Remaining)
        {
            throw ModelFormatError.At($"The file ends inside {what}: it needs {count} more bytes but only {Remaining} are left", _position);
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    public byte Byte(string what) => Bytes(1, what)[0];

    public ushort UInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, what));

    public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, what));

    public long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, what));

    public ulong UInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what));

    public double Double(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8, what));

    /// <summary>A double that must be finite.</summary>
    public double FiniteDouble(string what)
    {
        int at = _position;
        double value = Double(what);
        if (!double.IsFinite(value))
        {
            throw ModelFormatError.At(FormattableString.Invariant($"{what} is {value}; it must be a finite number"), at);
        }

        return value;
    }

    /// <summary>An int within [min, max].</summary>
    public int Int32InRange(string what, int min, int max)
    {
        int at = _position;
        int value = Int32(what);
        if (value < min || value > max)
        {
            throw ModelFormatError.At($"{what} is {value}; it must be in [{min}, {max}]", at);
        }

        return value;
    }

    /// <summary>A short UTF-8 string: a one-byte length, then the bytes.</summary>
    public string String(string what)
    {
        int length = Byte(what + " (length)");
        int at = _position;
        var bytes = Bytes(length, what);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw ModelFormatError.At($"{what} is not valid UTF-8", at);
        }
    }

    /// <summary>A UTF-8 string of up to <paramref name="maxBytes"/> bytes: a 32-bit length, then the bytes.</summary>
    public string LongString(string what, int maxBytes)
    {
        int length = Int32InRange(what + " (length)", 0, Math.Min(maxBytes, Remaining));
        int at = _position;
        var bytes = Bytes(length, what);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw ModelFormatError.At($"{what} is not valid UTF-8", at);
        }
    }

    /// <summary>count values of the file's element type, converted to T; all must be finite.</summary>
    public T[] Values<T>(long count, int elementSize, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int at = _position;
        if (count < 0 || count * elementSize > Remaining)
        {
            throw ModelFormatError.At($"The file ends inside {what}: {count} values of {elementSize} bytes need {count * elementSize} bytes but only {Remaining} are left", at);
        }

        var bytes = Bytes((int)(count * elementSize), what);
        var values = new T[count];
        if (elementSize == 4)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4)));
            }
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8, 8)));
            }
        }

        int bad = Guard.IndexOfNonFinite<T>(values);
        if (bad >= 0)
        {
            throw ModelFormatError.At($"{what} holds a value that is not finite at index {bad}", at + (long)bad * elementSize);
        }

        return values;
    }

    public readonly void ExpectEnd(string what)
    {
        if (Remaining != 0)
        {
            throw ModelFormatError.At($"{Remaining} unexpected bytes follow {what}", _position);
        }
    }
}
