using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>The per-step numeric health check of the gradients and clipping by global norm, run by every training step
/// between backpropagation and the update.</summary>
internal static class GradientHealth
{
    /// <summary>Stops on the first non-finite gradient (naming its layer and parameter) and, when asked, rescales all
    /// gradients so that their global L2 norm is at most <paramref name="maxNorm"/>.</summary>
    /// <exception cref="TrainingDivergedException">A gradient is NaN or infinite.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CheckAndClip<T>(IReadOnlyList<Layer<T>> layers, int epoch, int batch, double? maxNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double squares = 0;
        for (int l = 0; l < layers.Count; l++)
        {
            var parameters = layers[l].Parameters;
            for (int p = 0; p < parameters.Count; p++)
            {
                ReadOnlySpan<T> g = parameters[p].GradientArray;
                // A single vectorised reduction: NaN and ±∞ propagate into it, so only a non-finite result needs a scan.
                T reduced = maxNorm is null ? SpanKernels.Sum(g) : SpanKernels.SumOfSquares(g);
                if (!T.IsFinite(reduced))
                {
                    int bad = Guard.IndexOfNonFinite(g);
                    if (bad >= 0)
                    {
                        throw new TrainingDivergedException(epoch, batch, l, parameters[p].Name, double.CreateChecked(g[bad]));
                    }

                    reduced = T.CreateChecked(SumOfSquaresInDouble<T>(g));
                }

                squares += double.CreateChecked(reduced);
            }
        }

        if (maxNorm is not double limit)
        {
            return;
        }

        double norm = Math.Sqrt(double.IsFinite(squares) ? squares : AllSquaresInDouble(layers));
        if (norm > limit)
        {
            T scale = T.CreateChecked(limit / norm);
            for (int l = 0; l < layers.Count; l++)
            {
                var parameters = layers[l].Parameters;
                for (int p = 0; p < parameters.Count; p++)
                {
                    SpanKernels.Multiply<T>(parameters[p].GradientArray, scale, parameters[p].GradientArray);
                }
            }
        }
    }

    private static double AllSquaresInDouble<T>(IReadOnlyList<Layer<T>> layers)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        layers.SelectMany(l => l.Parameters).Sum(p => SumOfSquaresInDouble<T>(p.GradientArray));

    private static double SumOfSquaresInDouble<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
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
