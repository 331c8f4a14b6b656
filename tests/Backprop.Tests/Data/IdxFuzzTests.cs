using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace Backprop.Tests.Data;

/// <summary>Ten thousand seeded mutants of small valid IDX files, plain and gzip, through <see cref="IdxData.Read(Stream, string)"/>,
/// <see cref="IdxData.ReadImages{T}"/>, <see cref="IdxData.ReadImageRows{T}"/> and <see cref="IdxData.ReadLabels"/>: each is either read exactly as a plain
/// reference decoder of the same bytes reads it, or refused with an <see cref="InvalidDataException"/> naming the source,
/// in bounded time and memory, even when its header claims billions of elements.</summary>
public class IdxFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Mutants = 10_000;
    // Every mutant is also written to a file for the file readers: in memory (tmpfs) where the system has one, as writing
    // and opening a file there takes a fraction of the time it does in a disk-backed temporary folder (0.5 s, not 3 s).
    private readonly string _folder = Directory.Exists("/dev/shm")
        ? Directory.CreateDirectory(Path.Combine("/dev/shm", $"backprop-idx-fuzz-{Guid.NewGuid():N}")).FullName
        : Directory.CreateTempSubdirectory("backprop-idx-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly byte[][] Seeds =
    [
        TestFiles.Idx(0x08, [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8]),
        TestFiles.Idx(0x08, [5], [3, 1, 4, 1, 5]),
        TestFiles.Idx(0x08, [2, 1, 2, 2], [9, 8, 7, 6, 5, 4, 3, 2]),
        TestFiles.Idx(0x09, [2, 3], [0x80, 0xFF, 0, 1, 0x7F, 2]),
        TestFiles.Idx(0x0B, [3], [0x80, 0x00, 0xFF, 0xFF, 0x12, 0x34]),
        TestFiles.Idx(0x0C, [2, 1], [0xFF, 0xFF, 0xFF, 0xF9, 0x00, 0x01, 0x00, 0x00]),
        TestFiles.Idx(0x0D, [2, 2], [0x40, 0x20, 0, 0, 0xBF, 0x80, 0, 0, 0x7F, 0xC0, 0, 0, 0x00, 0x00, 0x00, 0x01]),
        TestFiles.Idx(0x0E, [1, 3], [0x40, 0x04, 0, 0, 0, 0, 0, 0, 0xFF, 0xF0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    ];

    // Sizes at and past every limit: the largest int, negative, 2^31 and 2^30 elements, more than an array holds.
    private static readonly int[] Sizes = [0, 1, 2, 3, 4, 255, 256, 60_000, 1 << 20, 1 << 24, 1 << 30, 0x7FFF_FFF0, int.MaxValue, int.MinValue, -1];

    private static readonly byte[] TypeCodes = [0x00, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0xFF];

    [Fact]
    public void Ten_thousand_mutants_read_exactly_or_throw_invalid_data_in_bounded_time_and_memory()
    {
        var random = new DeterministicRandom(60_000);
        string path = Path.Combine(_folder, "mutant.idx");
        var outcomes = new Dictionary<string, int>();
        long worstAllocation = 0, worstTicks = 0, gzipMutants = 0, crossChecked = 0;
        var clock = Stopwatch.StartNew();

        for (int i = 0; i < Mutants; i++)
        {
            byte[] bytes = Mutate(FuzzMutations.Pick(random, Seeds), random);
            bool gzip = bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;
            gzipMutants += gzip ? 1 : 0;
            string context = $"mutant {i}: [{string.Join(", ", bytes.Select(b => $"0x{b:X2}"))}]";
            File.WriteAllBytes(path, bytes);
            var read = Attempt(() => IdxData.Read(new MemoryStream(bytes), path));
            var images = Attempt(() => IdxData.ReadImages<float>(path));
            var labels = Attempt(() => IdxData.ReadLabels(path));
            var imageRows = Attempt(() => IdxData.ReadImageRows<float>(path));
            worstTicks = Math.Max(worstTicks, Math.Max(Math.Max(read.Ticks, imageRows.Ticks), Math.Max(images.Ticks, labels.Ticks)));
            worstAllocation = Math.Max(worstAllocation, Math.Max(Math.Max(read.Allocated, imageRows.Allocated), Math.Max(images.Allocated, labels.Allocated)));

            // The row reader reads what the matrix reader reads, without the transposition, or refuses what it refuses.
            if (images.Value is Matrix<float> matrix)
            {
                imageRows.Value.Should().BeOfType<float[]>(context).Which.Should().Equal(matrix.ToRowMajorArray(), context);
            }
            else
            {
                imageRows.Error.Should().BeOfType<InvalidDataException>($"the row reader refuses what the matrix reader refuses; {context}")
                    .Which.Message.Should().StartWith(path, context);
            }

            string outcome = Check(read, images, labels, bytes, path, context);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

            if (i % 4 == 1)
            {
                // Neither an unseekable stream nor compression may change what the bytes read as.
                crossChecked++;
                Fingerprint(Attempt(() => IdxData.Read(new NonSeekableStream(bytes), path)))
                    .Should().Be(Fingerprint(read), $"an unseekable stream reads like a seekable one; {context}");
                if (!gzip && bytes.Length > 0)
                {
                    Fingerprint(Attempt(() => IdxData.Read(new MemoryStream(FuzzMutations.Gzip(bytes)), path)))
                        .Should().Be(Fingerprint(read).Replace(path, path + " (gzip)", StringComparison.Ordinal), $"gzip reads like plain data; {context}");
                }
            }
        }

        var elapsed = clock.Elapsed;
        output.WriteLine($"{Mutants} mutants ({gzipMutants} gzip) in {elapsed.TotalSeconds:F2} s: {string.Join(", ", outcomes.OrderBy(o => o.Key))}; " +
            $"slowest read {Stopwatch.GetElapsedTime(0, worstTicks).TotalMilliseconds:F1} ms, most allocated by one read {worstAllocation / 1024} KiB");
        outcomes.Values.Sum().Should().Be(Mutants);
        outcomes.Where(o => o.Key.StartsWith("read", StringComparison.Ordinal)).Sum(o => o.Value).Should().BeGreaterThan(1_000, "the mutants must also exercise the reading path");
        outcomes.GetValueOrDefault("read images").Should().BeGreaterThan(200);
        outcomes.GetValueOrDefault("read labels").Should().BeGreaterThan(200);
        outcomes.GetValueOrDefault("refused").Should().BeGreaterThan(5_000);
        gzipMutants.Should().BeGreaterThan(2_000);
        crossChecked.Should().Be(Mutants / 4);
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
        Stopwatch.GetElapsedTime(0, worstTicks).Should().BeLessThan(TimeSpan.FromSeconds(1), "no input may take long to read or refuse");
        worstAllocation.Should().BeLessThan(1L << 20, "a header claiming 2^31 elements must be refused without allocating them");
    }

    /// <summary>Header-aware damage (sizes, rank, type code, magic, payload length) or format-blind damage, then
    /// perhaps gzip, or damage to the gzip.</summary>
    private static byte[] Mutate(byte[] valid, DeterministicRandom random)
    {
        byte[] mutant = (byte[])valid.Clone();
        int rank = valid[3];
        for (int k = random.NextInt32(4) / 3; k >= 0; k--)
        {
            switch (mutant.Length < 4 ? 7 : random.NextInt32(8))
            {
                case 0:
                case 1:
                    // A size field (or the bytes where one would be) set to a limit.
                    int at = 4 + 4 * random.NextInt32(rank + 1);
                    if (at + 4 <= mutant.Length)
                    {
                        BinaryPrimitives.WriteInt32BigEndian(mutant.AsSpan(at), FuzzMutations.Pick(random, Sizes));
                    }

                    break;
                case 2:
                    mutant[3] = random.NextInt32(2) == 0 ? (byte)random.NextInt32(256) : (byte)(rank + random.NextInt32(3) - 1);
                    break;
                case 3:
                    mutant[2] = FuzzMutations.Pick(random, TypeCodes);
                    break;
                case 4:
                    mutant[random.NextInt32(2)] = (byte)(1 + random.NextInt32(255));
                    break;
                case 5:
                    // The payload a few bytes longer or shorter than the sizes say.
                    int change = random.NextInt32(9) - 4;
                    mutant = change >= 0 ? [.. mutant, .. new byte[change]] : mutant[..Math.Max(0, mutant.Length + change)];
                    break;
                case 6:
                    // Element values changed: still valid, read value by value.
                    int header = 4 + 4 * rank;
                    for (int n = random.NextInt32(4); n >= 0 && mutant.Length > header; n--)
                    {
                        mutant[header + random.NextInt32(mutant.Length - header)] = (byte)random.NextInt32(256);
                    }

                    break;
                default:
                    mutant = FuzzMutations.Bytes(mutant, random);
                    break;
            }
        }

        return random.NextInt32(3) switch
        {
            0 => FuzzMutations.Gzip(mutant),
            1 when random.NextInt32(2) == 0 => FuzzMutations.Bytes(FuzzMutations.Gzip(mutant), random),
            _ => mutant,
        };
    }

    /// <summary>What one read returned or threw, how long it took and how much it allocated.</summary>
    private sealed record Result(object? Value, Exception? Error, long Ticks, long Allocated);

    private static Result Attempt(Func<object> read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long started = Stopwatch.GetTimestamp();
        object? value = null;
        Exception? error = null;
        try
        {
            value = read();
        }
        catch (Exception e)
        {
            error = e;
        }

        return new Result(value, error, Stopwatch.GetTimestamp() - started, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Checks every outcome against a plain decoding of the same bytes: a refusal must be an
    /// <see cref="InvalidDataException"/> naming the source, a result must hold exactly the bytes' values, and images and
    /// labels are read exactly when the data is unsigned bytes of the right rank.</summary>
    private static string Check(Result read, Result images, Result labels, byte[] bytes, string path, string context)
    {
        foreach (var result in new[] { read, images, labels })
        {
            if (result.Error is not null && !(result.Error is InvalidDataException && result.Error.Message.StartsWith(path, StringComparison.Ordinal)))
            {
                Assert.Fail($"{context} threw an exception the reader does not document, or without naming the source:{Environment.NewLine}{result.Error}");
            }
        }

        if (read.Value is not IdxData data)
        {
            images.Error.Should().NotBeNull($"images cannot be read from data that is not IDX; {context}");
            labels.Error.Should().NotBeNull($"labels cannot be read from data that is not IDX; {context}");
            return "refused";
        }

        // The reference: the header and big-endian elements of the decompressed bytes, decoded here independently.
        byte[] plain = Decompress(bytes);
        int rank = plain[3];
        int[] dimensions = Enumerable.Range(0, rank).Select(d => BinaryPrimitives.ReadInt32BigEndian(plain.AsSpan(4 + 4 * d))).ToArray();
        int size = plain[2] switch { 0x08 or 0x09 => 1, 0x0B => 2, 0x0C or 0x0D => 4, _ => 8 };
        long count = dimensions.Aggregate(1L, (a, d) => a * d);
        var payload = plain.AsSpan(4 + 4 * rank);
        payload.Length.Should().Be((int)(count * size), $"the data must be exactly as long as its sizes say; {context}");
        ((byte)data.ElementType).Should().Be(plain[2], context);
        data.Dimensions.Should().Equal(dimensions, context);
        data.Count.Should().Be(count, context);
        double[] expected = new double[count];
        for (int i = 0; i < expected.Length; i++)
        {
            var element = payload.Slice(i * size, size);
            expected[i] = plain[2] switch
            {
                0x08 => element[0],
                0x09 => (sbyte)element[0],
                0x0B => BinaryPrimitives.ReadInt16BigEndian(element),
                0x0C => BinaryPrimitives.ReadInt32BigEndian(element),
                0x0D => BinaryPrimitives.ReadSingleBigEndian(element),
                _ => BinaryPrimitives.ReadDoubleBigEndian(element),
            };
        }

        data.ToDoubleArray().Should().Equal(expected, context);

        bool unsignedBytes = data.ElementType == IdxElementType.UnsignedByte;
        if (unsignedBytes && rank == 1)
        {
            labels.Value.Should().BeOfType<int[]>(context).Which.Should().Equal(expected.Select(v => (int)v), context);
        }
        else
        {
            labels.Error.Should().NotBeNull($"only one-dimensional unsigned bytes are labels; {context}");
        }

        if (unsignedBytes && rank >= 2 && count > 0)
        {
            var matrix = images.Value.Should().BeAssignableTo<Matrix<float>>(context).Subject;
            matrix.RowCount.Should().Be(dimensions[0], context);
            matrix.ColumnCount.Should().Be((int)(count / dimensions[0]), context);
            matrix.ToRowMajorArray().Should().Equal(expected.Select(v => (float)v / 255f), context);
            return "read images";
        }

        images.Error.Should().NotBeNull($"only unsigned bytes of at least two dimensions and one pixel are images; {context}");
        return unsignedBytes && rank == 1 ? "read labels" : "read other";
    }

    private static byte[] Decompress(byte[] bytes)
    {
        if (bytes.Length < 2 || bytes[0] != 0x1F || bytes[1] != 0x8B)
        {
            return bytes;
        }

        using var zip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        zip.CopyTo(plain);
        return plain.ToArray();
    }

    private static string Fingerprint(Result result) => result.Value is IdxData data
        ? $"{data.ElementType} [{string.Join(", ", data.Dimensions)}]: {string.Join(' ', data.ToDoubleArray().Select(v => BitConverter.DoubleToInt64Bits(v)))}"
        : $"{result.Error!.GetType().Name}: {result.Error.Message}";
}
