using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop;

/// <summary>One element's loss term and its derivative with respect to the output, as a struct the JIT inlines.</summary>
internal interface IElementLossOperator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    double Term(T output, T target);

    T Derivative(T output, T target);
}

/// <summary>The shared loops of the element-wise losses: checks, reduction, and the 1/count scale of a mean.</summary>
internal static class LossKernel
{
    public static void CheckShapes(int outputs, int targets, int width, string outputsName = "outputs")
    {
        if (targets != outputs)
        {
            throw new ArgumentException($"targets must have {outputs} elements (as many as the outputs), but it has {targets}.", nameof(targets));
        }

        if (width <= 0 || outputs % width != 0)
        {
            throw new ArgumentException($"{outputsName} must hold whole rows of width {width}, but it has {outputs} elements.", outputsName);
        }
    }

    public static void CheckGradientShape(int outputs, int gradients, string gradientsName = "outputGradients")
    {
        if (gradients != outputs)
        {
            throw new ArgumentException($"{gradientsName} must have {outputs} elements (as many as the outputs), but it has {gradients}.", gradientsName);
        }
    }

    /// <summary>1 for a sum, 1/count for a mean over <paramref name="count"/> terms.</summary>
    public static double Scale(LossReduction reduction, int count) => reduction == LossReduction.Sum || count == 0 ? 1.0 : 1.0 / count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Value<T, TOperator>(TOperator op, ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width, LossReduction reduction, string outputsName = "outputs")
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementLossOperator<T>
    {
        CheckShapes(outputs.Length, targets.Length, width, outputsName);
        double sum = 0;
        ref T o = ref MemoryMarshal.GetReference(outputs);
        ref T y = ref MemoryMarshal.GetReference(targets);
        for (int i = 0; i < outputs.Length; i++)
        {
            sum += op.Term(Unsafe.Add(ref o, i), Unsafe.Add(ref y, i));
        }

        return T.CreateChecked(sum * Scale(reduction, outputs.Length));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gradient<T, TOperator>(TOperator op, ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> gradients, int width, LossReduction reduction,
        string outputsName = "outputs", string gradientsName = "outputGradients")
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : struct, IElementLossOperator<T>
    {
        CheckShapes(outputs.Length, targets.Length, width, outputsName);
        CheckGradientShape(outputs.Length, gradients.Length, gradientsName);
        T scale = T.CreateChecked(Scale(reduction, outputs.Length));
        ref T o = ref MemoryMarshal.GetReference(outputs);
        ref T y = ref MemoryMarshal.GetReference(targets);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        for (int i = 0; i < outputs.Length; i++)
        {
            Unsafe.Add(ref g, i) = scale * op.Derivative(Unsafe.Add(ref o, i), Unsafe.Add(ref y, i));
        }
    }

    public static void TargetsInUnitInterval<T>(ReadOnlySpan<T> targets, int width, string paramName, string lossName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < targets.Length; i++)
        {
            if (!(targets[i] >= T.Zero && targets[i] <= T.One))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{lossName} needs targets in [0, 1], but {paramName} has {targets[i]} at row {i / width}, column {i % width}."), paramName);
            }
        }
    }

    /// <summary>ln(1 + e^x) without overflow: max(x, 0) + ln(1 + e^(−|x|)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Softplus(double x) => Math.Max(x, 0) + ElementwiseKernel.Log1P(Math.Exp(-Math.Abs(x)));
}
