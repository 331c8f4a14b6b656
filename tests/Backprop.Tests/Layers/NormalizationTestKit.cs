using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Layers;

/// <summary>Plain references and a training-mode finite-difference check for the normalisation layers' tests.</summary>
internal static class NormalizationTestKit
{
    /// <summary>Batch normalisation in training, written plainly: per channel c, μ and the biased σ² over every row and
    /// every position of the channel's plane, y = γ·(x − μ)/√(σ² + ε) + β; returns y, μ and the unbiased variance.</summary>
    public static (double[] Y, double[] Mean, double[] UnbiasedVariance) BatchNormTraining(
        double[] x, int rows, int channels, int spatial, double[] gamma, double[] beta, double epsilon)
    {
        int size = channels * spatial;
        var y = new double[x.Length];
        var mean = new double[channels];
        var unbiased = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            var values = new List<double>();
            for (int r = 0; r < rows; r++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    values.Add(x[r * size + c * spatial + s]);
                }
            }

            double mu = values.Sum() / values.Count;
            double squares = values.Sum(v => (v - mu) * (v - mu));
            double variance = squares / values.Count;
            mean[c] = mu;
            unbiased[c] = values.Count > 1 ? squares / (values.Count - 1) : double.NaN;
            for (int r = 0; r < rows; r++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int i = r * size + c * spatial + s;
                    y[i] = gamma[c] * (x[i] - mu) / Math.Sqrt(variance + epsilon) + beta[c];
                }
            }
        }

        return (y, mean, unbiased);
    }

    /// <summary>Layer normalisation written plainly: each run of <paramref name="width"/> values normalised by its own
    /// mean and biased variance, then y = γ·x̂ + β.</summary>
    public static double[] LayerNorm(double[] x, int width, double[] gamma, double[] beta, double epsilon)
    {
        var y = new double[x.Length];
        for (int start = 0; start < x.Length; start += width)
        {
            double mu = 0;
            for (int j = 0; j < width; j++)
            {
                mu += x[start + j];
            }

            mu /= width;
            double variance = 0;
            for (int j = 0; j < width; j++)
            {
                variance += (x[start + j] - mu) * (x[start + j] - mu);
            }

            variance /= width;
            for (int j = 0; j < width; j++)
            {
                y[start + j] = gamma[j] * (x[start + j] - mu) / Math.Sqrt(variance + epsilon) + beta[j];
            }
        }

        return y;
    }

    /// <summary>Fills every parameter of the network with values drawn from <paramref name="seed"/> (γ near 1), so that
    /// no gradient is trivially 0 or 1.</summary>
    public static void Randomize<T>(Network<T> network, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(seed);
        foreach (var layer in network.Layers)
        {
            foreach (var parameter in layer.Parameters)
            {
                double center = parameter.Name == "gamma" ? 1 : 0;
                for (int i = 0; i < parameter.Length; i++)
                {
                    parameter.ValueArray[i] = T.CreateChecked(center + (random.NextDouble() - 0.5));
                }
            }
        }
    }

    /// <summary>Sets a batch normalisation's running statistics through its state, as a model file restores them.</summary>
    public static void SetRunningStatistics<T>(BatchNorm<T> layer, double[] mean, double[] variance)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        layer.ReadState(new ComponentSettings().Set("running_mean", mean).Set("running_variance", variance));

    /// <summary>The worst relative error (floor 1e-6) between the analytic gradients of one training-mode pass — batch
    /// statistics, full batch-norm backward — and fourth-order central differences of the training-mode batch loss, for
    /// every parameter and input value. Each loss evaluation restores every layer's state (the running statistics) so
    /// that the function differentiated is the same at every step.</summary>
    public static (double Worst, string Where) TrainingModeCheck(Network<double> network, ILossFunction loss, Matrix<double> x, Matrix<double> y)
    {
        const double h = 1e-3, floor = 1e-6;
        var trainer = new Trainer<double>(network, loss, new Sgd(1));
        int rows = x.RowCount;
        var pass = new ForwardPass<double>(network, rows);
        x.ToRowMajorArray().CopyTo(pass.Input, 0);
        var states = network.Layers.Select(l =>
        {
            var state = new ComponentSettings();
            l.WriteState(state);
            return state;
        }).ToArray();

        double Loss()
        {
            trainer.ForwardCore(pass, rows, training: true);
            double value = trainer.LossValueCore(pass);
            for (int l = 0; l < states.Length; l++)
            {
                network.Layers[l].ReadState(states[l]);
            }

            return value;
        }

        trainer.ForwardCore(pass, rows, training: true);
        trainer.LocalGradientsCore(pass, y);
        trainer.BackpropagateCore(pass, computeInputGradients: true);
        for (int l = 0; l < states.Length; l++)
        {
            network.Layers[l].ReadState(states[l]);
        }

        var checks = new List<(string Name, double[] Values, double[] Analytic)>();
        for (int l = 0; l < network.Layers.Count; l++)
        {
            foreach (var parameter in network.Layers[l].Parameters)
            {
                checks.Add(($"layer {l} {parameter.Name}", parameter.ValueArray, parameter.GradientArray.ToArray()));
            }
        }

        checks.Add(("input", pass.Input, pass.InputGradients!.AsSpan(0, rows * network.InputSize).ToArray()));
        double worst = 0;
        string where = string.Empty;
        foreach (var (name, values, analytic) in checks)
        {
            for (int i = 0; i < analytic.Length; i++)
            {
                double original = values[i];
                values[i] = original + 2 * h;
                double plus2 = Loss();
                values[i] = original + h;
                double plus1 = Loss();
                values[i] = original - h;
                double minus1 = Loss();
                values[i] = original - 2 * h;
                double minus2 = Loss();
                values[i] = original;
                double numeric = ((8 * (plus1 - minus1)) - (plus2 - minus2)) / (12 * h);
                double error = Math.Abs(analytic[i] - numeric) / Math.Max(Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric)), floor);
                if (!(error <= worst))
                {
                    worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                    where = $"{name}[{i}]: analytic {analytic[i]:R}, numeric {numeric:R}";
                }
            }
        }

        return (worst, where);
    }
}
