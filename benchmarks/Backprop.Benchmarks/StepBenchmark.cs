using System.Diagnostics;
using System.Globalization;

namespace Backprop.Benchmarks;

/// <summary>
/// A training step without a data set: a 784-hidden-10 float MLP trained by <c>Fit</c> on synthetic random rows (the
/// shape of Fashion-MNIST, row-major and read in place), so that a change of the thread machinery can be measured
/// anywhere. Each measured epoch is one <c>Fit</c>, so its fixed start (tens of microseconds) is in the figure. Prints the median time
/// per step over <c>--epochs</c> measured epochs after one warm-up epoch; the last line is <c>RESULT {json}</c>.
/// </summary>
internal static class StepBenchmark
{
    public static int Run(string[] args)
    {
        int hidden = 128, batch = 64, epochs = 5, threads = 1, rows = 16384;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--hidden": hidden = value; break;
                case "--batch": batch = value; break;
                case "--epochs": epochs = value; break;
                case "--threads": threads = value; break;
                case "--rows": rows = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        // Row-major rows, trained on in place: a matrix would be copied by every Fit, and each measured epoch is one Fit.
        var random = new Random(7);
        var x = new float[rows * 784];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)random.NextDouble();
        }

        int[] y = Enumerable.Range(0, rows).Select(i => i % 10).ToArray();
        var network = new Network<float>(784, 1,
            new Dense<float>(hidden, Activations.ReLU, Initializers.HeUniform),
            new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01));
        trainer.Fit(x, y, new FitOptions { Epochs = 1, BatchSize = batch });
        var seconds = new double[epochs];
        for (int e = 0; e < epochs; e++)
        {
            long start = Stopwatch.GetTimestamp();
            trainer.Fit(x, y, new FitOptions { Epochs = 1, BatchSize = batch, Seed = e });
            seconds[e] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(seconds);
        double median = seconds[epochs / 2];
        int steps = (rows + batch - 1) / batch;
        Console.WriteLine($"RESULT {{\"hidden\":{hidden},\"batch\":{batch},\"threads\":{threads},\"median_us_per_step\":{(median / steps * 1e6).ToString("F1", CultureInfo.InvariantCulture)}}}");
        return 0;
    }
}
