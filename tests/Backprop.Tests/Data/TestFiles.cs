using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Tests.Data;

/// <summary>Small data files for the reader tests: IDX bytes, files written plain or gzipped, and streams that cannot seek.</summary>
internal static class TestFiles
{
    /// <summary>An IDX file: two zero bytes, the type code, the rank, the big-endian dimensions, then the payload.</summary>
    public static byte[] Idx(byte type, int[] dimensions, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (int d = 0; d < dimensions.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dimensions[d]);
        }

        payload.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    /// <summary>Writes the bytes to folder/name, gzip-compressed when asked, and returns the path.</summary>
    public static string Write(string folder, string name, byte[] bytes, bool gzip)
    {
        string path = Path.Combine(folder, name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }

        return path;
    }
}

/// <summary>A stream over bytes that, like a pipe, cannot seek nor tell its position.</summary>
internal sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
{
    public override bool CanSeek => false;

    public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }
}
