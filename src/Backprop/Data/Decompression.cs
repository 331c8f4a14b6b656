using System.IO.Compression;

namespace Backprop;

/// <summary>Opens a stream for reading, decompressing it when its first two bytes are the gzip magic number 1F 8B.</summary>
internal static class Decompression
{
    /// <summary>Returns a stream of the decompressed bytes of <paramref name="stream"/> if it is gzip, else the bytes
    /// as they are. Disposing the result disposes <paramref name="stream"/> unless <paramref name="leaveOpen"/> is set.</summary>
    public static Stream OpenMaybeGzip(Stream stream, bool leaveOpen = false)
    {
        if (leaveOpen)
        {
            stream = new NonDisposingStream(stream);
        }

        byte[] magic = new byte[2];
        int read = 0;
        while (read < 2)
        {
            int n = stream.Read(magic, read, 2 - read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        Stream whole;
        if (stream.CanSeek)
        {
            stream.Seek(-read, SeekOrigin.Current);
            whole = stream;
        }
        else
        {
            whole = new PrefixedStream(magic[..read], stream);
        }

        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B
            ? new GZipStream(whole, CompressionMode.Decompress)
            : whole;
    }

    /// <summary>A read-only stream that yields a few already-read bytes before the rest of another stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length && buffer.Length > 0)
            {
                int n = Math.Min(prefix.Length - _position, buffer.Length);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Passes reads and seeks through to another stream but never disposes it.</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
