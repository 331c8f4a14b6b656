using System.Buffers.Binary;
using System.Text;

namespace Backprop;

/// <summary>
/// One protocol-buffers message under construction, written in the protobuf binary wire format: just the subset the
/// ONNX exporter needs (varints, 32-bit floats, length-delimited strings, bytes and nested messages).
/// </summary>
/// <remarks>
/// <para>Wire format (https://protobuf.dev/programming-guides/encoding/): each field is a key, the varint
/// (number &lt;&lt; 3) | wire type, followed by its value: wire type 0 a varint (negative int64 values as ten bytes of
/// two's complement), 5 four little-endian bytes, 2 a varint length and that many bytes. A nested message is a
/// length-delimited field holding the message's own encoding.</para>
/// <para>Fields are kept (not encoded) until <see cref="WriteTo"/>, and every message's size is computed before it is
/// written, so large byte fields (tensor data) are copied once, straight to the stream, at any depth.</para>
/// </remarks>
internal sealed class OnnxProtoMessage
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    private readonly List<Field> _fields = [];
    private long _size = -1;

    /// <summary>Adds a varint field (int32, int64 and enum fields).</summary>
    public OnnxProtoMessage Add(int number, long value)
    {
        _fields.Add(new Field(number, WireVarint, unchecked((ulong)value), null, null));
        return this;
    }

    /// <summary>Adds a 32-bit float field.</summary>
    public OnnxProtoMessage Add(int number, float value)
    {
        _fields.Add(new Field(number, WireFixed32, BitConverter.SingleToUInt32Bits(value), null, null));
        return this;
    }

    /// <summary>Adds a string field, UTF-8 encoded.</summary>
    public OnnxProtoMessage Add(int number, string value) => Add(number, Encoding.UTF8.GetBytes(value));

    /// <summary>Adds a bytes field; the array is referenced, not copied, until the message is written.</summary>
    public OnnxProtoMessage Add(int number, byte[] value)
    {
        _fields.Add(new Field(number, WireLengthDelimited, 0, value, null));
        return this;
    }

    /// <summary>Adds a nested message field.</summary>
    public OnnxProtoMessage Add(int number, OnnxProtoMessage value)
    {
        _fields.Add(new Field(number, WireLengthDelimited, 0, null, value));
        return this;
    }

    /// <summary>The size of the message's encoding in bytes (without a key or length of its own).</summary>
    public long Size
    {
        get
        {
            if (_size < 0)
            {
                long size = 0;
                foreach (var entry in _fields)
                {
                    size += VarintSize(Key(entry));
                    size += entry.WireType switch
                    {
                        WireVarint => VarintSize(entry.Scalar),
                        WireFixed32 => 4,
                        _ => VarintSize((ulong)entry.Length) + entry.Length,
                    };
                }

                _size = size;
            }

            return _size;
        }
    }

    /// <summary>Writes the message's encoding to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        Span<byte> scratch = stackalloc byte[10];
        foreach (var entry in _fields)
        {
            WriteVarint(stream, Key(entry), scratch);
            switch (entry.WireType)
            {
                case WireVarint:
                    WriteVarint(stream, entry.Scalar, scratch);
                    break;
                case WireFixed32:
                    BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)entry.Scalar);
                    stream.Write(scratch[..4]);
                    break;
                default:
                    WriteVarint(stream, (ulong)entry.Length, scratch);
                    if (entry.Bytes is not null)
                    {
                        stream.Write(entry.Bytes);
                    }
                    else
                    {
                        entry.Message!.WriteTo(stream);
                    }

                    break;
            }
        }
    }

    private static ulong Key(Field field) => ((ulong)field.Number << 3) | (uint)field.WireType;

    private static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static void WriteVarint(Stream stream, ulong value, Span<byte> scratch)
    {
        int length = 0;
        while (value >= 0x80)
        {
            scratch[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        scratch[length++] = (byte)value;
        stream.Write(scratch[..length]);
    }

    private readonly record struct Field(int Number, int WireType, ulong Scalar, byte[]? Bytes, OnnxProtoMessage? Message)
    {
        public long Length => Bytes?.Length ?? Message!.Size;
    }
}
