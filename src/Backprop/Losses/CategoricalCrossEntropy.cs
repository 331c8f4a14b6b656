using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>Categorical cross-entropy on probabilities: per sample −Σⱼ yⱼ·ln pⱼ, with ∂/∂pⱼ = −yⱼ / pⱼ.</summary>
/// <remarks>
/// <para>The outputs p are class probabilities, normally from a <see cref="Softmax"/> output layer; the targets y are
/// one-hot rows or other distributions (non-negative). With <see cref="LossReduction.Mean"/> (the default) the loss is
/// averaged over samples, not over elements, as Keras and PyTorch do.</para>
/// <para>After a softmax the trainer uses the fused forms, computed from the logits z with the log-sum-exp trick:
/// L = Σⱼ yⱼ·(lse(z) − zⱼ) with lse(z) = m + ln Σⱼ e^(zⱼ − m), m = maxⱼ zⱼ; and δ = ∂L/∂z = p·Σⱼ yⱼ − y
/// (= p − y for one-hot targets), times the mean's 1/n. Neither overflows for any finite z.</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class CategoricalCrossEntropy : IFusedOutputLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">How per-sample terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    public CategoricalCrossEntropy(LossReduction reduction = LossReduction.Mean) => Reduction = reduction;

    /// <inheritdoc />
    public string Name => "categorical_cross_entropy";

    /// <inheritdoc />
    public LossReduction Reduction { get; }

    /// <inheritdoc />
    public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossKernel.CheckShapes(outputs.Length, targets.Length, width);
        double sum = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            double y = double.CreateChecked(targets[i]);
            if (y != 0)
            {
                sum -= y * Math.Log(double.CreateChecked(outputs[i]));
            }
        }

        return T.CreateChecked(sum * LossKernel.Scale(Reduction, outputs.Length / width));
    }

    /// <inheritdoc />
    public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossKernel.CheckShapes(outputs.Length, targets.Length, width);
        LossKernel.CheckGradientShape(outputs.Length, outputGradients.Length);
        T scale = T.CreateChecked(LossKernel.Scale(Reduction, outputs.Length / width));
        for (int i = 0; i < outputs.Length; i++)
        {
            outputGradients[i] = targets[i] == T.Zero ? T.Zero : -scale * targets[i] / outputs[i];
        }
    }

    /// <inheritdoc />
    public void ValidateTargets<T>(ReadOnlySpan<T> targets, int width, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropyKernel.ValidateTargets(targets, width, paramName, Name);

    /// <inheritdoc />
    public bool CanFuseWith(IActivation outputActivation) => outputActivation is Softmax;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public T FusedValue<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropyKernel.ValueFromLogits(preActivations, targets, width, Reduction, nameof(preActivations));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void FusedLocalGradients<T>(ReadOnlySpan<T> activations, ReadOnlySpan<T> targets, Span<T> localGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CrossEntropyKernel.GradientFromProbabilities(activations, targets, localGradients, width, Reduction, nameof(activations), nameof(localGradients));

    /// <summary>Returns the name and reduction.</summary>
    /// <returns>For example "categorical_cross_entropy (Mean)".</returns>
    public override string ToString() => $"{Name} ({Reduction})";
}

/// <summary>Categorical cross-entropy on raw scores (logits) z: per sample Σⱼ yⱼ·(lse(z) − zⱼ), the cross-entropy of
/// softmax(z), with ∂/∂zⱼ = softmax(z)ⱼ·Σₖ yₖ − yⱼ.</summary>
/// <remarks>
/// <para>Use it with an <see cref="Identity"/> output layer, as PyTorch's CrossEntropyLoss; lse is the overflow-free
/// log-sum-exp m + ln Σⱼ e^(zⱼ − m), m = maxⱼ zⱼ. Averaged over samples with <see cref="LossReduction.Mean"/> (the default).</para>
/// <para>Thread safety: immutable: one instance may be shared by any number of trainers training at once on different
/// threads.</para>
/// </remarks>
public sealed class CategoricalCrossEntropyWithLogits : ILossFunction
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">How per-sample terms are combined; <see cref="LossReduction.Mean"/> by default.</param>
    public CategoricalCrossEntropyWithLogits(LossReduction reduction = LossReduction.Mean) => Reduction = reduction;

    /// <inheritdoc />
    public string Name => "categorical_cross_entropy_with_logits";

    /// <inheritdoc />
    public LossReduction Reduction { get; }

    /// <inheritdoc />
    public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
        where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropyKernel.ValueFromLogits(outputs, targets, width, Reduction);

    /// <inheritdoc />
    public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossKernel.CheckShapes(outputs.Length, targets.Length, width);
        LossKernel.CheckGradientShape(outputs.Length, outputGradients.Length);
        Activations.Softmax.Forward(outputs, outputGradients, width);
        CrossEntropyKernel.GradientFromProbabilities<T>(outputGradients, targets, outputGradients, width, Reduction);
    }

    /// <inheritdoc />
    public void ValidateTargets<T>(ReadOnlySpan<T> targets, int width, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropyKernel.ValidateTargets(targets, width, paramName, Name);

    /// <summary>Returns the name and reduction.</summary>
    /// <returns>For example "categorical_cross_entropy_with_logits (Mean)".</returns>
    public override string ToString() => $"{Name} ({Reduction})";
}

