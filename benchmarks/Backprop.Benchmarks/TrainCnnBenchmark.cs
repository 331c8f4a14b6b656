using System.Globalization;
using System.Text.Json;
using Backprop.Data;

namespace Backprop.Benchmarks;

/// <summary>
/// The convolutional workload of issue 13, exactly the network of ../shared/peers/cnn_torch.py: Fashion-MNIST in
/// [0, 1] float32 as 1 × 28 × 28 images, Conv(16, 3×3, same) ReLU MaxPool(2) → Conv(32, 3×3, same) ReLU MaxPool(2) →
/// Dense(128) ReLU → Dense(10) softmax with cross-entropy, SGD 0.05 with momentum 0.9, batch 64, reshuffled every epoch.
/// A warm-up of <c>--warmup-steps</c> steps on a throw-away network (as the peer), then <c>--epochs</c> measured epochs
/// on a fresh one; seconds per epoch is the median; the last line is <c>RESULT {json}</c>.
/// </summary>
public static class TrainCnnBenchmark
{
    public static int Run(string[] args)
    {
        int batch = 64, epochs = 2, threads = 2, seed = 1, warmupSteps = 50;
        double learningRate = 0.05, momentum = 0.9;
        string data = "/usr/share/datasets/fashion-mnist";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--epochs": epochs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--lr": learningRate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--momentum": momentum = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup-steps": warmupSteps = int.Parse(value, CultureInfo.InvariantCulture); break;
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
        Console.WriteLine($"Fashion-MNIST: {trainX.RowCount} training and {testX.RowCount} test images of 1×28×28; {Build(threads, seed)}; batch {batch}, {threads} thread(s)");

        // Warm-up: a few steps on a throw-away network, so that the JIT's tiers and the caches are settled.
        int warmupRows = Math.Min(trainX.RowCount, warmupSteps * batch);
        var warmup = TrainingRun.Fit(Build(threads, seed + 1), new Sgd(learningRate, momentum: momentum), trainX.SubMatrix(0, warmupRows, 0, trainX.ColumnCount), trainY[..warmupRows], batch, 1, seed + 1);
        Console.WriteLine($"warm-up ({warmupSteps} steps): {warmup.Durations[0]:F3} s");

        var network = Build(threads, seed);
        var measured = TrainingRun.Fit(network, new Sgd(learningRate, momentum: momentum), trainX, trainY, batch, epochs, seed);
        for (int e = 0; e < epochs; e++)
        {
            Console.WriteLine($"epoch {e + 1}: {measured.Durations[e]:F3} s  {trainX.RowCount / measured.Durations[e]:F0} samples/s  loss {measured.Losses[e]:F4}");
        }

        int[] predicted = network.PredictClasses(testX);
        double accuracy = predicted.Where((p, i) => p == testY[i]).Count() / (double)testY.Length;
        double median = TrainingRun.Median(measured.Durations);
        var result = new
        {
            workload = "fashion-mnist-cnn",
            batch,
            epochs,
            threads,
            seconds_per_epoch = Math.Round(median, 4),
            samples_per_second = Math.Round(trainX.RowCount / median),
            test_accuracy = Math.Round(accuracy, 4),
            allocated_bytes_per_step = measured.AllocatedBytesPerStep,
        };
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>The peer's network: PyTorch's padding=1 on a 3×3 kernel with stride 1 is "same".</summary>
    private static Network<float> Build(int threads, int seed) =>
        new(TensorShape.Image(1, 28, 28), seed,
            new Conv2D<float>(16, 3, 3, padding: Padding.Same, activation: Activations.ReLU),
            new MaxPool2D<float>(2),
            new Conv2D<float>(32, 3, 3, padding: Padding.Same, activation: Activations.ReLU),
            new MaxPool2D<float>(2),
            new Dense<float>(128, Activations.ReLU, Initializers.HeUniform),
            new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
}
