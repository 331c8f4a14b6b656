using System.Diagnostics;
using System.Globalization;
using Backprop.Numerics;

namespace Backprop.Benchmarks;

/// <summary>
/// One Conv2D layer's training step (forward, local gradients, backward) on synthetic float images: the two
/// convolutions of the CNN peer, Conv(16, 3×3, same) on 1×28×28 (first layer: no input gradient) and Conv(32, 3×3,
/// same) on 16×14×14 (with the input gradient), at a batch of 64. Prints the median time per step and GFLOP/s, counting
/// 2·F·C·kh·kw·outH·outW per sample for the forward product and as much again for each backward product; the last
/// line is <c>RESULT {json}</c>.
/// </summary>
internal static class ConvBenchmark
{
    public static int Run(string[] args)
    {
        int batch = 64, threads = 1, rounds = 9, steps = 20;
        bool breakdown = args.Contains("--breakdown");
        args = args.Where(a => a != "--breakdown").ToArray();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--batch": batch = value; break;
                case "--threads": threads = value; break;
                case "--rounds": rounds = value; break;
                case "--steps": steps = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        var results = new List<string>();
        foreach (var (channels, size, filters, inputGradients) in new[] { (1, 28, 16, false), (16, 14, 32, true) })
        {
            var layer = new Conv2D<float>(filters, 3, 3, padding: Padding.Same, activation: Activations.ReLU, initializer: Initializers.HeUniform);
            _ = new Network<float>(TensorShape.Image(channels, size, size), 1, layer) { MaxDegreeOfParallelism = threads };
            var random = new Random(7);
            var x = Enumerable.Range(0, batch * layer.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
            var upstream = Enumerable.Range(0, batch * layer.OutputSize).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            var saved = new float[batch * layer.SavedForBackwardSize];
            var output = new float[batch * layer.OutputSize];
            var delta = new float[batch * layer.OutputSize];
            var dx = inputGradients ? new float[batch * layer.InputSize] : [];

            double cpu = 0;

            void Step()
            {
                layer.Forward(x, saved, output, batch, training: true);
                layer.ComputeLocalGradients(saved, output, upstream, delta, batch);
                layer.Backpropagate(x, delta, dx, batch);
            }

            double[] Time(Action action)
            {
                for (int i = 0; i < steps; i++)
                {
                    action();
                }

                var seconds = new double[rounds];
                var process = Process.GetCurrentProcess();
                TimeSpan cpuStart = process.TotalProcessorTime;
                for (int r = 0; r < rounds; r++)
                {
                    long start = Stopwatch.GetTimestamp();
                    for (int i = 0; i < steps; i++)
                    {
                        action();
                    }

                    seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / steps;
                }

                process.Refresh();
                cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds / (rounds * steps);
                Array.Sort(seconds);
                return seconds;
            }

            double Cpu(Action action)
            {
                Time(action);
                return cpu;
            }

            double step = Time(Step)[rounds / 2];
            double stepCpu = cpu;
            double forward = Time(() => layer.Forward(x, saved, output, batch, training: true))[rounds / 2];
            double forwardFlops = (double)layer.FlopsPerSample * batch;
            double stepFlops = forwardFlops * (inputGradients ? 3 : 2);
            string name = string.Create(CultureInfo.InvariantCulture, $"conv{filters}_{channels}x{size}x{size}");
            if (breakdown)
            {
                // The layer's products for one sample (it runs them sample by sample), on one thread, in processor time per call
                // (robust to a shared machine): K = C·9, P = H·W.
                int k = channels * 9, p = size * size;
                var w = new float[filters * k];
                var patches = new float[k * p];
                var products = new float[filters * p];
                var dw = new float[filters * k];
                double f = Cpu(() => Gemm.Multiply<float>(w, k, false, patches, p, false, products, p, filters, p, k));
                double g = Cpu(() => Gemm.Multiply<float>(products, p, false, patches, p, true, dw, k, filters, k, p, accumulate: true));
                double gt = Cpu(() => Gemm.Multiply<float>(patches, p, false, products, p, true, dw, filters, k, filters, p, accumulate: true));
                double d = Cpu(() => Gemm.Multiply<float>(w, k, true, products, p, false, patches, p, k, p, filters));
                double flops = 2.0 * filters * k * p;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  per sample: W·X̂ {f * 1e6:F2} µs ({flops / f / 1e9:F1} GFLOP/s)  δ·X̂ᵀ {g * 1e6:F2} µs ({flops / g / 1e9:F1})  X̂·δᵀ {gt * 1e6:F2} µs ({flops / gt / 1e9:F1})  Wᵀ·δ {d * 1e6:F2} µs ({flops / d / 1e9:F1}); whole batch {(f + g + (inputGradients ? d : 0)) * batch * 1e3:F3} ms"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-18} threads {threads}  step {step * 1e3,8:F3} ms (cpu {stepCpu * 1e3:F3} ms)  {stepFlops / step / 1e9,6:F1} GFLOP/s   forward {forward * 1e3,8:F3} ms  {forwardFlops / forward / 1e9,6:F1} GFLOP/s"));
            results.Add(string.Create(CultureInfo.InvariantCulture,
                $"\"{name}\":{{\"step_ms\":{step * 1e3:F3},\"step_gflops\":{stepFlops / step / 1e9:F2},\"forward_ms\":{forward * 1e3:F3},\"forward_gflops\":{forwardFlops / forward / 1e9:F2}}}"));
        }

        Console.WriteLine($"RESULT {{\"batch\":{batch},\"threads\":{threads},{string.Join(',', results)}}}");
        return 0;
    }
}
