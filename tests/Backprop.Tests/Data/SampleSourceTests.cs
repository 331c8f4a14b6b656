using System.Text;
using Backprop.Tests.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Data;

public class SampleSourceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-source-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteText(string name, string text, bool gzip = false) => TestFiles.Write(_folder, name, Encoding.UTF8.GetBytes(text), gzip);

    /// <summary>Every sample of a source, read <paramref name="chunk"/> rows at a time.</summary>
    private static (T[][] Inputs, T[][] Targets, int[] Classes) ReadAll<T>(ISampleSource<T> source, int chunk = 3)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var inputs = new List<T[]>();
        var targets = new List<T[]>();
        var classes = new List<int>();
        var x = new T[chunk * source.InputSize];
        var y = new T[chunk * source.OutputSize];
        var c = new int[source.HasClasses ? chunk : 0];
        using var reader = source.OpenReader();
        int read;
        while ((read = reader.Read(x, y, c)) > 0)
        {
            for (int r = 0; r < read; r++)
            {
                inputs.Add(x.AsSpan(r * source.InputSize, source.InputSize).ToArray());
                targets.Add(y.AsSpan(r * source.OutputSize, source.OutputSize).ToArray());
            }

            classes.AddRange(c.Take(read));
        }

        reader.Read(x, y, c).Should().Be(0, "a reader at its end stays there");
        return (inputs.ToArray(), targets.ToArray(), classes.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_csv_classification_source_reads_what_Csv_reads(bool gzip)
    {
        string text = "a,\"b, quoted\",label\r\n1.5, 2 ,0\r\n\r\n-3e-1,\"4\",2\n  5 ,6.25,1\r7,8,0";
        string path = WriteText("data.csv", text, gzip);
        var options = new CsvOptions { HasHeader = true };

        var source = CsvSampleSource<double>.Classification(path, classCount: 3, options);
        var (inputs, targets, classes) = ReadAll(source);
        var eager = Csv.ReadClassification<double>(path, options);

        (source.Name, source.InputSize, source.OutputSize, source.HasClasses).Should().Be((path, 2, 3, true));
        source.FeatureNames.Should().Equal("a", "b, quoted");
        inputs.Should().BeEquivalentTo(eager.Features.ToRowArrays(), o => o.WithStrictOrdering());
        classes.Should().Equal(eager.Labels);
        targets.Should().BeEquivalentTo(OneHot.Encode<double>(eager.Labels, 3).ToRowArrays(), o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_csv_regression_source_takes_one_or_several_target_columns()
    {
        string path = WriteText("reg.csv", "y1,a,y2,b\n10,1,100,2\n20,3,200,4\n");
        var options = new CsvOptions { HasHeader = true, LabelColumn = 0 };

        var single = CsvSampleSource<float>.Regression(path, options);
        var both = CsvSampleSource<float>.Regression(path, options, targetColumns: [2, 0]);

        (single.InputSize, single.OutputSize, single.HasClasses).Should().Be((3, 1, false));
        ReadAll(single).Targets.Should().BeEquivalentTo(new[] { new[] { 10f }, new[] { 20f } }, o => o.WithStrictOrdering());
        (both.InputSize, both.OutputSize).Should().Be((2, 2));
        both.FeatureNames.Should().Equal("a", "b");
        ReadAll(both).Inputs.Should().BeEquivalentTo(new[] { new[] { 1f, 2f }, new[] { 3f, 4f } }, o => o.WithStrictOrdering());
        ReadAll(both).Targets.Should().BeEquivalentTo(new[] { new[] { 100f, 10f }, new[] { 200f, 20f } }, o => o.WithStrictOrdering());
        FluentActions.Invoking(() => CsvSampleSource<float>.Regression(path, options, targetColumns: [1, 1]))
            .Should().Throw<ArgumentException>().WithMessage("targetColumns[1] names column 1 again*");
        FluentActions.Invoking(() => CsvSampleSource<float>.Regression(path, new CsvOptions { HasHeader = true, FeatureColumns = [2] }, targetColumns: [2]))
            .Should().Throw<ArgumentException>().WithMessage("options.FeatureColumns[0] is column 2, which is also a target column (targetColumns[0] = 2)*");
        FluentActions.Invoking(() => CsvSampleSource<float>.Regression(path, options, targetColumns: [4]))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("targetColumns[0] must be in [-4, 3]*");
    }

    [Fact]
    public void Csv_lines_are_split_at_every_kind_of_line_break_whatever_the_reads_return()
    {
        // Values known in advance, lines of varying length ending in \n, \r\n or \r, delivered 1 to 7 bytes per read so
        // that line breaks (\r\n included) fall across the reader's buffer refills; one line longer than its buffer.
        string[] breaks = ["\n", "\r\n", "\r"];
        var text = new StringBuilder();
        int lines = 0;
        for (int r = 0; r < 2000; r++)
        {
            text.Append(new string(' ', r % 5)).Append(r).Append(',').Append(r % 3 == 0 ? "\"" + (r * 0.5) + "\"" : (r * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture));
            text.Append(r == 1000 ? new string(' ', 20_000) : "").Append(breaks[r % 3]);
            lines++;
            if (r % 97 == 0)
            {
                text.Append(new string(' ', r % 3)).Append(breaks[r % 3]); // a blank line
                lines++;
            }
        }

        byte[] good = Encoding.UTF8.GetBytes(text.ToString());
        byte[] bad = Encoding.UTF8.GetBytes(text.Append("1,x\r\n").ToString());

        var (inputs, targets, _) = ReadAll(CsvSampleSource<double>.Regression(() => new TrickleStream(good), "trickle"), chunk: 64);

        inputs.Select(x => x[0]).Should().Equal(Enumerable.Range(0, 2000).Select(r => (double)r));
        targets.Select(y => y[0]).Should().Equal(Enumerable.Range(0, 2000).Select(r => r * 0.5));
        FluentActions.Invoking(() => ReadAll(CsvSampleSource<double>.Regression(() => new TrickleStream(bad), "trickle")))
            .Should().Throw<InvalidDataException>().WithMessage($"trickle, line {lines + 1}, column 2: \"x\" is not a number*");
    }

    [Fact]
    public void A_stream_factory_is_called_once_per_reader_and_every_stream_is_disposed()
    {
        var opened = new List<TrickleStream>();
        byte[] bytes = Encoding.UTF8.GetBytes("1,2,0\n3,4,1\n");
        var source = CsvSampleSource<float>.Classification(() =>
        {
            var stream = new TrickleStream(bytes);
            opened.Add(stream);
            return stream;
        }, "factory", classCount: 2);

        ReadAll(source);
        ReadAll(source);

        opened.Should().HaveCount(3).And.OnlyContain(s => s.IsDisposed);
        FluentActions.Invoking(() => CsvSampleSource<float>.Classification(() => null!, "null", 2)).Should().Throw<ArgumentNullException>().WithMessage("*returned null*");
    }

    public static TheoryData<string, string> BadCsv() => new()
    {
        { "1,2,0\n3,4,1\n5,6,1\n7,8\n", "line 4: expected 3 fields separated by ',' (as on line 1), but found 2." },
        { "1,2,0\n3,4,1\n5,6,1\n7,x8,0\n", "line 4, column 2: \"x8\" is not a number*" },
        { "1,2,0\n3,4,1\n5,6,1\n7,NaN,0\n", "line 4, column 2: \"NaN\" is not a finite number." },
        { "1,2,0\n3,4,1\n5,6,1\n7,8,-1\n", "line 4, column 3: \"-1\" is not a class label (a whole number*" },
        { "1,2,0\n3,4,1\n5,6,1\n7,8,3\n", "line 4, column 3: \"3\" is not a class label in [0, 2]: the source has 3 classes." },
    };

    [Theory]
    [MemberData(nameof(BadCsv))]
    public void Bad_csv_data_is_reported_with_its_file_and_line_when_the_reader_gets_there(string text, string expected)
    {
        string path = WriteText("bad.csv", text);
        var source = CsvSampleSource<float>.Classification(path, classCount: 3);
        var trainer = new Trainer<float>(new Network<float>(2, new Dense<float>(3, Activations.Softmax)), Losses.CrossEntropy, new Sgd(0.1));

        FluentActions.Invoking(() => ReadAll(source)).Should().Throw<InvalidDataException>().WithMessage($"{path}, {expected}");
        FluentActions.Invoking(() => trainer.Fit(source, new FitOptions { ShuffleBufferSize = 2 })).Should().Throw<InvalidDataException>().WithMessage($"{path}, {expected}");
        if (!expected.Contains("classes", StringComparison.Ordinal))
        {
            // The same message as the eager reader's.
            FluentActions.Invoking(() => Csv.ReadClassification<float>(path)).Should().Throw<InvalidDataException>().WithMessage($"{path}, {expected}");
        }

        AssertClosed(path);
    }

    [Fact]
    public void A_csv_source_checks_the_file_and_options_when_made()
    {
        FluentActions.Invoking(() => CsvSampleSource<float>.Classification(Path.Combine(_folder, "missing.csv"), 2)).Should().Throw<FileNotFoundException>();
        string header = WriteText("header.csv", "a,b\n");
        FluentActions.Invoking(() => CsvSampleSource<float>.Classification(header, 2, new CsvOptions { HasHeader = true }))
            .Should().Throw<InvalidDataException>().WithMessage($"{header}: there are no data lines after the header*");
        string path = WriteText("ok.csv", "1,2,0\n");
        FluentActions.Invoking(() => CsvSampleSource<float>.Classification(path, 2, new CsvOptions { LabelColumn = 3 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("options.LabelColumn must be in [-3, 2]*");
        FluentActions.Invoking(() => CsvSampleSource<float>.Classification(path, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classCount");
        AssertClosed(path);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Training_from_a_csv_source_gives_the_weights_of_training_on_Csv_ReadClassification(bool gzip)
    {
        var (features, labels) = TestData.Iris();
        var text = new StringBuilder("sepal length,sepal width,petal length,petal width,class\n");
        foreach (var (row, label) in features.Zip(labels))
        {
            text.Append(string.Join(',', row.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))).Append(',').Append(label).Append('\n');
        }

        string path = WriteText("iris.csv", text.ToString(), gzip);
        var options = new CsvOptions { HasHeader = true };
        var fit = new FitOptions { Epochs = 3, BatchSize = 16, Seed = 4 };
        Trainer<float> NewTrainer() => new(new Network<float>(4, seed: 2, new Dense<float>(8, Activations.ReLU), new Dense<float>(3, Activations.Softmax)), Losses.CrossEntropy, new Adam(0.01));

        var eager = Csv.ReadClassification<float>(path, options);
        var inMemory = NewTrainer();
        var expected = inMemory.Fit(eager.Features, eager.Labels, fit);
        var streamed = NewTrainer();
        var actual = streamed.Fit(CsvSampleSource<float>.Classification(path, 3, options), fit);

        TrainerTests.Snapshot(streamed.Network).Should().BeEquivalentTo(TrainerTests.Snapshot(inMemory.Network), o => o.WithStrictOrdering());
        actual.Loss.Should().Equal(expected.Loss);
        actual.Accuracy.Should().Equal(expected.Accuracy);
        AssertClosed(path);
    }

    [Fact]
    public void Reading_csv_rows_allocates_nothing_per_row()
    {
        var text = new StringBuilder("a,b,\"c\",y\n");
        for (int r = 0; r < 3000; r++)
        {
            text.Append(r % 7).Append(", ").Append(r % 11 * 0.25).Append(",\"").Append(r % 3).Append("\",").Append(r % 5 * 0.1).Append('\n');
        }

        string path = WriteText("many.csv", text.ToString());
        var network = new Network<float>(3, 1, new Dense<float>(4, Activations.Tanh), new Dense<float>(1)) { MaxDegreeOfParallelism = 1 };
        var trainer = new Trainer<float>(network, Losses.MeanSquaredError, new Sgd(0.01));
        var probe = new AllocationProbe(fromBatch: 3);

        trainer.Fit(CsvSampleSource<float>.Regression(path, new CsvOptions { HasHeader = true }), new FitOptions { Epochs = 1, BatchSize = 4, ShuffleBufferSize = 100, Observers = [probe] });

        probe.Batches.Should().Be(750);
        probe.Allocated.Should().Be(0);
    }

    [Fact]
    public void Disposing_a_reader_closes_its_file()
    {
        string path = WriteText("open.csv", "1,2,0\n3,4,1\n5,6,0\n");
        var source = CsvSampleSource<float>.Classification(path, 2);
        var reader = source.OpenReader();
        reader.Read(new float[2], new float[2], new int[1]).Should().Be(1);

        // The file is held open (shared for reading) while the reader is.
        FluentActions.Invoking(() => File.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose()).Should().Throw<IOException>();
        reader.Dispose();

        AssertClosed(path);
        FluentActions.Invoking(() => reader.Read(new float[2], new float[2], default)).Should().Throw<ObjectDisposedException>();
        File.Delete(path);
    }

    private (string Images, string Labels) WriteIdx(string name, int count, int rows, int columns, bool gzip, byte[]? labels = null, int extraImageBytes = 0)
    {
        var pixels = new byte[count * rows * columns + extraImageBytes];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 37 % 256);
        }

        labels ??= Enumerable.Range(0, count).Select(i => (byte)(i * 7 % 10)).ToArray();
        var imageBytes = TestFiles.Idx(0x08, [count, rows, columns], pixels);
        string suffix = gzip ? ".gz" : "";
        return (TestFiles.Write(_folder, name + "-images" + suffix, imageBytes, gzip), TestFiles.Write(_folder, name + "-labels" + suffix, TestFiles.Idx(0x08, [labels.Length], labels), gzip));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_idx_source_reads_what_IdxData_reads_and_trains_to_the_same_weights(bool gzip)
    {
        var (images, labels) = WriteIdx("train", count: 300, rows: 4, columns: 5, gzip);
        var source = new IdxSampleSource<double>(images, labels, classCount: 10, divisor: 255);
        var x = IdxData.ReadImages<double>(images);
        int[] y = IdxData.ReadLabels(labels);

        (source.Count, source.InputSize, source.OutputSize, source.HasClasses).Should().Be((300, 20, 10, true));
        var (inputs, targets, classes) = ReadAll(source, chunk: 7);
        inputs.Should().BeEquivalentTo(x.ToRowArrays(), o => o.WithStrictOrdering());
        classes.Should().Equal(y);
        targets.Should().BeEquivalentTo(OneHot.Encode<double>(y, 10).ToRowArrays(), o => o.WithStrictOrdering());

        var fit = new FitOptions { Epochs = 2, BatchSize = 32, Seed = 8 };
        Trainer<double> NewTrainer() => new(new Network<double>(20, seed: 5, new Dense<double>(12, Activations.ReLU), new Dense<double>(10, Activations.Softmax)), Losses.CrossEntropy, new Sgd(0.1, momentum: 0.9));
        var inMemory = NewTrainer();
        var expected = inMemory.Fit(x, y, fit);
        var streamed = NewTrainer();
        var actual = streamed.Fit(source, fit);

        TrainerTests.Snapshot(streamed.Network).Should().BeEquivalentTo(TrainerTests.Snapshot(inMemory.Network), o => o.WithStrictOrdering());
        actual.Loss.Should().Equal(expected.Loss);
        actual.Accuracy.Should().Equal(expected.Accuracy);
        AssertClosed(images);
        AssertClosed(labels);
    }

    [Fact]
    public void Bad_idx_data_is_reported_with_its_file_offset_and_record()
    {
        var labels = Enumerable.Range(0, 50).Select(i => (byte)(i % 3)).ToArray();
        labels[41] = 7;
        var (images, labelsPath) = WriteIdx("bad-label", count: 50, rows: 2, columns: 2, gzip: false, labels);
        var source = new IdxSampleSource<float>(images, labelsPath, classCount: 3);
        var trainer = new Trainer<float>(new Network<float>(4, new Dense<float>(3, Activations.Softmax)), Losses.CrossEntropy, new Sgd(0.1));

        FluentActions.Invoking(() => trainer.Fit(source, new FitOptions { ShuffleBufferSize = 8 }))
            .Should().Throw<InvalidDataException>().WithMessage($"{labelsPath}: the label of record 41 (offset 49) is 7, outside [0, 2]: the source has 3 classes.");
        AssertClosed(images);
        AssertClosed(labelsPath);

        var (trailing, trailingLabels) = WriteIdx("trailing", count: 5, rows: 2, columns: 2, gzip: true, extraImageBytes: 1);
        FluentActions.Invoking(() => ReadAll(new IdxSampleSource<float>(trailing, trailingLabels, 10)))
            .Should().Throw<InvalidDataException>().WithMessage($"{trailing} (gzip): there are bytes after offset 36*");

        string truncated = TestFiles.Write(_folder, "short", TestFiles.Idx(0x08, [5, 2, 2], new byte[13]), gzip: false);
        var (_, fiveLabels) = WriteIdx("five", count: 5, rows: 2, columns: 2, gzip: false);
        FluentActions.Invoking(() => ReadAll(new IdxSampleSource<float>(truncated, fiveLabels, 10), chunk: 2))
            .Should().Throw<InvalidDataException>().WithMessage($"{truncated}: the data ends at offset 29, but the header's dimensions [5, 2, 2] need 20 bytes*");

        var (sixImages, _) = WriteIdx("six", count: 6, rows: 2, columns: 2, gzip: false);
        FluentActions.Invoking(() => new IdxSampleSource<float>(sixImages, fiveLabels, 10))
            .Should().Throw<InvalidDataException>().WithMessage($"{fiveLabels}: there are 5 labels, but {sixImages} holds 6 images*");
        FluentActions.Invoking(() => new IdxSampleSource<float>(fiveLabels, fiveLabels, 10))
            .Should().Throw<InvalidDataException>().WithMessage("*expected images*");
        AssertClosed(sixImages);
        AssertClosed(fiveLabels);
    }

    [Fact]
    public void Disposing_an_idx_reader_closes_both_files()
    {
        var (images, labels) = WriteIdx("open", count: 10, rows: 3, columns: 3, gzip: true);
        var reader = new IdxSampleSource<float>(images, labels, 10).OpenReader();
        reader.Read(new float[9], new float[10], default).Should().Be(1);
        FluentActions.Invoking(() => File.Open(labels, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose()).Should().Throw<IOException>();

        reader.Dispose();

        AssertClosed(images);
        AssertClosed(labels);
    }

    [Fact]
    public void An_in_memory_source_copies_its_data_and_knows_its_classes()
    {
        var x = Matrix<double>.Build.DenseOfRowArrays([1.0, 2], [3.0, 4], [5.0, 6]);
        var oneHot = Matrix<double>.Build.DenseOfRowArrays([0.0, 1], [1.0, 0], [0.0, 1]);
        var soft = Matrix<double>.Build.DenseOfRowArrays([0.5, 0.5], [1.0, 0], [0.0, 1]);

        var fromTargets = new InMemorySampleSource<double>(x, oneHot);
        x[0, 0] = 100;

        fromTargets.HasClasses.Should().BeTrue();
        ReadAll(fromTargets).Classes.Should().Equal(1, 0, 1);
        ReadAll(fromTargets).Inputs[0].Should().Equal(1.0, 2);
        new InMemorySampleSource<double>(x, soft).HasClasses.Should().BeFalse();
        var fromLabels = new InMemorySampleSource<double>(x, [2, 0, 1], classCount: 3);
        (fromLabels.Count, fromLabels.OutputSize, fromLabels.HasClasses).Should().Be((3, 3, true));
        ReadAll(fromLabels).Targets.Should().BeEquivalentTo(new[] { new[] { 0.0, 0, 1 }, new[] { 1.0, 0, 0 }, new[] { 0.0, 1, 0 } }, o => o.WithStrictOrdering());

        FluentActions.Invoking(() => new InMemorySampleSource<double>(x, Matrix<double>.Build.Dense(2, 1))).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => new InMemorySampleSource<double>(x, [0, 3, 1], 3)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new InMemorySampleSource<double>(Matrix<double>.Build.Dense(3, 2, double.NaN), [0, 1, 1], 3))
            .Should().Throw<ArgumentException>().WithParameterName("inputs");
    }

    [Fact]
    public void Readers_check_the_callers_spans()
    {
        var source = new InMemorySampleSource<float>(Matrix<float>.Build.Dense(4, 3, 1f), [0, 1, 0, 1], 2);
        using var reader = source.OpenReader();

        FluentActions.Invoking(() => reader.Read(new float[4], new float[2], default)).Should().Throw<ArgumentException>().WithParameterName("inputs");
        FluentActions.Invoking(() => reader.Read(new float[6], new float[2], default)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => reader.Read(new float[6], new float[4], new int[1])).Should().Throw<ArgumentException>().WithParameterName("classes");
        reader.Read(new float[9], new float[6], default).Should().Be(3);
        reader.Read(new float[9], new float[6], default).Should().Be(1);
        reader.Read(new float[9], new float[6], default).Should().Be(0);
    }

    /// <summary>Asserts that nothing holds the file open: it can be opened exclusively.</summary>
    private static void AssertClosed(string path)
    {
        using var exclusive = File.Open(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }

    /// <summary>A stream that returns at most 7 bytes per read (1 to 7, in turn), and remembers being disposed.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        private int _reads;

        public bool IsDisposed { get; private set; }

        public override bool CanSeek => false;

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1 + _reads++ % 7));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1 + _reads++ % 7)]);

        protected override void Dispose(bool disposing)
        {
            IsDisposed = true;
            base.Dispose(disposing);
        }
    }
}
