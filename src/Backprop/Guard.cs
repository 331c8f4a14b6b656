using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop;

/// <summary>Checks at the public boundary: each failure names the argument, the expected and the actual value.</summary>
internal static class Guard
{
    public static void FiniteValues<T>(ReadOnlySpan<T> values, int width, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int index = IndexOfNonFinite(values);
        if (index >= 0)
        {
            ThrowNonFinite(values, index, width, paramName);
        }
    }

    /// <summary>Throws the exception of <see cref="FiniteValues"/> for the non-finite value at <paramref name="index"/>.</summary>
    public static void ThrowNonFinite<T>(ReadOnlySpan<T> values, int index, int width, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture,
                $"{paramName} must contain only finite numbers, but the element at row {index / Math.Max(width, 1)}, column {index % Math.Max(width, 1)} is {values[index]}."),
            paramName);

    /// <summary>The index of the first NaN or infinity, or −1.</summary>
    public static int IndexOfNonFinite<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Four vectors per test, so that the check runs at the speed of memory (x − x summed is 0 unless one is not
            // finite). 256-bit loads: as fast as 512-bit ones from cache, and faster from DRAM (measured).
            ref T start = ref MemoryMarshal.GetReference(values);
            int step = 4 * Vector256<T>.Count;
            for (; i <= values.Length - step; i += step)
            {
                var a = Vector256.LoadUnsafe(ref start, (nuint)i);
                var b = Vector256.LoadUnsafe(ref start, (nuint)(i + Vector256<T>.Count));
                var c = Vector256.LoadUnsafe(ref start, (nuint)(i + (2 * Vector256<T>.Count)));
                var d = Vector256.LoadUnsafe(ref start, (nuint)(i + (3 * Vector256<T>.Count)));
                if ((a - a) + (b - b) + (c - c) + (d - d) != Vector256<T>.Zero)
                {
                    break;
                }
            }
        }

        if (Vector.IsHardwareAccelerated && values.Length - i >= Vector<T>.Count)
        {
            var vectors = MemoryMarshal.Cast<T, Vector<T>>(values[i..]);
            for (int v = 0; v < vectors.Length; v++)
            {
                var x = vectors[v];
                // x − x is 0 for finite x and NaN for NaN and ±∞; NaN never equals 0.
                if (!Vector.EqualsAll(x - x, Vector<T>.Zero))
                {
                    break;
                }

                i += Vector<T>.Count;
            }
        }

        for (; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    public static void Positive(int value, string paramName)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be positive, but it is {value}.");
        }
    }

    public static void PositiveFinite(double value, string paramName)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} must be a finite number greater than 0, but it is {value}."));
        }
    }

    public static void Finite(double value, string paramName)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} must be a finite number, but it is {value}."));
        }
    }

    public static void InRange(double value, double low, double high, string paramName)
    {
        if (!(value >= low && value <= high))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} must be in [{low}, {high}], but it is {value}."));
        }
    }

    public static void SupportedElementType<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException($"The element type must be float or double, but it is {typeof(T).Name}.");
        }
    }
}
