using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>The L1 and L2 penalties on a layer's weights, shared by the layers that offer them (Dense, Conv2D): the
/// objective gains λ₁·Σ|w| + λ₂·Σ w², and each weight's gradient λ₁·sign(w) + 2·λ₂·w.</summary>
internal static class WeightPenalty
{
    /// <summary>Checks a penalty coefficient: finite and at least 0.</summary>
    internal static double Checked(double value, string name)
    {
        Guard.Finite(value, name);
        Guard.InRange(value, 0, double.MaxValue, name);
        return value;
    }

    /// <summary>λ₁·Σ|w| + λ₂·Σ w², in double; 0 without computing anything when both are 0.</summary>
    internal static double Value<T>(ReadOnlySpan<T> weights, double l1, double l2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double penalty = 0;
        if (l1 != 0)
        {
            penalty += l1 * double.CreateChecked(TensorPrimitives.SumOfMagnitudes(weights));
        }

        if (l2 != 0)
        {
            penalty += l2 * double.CreateChecked(TensorPrimitives.SumOfSquares(weights));
        }

        return penalty;
    }

    /// <summary>Adds λ₁·sign(w) + 2·λ₂·w to every weight's gradient; nothing when both are 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddGradient<T>(ReadOnlySpan<T> weights, Span<T> gradients, double l1, double l2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (l1 == 0 && l2 == 0)
        {
            return;
        }

        T lambda1 = T.CreateChecked(l1), twiceL2 = T.CreateChecked(2 * l2);
        for (int i = 0; i < weights.Length; i++)
        {
            T w = weights[i];
            gradients[i] += twiceL2 * w + (w > T.Zero ? lambda1 : w < T.Zero ? -lambda1 : T.Zero);
        }
    }
}
