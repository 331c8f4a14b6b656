using System.Globalization;
using System.Text.Json;
using Backprop.Data;

namespace Backprop.Benchmarks;

/// <summary>
/// The workload of the performance issue, as the numpy peer runs it: Fashion-MNIST in [0, 1] float32, MLP 784-H-10,
/// ReLU hidden, softmax with cross-entropy, plain SGD, reshuffled every epoch. One warm-up epoch on a throw-away
/// network, then <c>--epochs</c> measured epochs on a fresh one; seconds per epoch is the median.
/// </summary>
public static class TrainBenchmark
{
    public static int Run(string[] args)
    {
        int hidden = 128, batch = 64, epochs = 3, threads = 2, seed = 1234;
        double learningRate = 0.1;
        string data = "/usr/share/datasets/fashion-mnist";
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
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        if (!File.Exists(Path.Combine(data, "train-images-idx3-ubyte.gz")))
        {
            Console.Error.WriteLine($"Fashion-MNIST not found in {data}: install Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist) or pass --data DIR.");
            return 1;
        }

        var trainX = IdxData.ReadImages<float>(Path.Combine(data, "train-images-idx3-ubyte.gz"));
        int[] trainY = IdxData.ReadLabels(Path.Combine(data, "train-labels-idx1-ubyte.gz"));
        var testX = IdxData.ReadImages<float>(Path.Combine(data, "t10k-images-idx3-ubyte.gz"));
        int[] testY = IdxData.ReadLabels(Path.Combine(data, "t10k-labels-idx1-ubyte.gz"));
        Console.WriteLine($"Fashion-MNIST: {trainX.RowCount} training and {testX.RowCount} test images of {trainX.ColumnCount} pixels; MLP {trainX.ColumnCount}-{hidden}-10, batch {batch}, {threads} thread(s)");

        // Warm-up: one epoch on a throw-away network, so that the JIT's tiers and the caches are settled.
        var warmup = TrainingRun.Fit(Build(hidden, threads, seed + 1), new Sgd(learningRate), trainX, trainY, batch, 1, seed + 1);
        Console.WriteLine($"warm-up epoch: {warmup.Durations[0]:F3} s");

        var network = Build(hidden, threads, seed);
        var measured = TrainingRun.Fit(network, new Sgd(learningRate), trainX, trainY, batch, epochs, seed);
        for (int e = 0; e < epochs; e++)
        {
            Console.WriteLine($"epoch {e + 1}: {measured.Durations[e]:F3} s  {trainX.RowCount / measured.Durations[e]:F0} samples/s  loss {measured.Losses[e]:F4}");
        }

        int[] predicted = network.PredictClasses(testX);
        double accuracy = predicted.Where((p, i) => p == testY[i]).Count() / (double)testY.Length;
        double median = TrainingRun.Median(measured.Durations);
        var result = new
        {
            workload = "fashion-mnist",
            hidden,
            batch,
            threads,
            seconds_per_epoch = Math.Round(median, 4),
            samples_per_second = Math.Round(trainX.RowCount / median),
            test_accuracy = Math.Round(accuracy, 4),
            allocated_bytes_per_step = measured.AllocatedBytesPerStep,
        };
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
