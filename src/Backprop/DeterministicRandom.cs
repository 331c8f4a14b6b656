using System.Numerics;

namespace Backprop;

/// <summary>
/// A small, fast, seeded pseudo-random generator (xoshiro256** seeded through SplitMix64) whose whole state can be
/// read and restored, so that shuffling and initialisation are reproducible bit for bit on every platform and version.
/// </summary>
/// <remarks>
/// <para>Every random choice the library makes (weight initialisation, shuffling) draws from an instance of this type that
/// the caller seeds; nothing reads the clock or a global generator. The sequence for a given seed is part of the
/// library's compatibility promise: it never changes between versions.
/// Reference: D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47 (2021).</para>
/// <para>Thread safety: not thread-safe: every draw changes the generator's state. Give each thread its own instance
/// (the library gives each network, dropout layer, shuffle and split its own).</para>
/// </remarks>
public sealed class DeterministicRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double? _spareGaussian;

    /// <summary>Creates a generator whose sequence is fixed by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any 64-bit value; equal seeds give equal sequences.</param>
    public DeterministicRandom(long seed)
    {
        ulong x = unchecked((ulong)seed);
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>Returns the next 64 random bits.</summary>
    /// <returns>A uniformly distributed 64-bit value.</returns>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Returns a uniformly distributed double in [0, 1) with 53 random bits.</summary>
    /// <returns>A value u with 0 ≤ u &lt; 1.</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Returns a uniformly distributed integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    /// <param name="maxExclusive">The exclusive upper bound; must be positive.</param>
    /// <returns>An integer i with 0 ≤ i &lt; <paramref name="maxExclusive"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int NextInt32(int maxExclusive)
    {
        Guard.Positive(maxExclusive, nameof(maxExclusive));
        // Lemire's multiply-shift with rejection: unbiased and division-free in the common case.
        ulong range = (ulong)maxExclusive;
        while (true)
        {
            ulong r = NextUInt64() >> 32;
            ulong product = r * range;
            uint low = (uint)product;
            if (low >= (uint)((1UL << 32) % range) || low >= range)
            {
                return (int)(product >> 32);
            }
        }
    }

    /// <summary>Returns a standard normal deviate (mean 0, variance 1) by the Marsaglia polar method.</summary>
    /// <returns>A normally distributed value.</returns>
    public double NextGaussian()
    {
        if (_spareGaussian is double spare)
        {
            _spareGaussian = null;
            return spare;
        }

        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        }
        while (s >= 1 || s == 0);

        double factor = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareGaussian = v * factor;
        return u * factor;
    }

    /// <summary>Shuffles <paramref name="items"/> in place with the Fisher–Yates algorithm.</summary>
    /// <typeparam name="TItem">The element type.</typeparam>
    /// <param name="items">The elements to permute; every permutation is equally likely.</param>
    public void Shuffle<TItem>(Span<TItem> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt32(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The generator's whole state, for saving and restoring it exactly (model checkpoints).</summary>
    internal (ulong S0, ulong S1, ulong S2, ulong S3, double? Spare) State
    {
        get => (_s0, _s1, _s2, _s3, _spareGaussian);
        set
        {
            if ((value.S0 | value.S1 | value.S2 | value.S3) == 0)
            {
                throw new ArgumentException("A xoshiro256** state of all zeros is invalid: the generator would only ever return 0.", nameof(value));
            }

            (_s0, _s1, _s2, _s3, _spareGaussian) = value;
        }
    }

    /// <summary>Derives the seed of one member of a family of streams (for example one per epoch) from a base seed.</summary>
    /// <param name="seed">The base seed.</param>
    /// <param name="index">The member's index.</param>
    /// <returns>A well-mixed 64-bit seed.</returns>
    internal static long Derive(long seed, long index)
    {
        ulong x = unchecked((ulong)seed ^ ((ulong)index * 0xD1B54A32D192ED03UL));
        return unchecked((long)SplitMix64(ref x));
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
