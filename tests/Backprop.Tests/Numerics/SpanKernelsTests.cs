using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Tests.Numerics;

/// <summary>
/// The library's span kernels of the per-batch path (<see cref="SpanKernels"/>) against what they replace,
/// System.Numerics.Tensors' <see cref="TensorPrimitives"/>, bit for bit, over every span length from 1 to 300 and some
/// longer ones (every vector width meets a whole body, the unrolled body and every tail length), in place and into
/// another span; and the exponential and logarithm against the C library's <see cref="Math.Exp"/>,
/// <see cref="MathF.Exp"/> and <see cref="Math.Log(double)"/> in units in the last place, over sweeps that include the edges:
/// large negatives, overflow, subnormal results and arguments, NaN and ±∞.
/// </summary>
public class SpanKernelsTests
{
    private static readonly int[] _lengths = [.. Enumerable.Range(1, 300), 511, 512, 513, 1000, 4099];

    private static T[] Random<T>(int length, int seed, double low, double high)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => T.CreateChecked(low + ((high - low) * random.NextDouble())))];
    }

    private static void SameBits<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            bool same = (T.IsNaN(actual[i]) && T.IsNaN(expected[i])) || Bits(actual[i]) == Bits(expected[i]);
            same.Should().BeTrue($"{what}: element {i} of {actual.Length} is {actual[i]:R} against TensorPrimitives' {expected[i]:R}");
        }
    }

    private static long Bits<T>(T value)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? BitConverter.SingleToInt32Bits(float.CreateTruncating(value)) : BitConverter.DoubleToInt64Bits(double.CreateTruncating(value));

    /// <summary>Applies a kernel into a fresh span and in place, checks both against the reference's result.</summary>
    private static void Unary<T>(string what, T[] x, SpanAction<T> kernel, SpanAction<T> reference)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var expected = new T[x.Length];
        reference(x, expected);
        var actual = new T[x.Length];
        kernel(x, actual);
        SameBits<T>(actual, expected, what);
        var inPlace = (T[])x.Clone();
        kernel(inPlace, inPlace);
        SameBits<T>(inPlace, expected, what + " in place");
    }

    private delegate void SpanAction<T>(ReadOnlySpan<T> x, Span<T> destination);

    /// <summary>double: the runtime's vector exponential, as TensorPrimitives runs it, where it is lane by lane
    /// (|x| ≤ 700; beyond that see <see cref="Exp_is_lane_by_lane_beyond_700"/>).</summary>
    [Fact]
    public void Exp_of_double_has_the_bits_of_TensorPrimitives_at_every_length()
    {
        foreach (int n in _lengths)
        {
            Unary($"Exp double n={n}", Random<double>(n, n, -700, 700), SpanKernels.Exp, TensorPrimitives.Exp);
            Unary($"Exp double n={n} (softmax range)", Random<double>(n, n + 1, -30, 0), SpanKernels.Exp, TensorPrimitives.Exp);
        }
    }

    /// <summary>float: the library's own exponential, the same function at every length and position (each element
    /// as computed alone), within 1 ulp of the C library's <see cref="MathF.Exp"/>, over and beyond the whole range.</summary>
    [Fact]
    public void Exp_of_float_is_within_one_ulp_and_the_same_at_every_length()
    {
        foreach (int n in _lengths)
        {
            var x = Random<float>(n, n, -110, 110);
            var e = new float[n];
            SpanKernels.Exp<float>(x, e);
            var inPlace = (float[])x.Clone();
            SpanKernels.Exp<float>(inPlace, inPlace);
            var alone = new float[1];
            for (int i = 0; i < n; i++)
            {
                SpanKernels.Exp<float>(x.AsSpan(i, 1), alone);
                BitConverter.SingleToInt32Bits(e[i]).Should().Be(BitConverter.SingleToInt32Bits(alone[0]), $"e^{x[i]:R} at {i} of {n} against alone");
                BitConverter.SingleToInt32Bits(inPlace[i]).Should().Be(BitConverter.SingleToInt32Bits(alone[0]), $"e^{x[i]:R} in place at {i} of {n}");
                UlpsFrom(e[i], MathF.Exp(x[i])).Should().BeLessThanOrEqualTo(1, $"e^{x[i]:R} is {e[i]:R}, the C library's {MathF.Exp(x[i]):R}");
            }
        }
    }

    /// <summary>Every float from −104 to 89 a little over 2⁻¹⁰ apart, and the edges, within 1 ulp of the C library.</summary>
    [Fact]
    public void Exp_of_float_is_within_one_ulp_over_a_dense_sweep()
    {
        var sweep = new List<float>();
        for (float v = -105f; v <= 90f; v += 0.000977f)
        {
            sweep.Add(v);
        }

        sweep.AddRange([0f, -0f, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f, 88.72283f, 88.72284f, 88.7229f, -87.33654f, -87.33655f,
            -103.9720f, -103.9721f, -104f, -150f, 1e4f, -1e4f, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN]);
        var x = sweep.ToArray();
        var e = new float[x.Length];
        SpanKernels.Exp<float>(x, e);
        long worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            long ulps = UlpsFrom(e[i], MathF.Exp(x[i]));
            ulps.Should().BeLessThanOrEqualTo(1, $"e^{x[i]:R} is {e[i]:R}, the C library's {MathF.Exp(x[i]):R}");
            worst = Math.Max(worst, ulps);
        }

        e[^1].Should().Be(float.NaN);
        e[^2].Should().Be(0);
        e[^3].Should().Be(float.PositiveInfinity);
    }

    [Fact]
    public void Log_has_the_bits_of_TensorPrimitives_at_every_length()
    {
        Log<float>();
        Log<double>();
    }

    private static void Log<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in _lengths)
        {
            var x = Random<T>(n, n, -3, 30).Select(v => T.Exp(v)).ToArray();
            Unary($"Log {typeof(T).Name} n={n}", x, SpanKernels.Log, TensorPrimitives.Log);
        }

        T[] special = [T.Zero, T.NegativeZero, -T.One, T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Epsilon, T.CreateChecked(typeof(T) == typeof(float) ? float.MaxValue : double.MaxValue), T.One, T.CreateChecked(1e-40)];
        Unary($"Log {typeof(T).Name} special values", [.. special, .. special], SpanKernels.Log, TensorPrimitives.Log);
    }

    [Fact]
    public void Sum_adds_in_the_order_of_TensorPrimitives_at_every_length()
    {
        Sum<float>();
        Sum<double>();
    }

    private static void Sum<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in _lengths)
        {
            // Magnitudes spread over many binades, so that another order of the additions changes the last bits.
            var x = Random<T>(n, n, -20, 20).Select(v => T.Exp(v) * (T.CreateChecked(n % 3) - T.One)).ToArray();
            var actual = SpanKernels.Sum<T>(x);
            var expected = TensorPrimitives.Sum<T>(x);
            Bits(actual).Should().Be(Bits(expected), $"Sum {typeof(T).Name} n={n}: {actual:R} against TensorPrimitives' {expected:R}");
            actual = SpanKernels.SumOfSquares<T>(x);
            expected = TensorPrimitives.SumOfSquares<T>(x);
            Bits(actual).Should().Be(Bits(expected), $"SumOfSquares {typeof(T).Name} n={n}: {actual:R} against TensorPrimitives' {expected:R}");
        }
    }

    [Fact]
    public void Max_matches_TensorPrimitives_with_and_without_NaN()
    {
        Max<float>();
        Max<double>();
    }

    private static void Max<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int n in _lengths)
        {
            var x = Random<T>(n, n, -1e3, 1e3);
            Bits(SpanKernels.Max<T>(x)).Should().Be(Bits(TensorPrimitives.Max<T>(x)), $"Max {typeof(T).Name} n={n}");
            x[n / 2] = T.NaN;
            T.IsNaN(SpanKernels.Max<T>(x)).Should().BeTrue($"Max {typeof(T).Name} n={n} with a NaN");
        }

        Bits(SpanKernels.Max<T>([T.NegativeZero, T.Zero, T.NegativeZero, T.NegativeZero])).Should().Be(Bits(T.Zero));
        Bits(SpanKernels.Max<T>([.. Enumerable.Repeat(T.NegativeZero, 40), T.Zero])).Should().Be(Bits(T.Zero));
        FluentActions.Invoking(() => SpanKernels.Max<T>([])).Should().Throw<ArgumentException>().WithParameterName("x");
    }

    [Fact]
    public void The_arithmetic_kernels_have_the_bits_of_TensorPrimitives()
    {
        Arithmetic<float>();
        Arithmetic<double>();
    }

    private static void Arithmetic<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.CreateChecked(-0.3712);
        foreach (int n in _lengths)
        {
            var x = Random<T>(n, n, -10, 10);
            var y = Random<T>(n, n + 7, 0.5, 3);
            string t = $"{typeof(T).Name} n={n}";
            Unary($"Subtract {t}", x, (a, d) => SpanKernels.Subtract(a, s, d), (a, d) => TensorPrimitives.Subtract(a, s, d));
            Unary($"Add scalar {t}", x, (a, d) => SpanKernels.Add(a, s, d), (a, d) => TensorPrimitives.Add(a, s, d));
            Unary($"Multiply scalar {t}", x, (a, d) => SpanKernels.Multiply(a, s, d), (a, d) => TensorPrimitives.Multiply(a, s, d));
            Unary($"Divide scalar {t}", x, (a, d) => SpanKernels.Divide(a, s, d), (a, d) => TensorPrimitives.Divide(a, s, d));
            Unary($"Sqrt {t}", y, SpanKernels.Sqrt, TensorPrimitives.Sqrt);
            Unary($"Add {t}", x, (a, d) => SpanKernels.Add(a, y, d), (a, d) => TensorPrimitives.Add(a, y, d));
            Unary($"Multiply {t}", x, (a, d) => SpanKernels.Multiply(a, y, d), (a, d) => TensorPrimitives.Multiply(a, y, d));
            Unary($"Divide {t}", x, (a, d) => SpanKernels.Divide(a, y, d), (a, d) => TensorPrimitives.Divide(a, y, d));

            // x·s + addend, in place over x (momentum: v ← μ·v + g) and over the addend (w ← −η·g + w).
            Unary($"MultiplyAdd {t}", x, (a, d) => SpanKernels.MultiplyAdd(a, s, y, d), (a, d) => TensorPrimitives.MultiplyAdd(a, s, y, d));
            var expected = new T[n];
            TensorPrimitives.MultiplyAdd(y, s, x, expected);
            var w = (T[])x.Clone();
            SpanKernels.MultiplyAdd(y, s, w, w);
            SameBits<T>(w, expected, $"MultiplyAdd into the addend {t}");
        }
    }

    [Fact]
    public void The_kernels_check_their_spans()
    {
        var x = new double[10];
        FluentActions.Invoking(() => SpanKernels.Exp<double>(x, new double[9])).Should().Throw<ArgumentException>().WithParameterName("destination");
        FluentActions.Invoking(() => SpanKernels.Add<double>(x, new double[9], new double[10])).Should().Throw<ArgumentException>().WithParameterName("y");
        FluentActions.Invoking(() => SpanKernels.MultiplyAdd<double>(x, 2, new double[10], new double[3])).Should().Throw<ArgumentException>().WithParameterName("destination");
    }

    /// <summary>Edges of e^x and the largest error in ulps against the C library over a sweep: within 2 ulps where the
    /// result is normal; subnormal results within 2 ulps of the subnormal spacing.</summary>
    [Fact]
    public void Exp_is_within_two_ulps_of_the_C_library_over_a_sweep_with_edges()
    {
        var sweep = new List<double>();
        for (double v = -760; v <= 720; v += 0.0137)
        {
            sweep.Add(v);
        }

        double[] edges =
        [
            0, -0.0, 1e-300, -1e-300, 1e-20, -1e-20, 1, -1, 88.72, 88.73, -87.33, -87.34, -103.9, -104, -150,
            709.78, 709.79, 710, -708.39, -708.4, -745.1, -745.2, -1e4, 1e4, double.MaxValue, double.MinValue,
            double.PositiveInfinity, double.NegativeInfinity, double.NaN,
        ];
        sweep.AddRange(edges);

        var x = sweep.ToArray();
        var e = new double[x.Length];
        SpanKernels.Exp<double>(x, e);
        for (int i = 0; i < x.Length; i++)
        {
            UlpsFrom(e[i], Math.Exp(x[i])).Should().BeLessThanOrEqualTo(2, $"e^{x[i]:R} is {e[i]:R}, the C library's {Math.Exp(x[i]):R}");
        }

        var xf = x.Select(v => (float)v).ToArray();
        var ef = new float[xf.Length];
        SpanKernels.Exp<float>(xf, ef);
        for (int i = 0; i < xf.Length; i++)
        {
            UlpsFrom(ef[i], MathF.Exp(xf[i])).Should().BeLessThanOrEqualTo(2, $"e^{xf[i]:R} (float) is {ef[i]:R}, the C library's {MathF.Exp(xf[i]):R}");
        }
    }

    /// <summary>A double lane beyond ±700 does not change its neighbours' bits (the runtime's vector exponential would
    /// compute the whole vector another way).</summary>
    [Fact]
    public void Exp_is_lane_by_lane_beyond_700()
    {
        var x = Random<double>(64, 3, -30, 0);
        var alone = new double[x.Length];
        SpanKernels.Exp<double>(x, alone);
        var mixed = (double[])x.Clone();
        mixed[5] = -730;
        mixed[18] = 705;
        mixed[33] = double.NaN;
        mixed[40] = double.NegativeInfinity;
        var e = new double[x.Length];
        SpanKernels.Exp<double>(mixed, e);
        for (int i = 0; i < x.Length; i++)
        {
            if (i is not (5 or 18 or 33 or 40))
            {
                e[i].Should().Be(alone[i], $"lane {i}");
            }
        }

        double.IsNaN(e[33]).Should().BeTrue();
        e[40].Should().Be(0);
    }

    [Fact]
    public void Log_is_within_two_ulps_of_the_C_library_over_a_sweep_with_edges()
    {
        var sweep = new List<double>();
        for (double v = -745; v <= 709; v += 0.0311)
        {
            sweep.Add(Math.Exp(v));
        }

        for (int k = 0; k < 2000; k++)
        {
            sweep.Add(1 + ((k - 1000) * 1e-6));
        }

        sweep.AddRange([0, -0.0, -1, double.Epsilon, 3 * double.Epsilon, 2.2250738585072014E-308, 2.2250738585072009E-308, double.MaxValue,
            double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1, 2, 0.5]);
        var x = sweep.ToArray();
        var l = new double[x.Length];
        SpanKernels.Log<double>(x, l);
        for (int i = 0; i < x.Length; i++)
        {
            UlpsFrom(l[i], Math.Log(x[i])).Should().BeLessThanOrEqualTo(2, $"ln {x[i]:R} is {l[i]:R}, the C library's {Math.Log(x[i]):R}");
        }

        var xf = x.Select(v => (float)v).ToArray();
        var lf = new float[xf.Length];
        SpanKernels.Log<float>(xf, lf);
        for (int i = 0; i < xf.Length; i++)
        {
            UlpsFrom(lf[i], MathF.Log(xf[i])).Should().BeLessThanOrEqualTo(2, $"ln {xf[i]:R} (float) is {lf[i]:R}, the C library's {MathF.Log(xf[i]):R}");
        }
    }

    /// <summary>The distance in units in the last place (0 for two NaNs or two equal infinities; huge when only one is
    /// NaN or the signs differ).</summary>
    private static long UlpsFrom(double actual, double expected)
    {
        if (double.IsNaN(actual) || double.IsNaN(expected))
        {
            return double.IsNaN(actual) && double.IsNaN(expected) ? 0 : long.MaxValue;
        }

        static long Ordered(double v)
        {
            long bits = BitConverter.DoubleToInt64Bits(v);
            return bits < 0 ? long.MinValue - bits : bits;
        }

        return Math.Abs(Ordered(actual) - Ordered(expected));
    }

    private static long UlpsFrom(float actual, float expected)
    {
        if (float.IsNaN(actual) || float.IsNaN(expected))
        {
            return float.IsNaN(actual) && float.IsNaN(expected) ? 0 : long.MaxValue;
        }

        static long Ordered(float v)
        {
            int bits = BitConverter.SingleToInt32Bits(v);
            return bits < 0 ? (long)int.MinValue - bits : bits;
        }

        return Math.Abs(Ordered(actual) - Ordered(expected));
    }
}
