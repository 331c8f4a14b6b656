using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Xunit.Sdk;

namespace Backprop.Tests.Properties;

/// <summary>Bit-for-bit comparisons of tensors, failing with the first differing element and both bit patterns.</summary>
internal static class BitAssert
{
    public static void Identical<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }

        for (int i = 0; i < expected.Length; i++)
        {
            if (Bits(expected[i]) != Bits(actual[i]))
            {
                throw new XunitException(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: element {i} of {expected.Length} differs: expected {expected[i]:R} (0x{Bits(expected[i]):X}), got {actual[i]:R} (0x{Bits(actual[i]):X})."));
            }
        }
    }

    /// <summary>Every weight and bias of <paramref name="actual"/> has the bits of <paramref name="expected"/>'s.</summary>
    public static void SameParameters<T>(Network<T> expected, Network<T> actual, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (expected.Layers.Count != actual.Layers.Count)
        {
            throw new XunitException($"{what}: expected {expected.Layers.Count} layers, got {actual.Layers.Count}.");
        }

        for (int l = 0; l < expected.Layers.Count; l++)
        {
            var e = expected.Layers[l].Parameters;
            var a = actual.Layers[l].Parameters;
            if (e.Count != a.Count)
            {
                throw new XunitException($"{what}: layer {l} should have {e.Count} parameters, but has {a.Count}.");
            }

            for (int p = 0; p < e.Count; p++)
            {
                Identical<T>(e[p].Values, a[p].Values, $"{what}, layer {l} {e[p].Name}");
            }
        }
    }

    /// <summary>Whether any weight or bias of the two networks (of one architecture) differs in any bit.</summary>
    public static bool AnyParameterDiffers<T>(Network<T> first, Network<T> second)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int l = 0; l < first.Layers.Count; l++)
        {
            for (int p = 0; p < first.Layers[l].Parameters.Count; p++)
            {
                var a = first.Layers[l].Parameters[p].Values;
                var b = second.Layers[l].Parameters[p].Values;
                if (!MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static ulong Bits<T>(T value)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? BitConverter.SingleToUInt32Bits(float.CreateTruncating(value)) : BitConverter.DoubleToUInt64Bits(double.CreateTruncating(value));
}
