using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Backprop.Benchmarks;

/// <summary>
/// The <c>train-mlp</c> mode: the <c>train</c> workload (Fashion-MNIST, ReLU hidden layers, softmax with cross-entropy,
/// plain SGD, one warm-up epoch on a throw-away network, median of the measured epochs) with any stack of hidden layers
/// (<c>--layers 1024,1024</c>: the wide network of issue 14) and either element type (<c>--dtype float32|float64</c>);
/// <c>--data-path rows|matrix</c> as in <c>train</c>.
/// </summary>
public static class TrainMlpBenchmark
{
    public static int Run(string[] args)
    {
        int batch = 64, epochs = 3, threads = 2, seed = 1234;
        int[] layers = [128];
        double learningRate = 0.1;
        string data = "/usr/share/datasets/fashion-mnist", dtype = "float32", dataPath = "rows";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--layers": layers = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--hidden": layers = [int.Parse(value, CultureInfo.InvariantCulture)]; break;
                case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--epochs": epochs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--lr": learningRate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--data": data = value; break;
                case "--dtype" when value is "float32" or "float64": dtype = value; break;
                case "--data-path" when value is "rows" or "matrix": dataPath = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]} {value}"); return 2;
            }
        }

        if (!TrainingRun.HasFashionMnist(data))
        {
            return 1;
        }

        return dtype == "float64"
            ? Run<double>(data, layers, batch, epochs, threads, learningRate, seed, dtype, dataPath)
            : Run<float>(data, layers, batch, epochs, threads, learningRate, seed, dtype, dataPath);
    }

    private static int Run<T>(string data, int[] layers, int batch, int epochs, int threads, double learningRate, int seed, string dtype, string dataPath)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var set = TrainingRun.Load<T>(data, dataPath);
        string shape = string.Join('-', [set.Width, .. layers, 10]);
        Console.WriteLine($"Fashion-MNIST: MLP {shape}, {dtype}, batch {batch}, {threads} thread(s)");

        double[] warmup = TrainingRun.Fit(Build<T>(layers, threads, seed + 1), new Sgd(learningRate), set, batch, 1, seed + 1).Durations;
        Console.WriteLine($"warm-up epoch: {warmup[0]:F3} s");
        var network = Build<T>(layers, threads, seed);
        double[] durations = TrainingRun.Fit(network, new Sgd(learningRate), set, batch, epochs, seed).Durations;
        for (int e = 0; e < epochs; e++)
        {
            Console.WriteLine($"epoch {e + 1}: {durations[e]:F3} s  {set.TrainCount / durations[e]:F0} samples/s");
        }

        double accuracy = set.TestAccuracy(network);
        double median = TrainingRun.Median(durations);
        double twoCores = TrainingRun.TwoCoreRatio(), twoCoreCaches = TrainingRun.TwoCoreCacheRatio();
        Console.WriteLine($"two-core check: the FMA loop on two threads at once runs {twoCores:F2}× one thread (2 on two free cores, 1 where the host gives the vCPUs one core's time); two threads reading their L2 at once each run {twoCoreCaches:F2}× one alone");
        var result = new
        {
            workload = "fashion-mnist",
            layers = shape,
            dtype,
            batch,
            threads,
            data_path = dataPath,
            seconds_per_epoch = Math.Round(median, 4),
            samples_per_second = Math.Round(set.TrainCount / median),
            load_seconds = Math.Round(set.LoadSeconds, 4),
            load_cpu_seconds = Math.Round(set.LoadCpuSeconds, 4),
            load_process_cpu_seconds = Math.Round(set.LoadProcessCpuSeconds, 4),
            peak_rss_mib = TrainingRun.PeakResidentMiB(),
            test_accuracy = Math.Round(accuracy, 4),
            two_core_fma_ratio = twoCores,
            two_core_cache_ratio = twoCoreCaches,
        };
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return 0;
    }

    private static Network<T> Build<T>(int[] layers, int threads, int seed)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(784, seed,
            [.. layers.Select(units => (Layer<T>)new Dense<T>(units, Activations.ReLU, Initializers.HeUniform)), new Dense<T>(10, Activations.Softmax)])
        {
            MaxDegreeOfParallelism = threads,
        };
}
