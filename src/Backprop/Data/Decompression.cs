using System.IO.Compression;

namespace Backprop.Data;

/// <summary>Opens a stream for reading, decompressing it when its first two bytes are the gzip magic number 1F 8B.</summary>
internal static class Decompression
{
    /// <summary>Returns a stream of the decompressed bytes of <paramref name="stream"/> if it is gzip (a
    /// <see cref="VerifiedGzipStream"/>), else the bytes as they are. Disposing the result disposes
    /// <paramref name="stream"/> unless <paramref name="leaveOpen"/> is set.</summary>
    /// <remarks>Reading gzip data that is corrupt, truncated, or followed by bytes that are not gzip throws an
    /// <see cref="InvalidDataException"/> whose message begins with <paramref name="sourceName"/>.</remarks>
    public static Stream OpenMaybeGzip(Stream stream, bool leaveOpen = false, string sourceName = "stream")
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
            ? new VerifiedGzipStream(whole, sourceName)
            : whole;
    }

    /// <summary>Decompresses gzip data and fails, naming the source, unless it is whole: <see cref="GZipStream"/> alone
    /// reports a corrupt member with a message about "an unsupported compression method" that names nothing, and it
    /// reports the end of the data wherever its input runs out, so a truncated file reads as shorter valid data (strict
    /// validation is an opt-in, process-wide switch that a library must not flip).</summary>
    /// <remarks>To tell a complete input from a truncated one, the compressed input is followed by one more gzip member
    /// of known content, the end marker, which is held back from the reader. Complete data decompresses to itself and
    /// then the marker, because gzip data may consist of several members. Truncated data runs into the marker member's
    /// bytes as if they were its own and either fails (a bad code, block or checksum) or ends without producing the
    /// marker; data followed by bytes that are not gzip ends there, without the marker, too.</remarks>
    internal sealed class VerifiedGzipStream(Stream compressed, string sourceName)
        : ForwardOnlyStream(new GZipStream(new MarkedStream(compressed), CompressionMode.Decompress))
    {
        private static readonly byte[] _marker;
        private static readonly byte[] _markerMember;
        private readonly byte[] _buffer = new byte[1 << 14];
        private int _start;
        private int _end;
        private bool _ended;

        static VerifiedGzipStream()
        {
            // A marker whose member's checksum starts with a byte whose deflate block type bits are 11 (reserved): if a
            // truncated stored block copies the marker member literally, ending exactly with the marker, the checksum
            // that follows is read as a block header and fails, so the marker can only ever come out of its own member.
            for (int n = 0; ; n++)
            {
                byte[] marker = System.Text.Encoding.ASCII.GetBytes($"Backprop: end of the gzip data ({n})");
                using var buffer = new MemoryStream();
                using (var zip = new GZipStream(buffer, CompressionLevel.NoCompression, leaveOpen: true))
                {
                    zip.Write(marker);
                }

                byte[] member = buffer.ToArray();
                if (((member[^8] >> 1) & 3) == 3)
                {
                    _marker = marker;
                    _markerMember = member;
                    return;
                }
            }
        }

        public override int Read(Span<byte> buffer)
        {
            // Hold back as many bytes as the marker is long until the end shows whether they are the marker, and fill
            // the caller's buffer where the data allows (a short first read would make StreamReader misread a
            // byte-order mark that arrives in pieces).
            while (_end - _start < _marker.Length + Math.Max(buffer.Length, 1) && !_ended && (_start > 0 || _end < _buffer.Length))
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
                int read = Inflate(_buffer.AsSpan(_end));
                _end += read;
                if (read == 0)
                {
                    // Not ended on failure: a caller that reads again is told again.
                    if (_end < _marker.Length || !_buffer.AsSpan(_end - _marker.Length, _marker.Length).SequenceEqual(_marker))
                    {
                        throw new InvalidDataException(
                            $"{sourceName}: the gzip data is truncated, or followed by bytes that are not gzip: it does not end with a complete gzip member.");
                    }

                    _ended = true;
                }
            }

            int count = Math.Min(buffer.Length, _end - _start - _marker.Length);
            if (count <= 0)
            {
                return 0;
            }

            _buffer.AsSpan(_start, count).CopyTo(buffer);
            _start += count;
            return count;
        }

        private int Inflate(Span<byte> buffer)
        {
            try
            {
                return Inner.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{sourceName}: the gzip data is corrupt or truncated ({e.Message}).", e);
            }
        }

        /// <summary>The compressed input, then the end marker's member.</summary>
        private sealed class MarkedStream(Stream inner) : ForwardOnlyStream(inner)
        {
            private int _markerRead = -1;

            public override int Read(Span<byte> buffer)
            {
                if (_markerRead < 0)
                {
                    int read = Inner.Read(buffer);
                    if (read > 0 || buffer.IsEmpty)
                    {
                        return read;
                    }

                    _markerRead = 0;
                }

                int count = Math.Min(buffer.Length, _markerMember.Length - _markerRead);
                _markerMember.AsSpan(_markerRead, count).CopyTo(buffer);
                _markerRead += count;
                return count;
            }
        }
    }

    /// <summary>A read-only stream that yields a few already-read bytes before the rest of another stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : ForwardOnlyStream(inner)
    {
        private int _position;

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length && buffer.Length > 0)
            {
                int n = Math.Min(prefix.Length - _position, buffer.Length);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                // Go on with the rest, as a seekable stream would: a reader's first read decides its text encoding
                // from the byte-order mark, and StreamReader misreads a four-byte one that arrives in pieces.
                return n < buffer.Length ? n + Inner.Read(buffer[n..]) : n;
            }

            return Inner.Read(buffer);
        }
    }

    /// <summary>The common part of the read-only, forward-only streams here: no seeking, no length, no writing; each
    /// reads from an inner stream that it owns and disposes, and implements <see cref="Stream.Read(Span{byte})"/>.</summary>
    internal abstract class ForwardOnlyStream(Stream inner) : Stream
    {
        /// <summary>The stream read from, disposed with this one.</summary>
        protected Stream Inner => inner;

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

        public abstract override int Read(Span<byte> buffer);

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
