using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Numerics;

namespace Backprop.Benchmarks;

/// <summary>
/// The <c>gemm</c> mode: the machine's measured FMA peak per core (a register-only loop), then every matrix product of
/// a training step of the 784-H-10 MLPs (big, tiny, wide) in float and double, as GFLOP/s and as a fraction of that
/// peak, so that a figure taken on another machine still means something.
/// </summary>
public static class GemmShapes
{
    // m×n×k:AB, A/B = N (as stored) or T (transposed), as Dense calls them: forward X·Wᵀ (NT), weight gradient δᵀ·X (TN),
    // input gradient δ·W (NN).
    private static readonly string[] BigShapes = ["64x128x784:NT", "128x784x64:TN", "64x10x128:NT", "10x128x64:TN", "64x128x10:NN"];
    private static readonly string[] TinyShapes = ["16x32x784:NT", "32x784x16:TN", "16x10x32:NT", "10x32x16:TN", "16x32x10:NN"];
    private static readonly string[] WideShapes = ["128x1024x784:NT", "1024x784x128:TN", "128x1024x1024:NT", "1024x1024x128:TN", "128x1024x1024:NN", "128x10x1024:NT", "10x1024x128:TN", "128x1024x10:NN"];
    private static readonly string[] SingleRowShapes = ["1x128x784:NT", "1x10x128:NT"];

