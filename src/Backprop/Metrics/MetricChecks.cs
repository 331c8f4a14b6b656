using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>The argument checks of <see cref="Metrics"/> and <see cref="ConfusionMatrix"/>.</summary>
internal static class MetricChecks
{
    public static void SameNonEmptyLength(int first, int second, string firstName, string secondName)
    {
        if (first == 0)
        {
            throw new ArgumentException($"{firstName} must hold at least one sample, but it is empty.", firstName);
        }

        if (second != first)
        {
            throw new ArgumentException($"{secondName} must hold as many samples as {firstName} ({first}), but it holds {second}.", secondName);
        }
    }

    public static void Labels(ReadOnlySpan<int> labels, int classCount, string paramName)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentOutOfRangeException(paramName, labels[i],
                    $"{paramName}[{i}] must be a class in [0, {classCount - 1}], but it is {labels[i]}.");
            }
        }
    }

    /// <summary>Throws if a matrix's column-major values hold a NaN or infinity, naming its row and column.</summary>
    public static void FiniteColumnMajor<T>(ReadOnlySpan<T> values, int rows, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int index = Guard.IndexOfNonFinite(values);
        if (index >= 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture,
                    $"{paramName} must contain only finite numbers, but the element at row {index % rows}, column {index / rows} is {values[index]}."),
                paramName);
        }
    }
}
