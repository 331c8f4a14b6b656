using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>The update shared by <see cref="Adam"/> and <see cref="AdamW"/>: bias-corrected first and second moments,
/// ε outside the square root, vectorised with <see cref="SpanKernels"/>.</summary>
internal static class AdamKernel
{
    /// <summary>Slot 0 is m ("exp_avg"), slot 1 is v ("exp_avg_sq").</summary>
    public static readonly string[] SlotNames = ["exp_avg", "exp_avg_sq"];

    /// <summary>
    /// g′ = g + λ·w (when <paramref name="l2"/> ≠ 0); m ← β₁·m + (1 − β₁)·g′; v ← β₂·v + (1 − β₂)·g′²;
    /// w ← w − (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε), which is w − η·m̂ / (√v̂ + ε).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Step<T>(Span<T> w, ReadOnlySpan<T> g, OptimizerState<T> state, Span<T> scratch,
        double learningRate, double beta1, double beta2, double epsilon, double l2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> m = state.Slot(0), v = state.Slot(1), s = scratch;
        T b1 = T.CreateChecked(beta1), b2 = T.CreateChecked(beta2);
        ReadOnlySpan<T> gradient = g;
        if (l2 != 0)
        {
            // s ← g + λ·w
            SpanKernels.MultiplyAdd(w, T.CreateChecked(l2), g, s);
            gradient = s;
        }

        // m ← β₁·m + (1 − β₁)·g
        SpanKernels.Multiply(m, b1, m);
        SpanKernels.MultiplyAdd(gradient, T.One - b1, m, m);

        // v ← β₂·v + (1 − β₂)·g²
        SpanKernels.Multiply(gradient, gradient, s);
        SpanKernels.Multiply(v, b2, v);
        SpanKernels.MultiplyAdd(s, T.One - b2, v, v);

        // s ← m / (√v / √(1 − β₂ᵗ) + ε)
        double t = state.Step;
        double correction1 = 1 - Math.Pow(beta1, t), correction2 = 1 - Math.Pow(beta2, t);
        SpanKernels.Sqrt(v, s);
        SpanKernels.Divide(s, T.CreateChecked(Math.Sqrt(correction2)), s);
        SpanKernels.Add(s, T.CreateChecked(epsilon), s);
        SpanKernels.Divide(m, s, s);

        // w ← w − (η / (1 − β₁ᵗ))·s
        SpanKernels.MultiplyAdd(s, T.CreateChecked(-learningRate / correction1), w, w);
    }

    /// <summary>Validates the hyper-parameters the two optimizers share.</summary>
    public static void Validate(double beta1, double beta2, double epsilon, double weightDecay)
    {
        HyperParameters.ZeroToOneExclusive(beta1, nameof(beta1));
        HyperParameters.ZeroToOneExclusive(beta2, nameof(beta2));
        Guard.PositiveFinite(epsilon, nameof(epsilon));
        HyperParameters.NonNegativeFinite(weightDecay, nameof(weightDecay));
    }
}
