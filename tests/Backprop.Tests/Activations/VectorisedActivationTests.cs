using System.Globalization;
using Xunit.Abstractions;

namespace Backprop.Tests.ActivationsTests;

/// <summary>
/// The vectorised span methods of the element-wise activations against the plain scalar references of
/// <see cref="ScalarReference"/>, over every span length from 0 to 300 (so that every vector width, 4, 8 or 16 lanes of
/// float and 2, 4 or 8 of double, meets a full body, the four-vector unrolled body and every tail length) and over
/// special values: ±0, tiny and subnormal magnitudes, values next to the kinks, and magnitudes where e^x overflows or
/// underflows. Same accuracy criterion as <see cref="ActivationTests"/>.
/// </summary>
public class VectorisedActivationTests(ITestOutputHelper output)
{
    private const int MaxLength = 300;

    /// <summary>The absolute error, in units of ε and per unit of g, that the output forms of σ′ and tanh′ may add.</summary>
    private const double OutputFormTolerance = 8;

    private static readonly double[] _special =
    [
        0.0, -0.0, 1e-300, -1e-300, 1e-40, -1e-40, 1e-20, -1e-20, 1e-8, -1e-8, 1e-4, -1e-4, 0.125, -0.125, 0.5, -0.5,
        1, -1, 2, -2, 5, -5, 17, -17, 18, -18, 27.5 * Math.Sqrt(2), -27.5 * Math.Sqrt(2), 37, -37, 38.5, -38.5, 39, -39,
        88, -88, 89, -89, 104, -104, 200, -200, 709, -709, 710, -710, 745, -745, 746, -746, 1e4, -1e4, 1e30, -1e30,
    ];

