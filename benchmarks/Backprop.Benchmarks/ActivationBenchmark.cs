using System.Diagnostics;
using System.Globalization;

namespace Backprop.Benchmarks;

/// <summary>
/// Nanoseconds per element of each element-wise activation's <c>Forward</c> and <c>Backward</c>, float, on a 64×128 batch
/// (the hidden layer of the training workload, 8,192 values, in L1/L2) and on a 1M-element array (4 MiB per span, past
/// L2). Inputs are drawn uniformly from [−6, 6], so both sides of every kink and the saturating tails are exercised.
/// Each figure is the fastest of <c>--rounds</c> rounds (the machines are shared: the minimum is the figure least disturbed by other work); a round calls the method repeatedly for about
/// <c>--ms</c> milliseconds after a warm-up and divides the elapsed time by the elements processed. Single-threaded.
/// </summary>
public static class ActivationBenchmark
{
    public static int Run(string[] args)
    {
        int rounds = 9, milliseconds = 60;
        string? only = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--ms": milliseconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--only": only = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        IActivation[] activations =
        [
            Activations.Sigmoid, Activations.Tanh, Activations.ELU, Activations.Softplus, Activations.GELU,
            Activations.SiLU, Activations.LeakyReLU, Activations.ReLU,
        ];
        int[] sizes = [64 * 128, 1 << 20];
        Console.WriteLine($"ns per element, float, single thread, fastest of {rounds} rounds of ~{milliseconds} ms");
        Console.WriteLine("| activation | forward 64×128 | forward 1M | backward 64×128 | backward 1M |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var activation in activations)
        {
            if (only is not null && activation.Name != only)
            {
                continue;
            }

            var cells = new List<string>();
            foreach (bool backward in new[] { false, true })
            {
                foreach (int n in sizes)
                {
                    cells.Add(Measure(activation, n, backward, rounds, milliseconds).ToString("F3", CultureInfo.InvariantCulture));
                }
            }

            Console.WriteLine($"| {activation.Name} | {string.Join(" | ", cells)} |");
        }

        return 0;
    }

    private static double Measure(IActivation activation, int n, bool backward, int rounds, int milliseconds)
    {
        var random = new Random(1234);
        float[] z = new float[n], a = new float[n], g = new float[n], d = new float[n];
        for (int i = 0; i < n; i++)
        {
            z[i] = (float)(random.NextDouble() * 12 - 6);
            g[i] = (float)(random.NextDouble() * 2 - 1);
        }

        activation.Forward<float>(z, a, 128);
        void Once()
        {
            if (backward)
            {
                activation.Backward<float>(z, a, g, d, 128);
            }
            else
            {
                activation.Forward<float>(z, a, 128);
            }
        }

        // Calibrate the repetitions of one round, warming up on the way.
        int reps = 1;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            watch.Restart();
            for (int r = 0; r < reps; r++)
            {
                Once();
            }

            if (watch.Elapsed.TotalMilliseconds >= milliseconds / 4.0)
            {
                break;
            }

            reps *= 2;
        }

        reps = Math.Max(1, (int)(reps * milliseconds / Math.Max(1e-3, watch.Elapsed.TotalMilliseconds)));
        double[] perElement = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            watch.Restart();
            for (int r = 0; r < reps; r++)
            {
                Once();
            }

            perElement[round] = watch.Elapsed.TotalNanoseconds / ((double)reps * n);
        }

        return perElement.Min();
    }
}