internal static class CrossEntropyKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T ValueFromLogits<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> targets, int width, LossReduction reduction, string logitsName = "outputs")
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossKernel.CheckShapes(logits.Length, targets.Length, width, logitsName);
        int rows = logits.Length / width;

        // Per row lse = m + ln Σⱼ e^(zⱼ − m), m = maxⱼ zⱼ: the exponentials of the whole batch in one vectorised call
        // (in T: each term is in (0, 1], so float keeps 1e-7 of the sum), the sums and logarithms in double.
        T[] shiftedArray = ArrayPool<T>.Shared.Rent(logits.Length);
        double[] lseArray = ArrayPool<double>.Shared.Rent(rows);
        try
        {
            Span<T> shifted = shiftedArray.AsSpan(0, logits.Length);
            Span<double> lse = lseArray.AsSpan(0, rows);
            for (int r = 0; r < rows; r++)
            {
                var z = logits.Slice(r * width, width);
                T max = RowKernels.Max(z);
                lse[r] = double.CreateChecked(max);
                RowKernels.Subtract(z, max, shifted.Slice(r * width, width));
            }

            SpanKernels.Exp<T>(shifted, shifted);
            Span<double> sums = stackalloc double[Math.Min(rows, 256)];
            for (int first = 0; first < rows; first += sums.Length)
            {
                int count = Math.Min(sums.Length, rows - first);
                for (int r = 0; r < count; r++)
                {
                    double exps = 0;
                    foreach (T e in shifted.Slice((first + r) * width, width))
                    {
                        exps += double.CreateChecked(e);
                    }

                    sums[r] = exps;
                }

                SpanKernels.Log<double>(sums[..count], sums[..count]);
                SpanKernels.Add<double>(lse.Slice(first, count), sums[..count], lse.Slice(first, count));
            }

            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                var z = logits.Slice(r * width, width);
                var y = targets.Slice(r * width, width);
                for (int j = 0; j < width; j++)
                {
                    double yj = double.CreateChecked(y[j]);
                    if (yj != 0)
                    {
                        sum += yj * (lse[r] - double.CreateChecked(z[j]));
                    }
                }
            }

            return T.CreateChecked(sum * LossKernel.Scale(reduction, rows));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(shiftedArray);
            ArrayPool<double>.Shared.Return(lseArray);
        }
    }

    /// <summary>δ = scale·(p·Σy − y), row by row; <paramref name="gradients"/> may alias <paramref name="probabilities"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GradientFromProbabilities<T>(ReadOnlySpan<T> probabilities, ReadOnlySpan<T> targets, Span<T> gradients, int width, LossReduction reduction,
        string probabilitiesName = "outputs", string gradientsName = "outputGradients")
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LossKernel.CheckShapes(probabilities.Length, targets.Length, width, probabilitiesName);
        LossKernel.CheckGradientShape(probabilities.Length, gradients.Length, gradientsName);
        T scale = T.CreateChecked(LossKernel.Scale(reduction, probabilities.Length / width));
        for (int start = 0; start < probabilities.Length; start += width)
        {
            var p = probabilities.Slice(start, width);
            var y = targets.Slice(start, width);
            var d = gradients.Slice(start, width);
            T mass = SpanKernels.Sum(y);
            for (int j = 0; j < width; j++)
            {
                d[j] = scale * (p[j] * mass - y[j]);
            }
        }
    }

    public static void ValidateTargets<T>(ReadOnlySpan<T> targets, int width, string paramName, string lossName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < targets.Length; i++)
        {
            if (!(targets[i] >= T.Zero) || !T.IsFinite(targets[i]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{lossName} needs non-negative targets (one-hot rows or distributions), but {paramName} has {targets[i]} at row {i / width}, column {i % width}."), paramName);
            }
        }
    }
}
