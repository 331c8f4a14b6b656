using System.Numerics;

namespace Backprop.Data;

/// <summary>
/// An IDX image file and its label file (the MNIST and Fashion-MNIST format) read as a <see cref="ISampleSource{T}"/>:
/// a few images at a time, never the whole file, with every pixel divided by a divisor and every label turned into a
/// one-hot target row.
/// </summary>
/// <remarks>
/// <para>The pixels are exactly those of <see cref="IdxData.ReadImages{T}(string, double)"/> with the same divisor, so that
/// streaming trains as the in-memory matrices do. Either file may be gzip-compressed (detected from its first two bytes).</para>
/// <para>Making the source reads both headers: the images must be unsigned bytes with at least two dimensions, the labels
/// unsigned bytes with one, and their counts must agree. Problems further in (a file shorter than its header says, bytes
/// after the end, a label outside [0, class count)) are <see cref="InvalidDataException"/>s naming the file, the offset
/// and the record, raised when a reader gets there.</para>
/// <para>Thread safety: immutable once made: <see cref="OpenReader"/> may be called from several threads at once, each
/// reader opening both files again; a reader is for one thread at a time.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class IdxSampleSource<T> : ISampleSource<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>About how many pixel bytes a reader reads at once.</summary>
    private const int ChunkBytes = 1 << 16;

    private readonly string _imagesPath;
    private readonly string _labelsPath;
    private readonly T _divisor;
    private readonly int[] _imageDimensions;

    /// <summary>Creates the source and checks both files' headers.</summary>
    /// <param name="imagesPath">The images: count × rows × columns (or more dimensions) unsigned bytes, plain or gzip.</param>
    /// <param name="labelsPath">The labels: count unsigned bytes, plain or gzip.</param>
    /// <param name="classCount">The number of classes: the width of the one-hot targets and the network's output size; at least 1.</param>
    /// <param name="divisor">Every pixel is divided by it; 255 (the default) maps pixels to [0, 1].</param>
    /// <exception cref="ArgumentException">A path is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is less than 1, or <paramref name="divisor"/> is not a finite positive number or so small that 255 / <paramref name="divisor"/> is not finite in <typeparamref name="T"/>.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A header is not valid IDX, the files do not hold images and labels, or their counts differ.</exception>
    public IdxSampleSource(string imagesPath, string labelsPath, int classCount, double divisor = 255)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsPath);
        Guard.Positive(classCount, nameof(classCount));
        (_imagesPath, _labelsPath, OutputSize, _divisor) = (imagesPath, labelsPath, classCount, IdxData.CheckDivisor<T>(divisor));
        using var files = Files.Open(imagesPath, labelsPath);
        (Count, InputSize, _imageDimensions) = (files.Count, files.Width, files.ImageDimensions);
    }

    /// <summary>The images file's path.</summary>
    public string Name => _imagesPath;

    /// <summary>The number of images, from the header.</summary>
    public int Count { get; }

    /// <summary>The number of pixels per image: the product of the image dimensions after the first.</summary>
    public int InputSize { get; }

    /// <inheritdoc />
    public int OutputSize { get; }

    /// <summary>True: every image has a class.</summary>
    public bool HasClasses => true;

    /// <inheritdoc />
    public ISampleReader<T> OpenReader()
    {
        var files = Files.Open(_imagesPath, _labelsPath);
        if (!files.ImageDimensions.SequenceEqual(_imageDimensions))
        {
            files.Dispose();
            throw new InvalidDataException($"{_imagesPath}: the images have dimensions [{string.Join(", ", files.ImageDimensions)}], but they had [{string.Join(", ", _imageDimensions)}] when the source was made; the file changed since.");
        }

        return new Reader(this, files);
    }

    /// <summary>The two files open after their headers, with the names their messages use.</summary>
    private sealed class Files : IDisposable
    {
        private Files(Stream images, string imagesName, Stream labels, string labelsName)
        {
            (Images, ImagesName, Labels, LabelsName) = (images, imagesName, labels, labelsName);
        }

        public Stream Images { get; }

        public string ImagesName { get; }

        public Stream Labels { get; }

        public string LabelsName { get; }

        public int[] ImageDimensions { get; private set; } = [];

        public int Count => ImageDimensions[0];

        public int Width { get; private set; }

        public static Files Open(string imagesPath, string labelsPath)
        {
            Stream images = Decompression.OpenMaybeGzip(File.OpenRead(imagesPath), sourceName: imagesPath);
            Stream? labels = null;
            try
            {
                labels = Decompression.OpenMaybeGzip(File.OpenRead(labelsPath), sourceName: labelsPath);
                var files = new Files(images, IdxData.DisplayName(images, imagesPath), labels, IdxData.DisplayName(labels, labelsPath));
                var (imageType, imageDimensions) = IdxData.ReadHeader(images, files.ImagesName);
                IdxData.CheckImages(imageType, imageDimensions, imagesPath);
                var (labelType, labelDimensions) = IdxData.ReadHeader(labels, files.LabelsName);
                IdxData.CheckLabels(labelType, labelDimensions, labelsPath);
                if (labelDimensions[0] != imageDimensions[0])
                {
                    throw new InvalidDataException($"{labelsPath}: there are {labelDimensions[0]} labels, but {imagesPath} holds {imageDimensions[0]} images; every image needs one label.");
                }

                long width = imageDimensions.Skip(1).Aggregate(1L, (a, d) => a * d);
                if (width == 0 || width > Array.MaxLength)
                {
                    throw new InvalidDataException($"{imagesPath}: an image of dimensions [{string.Join(", ", imageDimensions.Skip(1))}] has {width} values; expected 1 to {Array.MaxLength}, what one array can hold.");
                }

                (files.ImageDimensions, files.Width) = (imageDimensions, (int)width);
                return files;
            }
            catch
            {
                images.Dispose();
                labels?.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            Images.Dispose();
            Labels.Dispose();
        }
    }

    private sealed class Reader(IdxSampleSource<T> source, Files files) : SampleReader<T>(source.InputSize, source.OutputSize)
    {
        private readonly byte[] _pixels = new byte[Math.Max(1, Math.Min(source.Count, ChunkBytes / Math.Max(source.InputSize, 1))) * source.InputSize];
        private readonly byte[] _labels = new byte[Math.Max(1, Math.Min(source.Count, ChunkBytes / Math.Max(source.InputSize, 1)))];
        private readonly int[] _labelDimensions = [source.Count];
        private int _next;

        protected override int ReadRows(Span<T> inputs, Span<T> targets, Span<int> classes, int rows)
        {
            int width = source.InputSize, classCount = source.OutputSize;
            int count = Math.Min(Math.Min(rows, source.Count - _next), _labels.Length);
            if (count == 0)
            {
                IdxData.CheckEnd(files.Images, files.ImagesName, Offset(source.Count, width, files.ImageDimensions), files.ImageDimensions);
                IdxData.CheckEnd(files.Labels, files.LabelsName, Offset(source.Count, 1, _labelDimensions), _labelDimensions);
                return 0;
            }

            var pixels = _pixels.AsSpan(0, count * width);
            Fill(files.Images, files.ImagesName, pixels, width, files.ImageDimensions);
            for (int i = 0; i < pixels.Length; i++)
            {
                inputs[i] = T.CreateChecked(pixels[i]) / source._divisor;
            }

            var labels = _labels.AsSpan(0, count);
            Fill(files.Labels, files.LabelsName, labels, 1, _labelDimensions);
            for (int r = 0; r < count; r++)
            {
                int label = labels[r];
                if (label >= classCount)
                {
                    throw new InvalidDataException($"{files.LabelsName}: the label of record {_next + r} (offset {Offset(_next + r, 1, _labelDimensions)}) is {label}, outside [0, {classCount - 1}]: the source has {classCount} classes.");
                }

                var y = targets.Slice(r * classCount, classCount);
                y.Clear();
                y[label] = T.One;
                if (!classes.IsEmpty)
                {
                    classes[r] = label;
                }
            }

            _next += count;
            return count;
        }

        protected override void Release() => files.Dispose();

        /// <summary>The offset of record <paramref name="record"/> of <paramref name="width"/> bytes in its (decompressed) file.</summary>
        private static long Offset(long record, int width, int[] dimensions) => IdxData.HeaderLength(dimensions.Length) + record * width;

        private void Fill(Stream stream, string name, Span<byte> buffer, int width, int[] dimensions)
        {
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read < buffer.Length)
            {
                throw IdxData.Truncated(name, Offset(_next, width, dimensions) + read, dimensions, (long)source.Count * width, IdxData.HeaderLength(dimensions.Length));
            }
        }
    }
}
