using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Backprop.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>The element types of the IDX format, by their type code.</summary>
public enum IdxElementType : byte
{
    /// <summary>0x08: unsigned byte.</summary>
    UnsignedByte = 0x08,

    /// <summary>0x09: signed byte.</summary>
    SignedByte = 0x09,

    /// <summary>0x0B: big-endian 16-bit integer.</summary>
    Int16 = 0x0B,

    /// <summary>0x0C: big-endian 32-bit integer.</summary>
    Int32 = 0x0C,

    /// <summary>0x0D: big-endian 32-bit float.</summary>
    Single = 0x0D,

    /// <summary>0x0E: big-endian 64-bit float.</summary>
    Double = 0x0E,
}

/// <summary>
/// A tensor read from an IDX file, the format of MNIST and Fashion-MNIST: its dimensions, element type and raw payload.
/// </summary>
/// <remarks>
/// <para>Format (Y. LeCun, "THE MNIST DATABASE of handwritten digits"): two zero bytes, a type code, the number of
/// dimensions d, then d big-endian 32-bit sizes, then the elements in row-major order, big-endian. Files may be
/// gzip-compressed, as the data sets ship; <see cref="Read(string)"/> detects that from the first two bytes, and refuses
/// gzip data that is corrupt, truncated, or followed by bytes that are not gzip. To train from image files too large for
/// memory, read them a few images at a time with <see cref="IdxSampleSource{T}"/>.</para>
/// <para>Thread safety: immutable once read: every member may be called from any number of threads at once. The static
/// readers keep no state: concurrent calls are safe, each path-based call opening its own stream; never pass one stream
/// to two calls at once.</para>
/// </remarks>
public sealed class IdxData
{
    private const int MaxDimensions = 8;
    private readonly byte[] _payload;

    private IdxData(IdxElementType elementType, int[] dimensions, byte[] payload)
    {
        ElementType = elementType;
        Dimensions = dimensions;
        _payload = payload;
    }

    /// <summary>The element type of the file.</summary>
    public IdxElementType ElementType { get; }

    /// <summary>The sizes of the dimensions, outermost first (for images: count, rows, columns).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The number of elements: the product of the dimensions.</summary>
    public long Count => Dimensions.Aggregate(1L, (a, d) => a * d);

