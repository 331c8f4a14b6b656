using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Backprop.Data;

namespace Backprop.Benchmarks;

/// <summary>
/// The <c>train-mlp</c> mode: the <c>train</c> workload (Fashion-MNIST, ReLU hidden layers, softmax with cross-entropy,
/// plain SGD, one warm-up epoch on a throw-away network, median of the measured epochs) with any stack of hidden layers
/// (<c>--layers 1024,1024</c>: the wide network of issue 14) and either element type (<c>--dtype float32|float64</c>).
/// </summary>
public static class TrainMlpBenchmark
{
    public static int Run(string[] args)
    {
        int batch = 64, epochs = 3, threads = 2, seed = 1234;
        int[] layers = [128];
        double learningRate = 0.1;
        string data = "/usr/share/datasets/fashion-mnist", dtype = "float32";
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
                default: Console.Error.WriteLine($"unknown option {args[i]} {value}"); return 2;
            }
        }

        if (!File.Exists(Path.Combine(data, "train-images-idx3-ubyte.gz")))
        {
            Console.Error.WriteLine($"Fashion-MNIST not found in {data}: install Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist) or pass --data DIR.");
            return 1;
        }

        return dtype == "float64"
            ? Run<double>(data, layers, batch, epochs, threads, learningRate, seed, dtype)
            : Run<float>(data, layers, batch, epochs, threads, learningRate, seed, dtype);
    }

    private static int Run<T>(string data, int[] layers, int batch, int epochs, int threads, double learningRate, int seed, string dtype)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var trainX = IdxData.ReadImages<T>(Path.Combine(data, "train-images-idx3-ubyte.gz"));
        int[] trainY = IdxData.ReadLabels(Path.Combine(data, "train-labels-idx1-ubyte.gz"));
        var testX = IdxData.ReadImages<T>(Path.Combine(data, "t10k-images-idx3-ubyte.gz"));
        int[] testY = IdxData.ReadLabels(Path.Combine(data, "t10k-labels-idx1-ubyte.gz"));
        string shape = string.Join('-', [trainX.ColumnCount, .. layers, 10]);
        Console.WriteLine($"Fashion-MNIST: MLP {shape}, {dtype}, batch {batch}, {threads} thread(s)");

        double[] warmup = TrainingRun.Fit(Build<T>(layers, threads, seed + 1), new Sgd(learningRate), trainX, trainY, batch, 1, seed + 1).Durations;
        Console.WriteLine($"warm-up epoch: {warmup[0]:F3} s");
        var network = Build<T>(layers, threads, seed);
        double[] durations = TrainingRun.Fit(network, new Sgd(learningRate), trainX, trainY, batch, epochs, seed).Durations;
        for (int e = 0; e < epochs; e++)
        {
            Console.WriteLine($"epoch {e + 1}: {durations[e]:F3} s  {trainX.RowCount / durations[e]:F0} samples/s");
        }

        int[] predicted = network.PredictClasses(testX);
        double accuracy = predicted.Where((p, i) => p == testY[i]).Count() / (double)testY.Length;
        double median = TrainingRun.Median(durations);
        var result = new
        {
            workload = "fashion-mnist",
            layers = shape,
            dtype,
            batch,
            threads,
            seconds_per_epoch = Math.Round(median, 4),
            samples_per_second = Math.Round(trainX.RowCount / median),
            test_accuracy = Math.Round(accuracy, 4),
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
