using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// Any loss with a weight per sample (row): the weighted value and its exact gradient, on the plain and the fused
/// (softmax, sigmoid) paths. <c>Fit</c> uses these with sample weights and <see cref="FitOptions.ClassWeights"/>.
/// </summary>
/// <remarks>
/// <para>With vᵣ the loss of row r alone (what <see cref="ILossFunction.Value{T}"/> gives for that one row) and wᵣ ≥ 0 its
/// weight, the weighted loss of a batch is L = Σᵣ wᵣ·vᵣ / Σᵣ wᵣ for <see cref="LossReduction.Mean"/> and Σᵣ wᵣ·vᵣ for
/// <see cref="LossReduction.Sum"/>. So a mean over elements stays a mean over elements and a mean over samples a mean over
/// samples, and a batch with integer weights has exactly the loss (and gradient) of the batch with each row repeated
/// wᵣ times, as PyTorch's weighted losses; equal weights give the unweighted loss. A batch whose weights are all 0 has
/// loss 0 and gradient 0.</para>
/// <para>The gradient is the loss's own batch gradient with row r scaled by wᵣ·n / Σ w (mean) or wᵣ (sum), which is exact
/// for every loss whose terms depend on their own row only, as all of this library's do.</para>
/// <para>Thread safety: stateless, as the losses themselves.</para>
/// </remarks>
public static class WeightedLoss
{
    /// <summary>The weighted loss of a batch.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="loss">The loss.</param>
    /// <param name="outputs">ŷ, row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="weights">One weight per row, each finite and ≥ 0.</param>
    /// <param name="width">The number of values per row.</param>
    /// <returns>The weighted, reduced loss.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loss"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes disagree, or a weight is negative or not finite.</exception>
    public static T Value<T>(ILossFunction loss, ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> weights, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(loss);
        int rows = Check(outputs.Length, targets.Length, weights, width);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            double w = double.CreateChecked(weights[r]);
            if (w != 0)
            {
                sum += w * double.CreateChecked(loss.Value(outputs.Slice(r * width, width), targets.Slice(r * width, width), width));
            }
        }

        return T.CreateChecked(Reduce(loss.Reduction, sum, weights));
    }

    /// <summary>The gradient of <see cref="Value{T}"/> with respect to every output.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="loss">The loss.</param>
    /// <param name="outputs">ŷ, row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="weights">One weight per row, each finite and ≥ 0.</param>
    /// <param name="outputGradients">Receives ∂L/∂ŷ, the same shape.</param>
    /// <param name="width">The number of values per row.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loss"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes disagree, or a weight is negative or not finite.</exception>
    public static void Gradient<T>(ILossFunction loss, ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> weights, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(loss);
        Check(outputs.Length, targets.Length, weights, width);
        loss.Gradient(outputs, targets, outputGradients, width);
        ScaleRows(loss.Reduction, weights, outputGradients, width);
    }

    /// <summary>The weighted loss of a batch from the output layer's pre-activations, for a loss fused with its activation.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="loss">The fused loss.</param>
    /// <param name="preActivations">z, row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="weights">One weight per row, each finite and ≥ 0.</param>
    /// <param name="width">The number of values per row.</param>
    /// <returns>The weighted, reduced loss.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loss"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes disagree, or a weight is negative or not finite.</exception>
    public static T FusedValue<T>(IFusedOutputLoss loss, ReadOnlySpan<T> preActivations, ReadOnlySpan<T> targets, ReadOnlySpan<T> weights, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(loss);
        int rows = Check(preActivations.Length, targets.Length, weights, width);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            double w = double.CreateChecked(weights[r]);
            if (w != 0)
            {
                sum += w * double.CreateChecked(loss.FusedValue(preActivations.Slice(r * width, width), targets.Slice(r * width, width), width));
            }
        }

        return T.CreateChecked(Reduce(loss.Reduction, sum, weights));
    }

    /// <summary>δ = ∂L/∂z of <see cref="FusedValue{T}"/> at the output layer, from its activations.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="loss">The fused loss.</param>
    /// <param name="activations">a = f(z), row-major.</param>
    /// <param name="targets">y, the same shape.</param>
    /// <param name="weights">One weight per row, each finite and ≥ 0.</param>
    /// <param name="localGradients">Receives δ, the same shape.</param>
    /// <param name="width">The number of values per row.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loss"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes disagree, or a weight is negative or not finite.</exception>
    public static void FusedLocalGradients<T>(IFusedOutputLoss loss, ReadOnlySpan<T> activations, ReadOnlySpan<T> targets, ReadOnlySpan<T> weights, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(loss);
        Check(activations.Length, targets.Length, weights, width);
        loss.FusedLocalGradients(activations, targets, localGradients, width);
        ScaleRows(loss.Reduction, weights, localGradients, width);
    }

    /// <summary>Checks one finite, non-negative weight per row; returns the row count.</summary>
    internal static int Check<T>(int outputs, int targets, ReadOnlySpan<T> weights, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossKernel.CheckShapes(outputs, targets, width);
        int rows = outputs / width;
        if (weights.Length != rows)
        {
            throw new ArgumentException($"weights must have one weight per row ({rows}), but it has {weights.Length}.", nameof(weights));
        }

        for (int r = 0; r < rows; r++)
        {
            if (!(weights[r] >= T.Zero) || !T.IsFinite(weights[r]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"weights[{r}] must be finite and at least 0, but it is {weights[r]}."), nameof(weights));
            }
        }

        return rows;
    }

    private static double Reduce<T>(LossReduction reduction, double sum, ReadOnlySpan<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reduction == LossReduction.Sum)
        {
            return sum;
        }

        double total = Total(weights);
        return total == 0 ? 0 : sum / total;
    }

    private static double Total<T>(ReadOnlySpan<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        foreach (T w in weights)
        {
            total += double.CreateChecked(w);
        }

        return total;
    }

    /// <summary>Row r of an unweighted batch gradient times wᵣ·n/Σw (mean) or wᵣ (sum).</summary>
    private static void ScaleRows<T>(LossReduction reduction, ReadOnlySpan<T> weights, Span<T> gradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double factor = 1;
        if (reduction == LossReduction.Mean)
        {
            double total = Total(weights);
            factor = total == 0 ? 0 : weights.Length / total;
        }

        for (int r = 0; r < weights.Length; r++)
        {
            T scale = T.CreateChecked(double.CreateChecked(weights[r]) * factor);
            var row = gradients.Slice(r * width, width);
            for (int j = 0; j < row.Length; j++)
            {
                row[j] *= scale;
            }
        }
    }
}
