using System.Globalization;
using System.Text.Json;
using Backprop.Data;

namespace Backprop.Benchmarks;

/// <summary>
/// The workload of the performance issue, as the numpy peer runs it: Fashion-MNIST in [0, 1] float32, MLP 784-H-10,
/// ReLU hidden, softmax with cross-entropy, plain SGD, reshuffled every epoch. One warm-up epoch on a throw-away
/// network, then <c>--epochs</c> measured epochs on a fresh one; seconds per epoch is the median of the measured ones.
/// </summary>
/// <remarks>
/// <para><c>--jit off</c> (the default) runs with tiered compilation off, as the project file sets it: every method is
/// compiled fully optimised at its first call, and the measured epochs show the steady state at once. <c>--jit default</c>
/// runs the same in a child process with the runtime's defaults (tiered compilation and tiered PGO on), as every
/// application does: its first epochs show what an application pays while the JIT promotes the hot methods.</para>
/// <para>The RESULT line carries every epoch of the run (<c>epoch_seconds</c>: the warm-up epoch, then the measured
/// ones), the warm-up tax Σ over the first six epochs of (epoch − <c>seconds_per_epoch</c>), the seconds from the call of
/// each <c>Fit</c> to its first batch (<c>fit_start_seconds</c>: the warm-up's, then the measured one's), the seconds
/// spent reading the four IDX files (<c>load_seconds</c>; <c>load_cpu_seconds</c> of the calling thread,
/// <c>load_process_cpu_seconds</c> of all threads, since the row reader inflates a large gzip file on a second one), and the process's peak resident memory
/// (<c>peak_rss_mib</c>, VmHWM). <c>--data-path rows</c> (the default) reads the images with
/// <see cref="IdxData.ReadImageRows{T}"/> and trains on them in place, the fastest public path; <c>--data-path matrix</c>
/// reads them into MathNet matrices with <see cref="IdxData.ReadImages{T}"/>, which every <c>Fit</c> copies row-major
/// (the RESULT line says which in <c>data_path</c>). For the tax, run ten epochs or more. On a shared machine, where wall times include
/// waits for a core, <c>epoch_cpu_seconds</c> and <c>cpu_warmup_tax_seconds</c> give the same from the training thread's
/// CPU time (with one thread, the epoch's whole work).</para>
/// </remarks>
public static class TrainBenchmark
{
    public static int Run(string[] args)
    {
        int hidden = 128, batch = 64, epochs = 3, threads = 2, seed = 1234;
        double learningRate = 0.1;
        string data = "/usr/share/datasets/fashion-mnist", jit = "off", dataPath = "rows";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--hidden": hidden = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--epochs": epochs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--lr": learningRate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--data": data = value; break;
                case "--jit" when value is "off" or "default": jit = value; break;
                case "--data-path" when value is "rows" or "matrix": dataPath = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        if (TrainingRun.RunInJitMode(jit, ["train", .. args]) is { } exitCode)
        {
            return exitCode;
        }

        if (!TrainingRun.HasFashionMnist(data))
        {
            return 1;
        }

        var set = TrainingRun.Load<float>(data, dataPath);
        double loadSeconds = set.LoadSeconds, loadCpuSeconds = set.LoadCpuSeconds;
        Console.WriteLine($"Fashion-MNIST: {set.TrainCount} training and {set.TestCount} test images of {set.Width} pixels, read ({dataPath}) in {loadSeconds:F3} s; MLP {set.Width}-{hidden}-10, batch {batch}, {threads} thread(s), JIT {jit}");

        // Warm-up: one epoch on a throw-away network, so that the JIT's tiers and the caches are settled.
        var warmup = TrainingRun.Fit(Build(hidden, threads, seed + 1), new Sgd(learningRate), set, batch, 1, seed + 1);
        Console.WriteLine($"warm-up epoch: {warmup.Durations[0]:F3} s (first batch after {warmup.FitStartSeconds:F3} s)");

        var network = Build(hidden, threads, seed);
        var measured = TrainingRun.Fit(network, new Sgd(learningRate), set, batch, epochs, seed);
        for (int e = 0; e < epochs; e++)
        {
            Console.WriteLine($"epoch {e + 1}: {measured.Durations[e]:F3} s  {set.TrainCount / measured.Durations[e]:F0} samples/s  loss {measured.Losses[e]:F4}");
        }

        double accuracy = set.TestAccuracy(network);
        double median = TrainingRun.Median(measured.Durations);
        double[] epochSeconds = [warmup.Durations[0], .. measured.Durations];
        double tax = TrainingRun.WarmupTax(epochSeconds, median);
        double[] epochCpu = [warmup.CpuSeconds[0], .. measured.CpuSeconds];
        double cpuTax = TrainingRun.WarmupTax(epochCpu, TrainingRun.Median(measured.CpuSeconds));
        Console.WriteLine($"first batch of the measured Fit after {measured.FitStartSeconds:F3} s; warm-up tax (first six epochs) {tax:F3} s");
        double twoCores = TrainingRun.TwoCoreRatio(), twoCoreCaches = TrainingRun.TwoCoreCacheRatio();
        Console.WriteLine($"two-core check: the FMA loop on two threads at once runs {twoCores:F2}× one thread (2 on two free cores, 1 where the host gives the vCPUs one core's time); two threads reading their L2 at once each run {twoCoreCaches:F2}× one alone");
        var result = new
        {
            workload = "fashion-mnist",
            hidden,
            batch,
            threads,
            jit,
            data_path = dataPath,
            seconds_per_epoch = Math.Round(median, 4),
            epoch_seconds = epochSeconds.Select(e => Math.Round(e, 4)).ToArray(),
            warmup_tax_seconds = Math.Round(tax, 4),
            epoch_cpu_seconds = epochCpu.Select(e => Math.Round(e, 4)).ToArray(),
            cpu_warmup_tax_seconds = Math.Round(cpuTax, 4),
            fit_start_seconds = new[] { Math.Round(warmup.FitStartSeconds, 4), Math.Round(measured.FitStartSeconds, 4) },
            fit_start_cpu_seconds = new[] { Math.Round(warmup.FitStartCpuSeconds, 4), Math.Round(measured.FitStartCpuSeconds, 4) },
            load_seconds = Math.Round(loadSeconds, 4),
            load_cpu_seconds = Math.Round(loadCpuSeconds, 4),
            load_process_cpu_seconds = Math.Round(set.LoadProcessCpuSeconds, 4),
            peak_rss_mib = TrainingRun.PeakResidentMiB(),
            samples_per_second = Math.Round(set.TrainCount / median),
            test_accuracy = Math.Round(accuracy, 4),
            allocated_bytes_per_step = measured.AllocatedBytesPerStep,
            two_core_fma_ratio = twoCores,
            two_core_cache_ratio = twoCoreCaches,
        };
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>The <c>load</c> mode: reads the four files by the "rows" and the "matrix" data paths in alternating
    /// rounds, and prints the wall and CPU seconds of each (medians in the RESULT line), to compare with numpy's loader
    /// (../shared/peers/fmnist.py).</summary>
    public static int Load(string[] args)
    {
        int rounds = 5;
        string data = "/usr/share/datasets/fashion-mnist", only = "both";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--data": data = args[i + 1]; break;
                case "--data-path" when args[i + 1] is "rows" or "matrix": only = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var seconds = new Dictionary<string, List<(double Wall, double Cpu, double ProcessCpu)>> { ["rows"] = [], ["matrix"] = [] };
        for (int round = 0; round < rounds; round++)
        {
            foreach (string path in round % 2 == 0 ? new[] { "rows", "matrix" } : ["matrix", "rows"])
            {
                if (only != "both" && path != only)
                {
                    continue;
                }

                var set = TrainingRun.Load<float>(data, path);
                seconds[path].Add((set.LoadSeconds, set.LoadCpuSeconds, set.LoadProcessCpuSeconds));
                Console.WriteLine($"round {round + 1} {path}: {set.LoadSeconds:F3} s, {set.LoadCpuSeconds:F3} CPU s of this thread, {set.LoadProcessCpuSeconds:F3} CPU s of the process");
                GC.Collect();
            }
        }

        var result = new Dictionary<string, double>();
        foreach (var (path, measured) in seconds.Where(p => p.Value.Count > 0))
        {
            result[$"{path}_load_seconds"] = Math.Round(TrainingRun.Median([.. measured.Select(s => s.Wall)]), 4);
            result[$"{path}_load_cpu_seconds"] = Math.Round(TrainingRun.Median([.. measured.Select(s => s.Cpu)]), 4);
            result[$"{path}_load_process_cpu_seconds"] = Math.Round(TrainingRun.Median([.. measured.Select(s => s.ProcessCpu)]), 4);
        }

        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return 0;
    }

    private static Network<float> Build(int hidden, int threads, int seed) =>
        new(784, seed,
            new Dense<float>(hidden, Activations.ReLU, Initializers.HeUniform),
            new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
}