    public static int Run(string[] args)
    {
        double ms = 20;
        int rounds = 7;
        string? only = null;
        string[] custom = [];
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--ms": ms = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--only": only = args[i + 1]; break;
                case "--shapes": custom = args[i + 1].Split(','); only = "custom"; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        double peakFloat = FmaPeak<float>(rounds);
        double peakDouble = FmaPeak<double>(rounds);
        string width = Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256";
        Console.WriteLine($"FMA peak per core ({width}, register-only loop, 10th percentile of short samples): float {peakFloat:F1} GFLOP/s, double {peakDouble:F1} GFLOP/s");
        double both = FmaPeakConcurrent(rounds);
        Console.WriteLine($"FMA peak with the same loop on 2 threads at once: {both:F1} GFLOP/s in float, {both / peakFloat:F2}× one thread (2.0 where the two vCPUs are two physical cores; near 1 where they share one core's FMA units)");
        foreach (var (workload, shapes) in new[] { ("big", BigShapes), ("tiny", TinyShapes), ("wide", WideShapes), ("single", SingleRowShapes), ("custom", custom) })
        {
            if (only is not null && only != workload)
            {
                continue;
            }

            foreach (string shape in shapes)
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    double f = Measure<float>(shape, threads, ms, rounds);
                    double d = Measure<double>(shape, threads, ms, rounds);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{workload,-6} {shape,-18} {threads} thr  float {f,6:F1} GFLOP/s {f / peakFloat,5:P0} of peak   double {d,6:F1} GFLOP/s {d / peakDouble,5:P0} of peak"));
                }
            }
        }

        return 0;
    }

    // GFLOP/s (2·m·n·k per call) of one shape. The machines are shared: the time of short samples (about 50 µs of
    // calls each) for `rounds`·`ms` milliseconds in all, of which the 10th percentile (the fastest tenth: samples the
    // scheduler did not interrupt) is quoted.
    private static double Measure<T>(string shape, int threads, double ms, int rounds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parts = shape.Split(':');
        var dims = parts[0].Split('x').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        (int m, int n, int k) = (dims[0], dims[1], dims[2]);
        bool ta = parts[1][0] == 'T', tb = parts[1][1] == 'T';
        var random = new DeterministicRandom(1);
        T[] a = Enumerable.Range(0, m * k).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
        T[] b = Enumerable.Range(0, k * n).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
        T[] c = new T[m * n];
        T[] bias = ta ? [] : new T[n];
        void Call() => Gemm.Multiply<T>(a, ta ? m : k, ta, b, tb ? k : n, tb, c, n, m, n, k, bias: bias, maxDegreeOfParallelism: threads);

        for (int r = 0; r < 20; r++)
        {
            Call();
        }

        var watch = Stopwatch.StartNew();
        int calls = 0;
        while (watch.Elapsed.TotalMilliseconds < 2)
        {
            Call();
            calls++;
        }

        int reps = Math.Max(1, (int)(calls * 0.05 / watch.Elapsed.TotalMilliseconds));
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalMilliseconds < ms * rounds || samples.Count < 20)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int r = 0; r < reps; r++)
            {
                Call();
            }

            samples.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds / reps);
        }

        return 2.0 * m * n * k / Percentile10(samples) / 1e9;
    }

    private static double Percentile10(List<double> seconds)
    {
        seconds.Sort();
        return seconds[seconds.Count / 10];
    }

    /// <summary>The FMA throughput of one core in GFLOP/s: twelve independent register accumulators, no memory traffic.</summary>
    public static double FmaPeak<T>(int rounds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Short samples (about 50 µs), the 10th percentile of their times: on a shared machine, the ones not interrupted.
        const long Iterations = 10_000;
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256<T>.Count;
        var samples = new List<double>();
        double sink = 0;
        for (int sample = 0; sample < 400 * rounds; sample++)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += Vector512.IsHardwareAccelerated ? Loop512<T>(Iterations) : Loop256<T>(Iterations);
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }

        return 2.0 * 12 * lanes * Iterations / Percentile10(samples) / 1e9 + (sink == 12345.678 ? 1e-9 : 0);
    }

    /// <summary>How much two threads slow each other down reading their caches: each sums a private 400 KB array (it
    /// stays in a core's L2) for about 1 ms, first thread 0 alone, then both at once; the median over
    /// <paramref name="samples"/> samples of the slower thread's rate together over thread 0's rate alone. About 1 where
    /// the two vCPUs are two cores; about 0.5 (or lower) where the host gives them one core's time, even at moments when
    /// the register-only FMA loop still runs twice as fast on two threads.</summary>
    public static double CacheReadConcurrent(int samples = 15)
    {
        const int Length = 100_000;
        const int Passes = 8;
        var buffers = new[] { new float[Length], new float[Length] };
        buffers[0].AsSpan().Fill(1f);
        buffers[1].AsSpan().Fill(1f);
        var alone = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Sum(buffers[0], Passes);
            alone[s] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        double[] together = SlowerOfTwo(samples, id => Sum(buffers[id], Passes));
        Array.Sort(alone);
        Array.Sort(together);
        return alone[samples / 2] / together[samples / 2];
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float[] values, int passes)
    {
        var total = Vector512<float>.Zero;
        for (int pass = 0; pass < passes; pass++)
        {
            var a = Vector512<float>.Zero;
            var b = Vector512<float>.Zero;
            int i = 0;
            for (; i + 32 <= values.Length; i += 32)
            {
                a += Vector512.LoadUnsafe(ref values[i]);
                b += Vector512.LoadUnsafe(ref values[i + 16]);
            }

            total += a + b;
        }

        return Vector512.Sum(total);
    }

    /// <summary>The float FMA throughput of two threads running the register-only loop at once, in GFLOP/s for the
    /// two together: per sample (about 40 µs, both threads released together), the slower thread's rate times two; the
    /// 95th percentile over the samples, as those are the samples in which no other process took either core.</summary>
    public static double FmaPeakConcurrent(int rounds)
    {
        const long Iterations = 12_000;
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        int samples = 200 * rounds;
        double[] slower = SlowerOfTwo(samples, _ => Vector512.IsHardwareAccelerated ? Loop512<float>(Iterations) : Loop256<float>(Iterations));
        var rates = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            rates[s] = 2.0 * 2 * 12 * lanes * Iterations / slower[s] / 1e9;
        }

        Array.Sort(rates);
        return rates[samples * 95 / 100];
    }

    /// <summary>Runs <paramref name="work"/> on two threads at once, <paramref name="samples"/> times, both threads released
    /// together for each sample (by thread 0, once both finished the previous one); per sample, the seconds of the slower
    /// thread. <paramref name="work"/> gets the thread's index (0 or 1) and returns a value that is kept, so that the
    /// work cannot be optimised away.</summary>
    private static double[] SlowerOfTwo(int samples, Func<int, double> work)
    {
        var seconds = new double[2, samples];
        double[] sinks = new double[2];
        int go = 0, done = 0;
        var helper = new Thread(() => Worker(1));
        helper.Start();
        Worker(0);
        helper.Join();
        var slower = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            slower[s] = Math.Max(seconds[0, s], seconds[1, s]) + (sinks[0] + sinks[1] == 12345.678 ? 1e-9 : 0);
        }

        return slower;

        void Worker(int id)
        {
            for (int s = 0; s < samples; s++)
            {
                if (id == 0)
                {
                    while (Volatile.Read(ref done) < 2 * s)
                    {
                        Thread.SpinWait(1);
                    }

                    Volatile.Write(ref go, s + 1);
                }
                else
                {
                    while (Volatile.Read(ref go) < s + 1)
                    {
                        Thread.SpinWait(1);
                    }
                }

                long t0 = Stopwatch.GetTimestamp();
                sinks[id] += work(id);
                seconds[id, s] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                Interlocked.Increment(ref done);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Loop512<T>(long iterations)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> x = Vector512.Create(T.CreateTruncating(0.999999)), y = Vector512.Create(T.CreateTruncating(1e-7));
        Vector512<T> a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y, a8 = x, a9 = y, a10 = x, a11 = y;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma(a0, x, y);
            a1 = Fma(a1, x, y);
            a2 = Fma(a2, x, y);
            a3 = Fma(a3, x, y);
            a4 = Fma(a4, x, y);
            a5 = Fma(a5, x, y);
            a6 = Fma(a6, x, y);
            a7 = Fma(a7, x, y);
            a8 = Fma(a8, x, y);
            a9 = Fma(a9, x, y);
            a10 = Fma(a10, x, y);
            a11 = Fma(a11, x, y);
        }

        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return double.CreateTruncating(Vector512.Sum(s));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Loop256<T>(long iterations)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector256<T> x = Vector256.Create(T.CreateTruncating(0.999999)), y = Vector256.Create(T.CreateTruncating(1e-7));
        Vector256<T> a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y, a8 = x, a9 = y, a10 = x, a11 = y;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Fma(a0, x, y);
            a1 = Fma(a1, x, y);
            a2 = Fma(a2, x, y);
            a3 = Fma(a3, x, y);
            a4 = Fma(a4, x, y);
            a5 = Fma(a5, x, y);
            a6 = Fma(a6, x, y);
            a7 = Fma(a7, x, y);
            a8 = Fma(a8, x, y);
            a9 = Fma(a9, x, y);
            a10 = Fma(a10, x, y);
            a11 = Fma(a11, x, y);
        }

        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return double.CreateTruncating(Vector256.Sum(s));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
}
