using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Tests.Data;

public class IdxDataTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-idx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_as_scaled_rows_plain_or_gzip(bool gzip)
    {
        byte[] pixels = [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8];
        string path = TestFiles.Write(_folder, "images", TestFiles.Idx(0x08, [3, 2, 2], pixels), gzip);

        var images = IdxData.ReadImages<float>(path);

        images.RowCount.Should().Be(3);
        images.ColumnCount.Should().Be(4);
        images[0, 1].Should().Be(1f);
        images[0, 2].Should().Be(51f / 255f);
        images[2, 3].Should().Be(8f / 255f);
    }

    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(3, 2, 2, true)]
    [InlineData(7, 5, 3, false)]
    [InlineData(300, 28, 28, true)]    // 235,200 bytes: several blocks of the reader's 64 KiB buffer
    [InlineData(1_000, 17, 9, false)]
    public void Image_rows_are_the_images_matrix_row_by_row(int count, int height, int width, bool gzip)
    {
        var random = new DeterministicRandom(count);
        byte[] pixels = Enumerable.Range(0, count * height * width).Select(_ => (byte)random.NextInt32(256)).ToArray();
        string path = TestFiles.Write(_folder, $"images-{count}", TestFiles.Idx(0x08, [count, height, width], pixels), gzip);

        float[] rows = IdxData.ReadImageRows<float>(path);
        double[] doubles = IdxData.ReadImageRows<double>(path, divisor: 3);

        rows.Should().Equal(IdxData.ReadImages<float>(path).ToRowMajorArray());
        doubles.Should().Equal(IdxData.ReadImages<double>(path, divisor: 3).ToRowMajorArray());
        for (int i = 0; i < pixels.Length; i += 97)
        {
            rows[i].Should().Be(pixels[i] / 255f);
            doubles[i].Should().Be(pixels[i] / 3.0);
        }
    }

    [Fact]
    public void A_large_gzip_file_inflated_on_a_second_thread_reads_the_same_and_fails_the_same()
    {
        // 2,000 images of 28 × 28: 1.5 MB, inflated on a worker thread while the values are written.
        var random = new DeterministicRandom(28);
        byte[] pixels = Enumerable.Range(0, 2_000 * 784).Select(i => (byte)(i % 784 < 392 ? random.NextInt32(256) : i % 251)).ToArray();
        byte[] file = TestFiles.Idx(0x08, [2_000, 28, 28], pixels);
        string path = TestFiles.Write(_folder, "large", file, gzip: true);

        IdxData.ReadImageRows<float>(path).Should().Equal(pixels.Select(p => p / 255f));

        // Cut short inside the gzip data, and corrupt in its middle: refused as the matrix reader refuses them.
        byte[] zipped = File.ReadAllBytes(path);
        foreach (var (name, bytes) in new[] { ("cut-large", zipped[..(zipped.Length / 2)]), ("bad-large", Corrupt(zipped)) })
        {
            string damaged = Path.Combine(_folder, name);
            File.WriteAllBytes(damaged, bytes);
            var expected = FluentActions.Invoking(() => IdxData.ReadImages<float>(damaged)).Should().Throw<InvalidDataException>().Which.Message;
            FluentActions.Invoking(() => IdxData.ReadImageRows<float>(damaged)).Should().Throw<InvalidDataException>().WithMessage(expected);
        }

        // Gzip data that ends early but whole: the header's sizes promise more than it holds.
        byte[] shortFile = TestFiles.Idx(0x08, [2_000, 28, 28], pixels[..(pixels.Length - 1_000)]);
        string shortPath = TestFiles.Write(_folder, "short-large", shortFile, gzip: true);
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(shortPath)).Should().Throw<InvalidDataException>()
            .WithMessage($"{shortPath} (gzip): the data ends at offset {16 + pixels.Length - 1_000}, but the header's dimensions [2000, 28, 28] need {pixels.Length} bytes*");

        static byte[] Corrupt(byte[] bytes)
        {
            var copy = (byte[])bytes.Clone();
            for (int i = copy.Length / 2; i < copy.Length / 2 + 64; i++)
            {
                copy[i] ^= 0x5A;
            }

            return copy;
        }
    }

    [Fact]
    public void Image_rows_refuse_what_images_refuse()
    {
        string labels = TestFiles.Write(_folder, "labels", TestFiles.Idx(0x08, [2], [1, 2]), gzip: false);
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(labels)).Should().Throw<InvalidDataException>().WithMessage($"{labels}: expected images*");
        string empty = TestFiles.Write(_folder, "empty", TestFiles.Idx(0x08, [3, 0, 5], []), gzip: true);
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(empty))
            .Should().Throw<InvalidDataException>().WithMessage($"{empty}: the dimensions [3, 0, 5] hold no images or images of no pixels*");
        string images = TestFiles.Write(_folder, "images", TestFiles.Idx(0x08, [1, 1, 2], [0, 255]), gzip: false);
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(images, 1e-40))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("divisor");
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(""))
            .Should().Throw<ArgumentException>().WithParameterName("path");
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(Path.Combine(_folder, "missing")))
            .Should().Throw<FileNotFoundException>();
        string cut = TestFiles.Write(_folder, "cut", TestFiles.Idx(0x08, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7]), gzip: true);
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(cut))
            .Should().Throw<InvalidDataException>().WithMessage($"{cut} (gzip): the data ends at offset 23, but the header's dimensions [2, 2, 2] need 8 bytes*");
        string longer = TestFiles.Write(_folder, "long", TestFiles.Idx(0x08, [1, 2, 2], [1, 2, 3, 4, 5]), gzip: false);
        FluentActions.Invoking(() => IdxData.ReadImageRows<float>(longer))
            .Should().Throw<InvalidDataException>().WithMessage($"{longer}: there are bytes after offset 20*");
    }

    [Fact]
    public void A_lying_gzip_header_does_not_make_the_row_reader_allocate_what_it_claims()
    {
        string path = TestFiles.Write(_folder, "liar", TestFiles.Idx(0x08, [60_000, 28, 28], [1, 2, 3]), gzip: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => IdxData.ReadImageRows<double>(path)).Should().Throw<InvalidDataException>().WithMessage("*ends at offset*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(8 << 20, "the claimed 376 MB are not allocated before the data is there");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_labels(bool gzip)
    {
        string path = TestFiles.Write(_folder, "labels", TestFiles.Idx(0x08, [5], [3, 1, 4, 1, 5]), gzip);
        IdxData.ReadLabels(path).Should().Equal(3, 1, 4, 1, 5);
    }

    [Fact]
    public void Reads_big_endian_element_types()
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(payload, -7);
        BinaryPrimitives.WriteSingleBigEndian(payload.AsSpan(4), 2.5f);
        IdxData.Read(new MemoryStream(TestFiles.Idx(0x0C, [1], payload[..4]))).ToDoubleArray().Should().Equal(-7);
        IdxData.Read(new MemoryStream(TestFiles.Idx(0x0D, [1], payload[4..]))).ToDoubleArray().Should().Equal(2.5);
    }

    [Fact]
    public void Bad_magic_names_the_source_and_offset() =>
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream([1, 0, 8, 1, 0, 0, 0, 0]), "x.idx"))
            .Should().Throw<InvalidDataException>().WithMessage("x.idx*first two bytes must be 0*offset 0*");

    [Fact]
    public void An_unknown_type_code_is_rejected() =>
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream([0, 0, 0x42, 1, 0, 0, 0, 0])))
            .Should().Throw<InvalidDataException>().WithMessage("*unknown IDX element type 0x42*offset 2*");

    [Fact]
    public void Truncated_data_names_the_offset_where_it_ends()
    {
        byte[] bytes = TestFiles.Idx(0x08, [10], [1, 2, 3]);
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(bytes), "short.idx"))
            .Should().Throw<InvalidDataException>().WithMessage("short.idx*ends at offset 11*need 10 bytes*");
    }

    [Fact]
    public void A_lying_header_does_not_allocate_what_it_claims()
    {
        byte[] bytes = TestFiles.Idx(0x08, [60_000, 28, 28], [1, 2, 3]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(bytes))).Should().Throw<InvalidDataException>().WithMessage("*ends at offset*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(8 << 20);

        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(TestFiles.Idx(0x0E, [int.MaxValue, int.MaxValue], []))))
            .Should().Throw<InvalidDataException>().WithMessage("*more than*bytes*");
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(TestFiles.Idx(0x08, [-1], []))))
            .Should().Throw<InvalidDataException>().WithMessage("*negative*");
    }

    [Fact]
    public void Trailing_bytes_are_rejected() =>
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(TestFiles.Idx(0x08, [2], [1, 2, 3]))))
            .Should().Throw<InvalidDataException>().WithMessage("*bytes after offset 10*");

    [Theory]
    [InlineData(new[] { 3, 0, 5 })]
    [InlineData(new[] { 0, 2, 2 })]
    [InlineData(new[] { 2, 2, 0 })]
    public void Images_with_a_zero_dimension_are_refused(int[] dimensions)
    {
        // These used to give degenerate matrices: 3 × 0 (images of no pixels) and 0 × 0 (the image size lost).
        string path = TestFiles.Write(_folder, "empty-images", TestFiles.Idx(0x08, dimensions, []), gzip: false);

        FluentActions.Invoking(() => IdxData.ReadImages<float>(path))
            .Should().Throw<InvalidDataException>().WithMessage($"{path}: the dimensions [{string.Join(", ", dimensions)}] hold no images or images of no pixels*");
    }

    [Theory]
    [InlineData(1e-300)]
    [InlineData(1e-40)]
    [InlineData(1e300)]
    public void A_divisor_that_is_not_finite_in_float_is_refused(double divisor)
    {
        // In float, 1e-300 became 0 (pixels ∞ and NaN), 1e-40 overflowed 255 / divisor, 1e300 became ∞.
        string path = TestFiles.Write(_folder, "images", TestFiles.Idx(0x08, [1, 1, 2], [0, 255]), gzip: false);

        FluentActions.Invoking(() => IdxData.ReadImages<float>(path, divisor))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("divisor").WithMessage("divisor must keep 255 / divisor finite in Single*");
        IdxData.ReadImages<double>(path, divisor).Enumerate().Should().OnlyContain(v => double.IsFinite(v));
    }

    [Fact]
    public void A_header_claiming_more_than_a_seekable_stream_holds_is_refused_before_allocating()
    {
        byte[] bytes = TestFiles.Idx(0x0E, [1 << 13, 1 << 14], [1, 2, 3]);
        var stream = new MemoryStream(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exception? error = null;
        try
        {
            IdxData.Read(stream, "liar.idx");
        }
        catch (Exception e)
        {
            error = e;
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(32 << 10, "a gigabyte claimed by 15 bytes is refused before the buffer is allocated");
        error.Should().BeOfType<InvalidDataException>().Which.Message
            .Should().Match("liar.idx: the data ends at offset 15, but the header's dimensions [8192, 16384] need 1073741824 bytes*");
    }

    [Fact]
    public void A_truncated_or_corrupt_gzip_file_is_refused_naming_the_file()
    {
        byte[] zipped;
        using (var buffer = new MemoryStream())
        {
            using (var zip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            {
                zip.Write(TestFiles.Idx(0x08, [4], [1, 2, 3, 4]));
            }

            zipped = buffer.ToArray();
        }

        // Cut inside the trailer, the elements are all there but the file is incomplete: it used to be read.
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(zipped[..^4]), "cut.idx.gz"))
            .Should().Throw<InvalidDataException>().WithMessage("cut.idx.gz: the gzip data is*truncated*");
        zipped[^5] ^= 1;
        FluentActions.Invoking(() => IdxData.Read(new MemoryStream(zipped), "bad.idx.gz"))
            .Should().Throw<InvalidDataException>().WithMessage("bad.idx.gz: the gzip data is corrupt or truncated*");
    }

    [Fact]
    public void Labels_and_images_are_told_apart()
    {
        string images = TestFiles.Write(_folder, "i", TestFiles.Idx(0x08, [2, 1, 1], [1, 2]), gzip: false);
        FluentActions.Invoking(() => IdxData.ReadLabels(images)).Should().Throw<InvalidDataException>().WithMessage("*expected labels*");
        string labels = TestFiles.Write(_folder, "l", TestFiles.Idx(0x08, [2], [1, 2]), gzip: false);
        FluentActions.Invoking(() => IdxData.ReadImages<double>(labels)).Should().Throw<InvalidDataException>().WithMessage("*expected images*");
    }
}
