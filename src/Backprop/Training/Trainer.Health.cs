using System.Numerics.Tensors;

namespace Backprop;

/// <content>The per-step numeric health check of the gradients and clipping by global norm.</content>
public sealed partial class Trainer<T>
{
    /// <summary>Stops on the first non-finite gradient (naming its layer and parameter) and, when asked, rescales all
    /// gradients so that their global L2 norm is at most <paramref name="maxNorm"/>.</summary>
    private void CheckAndClipGradients(int epoch, int batch, double? maxNorm)
    {
        var layers = Network.Layers;
        double squares = 0;
        for (int l = 0; l < layers.Count; l++)
        {
            var parameters = layers[l].Parameters;
            for (int p = 0; p < parameters.Count; p++)
            {
                ReadOnlySpan<T> g = parameters[p].GradientArray;
                // A single vectorised reduction: NaN and ±∞ propagate into it, so only a non-finite result needs a scan.
                T reduced = maxNorm is null ? TensorPrimitives.Sum(g) : TensorPrimitives.SumOfSquares(g);
                if (!T.IsFinite(reduced))
                {
                    int bad = Guard.IndexOfNonFinite(g);
                    if (bad >= 0)
                    {
                        throw new TrainingDivergedException(epoch, batch, l, parameters[p].Name, double.CreateChecked(g[bad]));
                    }

                    reduced = T.CreateChecked(SumOfSquaresInDouble(g));
                }

                squares += double.CreateChecked(reduced);
            }
        }

        if (maxNorm is not double limit)
        {
            return;
        }

        double norm = Math.Sqrt(double.IsFinite(squares) ? squares : AllSquaresInDouble());
        if (norm > limit)
        {
            T scale = T.CreateChecked(limit / norm);
            for (int l = 0; l < layers.Count; l++)
            {
                var parameters = layers[l].Parameters;
                for (int p = 0; p < parameters.Count; p++)
                {
                    TensorPrimitives.Multiply(parameters[p].GradientArray, scale, parameters[p].GradientArray);
                }
            }
        }
    }

    private double AllSquaresInDouble() =>
        Network.Layers.SelectMany(l => l.Parameters).Sum(p => SumOfSquaresInDouble(p.GradientArray));

    private static double SumOfSquaresInDouble(ReadOnlySpan<T> values)
    {
        double sum = 0;
        foreach (T v in values)
        {
            double d = double.CreateChecked(v);
            sum += d * d;
        }

        return sum;
    }
}
