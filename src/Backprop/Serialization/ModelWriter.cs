using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Backprop;

/// <summary>Writes the little-endian fields of a model file into a growing buffer.</summary>
internal sealed class ModelWriter
{
    private readonly MemoryStream _buffer = new();

    public void Bytes(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void Byte(byte value) => _buffer.WriteByte(value);

    public void UInt16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        _buffer.Write(b);
    }

    public void Int32(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        _buffer.Write(b);
    }

    public void Int64(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        _buffer.Write(b);
    }

    public void UInt64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _buffer.Write(b);
    }

    public void Double(double value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(b, value);
        _buffer.Write(b);
    }

    public void String(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > byte.MaxValue)
        {
            throw new ArgumentException($"The name '{value}' is longer than the model format's {byte.MaxValue} bytes.", nameof(value));
        }

        Byte((byte)bytes.Length);
        Bytes(bytes);
    }

    public void LongString(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Int32(bytes.Length);
        Bytes(bytes);
    }

    public void Values<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<byte> b = stackalloc byte[8];
        foreach (T value in values)
        {
            if (typeof(T) == typeof(float))
            {
                BinaryPrimitives.WriteSingleLittleEndian(b, float.CreateTruncating(value));
                _buffer.Write(b[..4]);
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(b, double.CreateTruncating(value));
                _buffer.Write(b);
            }
        }
    }

    public byte[] ToArray() => _buffer.ToArray();
}
