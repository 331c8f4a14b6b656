using System.Globalization;

namespace Backprop;

/// <summary>Range checks of hyper-parameters (optimizers, schedules, dropout) that <see cref="Guard"/> lacks; each
/// failure names the argument, the expected range and the actual value.</summary>
internal static class HyperParameters
{
    /// <summary>Throws unless 0 ≤ <paramref name="value"/> &lt; ∞.</summary>
    public static void NonNegativeFinite(double value, string paramName)
    {
        if (!(value >= 0) || !double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} must be a finite number ≥ 0, but it is {value}."));
        }
    }

    /// <summary>Throws unless 0 ≤ <paramref name="value"/> &lt; 1.</summary>
    public static void ZeroToOneExclusive(double value, string paramName)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} must be in [0, 1), but it is {value}."));
        }
    }

    /// <summary>Throws unless 0 &lt; <paramref name="value"/> &lt; 1.</summary>
    public static void OpenUnitInterval(double value, string paramName)
    {
        if (!(value > 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} must be in (0, 1), but it is {value}."));
        }
    }

    /// <summary>Throws unless <paramref name="value"/> ≥ <paramref name="minimum"/>.</summary>
    public static void AtLeast(int value, int minimum, string paramName)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be at least {minimum}, but it is {value}.");
        }
    }
}
