using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using Xunit.Abstractions;

namespace Backprop.Tests.Reliability;

/// <summary>Sixteen threads predict with one trained network at once, through every <c>Predict</c> overload, and with
/// batch products split over the shared worker pool (<see cref="Network{T}.MaxDegreeOfParallelism"/> &gt; 1) from
/// many callers at once, while another thread forces compacting collections: every answer equals, bit for bit, the one
/// computed on one thread beforehand, and every thread finishes (no deadlock, no lost wake-up).</summary>
[Collection(nameof(RunsAlone))]
public class ConcurrentPredictionTests(ITestOutputHelper output)
{
    private const int Threads = 16;
    private const int Inputs = 48;
    private static readonly TimeSpan StressTime = TimeSpan.FromSeconds(1.2);

    [Fact]
    public void Sixteen_threads_predict_float_bit_identically_to_one() => Stress<float>();

    [Fact]
    public void Sixteen_threads_predict_double_bit_identically_to_one() => Stress<double>();

    private void Stress<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // A 3-layer MLP trained briefly on random data, and a copy that splits its batch products over the pool.
        var x = TestData.Random<T>(128, Inputs, seed: 17);
        int[] labels = Enumerable.Range(0, x.RowCount).Select(i => (i * 7) % 5).ToArray();
        var network = new Network<T>(Inputs, seed: 4,
            new Dense<T>(64, Activations.ReLU, Initializers.HeUniform),
            new Dense<T>(32, Activations.Tanh),
            new Dense<T>(5, Activations.Softmax));
        new Trainer<T>(network, Losses.CrossEntropy, new Adam(1e-2)).Fit(x, labels, new FitOptions { Epochs = 3, BatchSize = 32, Seed = 2 });
        using var saved = new MemoryStream();
        network.Save(saved);
        saved.Position = 0;
        var parallel = Network<T>.Load(saved);
        parallel.MaxDegreeOfParallelism = Math.Max(4, Environment.ProcessorCount);

        // The answers, computed on this thread alone. The 128-row batch is large enough for the first two layers' products
        // to be split over the pool (2·128·64·48 and 2·128·32·64 flops, well above GemmDriver's 2^17): the caller that
        // holds the pool splits them, the others, finding it busy, compute alone, and all must agree.
        var small = x.SubMatrix(0, 24, 0, Inputs);
        T[][] rows = Enumerable.Range(0, small.RowCount).Select(r => small.Row(r).ToArray()).ToArray();
        T[][] rowAnswers = rows.Select(r => network.Predict(r)).ToArray();
        T[] smallAnswer = network.Predict(small).ToRowMajorArray();
        int[] smallClasses = network.PredictClasses(small);
        T[] bigAnswer = network.Predict(x).ToRowMajorArray();
        int[] bigClasses = network.PredictClasses(x);
        Bits(parallel.Predict(x).ToRowMajorArray()).SequenceEqual(Bits(bigAnswer)).Should().BeTrue("the thread count cannot change a bit");

        var failures = new ConcurrentQueue<string>();
        var operations = new long[Threads];
        using var barrier = new Barrier(Threads + 1);
        using var done = new CancellationTokenSource();

        void Predict(int thread)
        {
            var destination = new T[network.OutputSize];
            barrier.SignalAndWait();
            long deadline = Stopwatch.GetTimestamp() + (long)(StressTime.TotalSeconds * Stopwatch.Frequency);
            try
            {
                // Every thread makes each of the seven kinds of call at least once, however the threads are scheduled.
                for (int i = thread; (Stopwatch.GetTimestamp() < deadline || i < thread + 7) && failures.IsEmpty; i++)
                {
                    int r = i % rows.Length;
                    string? wrong = (i % 7) switch
                    {
                        0 => Same(network.Predict(rows[r]), rowAnswers[r], "Predict(span)"),
                        1 => Same(Predicted(network, rows[r], destination), rowAnswers[r], "Predict(span, destination)"),
                        2 => Same(network.Predict(small).ToRowMajorArray(), smallAnswer, "Predict(matrix)"),
                        3 => network.PredictClasses(small).SequenceEqual(smallClasses) ? null : "PredictClasses(matrix)",
                        4 => Same(parallel.Predict(x).ToRowMajorArray(), bigAnswer, "parallel Predict(matrix)"),
                        5 => parallel.PredictClasses(x).SequenceEqual(bigClasses) ? null : "parallel PredictClasses(matrix)",
                        _ => Same(network.Predict(x).ToRowMajorArray(), bigAnswer, "Predict(large matrix)"),
                    };
                    if (wrong is not null)
                    {
                        failures.Enqueue($"thread {thread}, call {i}: {wrong} differs from the single-threaded answer");
                    }

                    operations[thread]++;
                }
            }
            catch (Exception e)
            {
                failures.Enqueue($"thread {thread}: {e}");
            }
        }

        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() => Predict(t)) { IsBackground = true, Name = $"predict {t}" }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        // Garbage (young collections move the arrays each prediction allocates) and a full compacting collection every
        // 50 ms, while the pool's workers use pinned operands.
        int youngBefore = GC.CollectionCount(0), fullBefore = GC.CollectionCount(2);
        var pressure = new Thread(() =>
        {
            var random = new DeterministicRandom(3);
            var kept = new byte[64][];
            long next = Stopwatch.GetTimestamp();
            for (int i = 0; !done.IsCancellationRequested; i++)
            {
                kept[i % kept.Length] = new byte[1 + random.NextInt32(16 << 10)];
                if (Stopwatch.GetTimestamp() >= next)
                {
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    next = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20;
                }
            }
        }) { IsBackground = true, Name = "GC pressure" };
        pressure.Start();

        var clock = Stopwatch.StartNew();
        barrier.SignalAndWait();
        var stuck = threads.Where(t => !t.Join(TimeSpan.FromSeconds(60))).Select(t => t.Name).ToArray();
        done.Cancel();
        pressure.Join();
        int young = GC.CollectionCount(0) - youngBefore, full = GC.CollectionCount(2) - fullBefore;
        output.WriteLine($"{typeof(T).Name}: {operations.Sum()} predictions on {Threads} threads in {clock.Elapsed.TotalSeconds:F2} s " +
            $"(fewest on one thread {operations.Min()}), {young} collections meanwhile, {full} of them full and compacting");

        stuck.Should().BeEmpty("every predicting thread must finish: a thread still running after a minute is deadlocked");
        failures.Should().BeEmpty();
        young.Should().BeGreaterThan(10, "the predictions must run under GC pressure");
        full.Should().BeGreaterThan(2, "the predictions must run across compacting collections");
    }

    private static T[] Predicted<T>(Network<T> network, T[] row, T[] destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Array.Clear(destination);
        network.Predict(row, destination);
        return destination;
    }

    private static string? Same<T>(T[] actual, T[] expected, string call)
        where T : unmanaged => Bits(actual).SequenceEqual(Bits(expected)) ? null : call;

    private static ReadOnlySpan<byte> Bits<T>(T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan());
}
