using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Benchmarks;

/// <summary>What the training benchmarks (<c>train</c>, <c>train-mlp</c>, <c>train-cnn</c>) share: one measured <c>Fit</c> with its epoch
/// durations, losses, allocations per step and the time before its first batch; the median of the durations; the
/// warm-up tax; the JIT mode the process runs in; and its peak memory.</summary>
internal static class TrainingRun
{
    /// <summary>The environment variable that selects tiered compilation; it overrides the runtimeconfig.json setting
    /// (<c>System.Runtime.TieredCompilation</c>) that the project file writes.</summary>
    private const string TieredCompilationVariable = "DOTNET_TieredCompilation";

    /// <summary>Trains with cross-entropy and the given optimizer, recording every epoch's duration, the bytes
    /// allocated per step and the seconds from the call of <c>Fit</c> to its first batch.</summary>
    public static Measurement Fit<T>(Network<T> network, IOptimizer optimizer, Matrix<T> x, int[] y, int batch, int epochs, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Fit(network, optimizer, (trainer, options) => trainer.Fit(x, y, options), batch, epochs, seed);

    /// <summary>As <see cref="Fit{T}(Network{T}, IOptimizer, Matrix{T}, int[], int, int, int)"/> on the data the
    /// benchmarks load, by the path it was loaded for (row-major arrays, or matrices).</summary>
    public static Measurement Fit<T>(Network<T> network, IOptimizer optimizer, FashionMnist<T> data, int batch, int epochs, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Fit(network, optimizer, data.Fit, batch, epochs, seed);

    private static Measurement Fit<T>(Network<T> network, IOptimizer optimizer, Func<Trainer<T>, FitOptions, TrainingHistory> fit, int batch, int epochs, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var observer = new Recorder();
        var trainer = new Trainer<T>(network, Losses.CrossEntropy, optimizer);
        observer.Started = Stopwatch.GetTimestamp();
        observer.StartedCpu = ThreadCpuSeconds();
        var history = fit(trainer, new FitOptions { Epochs = epochs, BatchSize = batch, Seed = seed, Observers = [observer] });
        return new Measurement(observer.Durations.ToArray(), history.Loss.ToArray(), observer.AllocatedBytesPerStep, observer.FitStartSeconds, observer.CpuSeconds.ToArray(), observer.FitStartCpuSeconds);
    }

    /// <summary>Reads the four Fashion-MNIST files for a data path, "rows" (<see cref="Data.IdxData.ReadImageRows{T}"/>,
    /// which <c>Fit</c> then reads in place) or "matrix" (<see cref="Data.IdxData.ReadImages{T}"/>, which every
    /// <c>Fit</c> copies row-major), timing it in wall seconds, CPU seconds of this thread, and CPU seconds of the
    /// process (the row reader inflates a large gzip file on a second thread).</summary>
    public static FashionMnist<T> Load<T>(string directory, string dataPath)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        long started = Stopwatch.GetTimestamp();
        double startedCpu = ThreadCpuSeconds(), startedProcessCpu = ProcessCpuSeconds();
        string File(string name) => Path.Combine(directory, name);
        var data = dataPath == "matrix"
            ? new FashionMnist<T>(dataPath, Data.IdxData.ReadImages<T>(File("train-images-idx3-ubyte.gz")), null, Data.IdxData.ReadLabels(File("train-labels-idx1-ubyte.gz")),
                Data.IdxData.ReadImages<T>(File("t10k-images-idx3-ubyte.gz")), null, Data.IdxData.ReadLabels(File("t10k-labels-idx1-ubyte.gz")))
            : new FashionMnist<T>(dataPath, null, Data.IdxData.ReadImageRows<T>(File("train-images-idx3-ubyte.gz")), Data.IdxData.ReadLabels(File("train-labels-idx1-ubyte.gz")),
                null, Data.IdxData.ReadImageRows<T>(File("t10k-images-idx3-ubyte.gz")), Data.IdxData.ReadLabels(File("t10k-labels-idx1-ubyte.gz")));
        data.LoadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        data.LoadCpuSeconds = ThreadCpuSeconds() - startedCpu;
        data.LoadProcessCpuSeconds = ProcessCpuSeconds() - startedProcessCpu;
        return data;
    }

    /// <summary>The data of the training benchmarks, as matrices or as row-major arrays.</summary>
    public sealed record FashionMnist<T>(string DataPath, Matrix<T>? TrainMatrix, T[]? TrainRows, int[] TrainLabels, Matrix<T>? TestMatrix, T[]? TestRows, int[] TestLabels)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public int Width => TrainMatrix?.ColumnCount ?? TrainRows!.Length / TrainLabels.Length;

        public int TrainCount => TrainLabels.Length;

        public int TestCount => TestLabels.Length;

        public double LoadSeconds { get; set; }

        public double LoadCpuSeconds { get; set; }

        public double LoadProcessCpuSeconds { get; set; }

        /// <summary>Trains on all the training data by this data path's <c>Fit</c>.</summary>
        public TrainingHistory Fit(Trainer<T> trainer, FitOptions options) =>
            TrainMatrix is { } matrix ? trainer.Fit(matrix, TrainLabels, options) : trainer.Fit(TrainRows, TrainLabels, options);

        /// <summary>The fraction of the test images the network classifies right.</summary>
        public double TestAccuracy(Network<T> network)
        {
            int[] predicted;
            if (TestMatrix is { } matrix)
            {
                predicted = network.PredictClasses(matrix);
            }
            else
            {
                var outputs = new T[TestCount * network.OutputSize];
                network.Predict(TestRows, TestCount, outputs);
                predicted = new int[TestCount];
                for (int r = 0; r < predicted.Length; r++)
                {
                    var row = outputs.AsSpan(r * network.OutputSize, network.OutputSize);
                    int best = 0;
                    for (int j = 1; j < row.Length; j++)
                    {
                        best = row[j] > row[best] ? j : best;
                    }

                    predicted[r] = best;
                }
            }

            return predicted.Where((p, i) => p == TestLabels[i]).Count() / (double)TestCount;
        }
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The warm-up tax of issue 14: Σ over the first six epochs of (epoch − steady), where steady is the median
    /// of the epochs after the first.</summary>
    public static double WarmupTax(double[] epochSeconds, double steady) =>
        epochSeconds.Take(6).Sum(e => e - steady);

    /// <summary>Whether Fashion-MNIST's files are in <paramref name="directory"/>; if not, says how to get them on
    /// standard error.</summary>
    public static bool HasFashionMnist(string directory)
    {
        if (File.Exists(Path.Combine(directory, "train-images-idx3-ubyte.gz")))
        {
            return true;
        }

        Console.Error.WriteLine($"Fashion-MNIST not found in {directory}: install Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist) or pass --data DIR.");
        return false;
    }

    /// <summary>The process's peak resident memory in MiB (VmHWM of /proc/self/status), or NaN where it is not known.</summary>
    public static double PeakResidentMiB()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    // "VmHWM:    123456 kB"
                    string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return Math.Round(long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0, 1);
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }

    /// <summary>Whether this machine gave the process two cores just now: the FMA throughput of the register-only loop on
    /// two threads at once over that of one thread (<see cref="GemmShapes.FmaPeakConcurrent"/> over
    /// <see cref="GemmShapes.FmaPeak{T}"/>), about 2 where the two vCPUs run on two cores and about 1 where the host gives
    /// them one core's time between them. On the cloud machines this was written on it changed within the hour (2.0 at
    /// one time, 1.0 an hour later), and with it whether a second thread shortens an epoch at all; the train RESULT lines
    /// carry it (measured after the run) so that a two-thread figure can be read for what it is.</summary>
    public static double TwoCoreRatio() =>
        Math.Round(GemmShapes.FmaPeakConcurrent(1) / GemmShapes.FmaPeak<float>(1), 2);

    /// <summary>The other half of the two-core check: <see cref="GemmShapes.CacheReadConcurrent"/>, each of two threads
    /// reading its own L2-sized array at once against one alone (1 when they do not slow each other down). On this
    /// machine a C program doing the same read 0.38-0.45 while the FMA ratio read 1.00, and 0.67-1.0 while it read 2.0;
    /// this check read 0.81-1.01 in runs whose FMA ratio read 1.99.</summary>
    public static double TwoCoreCacheRatio() => Math.Round(GemmShapes.CacheReadConcurrent(), 2);

    /// <summary>The JIT mode the process runs in: "off" (tiered compilation off, as the project file sets it, so that
    /// every method is compiled fully optimised at its first call) or "default" (the runtime's defaults, as in every
    /// application: tiered compilation and tiered PGO on).</summary>
    public static string CurrentJitMode() =>
        Environment.GetEnvironmentVariable(TieredCompilationVariable) != "1" ? "off"
        : JitKnobs.Any(k => Environment.GetEnvironmentVariable(k) is not null) ? "custom"
        : "default";

    /// <summary>Settings that change the tiers of tiered compilation: a child in the default mode runs without them.</summary>
    private static readonly string[] JitKnobs = ["DOTNET_TieredPGO", "DOTNET_TC_QuickJitForLoops", "DOTNET_TC_QuickJit", "DOTNET_OSR_HitLimit", "DOTNET_TC_CallCountThreshold", "DOTNET_ReadyToRun"];