    private static readonly Dictionary<string, Case> _cases = new Case[]
    {
        new("Sigmoid", Backprop.Activations.Sigmoid, ScalarReference.Sigmoid, ScalarReference.SigmoidDerivative, BackwardFromOutput: true),
        new("Tanh", Backprop.Activations.Tanh, Math.Tanh, ScalarReference.TanhDerivative, BackwardFromOutput: true),
        new("ReLU", Backprop.Activations.ReLU, z => z > 0 ? z : 0, z => z > 0 ? 1 : 0),
        new("LeakyReLU", Backprop.Activations.LeakyReLU, z => z > 0 ? z : 0.01 * z, z => z > 0 ? 1 : 0.01),
        new("LeakyReLU(0.3)", new LeakyReLU(0.3), z => z > 0 ? z : 0.3 * z, z => z > 0 ? 1 : 0.3),
        new("ELU", Backprop.Activations.ELU, z => z > 0 ? z : ScalarReference.Expm1(z), z => z > 0 ? 1 : Math.Exp(z)),
        new("ELU(1.7)", new Elu(1.7), z => z > 0 ? z : 1.7 * ScalarReference.Expm1(z), z => z > 0 ? 1 : 1.7 * Math.Exp(z)),
        new("Softplus", Backprop.Activations.Softplus, ScalarReference.Softplus, ScalarReference.Sigmoid),
        new("GELU", Backprop.Activations.GELU, ScalarReference.Gelu, ScalarReference.GeluDerivative),
        new("SiLU", Backprop.Activations.SiLU, ScalarReference.Silu, ScalarReference.SiluDerivative),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string, Precision> Cases()
    {
        var data = new TheoryData<string, Precision>();
        foreach (string name in _cases.Keys)
        {
            data.Add(name, Precision.Float);
            data.Add(name, Precision.Double);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_EveryLengthTo300_MatchesTheReference_InPlaceToo(string activation, Precision precision)
    {
        var c = _cases[activation];
        var report = new Mismatches();
        for (int length = 0; length <= MaxLength; length++)
        {
            double[] z = Values(length, precision);
            double[] a = Numeric.Forward(c.Activation, z, width: Math.Max(1, length), precision);
            double[] inPlace = Numeric.ForwardInPlace(c.Activation, z, width: Math.Max(1, length), precision);
            for (int i = 0; i < length; i++)
            {
                string at = $"{c.Name}.Forward<{precision}> length {length}, [{i}] = f({z[i]:R})";
                report.Check(at, a[i], c.F(z[i]), Accuracy.Tolerance(c.F, z[i], precision));
                report.Check(at + " in place", inPlace[i], a[i], 0);
            }
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_EveryLengthTo300_MatchesOutputGradientTimesTheReferenceDerivative(string activation, Precision precision)
    {
        var c = _cases[activation];
        var report = new Mismatches();
        for (int length = 0; length <= MaxLength; length++)
        {
            double[] z = Values(length, precision);
            double[] g = Numeric.Round(Enumerable.Range(0, length).Select(i => 0.375 * ((i % 7) - 3) + 0.1).ToArray(), precision);
            double[] a = Numeric.Forward(c.Activation, z, width: Math.Max(1, length), precision);
            double[] delta = Numeric.Backward(c.Activation, z, a, g, width: Math.Max(1, length), precision);
            double[] inPlace = Numeric.BackwardInPlace(c.Activation, z, a, g, width: Math.Max(1, length), precision);
            for (int i = 0; i < length; i++)
            {
                // σ′ = a·(1 − a) and tanh′ = 1 − a² inherit the error of a (up to about 2.2 ε here, doubled by a²): an
                // absolute error of a few units of 1, times |g|, which is large relative to f′ in the tails.
                double tolerance = Math.Abs(g[i]) * (Accuracy.Tolerance(c.D, z[i], precision)
                    + (c.BackwardFromOutput ? OutputFormTolerance * Numeric.Epsilon(precision) : 0));
                string at = $"{c.Name}.Backward<{precision}> length {length}, [{i}]: z = {z[i]:R}, g = {g[i]:R}";
                report.Check(at, delta[i], g[i] * c.D(z[i]), tolerance);
                report.Check(at + " in place", inPlace[i], delta[i], 0);
            }
        }

        report.ShouldBeEmpty();
    }

    /// <summary>A value's result does not depend on where it lies in a span nor on the span's length: the whole span, the
    /// span cut into pieces of every length from 1 to 40 and each value alone all give the same bits (so a batch split
    /// across threads computes exactly what one thread does), and a second run gives them again.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Results_AreBitIdentical_HoweverTheSpanIsSplit(string activation, Precision precision)
    {
        var c = _cases[activation];
        double[] z = Values(MaxLength, precision);
        double[] g = Numeric.Round(Enumerable.Range(0, MaxLength).Select(i => Math.Sin(i) * 3).ToArray(), precision);
        double[] a = Numeric.Forward(c.Activation, z, MaxLength, precision);
        double[] delta = Numeric.Backward(c.Activation, z, a, g, MaxLength, precision);
        Numeric.Forward(c.Activation, z, MaxLength, precision).Should().Equal(a, "a second run gives the same activations");
        Numeric.Backward(c.Activation, z, a, g, MaxLength, precision).Should().Equal(delta, "a second run gives the same gradients");
        for (int piece = 1; piece <= 40; piece++)
        {
            for (int start = 0; start < MaxLength; start += piece)
            {
                int n = Math.Min(piece, MaxLength - start);
                double[] aPart = Numeric.Forward(c.Activation, z[start..(start + n)], n, precision);
                double[] dPart = Numeric.Backward(c.Activation, z[start..(start + n)], a[start..(start + n)], g[start..(start + n)], n, precision);
                aPart.Should().Equal(a[start..(start + n)], "activations of [{0}, {1}) computed alone", start, start + n);
                dPart.Should().Equal(delta[start..(start + n)], "gradients of [{0}, {1}) computed alone", start, start + n);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_AllocateNothing(string activation, Precision precision)
    {
        var c = _cases[activation];
        if (precision == Precision.Float)
        {
            float[] z = Numeric.ToFloat(Values(1000, precision)), a = new float[1000], g = new float[1000], d = new float[1000];
            c.Activation.Forward<float>(z, a, 10);
            c.Activation.Backward<float>(z, a, g, d, 10);
            long before = GC.GetAllocatedBytesForCurrentThread();
            c.Activation.Forward<float>(z, a, 10);
            c.Activation.Backward<float>(z, a, g, d, 10);
            (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
        }
        else
        {
            double[] z = Values(1000, precision), a = new double[1000], g = new double[1000], d = new double[1000];
            c.Activation.Forward<double>(z, a, 10);
            c.Activation.Backward<double>(z, a, g, d, 10);
            long before = GC.GetAllocatedBytesForCurrentThread();
            c.Activation.Forward<double>(z, a, 10);
            c.Activation.Backward<double>(z, a, g, d, 10);
            (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
        }
    }

    /// <summary>
    /// Measures, over 200,001 evenly spaced values in [−40, 40] plus the special values, the largest error of the
    /// vectorised forward and derivative in units of the type's ε: |actual − reference| / (ε·(|f(z)| + |z·f′(z)|)), the
    /// scale of <see cref="Accuracy.Tolerance"/>, and checks it against that criterion (1e-14 is 45 ε of double, 1e-6 is
    /// 8.4 ε of float). The derivatives of σ and tanh, which the backward pass takes from the output a, are measured as
    /// absolute errors in units of ε (see <see cref="OutputFormTolerance"/>). The figures are written to the test output
    /// (docs/performance.md quotes them).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void LargestError_InUnitsOfEpsilon_IsWithinTheCriterion(string activation, Precision precision)
    {
        var c = _cases[activation];
        const int N = 200_001;
        double[] z = Numeric.Round(Enumerable.Range(0, N).Select(i => -40 + (80.0 * i / (N - 1))).Concat(_special).ToArray(), precision);
        double[] ones = Enumerable.Repeat(1.0, z.Length).ToArray();
        double[] a = Numeric.Forward(c.Activation, z, z.Length, precision);
        double[] d = Numeric.Backward(c.Activation, z, a, ones, z.Length, precision);
        double epsilon = Numeric.Epsilon(precision), limit = Numeric.RelativeTolerance(precision) / epsilon;
        double worstForward = 0, worstBackward = 0;
        foreach (var (values, f, worst) in new[] { (a, c.F, 0), (d, c.D, 1) })
        {
            for (int i = 0; i < z.Length; i++)
            {
                double reference = f(z[i]);
                double scale = Accuracy.Tolerance(f, z[i], precision) - Numeric.SmallestNormal(precision);
                double error = values[i].Equals(reference) ? 0 : Math.Abs(values[i] - reference);
                if (scale <= 0 || !double.IsFinite(error))
                {
                    continue;
                }

                double units = worst == 1 && c.BackwardFromOutput
                    ? error / epsilon
                    : error / (scale / Numeric.RelativeTolerance(precision)) / epsilon;
                if (error <= Numeric.SmallestNormal(precision))
                {
                    units = 0;
                }

                if (worst == 0)
                {
                    worstForward = Math.Max(worstForward, units);
                }
                else
                {
                    worstBackward = Math.Max(worstBackward, units);
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{c.Name} {precision}: forward {worstForward:F2} ε, derivative {worstBackward:F2} ε{(c.BackwardFromOutput ? " absolute" : "")} (criterion {limit:F1} ε)"));
        worstForward.Should().BeLessThanOrEqualTo(limit);
        worstBackward.Should().BeLessThanOrEqualTo(c.BackwardFromOutput ? OutputFormTolerance : limit);
    }

    /// <summary>The special values interleaved with uniform draws from [−30, 30], a different order for each length, so
    /// that every kind of value lands in the unrolled body, the single-vector loop and the tail.</summary>
    private static double[] Values(int length, Precision precision)
    {
        var random = new Random(length);
        return Numeric.Round(
            Enumerable.Range(0, length)
                .Select(i => i % 3 == 0 ? _special[random.Next(_special.Length)] : (random.NextDouble() * 60) - 30)
                .ToArray(),
            precision);
    }

    private sealed record Case(
        string Name, ElementwiseActivation Activation, Func<double, double> F, Func<double, double> D, bool BackwardFromOutput = false);
}
