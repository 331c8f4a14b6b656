using System.Diagnostics;
using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using Backprop.Numerics;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Benchmarks;

/// <summary>
/// Prediction against ONNX Runtime on the same model, in the same process: a 784-hidden-10 float MLP (ReLU, softmax)
/// trained for one epoch on synthetic rows, exported with the library's ONNX exporter, and timed on one sample and on a
/// batch of rows. Both sides run on caller-supplied buffers: ours through <c>Predict(span, destination)</c>,
/// <c>Predict(span, rows, span)</c> and <c>Predict(matrix, matrix)</c>, ONNX Runtime through an IOBinding of
/// <see cref="OrtValue"/>s over pinned arrays. Rounds alternate between the two; each figure is the median of the
/// rounds' per-call times. The last line is <c>RESULT {json}</c>.
/// </summary>
internal static class PredictBenchmark
{
    public static int Run(string[] args)
    {
        int hidden = 128, rows = 1000, threads = 1, rounds = 31, seed = 1;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--hidden": hidden = value; break;
                case "--rows": rows = value; break;
                case "--threads": threads = value; break;
                case "--rounds": rounds = value; break;
                case "--seed": seed = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        const int Inputs = 784, Outputs = 10;
        var random = new Random(seed);
        var train = Matrix<float>.Build.Dense(4096, Inputs, (_, _) => (float)random.NextDouble());
        int[] labels = Enumerable.Range(0, train.RowCount).Select(i => i % Outputs).ToArray();
        var network = new Network<float>(Inputs, seed,
            new Dense<float>(hidden, Activations.ReLU, Initializers.HeUniform),
            new Dense<float>(Outputs, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01)).Fit(train, labels, new FitOptions { Epochs = 1, BatchSize = 64 });

        // The batch, as row-major values (ONNX Runtime's and our span overload's) and as a MathNet matrix.
        var x = Matrix<float>.Build.Dense(rows, Inputs, (_, _) => (float)random.NextDouble());
        float[] rowMajor = x.ToRowMajorArray();
        float[] sample = rowMajor[..Inputs];
        var ours = new float[rows * Outputs];
        var oursMatrix = Matrix<float>.Build.Dense(rows, Outputs);
        var oursSingle = new float[Outputs];
        var ort = new float[rows * Outputs];
        var ortSingle = new float[Outputs];

        // With more than one thread, ONNX Runtime's idle workers spin by default, and in this process they kept the second
        // core from our worker for the rest of the run (ours then ran on one thread even 300 ms after ONNX Runtime's last
        // call). The alternating rounds therefore run it with spinning off; its default, spinning, is timed on its own
        // after them, and each ratio is taken against the faster of the two.
        using var onnx = new OrtModel(network, threads, spinning: threads == 1, rowMajor, ort, rows, sample, ortSingle);

        void OurSingle() => network.Predict(sample, oursSingle);
        void OurBatch() => network.Predict(rowMajor, rows, ours);
        void OurMatrix() => network.Predict(x, oursMatrix);
        void OurNewMatrix() => oursMatrix = network.Predict(x);
        void OrtSingle() => onnx.RunSingle();
        void OrtBatch() => onnx.RunBatch();

        // The first layer's product alone, as the batch prediction runs it (row-major X times W laid out inputs × units),
        // to show what the rest of a call costs.
        var w = new float[Inputs * hidden];
        var z = new float[rows * hidden];
        var bias = new float[hidden];
        void Product() => Gemm.Multiply<float>(rowMajor, Inputs, false, w, hidden, false, z, hidden, rows, hidden, Inputs, bias: bias, maxDegreeOfParallelism: threads);

        // The same product in the 128-row chunks the prediction runs it in.
        void ChunkedProduct()
        {
            for (int start = 0; start < rows; start += 128)
            {
                int count = Math.Min(128, rows - start);
                Gemm.Multiply<float>(rowMajor.AsSpan(start * Inputs, count * Inputs), Inputs, false, w, hidden, false, z.AsSpan(start * hidden, count * hidden), hidden,
                    count, hidden, Inputs, bias: bias, maxDegreeOfParallelism: threads);
            }
        }

        // Warm-up (and the second prediction at these weights, from which the dense layers read their transposed copy).
        for (int i = 0; i < 20; i++)
        {
            OurSingle();
            OrtSingle();
            OurBatch();
            OurMatrix();
            OurNewMatrix();
            OrtBatch();
        }

        int singleCalls = 400, batchCalls = Math.Max(2, 4_000_000 / (rows * Inputs));
        var singleUs = new double[rounds];
        var ortSingleUs = new double[rounds];
        var batchMs = new double[rounds];
        var matrixMs = new double[rounds];
        var newMatrixMs = new double[rounds];
        var ortBatchMs = new double[rounds];
        var productMs = new double[rounds];
        var chunkedMs = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            singleUs[r] = PerCall(OurSingle, singleCalls) * 1e6;
            ortSingleUs[r] = PerCall(OrtSingle, singleCalls) * 1e6;
            batchMs[r] = PerCall(OurBatch, batchCalls) * 1e3;
            matrixMs[r] = PerCall(OurMatrix, batchCalls) * 1e3;
            newMatrixMs[r] = PerCall(OurNewMatrix, batchCalls) * 1e3;
            ortBatchMs[r] = PerCall(OrtBatch, batchCalls) * 1e3;
            productMs[r] = PerCall(Product, batchCalls) * 1e3;
            chunkedMs[r] = PerCall(ChunkedProduct, batchCalls) * 1e3;
        }