    /// <summary>Runs this benchmark again in a child process in the JIT mode <paramref name="mode"/> when the process
    /// does not run in it already: the JIT's settings are read once, at start-up, from the environment (which wins over
    /// runtimeconfig.json). Returns the child's exit code, or null when this process is in the right mode.</summary>
    public static int? RunInJitMode(string mode, string[] commandLine)
    {
        if (mode == CurrentJitMode())
        {
            return null;
        }

        string? process = Environment.ProcessPath;
        if (process is null)
        {
            throw new InvalidOperationException("The path of this process is unknown: cannot start it again in another JIT mode.");
        }

        var start = new ProcessStartInfo(process) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            // Started as "dotnet Backprop.Benchmarks.dll": the child needs the assembly's path too.
            start.ArgumentList.Add(typeof(TrainingRun).Assembly.Location);
        }

        foreach (string argument in commandLine)
        {
            start.ArgumentList.Add(argument);
        }

        // The runtime's defaults: tiered compilation on, and none of the knobs that change its tiers.
        start.Environment[TieredCompilationVariable] = mode == "default" ? "1" : "0";
        foreach (string knob in JitKnobs)
        {
            start.Environment.Remove(knob);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {process}.");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>The CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID), or NaN where that is not known.
    /// On a shared machine an epoch's wall time includes the time the thread waited for a core; its CPU time does not.</summary>
    public static double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        return ClockGetTime(3, out var time) == 0 ? time.Seconds + time.Nanoseconds * 1e-9 : double.NaN;
    }

    /// <summary>The CPU seconds of the whole process, all its threads (CLOCK_PROCESS_CPUTIME_ID), or NaN where that is
    /// not known: the reading of a gzip file inflates on a second thread.</summary>
    public static double ProcessCpuSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        return ClockGetTime(2, out var time) == 0 ? time.Seconds + time.Nanoseconds * 1e-9 : double.NaN;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>One <c>Fit</c>'s epochs: wall seconds, losses, bytes allocated per step, seconds to the first batch, and
    /// CPU seconds of the training thread (with one thread, the epoch's work without the waits for a core of a shared
    /// machine; the JIT's background compilations run on other threads).</summary>
    public sealed record Measurement(double[] Durations, double[] Losses, double AllocatedBytesPerStep, double FitStartSeconds, double[] CpuSeconds, double FitStartCpuSeconds);

    /// <summary>Records epoch durations, the time to the first batch, and the bytes allocated on the training thread
    /// between batch 100 and 900 of the last epoch.</summary>
    private sealed class Recorder : ITrainingObserver
    {
        private const int FirstBatch = 100;
        private const int LastBatch = 900;
        private long _allocatedAtFirst;

        private double _cpuAtEpochStart;

        public List<double> Durations { get; } = [];

        public List<double> CpuSeconds { get; } = [];

        public void OnEpochBegin(int epoch) => _cpuAtEpochStart = ThreadCpuSeconds();

        public double AllocatedBytesPerStep { get; private set; } = double.NaN;

        /// <summary>When <c>Fit</c> was called (a <see cref="Stopwatch"/> timestamp).</summary>
        public long Started { get; set; }

        /// <summary>The training thread's CPU seconds when <c>Fit</c> was called.</summary>
        public double StartedCpu { get; set; }

        /// <summary>CPU seconds of the training thread from the call of <c>Fit</c> to the start of its first batch.</summary>
        public double FitStartCpuSeconds { get; private set; } = double.NaN;

        /// <summary>Seconds from the call of <c>Fit</c> to the start of its first batch.</summary>
        public double FitStartSeconds { get; private set; } = double.NaN;

        public void OnBatchBegin(int epoch, int batch)
        {
            if (double.IsNaN(FitStartSeconds))
            {
                FitStartSeconds = Stopwatch.GetElapsedTime(Started).TotalSeconds;
                FitStartCpuSeconds = ThreadCpuSeconds() - StartedCpu;
            }
        }

        public void OnBatchEnd(int epoch, int batch, double loss)
        {
            if (batch == FirstBatch)
            {
                _allocatedAtFirst = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (batch == LastBatch)
            {
                AllocatedBytesPerStep = (GC.GetAllocatedBytesForCurrentThread() - _allocatedAtFirst) / (double)(LastBatch - FirstBatch);
            }
        }

        public void OnEpochEnd(EpochResult result)
        {
            Durations.Add(result.Duration.TotalSeconds);
            CpuSeconds.Add(ThreadCpuSeconds() - _cpuAtEpochStart);
        }
    }
}
