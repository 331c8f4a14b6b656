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
        if (args.Contains("--layers"))
        {
            args = args.Where(a => a != "--layers").ToArray();
            int t = args.Length >= 2 && args[0] == "--threads" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1;
            return Layers(t, 300);
        }

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

        if (!TrainingRun.HasFashionMnist(data))
        {
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
        var process = System.Diagnostics.Process.GetCurrentProcess();
        TimeSpan cpuStart = process.TotalProcessorTime;
        var measured = TrainingRun.Fit(network, new Sgd(learningRate, momentum: momentum), trainX, trainY, batch, epochs, seed);
        process.Refresh();
        double cpuPerEpoch = (process.TotalProcessorTime - cpuStart).TotalSeconds / epochs;
        Console.WriteLine($"processor time: {cpuPerEpoch:F3} s per epoch (all threads)");
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
            cpu_seconds_per_epoch = Math.Round(cpuPerEpoch, 3),
            allocated_bytes_per_step = measured.AllocatedBytesPerStep,
        };
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>Processor time per step of each layer's forward, local-gradient and backward pass at batch 64 on
    /// synthetic inputs (<c>train-cnn --layers</c>): where a step's time goes, robust to a shared machine.</summary>
    public static int Layers(int threads, int steps)
    {
        const int batch = 64;
        var network = Build(threads, 1);
        var random = new Random(3);
        var layers = network.Layers;
        var values = new float[layers.Count + 1][];
        values[0] = Enumerable.Range(0, batch * network.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        var saved = new float[layers.Count][];
        var deltas = new float[layers.Count][];
        var gradients = new float[layers.Count + 1][];
        for (int i = 0; i < layers.Count; i++)
        {
            values[i + 1] = new float[batch * layers[i].OutputSize];
            saved[i] = new float[batch * layers[i].SavedForBackwardSize];
            deltas[i] = new float[batch * layers[i].OutputSize];
            gradients[i] = i == 0 ? [] : new float[batch * layers[i].InputSize];
        }

        gradients[layers.Count] = Enumerable.Range(0, batch * network.OutputSize).Select(_ => (float)(random.NextDouble() - 0.5) / batch).ToArray();
        var cpu = new double[layers.Count, 3];
        var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int round = 0; round < 2; round++)
        {
            for (int step = 0; step < steps; step++)
            {
                for (int i = 0; i < layers.Count; i++)
                {
                    TimeSpan start = round == 1 ? Now() : default;
                    layers[i].Forward(values[i], saved[i], values[i + 1], batch, training: true);
                    if (round == 1)
                    {
                        cpu[i, 0] += (Now() - start).TotalSeconds;
                    }
                }

                for (int i = layers.Count - 1; i >= 0; i--)
                {
                    TimeSpan start = round == 1 ? Now() : default;
                    layers[i].ComputeLocalGradients(saved[i], values[i + 1], gradients[i + 1], deltas[i], batch);
                    TimeSpan middle = round == 1 ? Now() : default;
                    layers[i].Backpropagate(values[i], deltas[i], gradients[i], batch);
                    if (round == 1)
                    {
                        cpu[i, 1] += (middle - start).TotalSeconds;
                        cpu[i, 2] += (Now() - middle).TotalSeconds;
                    }
                }
            }
        }

        double total = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            // Wall-clock too: the fastest of 7 rounds of 50 calls of each pass alone.
            double forwardWall = double.MaxValue, backwardWall = double.MaxValue;
            for (int round = 0; round < 7; round++)
            {
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                for (int step = 0; step < 50; step++)
                {
                    layers[i].Forward(values[i], saved[i], values[i + 1], batch, training: true);
                }

                forwardWall = Math.Min(forwardWall, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds / 50);
                start = System.Diagnostics.Stopwatch.GetTimestamp();
                for (int step = 0; step < 50; step++)
                {
                    layers[i].Backpropagate(values[i], deltas[i], gradients[i], batch);
                }

                backwardWall = Math.Min(backwardWall, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds / 50);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  wall (fastest of 7 rounds): forward {forwardWall * 1e3:F3} ms  backward {backwardWall * 1e3:F3} ms"));

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{layers[i],-50} forward {cpu[i, 0] / steps * 1e3,7:F3} ms  local {cpu[i, 1] / steps * 1e3,7:F3} ms  backward {cpu[i, 2] / steps * 1e3,7:F3} ms"));
            total += cpu[i, 0] + cpu[i, 1] + cpu[i, 2];
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {total / steps * 1e3:F3} ms processor time per step ({threads} thread(s))"));
        return 0;

        TimeSpan Now()
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
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