        double ortSpinningSingle = double.NaN, ortSpinningBatch = double.NaN;
        if (threads > 1)
        {
            (ortSpinningSingle, ortSpinningBatch) = TimeSpinningOrt(network, threads, rounds, rowMajor, rows, Outputs, sample, singleCalls, batchCalls);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            OurSingle();
            OurBatch();
            OurMatrix();
        }

        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;

        double maxDiff = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - ort[i]));
            maxDiff = Math.Max(maxDiff, Math.Abs(oursMatrix[i / Outputs, i % Outputs] - ort[i]));
        }

        for (int j = 0; j < Outputs; j++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(oursSingle[j] - ortSingle[j]));
            maxDiff = Math.Max(maxDiff, Math.Abs(oursSingle[j] - ours[j]));
        }

        double single = TrainingRun.Median(singleUs), ortSingleMedian = TrainingRun.Median(ortSingleUs);
        double batch = TrainingRun.Median(batchMs), matrix = TrainingRun.Median(matrixMs), newMatrix = TrainingRun.Median(newMatrixMs), ortBatch = TrainingRun.Median(ortBatchMs);
        if (threads > 1)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime with spinning off (alternating with ours): single {ortSingleMedian:F2} us, {rows} rows {ortBatch:F3} ms; with its default spinning (timed alone afterwards): {ortSpinningSingle:F2} us, {ortSpinningBatch:F3} ms; ratios below are against the faster"));
            ortSingleMedian = Math.Min(ortSingleMedian, ortSpinningSingle);
            ortBatch = Math.Min(ortBatch, ortSpinningBatch);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"784-{hidden}-10 float, {threads} thread(s) each side, {rounds} alternating rounds ({singleCalls} single calls, {batchCalls} batch calls of {rows} rows per round)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"single sample: ours {single:F2} us, ONNX Runtime {ortSingleMedian:F2} us, ratio {single / ortSingleMedian:F2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rows} rows: ours {batch:F3} ms (span), {matrix:F3} ms (into a MathNet matrix), {newMatrix:F3} ms (Predict(matrix), a new result), ONNX Runtime {ortBatch:F3} ms, ratios {batch / ortBatch:F2}, {matrix / ortBatch:F2} and {newMatrix / ortBatch:F2}"));
        double product = TrainingRun.Median(productMs), chunked = TrainingRun.Median(chunkedMs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"the first layer's product alone ({rows}×{Inputs}·{Inputs}×{hidden}, Gemm.Multiply): {product:F3} ms, {2.0 * rows * Inputs * hidden / product / 1e6:F0} GFLOP/s; in 128-row chunks as the prediction runs it: {chunked:F3} ms, {2.0 * rows * Inputs * hidden / chunked / 1e6:F0} GFLOP/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"max |ours - ONNX Runtime| {maxDiff:E2}; our calls allocate {allocated} bytes per round of three"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {{\"hidden\":{hidden},\"rows\":{rows},\"threads\":{threads},\"single_us\":{single:F2},\"ort_single_us\":{ortSingleMedian:F2},\"batch{rows}_ms\":{batch:F3},\"batch{rows}_matrix_ms\":{matrix:F3},\"batch{rows}_new_matrix_ms\":{newMatrix:F3},\"ort_batch{rows}_ms\":{ortBatch:F3},\"ort_spinning_single_us\":{JsonNumber(ortSpinningSingle, "F2")},\"ort_spinning_batch{rows}_ms\":{JsonNumber(ortSpinningBatch, "F3")},\"single_ratio\":{single / ortSingleMedian:F3},\"batch_ratio\":{batch / ortBatch:F3},\"matrix_ratio\":{matrix / ortBatch:F3},\"max_abs_diff\":{maxDiff:E2},\"allocated_bytes\":{allocated}}}"));
        return 0;
    }

    /// <summary>ONNX Runtime with its default thread settings (idle workers spin): medians over rounds of the single-sample
    /// and batch calls, in µs and ms.</summary>
    private static (double SingleUs, double BatchMs) TimeSpinningOrt(
        Network<float> network, int threads, int rounds, float[] rowMajor, int rows, int outputs, float[] sample, int singleCalls, int batchCalls)
    {
        using var onnx = new OrtModel(network, threads, spinning: true, rowMajor, new float[rows * outputs], rows, sample, new float[outputs]);
        for (int i = 0; i < 20; i++)
        {
            onnx.RunSingle();
            onnx.RunBatch();
        }

        var singleUs = new double[rounds];
        var batchMs = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            singleUs[r] = PerCall(onnx.RunSingle, singleCalls) * 1e6;
            batchMs[r] = PerCall(onnx.RunBatch, batchCalls) * 1e3;
        }

        return (TrainingRun.Median(singleUs), TrainingRun.Median(batchMs));
    }

    // A number for the RESULT line, or null where nothing was measured (NaN is not JSON).
    private static string JsonNumber(double value, string format) =>
        double.IsNaN(value) ? "null" : value.ToString(format, CultureInfo.InvariantCulture);

    private static double PerCall(Action call, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
        {
            call();
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
    }

    /// <summary>The exported network in an ONNX Runtime session on caller buffers: a batch of rows × inputs and one sample,
    /// bound once to their outputs; sequential execution, every graph optimisation, <c>threads</c> intra-op threads whose
    /// idle spinning is on or off.</summary>
    private sealed class OrtModel : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;
        private readonly RunOptions _run = new();
        private readonly OrtValue[] _values;
        private readonly OrtIoBinding _batch;
        private readonly OrtIoBinding _single;

        public OrtModel(Network<float> network, int threads, bool spinning, float[] batchInput, float[] batchOutput, int rows, float[] sample, float[] sampleOutput)
        {
            _options = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            if (!spinning)
            {
                _options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            }

            _session = new InferenceSession(network.ToOnnxBytes(), _options);
            int inputs = sample.Length, outputs = sampleOutput.Length;
            _values =
            [
                OrtValue.CreateTensorValueFromMemory(batchInput, [rows, inputs]),
                OrtValue.CreateTensorValueFromMemory(batchOutput, [rows, outputs]),
                OrtValue.CreateTensorValueFromMemory(sample, [1, inputs]),
                OrtValue.CreateTensorValueFromMemory(sampleOutput, [1, outputs]),
            ];
            _batch = _session.CreateIoBinding();
            _batch.BindInput("input", _values[0]);
            _batch.BindOutput("output", _values[1]);
            _single = _session.CreateIoBinding();
            _single.BindInput("input", _values[2]);
            _single.BindOutput("output", _values[3]);
        }

        public void RunBatch() => _session.RunWithBinding(_run, _batch);

        public void RunSingle() => _session.RunWithBinding(_run, _single);

        public void Dispose()
        {
            _single.Dispose();
            _batch.Dispose();
            foreach (var value in _values)
            {
                value.Dispose();
            }

            _run.Dispose();
            _session.Dispose();
            _options.Dispose();
        }
    }
}