    /// <summary>Reads an IDX file, plain or gzip-compressed.</summary>
    /// <param name="path">The file's path.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid IDX (the message names the file, the offset and the problem).</exception>
    public static IdxData Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenFile(path);
        using var data = Decompression.OpenMaybeGzip(file, leaveOpen: true, path);
        return ReadPlain(data, DisplayName(data, path), file.Length);
    }

    /// <summary>Opens a file for one sequential pass, with a buffer large enough that the decompressor's reads do not
    /// need another.</summary>
    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    /// <summary>Reads IDX data from a stream, plain or gzip-compressed.</summary>
    /// <param name="stream">The stream, positioned at the start of the data.</param>
    /// <param name="sourceName">A name for the data in error messages, such as the file name.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="InvalidDataException">The data is not valid IDX.</exception>
    public static IdxData Read(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        // The caller's stream stays open: only the decompressor, if any, is disposed here.
        using var data = Decompression.OpenMaybeGzip(new BufferedStream(stream), leaveOpen: true, sourceName);
        return ReadPlain(data, DisplayName(data, sourceName));
    }

    /// <summary>Reads an IDX image file (count × rows × columns, unsigned bytes) into a matrix of one flattened image per row, each byte divided by <paramref name="divisor"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="path">The file's path, plain or gzip.</param>
    /// <param name="divisor">Every byte is divided by it; 255 (the default) maps pixels to [0, 1].</param>
    /// <returns>A count × (rows·columns) matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is not a finite positive number, or so small that 255 / <paramref name="divisor"/> is not finite in <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not an IDX file of unsigned bytes with at least two dimensions, or a dimension is 0 (no images, or images of no pixels).</exception>
    public static Matrix<T> ReadImages<T>(string path, double divisor = 255)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T by = CheckDivisor<T>(divisor);
        var data = Read(path);
        CheckImages(data.ElementType, data.Dimensions, path);

        int count = data.Dimensions[0];
        long width = data.Dimensions.Skip(1).Aggregate(1L, (a, d) => a * d);
        if (count == 0 || width == 0)
        {
            // A matrix needs at least one row and one column.
            throw NoImages(path, data.Dimensions);
        }

        // Straight from the bytes into the matrix's own column-major array, which the matrix then uses as it is: one
        // array of values, where a row-major array and the matrix's copy of it were two. A byte has 256 values, so each
        // pixel is a look-up of the same quotient as before.
        T[] table = PixelTable(by);
        var values = LargeArrays.Uninitialized<T>(data._payload.Length);
        ToColumnMajor(data._payload, table, values, count, (int)width);
        return Matrix<T>.Build.Dense(count, (int)width, values);
    }

    /// <summary>Reads an IDX image file (count × rows × columns, unsigned bytes) into one row-major array: image after
    /// image, each flattened row by row, each byte divided by <paramref name="divisor"/>. The values are those of
    /// <see cref="ReadImages{T}(string, double)"/> (element [i·w + j] is its matrix's element (i, j), w = rows·columns),
    /// without the transposition into a matrix's column-major layout: the fastest way to load images, and the array
    /// <see cref="Trainer{T}.Fit(ReadOnlyMemory{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/> and
    /// <see cref="Network{T}.Predict(ReadOnlySpan{T}, int, Span{T})"/> read as it is.</summary>
    /// <remarks>The bytes are converted as they are decompressed, a block at a time, so the raw pixels are never held
    /// whole: the array is the only large allocation. <see cref="Dimensions"/> are not returned; the width of a row is
    /// rows·columns of the file (784 for MNIST), and the number of images is the array's length over it.</remarks>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="path">The file's path, plain or gzip.</param>
    /// <param name="divisor">Every byte is divided by it; 255 (the default) maps pixels to [0, 1].</param>
    /// <returns>count × (rows·columns) values, row-major.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is not a finite positive number, or so small that 255 / <paramref name="divisor"/> is not finite in <typeparamref name="T"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid IDX, not an IDX file of unsigned bytes with at least two dimensions, or a dimension is 0 (no images, or images of no pixels); the message names the file.</exception>
    public static T[] ReadImageRows<T>(string path, double divisor = 255)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T by = CheckDivisor<T>(divisor);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenFile(path);
        using var data = Decompression.OpenMaybeGzip(file, leaveOpen: true, path);
        string sourceName = DisplayName(data, path);
        var (type, dimensions) = ReadHeader(data, sourceName);
        CheckImages(type, dimensions, path);
        long elements = PayloadBytes(type, dimensions, sourceName);
        if (elements == 0)
        {
            throw NoImages(path, dimensions);
        }

        long dataOffset = HeaderLength(dimensions.Length);
        var values = LargeArrays.Uninitialized<T>(FirstCapacity(data, elements, file.Length, sourceName, dimensions));
        T[] table = PixelTable(by);
        long filled = 0;
        // Inflating gzip data takes about as long as writing the values into fresh memory: a large gzip file is
        // inflated on a second thread while this one converts the blocks already inflated.
        using (var blocks = new ByteBlocks(data, elements, pipelined: !data.CanSeek && elements >= PipelinedBytes))
        {
            while (filled < elements)
            {
                ReadOnlySpan<byte> block = blocks.Next((int)Math.Min(ByteBlocks.BlockBytes, elements - filled));
                if (block.IsEmpty)
                {
                    throw Truncated(sourceName, dataOffset + filled, dimensions, elements, dataOffset);
                }

                if (filled + block.Length > values.Length)
                {
                    Array.Resize(ref values, (int)Math.Min(elements, Math.Max(filled + block.Length, 2L * values.Length)));
                }

                LookUp(block, table, values.AsSpan((int)filled, block.Length));
                filled += block.Length;
            }
        }

        CheckEnd(data, sourceName, dataOffset + elements, dimensions);
        return values;
    }

    /// <summary>The size from which <see cref="ReadImageRows{T}"/> inflates gzip data on a second thread.</summary>
    private const long PipelinedBytes = 1 << 20;

    /// <summary>The bytes of a stream, block after block, up to a given total: read on the caller's thread, or
    /// (pipelined) by a worker that reads up to <see cref="Depth"/> blocks ahead. A block shorter than asked for, or
    /// empty, is the end of the data; an exception of the worker's reading is thrown to the caller as it was.
    /// Disposing stops and waits for the worker, so the stream is the caller's again.</summary>
    private sealed class ByteBlocks : IDisposable
    {
        public const int BlockBytes = 1 << 17;
        private const int Depth = 4;
        private readonly Stream _stream;
        private readonly BlockingCollection<(byte[] Buffer, int Count)>? _full;
        private readonly BlockingCollection<byte[]>? _free;
        private readonly CancellationTokenSource? _stop;
        private readonly Task? _worker;
        private byte[]? _current;
        private ExceptionDispatchInfo? _error;

        public ByteBlocks(Stream stream, long total, bool pipelined)
        {
            _stream = stream;
            if (!pipelined)
            {
                _current = new byte[(int)Math.Min(BlockBytes, total)];
                return;
            }

            _full = new BlockingCollection<(byte[], int)>(Depth);
            _free = [];
            for (int i = 0; i < Depth; i++)
            {
                _free.Add(new byte[BlockBytes]);
            }

            _stop = new CancellationTokenSource();
            _worker = Task.Factory.StartNew(() => Produce(total), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        /// <summary>The next block: at most <paramref name="count"/> bytes read here, or the worker's next block.</summary>
        public ReadOnlySpan<byte> Next(int count)
        {
            if (_worker is null)
            {
                int filled = Fill(_current!, count);
                return _current.AsSpan(0, filled);
            }

            if (_current is not null)
            {
                _free!.Add(_current);
                _current = null;
            }

            if (!_full!.TryTake(out var block, Timeout.Infinite))
            {
                // The worker has finished: at the end of the data (an empty block), or failing.
                _error?.Throw();
                return default;
            }

            _current = block.Buffer;
            return block.Buffer.AsSpan(0, block.Count);
        }

        public void Dispose()
        {
            if (_worker is null)
            {
                return;
            }

            _stop!.Cancel();
            _worker.Wait();
            _stop.Dispose();
            _full!.Dispose();
            _free!.Dispose();
        }

        private int Fill(byte[] buffer, int count)
        {
            int filled = 0, read;
            while (filled < count && (read = _stream.Read(buffer, filled, count - filled)) > 0)
            {
                filled += read;
            }

            return filled;
        }

        private void Produce(long total)
        {
            try
            {
                for (long left = total; left > 0;)
                {
                    byte[] buffer = _free!.Take(_stop!.Token);
                    int count = (int)Math.Min(BlockBytes, left);
                    int filled = Fill(buffer, count);
                    _full!.Add((buffer, filled), _stop.Token);
                    if (filled < count)
                    {
                        // The data ends early: the caller reports it at the offset where the short block ends.
                        break;
                    }

                    left -= filled;
                }
            }
            catch (OperationCanceledException) when (_stop!.IsCancellationRequested)
            {
                // The caller stopped reading.
            }
            catch (Exception e)
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                _full!.CompleteAdding();
            }
        }
    }

    /// <summary>The pixel values of the 256 bytes: b / divisor, rounded once.</summary>
    private static T[] PixelTable<T>(T by)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var table = new T[256];
        for (int b = 0; b < table.Length; b++)
        {
            table[b] = T.CreateChecked(b) / by;
        }

        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LookUp<T>(ReadOnlySpan<byte> bytes, T[] table, Span<T> destination)
    {
        ref T first = ref MemoryMarshal.GetArrayDataReference(table);
        for (int i = 0; i < bytes.Length; i++)
        {
            // A byte indexes the 256 entries: no bounds check is needed.
            destination[i] = Unsafe.Add(ref first, bytes[i]);
        }
    }

    private static InvalidDataException NoImages(string path, IReadOnlyList<int> dimensions) =>
        new($"{path}: the dimensions [{string.Join(", ", dimensions)}] hold no images or images of no pixels; at least one image of at least one pixel is needed.");

    /// <summary>Writes the looked-up values of row-major bytes (rows × width) into a column-major array, a block of
    /// rows at a time so that both sides stay in the cache.</summary>
    private static void ToColumnMajor<T>(byte[] source, T[] table, T[] destination, int rows, int width)
    {
        const int BlockRows = 64;
        const int BlockColumns = 64;
        for (int r0 = 0; r0 < rows; r0 += BlockRows)
        {
            int r1 = Math.Min(rows, r0 + BlockRows);
            for (int c0 = 0; c0 < width; c0 += BlockColumns)
            {
                int c1 = Math.Min(width, c0 + BlockColumns);
                for (int c = c0; c < c1; c++)
                {
                    long column = (long)c * rows;
                    for (int r = r0; r < r1; r++)
                    {
                        destination[column + r] = table[source[(long)r * width + c]];
                    }
                }
            }
        }
    }

    /// <summary>Checks a pixel divisor and converts it: finite and positive, and keeping 255 / divisor finite in T.</summary>
    internal static T CheckDivisor<T>(double divisor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.PositiveFinite(divisor, nameof(divisor));
        T by = T.CreateChecked(divisor);
        if (!T.IsFinite(T.CreateChecked(255) / by) || !T.IsFinite(by))
        {
            // In float, 1e-300 becomes 0 and 1e-40 makes 255 / divisor overflow: the pixels would not be finite.
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor,
                $"divisor must keep 255 / divisor finite in {typeof(T).Name} (and be finite there itself), but it is {divisor.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }

        return by;
    }

    /// <summary>Reads an IDX label file (one dimension of unsigned bytes) into class indices.</summary>
    /// <param name="path">The file's path, plain or gzip.</param>
    /// <returns>One label per sample.</returns>
    /// <exception cref="InvalidDataException">The file is not a one-dimensional IDX file of unsigned bytes.</exception>
    public static int[] ReadLabels(string path)
    {
        var data = Read(path);
        CheckLabels(data.ElementType, data.Dimensions, path);

        var labels = new int[data._payload.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = data._payload[i];
        }

        return labels;
    }

    /// <summary>The elements as doubles, in row-major order.</summary>
    /// <returns>A new array of <see cref="Count"/> values.</returns>
    public double[] ToDoubleArray()
    {
        int size = ElementSize(ElementType);
        var result = new double[_payload.Length / size];
        ReadOnlySpan<byte> p = _payload;
        for (int i = 0; i < result.Length; i++)
        {
            var bytes = p.Slice(i * size, size);
            result[i] = ElementType switch
            {
                IdxElementType.UnsignedByte => bytes[0],
                IdxElementType.SignedByte => (sbyte)bytes[0],
                IdxElementType.Int16 => BinaryPrimitives.ReadInt16BigEndian(bytes),
                IdxElementType.Int32 => BinaryPrimitives.ReadInt32BigEndian(bytes),
                IdxElementType.Single => BinaryPrimitives.ReadSingleBigEndian(bytes),
                _ => BinaryPrimitives.ReadDoubleBigEndian(bytes),
            };
        }

        return result;
    }

    private static int ElementSize(IdxElementType type) => type switch
    {
        IdxElementType.UnsignedByte or IdxElementType.SignedByte => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Single => 4,
        _ => 8,
    };

    /// <summary>Reads the header and the elements. <paramref name="compressedLength"/>, when known, is the length of the
    /// file the data is decompressed from: a first buffer of a few times that size holds the elements of real data at
    /// once, where a buffer that doubles as the data arrives would copy them again and again.</summary>
    private static IdxData ReadPlain(Stream stream, string sourceName, long compressedLength = 0)
    {
        var (type, dimensions) = ReadHeader(stream, sourceName);
        long bytes = PayloadBytes(type, dimensions, sourceName);
        long dataOffset = HeaderLength(dimensions.Length);
        var payload = LargeArrays.Uninitialized<byte>(FirstCapacity(stream, bytes, compressedLength, sourceName, dimensions));
        int filled = 0;
        while (filled < bytes)
        {
            if (filled == payload.Length)
            {
                Array.Resize(ref payload, (int)Math.Min(bytes, (long)payload.Length * 2));
            }

            int read = stream.Read(payload, filled, payload.Length - filled);
            if (read == 0)
            {
                throw Truncated(sourceName, dataOffset + filled, dimensions, bytes, dataOffset);
            }

            filled += read;
        }

        CheckEnd(stream, sourceName, dataOffset + bytes, dimensions);
        return new IdxData(type, dimensions, payload);
    }

    /// <summary>The number of bytes of elements the header announces, at most what one array can hold.</summary>
    private static long PayloadBytes(IdxElementType type, int[] dimensions, string sourceName)
    {
        long count = 1;
        for (int d = 0; d < dimensions.Length; d++)
        {
            count *= dimensions[d];
            if (count * ElementSize(type) > Array.MaxLength)
            {
                throw new InvalidDataException($"{sourceName}: the dimensions [{string.Join(", ", dimensions.Take(d + 1))}] describe more than {Array.MaxLength} bytes of data, more than one array can hold.");
            }
        }

        return count * ElementSize(type);
    }

    /// <summary>The first buffer for <paramref name="total"/> elements after the header. A lying header must not make a
    /// reader allocate gigabytes: where the stream knows its length, a header that claims more data than is left fails
    /// here, before anything is allocated; elsewhere (gzip) the buffer starts at a few times the compressed file's
    /// <paramref name="compressedLength"/> (at least 64 KiB), which holds real data at once, and grows only with the data
    /// present.</summary>
    /// <exception cref="InvalidDataException">The stream holds fewer than <paramref name="total"/> elements.</exception>
    private static int FirstCapacity(Stream data, long total, long compressedLength, string sourceName, int[] dimensions)
    {
        long dataOffset = HeaderLength(dimensions.Length);
        long left = data.CanSeek ? data.Length - data.Position : long.MaxValue;
        if (left < total)
        {
            throw Truncated(sourceName, dataOffset + left, dimensions, total, dataOffset);
        }

        return (int)Math.Min(total, data.CanSeek ? total : Math.Max(1 << 16, 8 * compressedLength));
    }

    /// <summary>The name of IDX data in messages: with " (gzip)" when offsets count decompressed bytes.</summary>
    internal static string DisplayName(Stream data, string sourceName) => data is Decompression.VerifiedGzipStream ? sourceName + " (gzip)" : sourceName;

    /// <summary>The length in bytes of the header of a file with <paramref name="rank"/> dimensions: where the elements start.</summary>
    internal static long HeaderLength(int rank) => 4 + 4L * rank;

    /// <summary>Reads and checks the header: the zero bytes, the element type, the number of dimensions and their sizes.</summary>
    internal static (IdxElementType Type, int[] Dimensions) ReadHeader(Stream stream, string sourceName)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, 0, sourceName, "the header");
        if (header[0] != 0 || header[1] != 0)
        {
            throw new InvalidDataException($"{sourceName}: not an IDX file: the first two bytes must be 0, but they are 0x{header[0]:X2} 0x{header[1]:X2} (offset 0).");
        }

        if (!Enum.IsDefined((IdxElementType)header[2]))
        {
            throw new InvalidDataException($"{sourceName}: unknown IDX element type 0x{header[2]:X2} at offset 2; expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E.");
        }

        var type = (IdxElementType)header[2];
        int rank = header[3];
        if (rank is 0 or > MaxDimensions)
        {
            throw new InvalidDataException($"{sourceName}: the number of dimensions at offset 3 is {rank}; expected 1 to {MaxDimensions}.");
        }

        var dimensions = new int[rank];
        Span<byte> size = stackalloc byte[4];
        for (int d = 0; d < rank; d++)
        {
            ReadExactly(stream, size, 4 + 4 * d, sourceName, $"dimension {d}");
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(size);
            if (dimensions[d] < 0)
            {
                throw new InvalidDataException($"{sourceName}: dimension {d} at offset {4 + 4 * d} is {dimensions[d]}; sizes cannot be negative.");
            }
        }

        return (type, dimensions);
    }

    /// <summary>The error of data that ends at <paramref name="offset"/>, before the elements the header announces.</summary>
    internal static InvalidDataException Truncated(string sourceName, long offset, int[] dimensions, long bytes, long dataOffset) =>
        new($"{sourceName}: the data ends at offset {offset}, but the header's dimensions [{string.Join(", ", dimensions)}] need {bytes} bytes of elements from offset {dataOffset}.");

    /// <summary>Checks that nothing follows the elements the header announces, which end at <paramref name="offset"/>.</summary>
    internal static void CheckEnd(Stream stream, string sourceName, long offset, int[] dimensions)
    {
        if (stream.ReadByte() >= 0)
        {
            throw new InvalidDataException($"{sourceName}: there are bytes after offset {offset}, where the header's dimensions [{string.Join(", ", dimensions)}] say the data ends.");
        }
    }

    /// <summary>Checks that an IDX file holds images (unsigned bytes, at least two dimensions).</summary>
    internal static void CheckImages(IdxElementType type, IReadOnlyList<int> dimensions, string path)
    {
        if (type != IdxElementType.UnsignedByte || dimensions.Count < 2)
        {
            throw new InvalidDataException($"{path}: expected images (unsigned bytes, at least 2 dimensions), but the file holds {type} with dimensions [{string.Join(", ", dimensions)}].");
        }
    }

    /// <summary>Checks that an IDX file holds labels (unsigned bytes, one dimension).</summary>
    internal static void CheckLabels(IdxElementType type, IReadOnlyList<int> dimensions, string path)
    {
        if (type != IdxElementType.UnsignedByte || dimensions.Count != 1)
        {
            throw new InvalidDataException($"{path}: expected labels (unsigned bytes, 1 dimension), but the file holds {type} with dimensions [{string.Join(", ", dimensions)}].");
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, long offset, string sourceName, string what)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = stream.Read(buffer[filled..]);
            if (read == 0)
            {
                throw new InvalidDataException($"{sourceName}: the data ends at offset {offset + filled}, inside {what}.");
            }

            filled += read;
        }
    }
}
