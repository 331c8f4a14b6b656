using System.Globalization;

// Not "Backprop.Tests.Activations": a namespace of that name would hide the library's static class Backprop.Activations
// from every other test namespace under Backprop.Tests (which write Activations.Tanh and so on).
namespace Backprop.Tests.ActivationsTests;

/// <summary>The element type a test runs the library in.</summary>
public enum Precision
{
    Float,
    Double,
}

/// <summary>
/// Checks every activation against plainly written scalar references (<see cref="ScalarReference"/>, double, Math.*)
/// over a sweep that reaches far into the saturated tails, in float and in double.
/// </summary>
/// <remarks>
/// Accuracy criterion (see <see cref="Accuracy.Tolerance"/>): |actual − f(x)| ≤ rel·(|f(x)| + |x·f′(x)|) + the
/// smallest normal number of the type, with rel = 1e-14 in double and 1e-6 in float. That is a relative error of about
/// rel in the output plus rel in the input; it forgives nothing where f is well conditioned, and flags every
/// catastrophic cancellation (a tail that rounds to 0, a small value computed as a difference of O(1) numbers).
/// </remarks>
public class ActivationTests
{
    /// <summary>0, ±1e-8, ±0.5, ±1, ±1.5, ±3, ±10, ±20, ±40, ±100, ±700, ±1e4: all squares are exact in double.</summary>
    internal static readonly double[] Sweep = BuildSweep(1e-8, 0.5, 1, 1.5, 3, 10, 20, 40, 100, 700, 1e4);

    /// <summary>Span lengths that cross the vector widths (4, 8 and 16 lanes) with and without a scalar tail.</summary>
    private static readonly int[] _spanLengths = [1, 7, 8, 9, 15, 16, 17, 33];

    private static readonly Dictionary<string, ActivationCase> _cases = new ActivationCase[]
    {
        new("Identity", Backprop.Activations.Identity, z => z, _ => 1),
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

    public static TheoryData<string, Precision> ElementwiseCases()
    {
        var data = new TheoryData<string, Precision>();
        foreach (string name in _cases.Keys)
        {
            data.Add(name, Precision.Float);
            data.Add(name, Precision.Double);
        }

        return data;
    }

    public static TheoryData<Precision> Precisions() => new() { Precision.Float, Precision.Double };

    public static TheoryData<string> AllActivationNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in _cases.Keys)
        {
            data.Add(name);
        }

        data.Add("Softmax");
        return data;
    }

    [Theory]
    [MemberData(nameof(ElementwiseCases))]
    public void Apply_MatchesReference(string activation, Precision precision)
    {
        var c = _cases[activation];
        var report = new Mismatches();
        foreach (double value in Sweep)
        {
            double z = Numeric.Round(value, precision);
            double actual = Numeric.Apply(c.Activation, z, precision);
            report.Check($"{c.Name}.Apply<{precision}>({z:R})", actual, c.F(z), Accuracy.Tolerance(c.F, z, precision));
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(ElementwiseCases))]
    public void Derivative_WithRespectToThePreActivation_MatchesReference(string activation, Precision precision)
    {
        var c = _cases[activation];
        var report = new Mismatches();
        foreach (double value in Sweep)
        {
            double z = Numeric.Round(value, precision);
            double actual = Numeric.Derivative(c.Activation, z, precision);
            report.Check($"{c.Name}.Derivative<{precision}>({z:R})", actual, c.D(z), Accuracy.Tolerance(c.D, z, precision));
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(ElementwiseCases))]
    public void Forward_OnSpans_EqualsApplyElementwise_AndTheReference(string activation, Precision precision)
    {
        var c = _cases[activation];
        var report = new Mismatches();
        foreach (int length in _spanLengths)
        {
            double[] z = SweepValues(length, precision);
            double[] a = Numeric.Forward(c.Activation, z, width: length, precision);
            double[] inPlace = Numeric.ForwardInPlace(c.Activation, z, width: length, precision);
            for (int i = 0; i < length; i++)
            {
                double tolerance = Accuracy.Tolerance(c.F, z[i], precision);
                string at = $"{c.Name}.Forward<{precision}> length {length}, [{i}] = f({z[i]:R})";
                report.Check(at + " vs Apply", a[i], Numeric.Apply(c.Activation, z[i], precision), tolerance);
                report.Check(at + " vs reference", a[i], c.F(z[i]), tolerance);
                report.Check(at + " in place", inPlace[i], a[i], 0);
            }
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(ElementwiseCases))]
    public void Backward_OnSpans_EqualsOutputGradientTimesDerivative(string activation, Precision precision)
    {
        var c = _cases[activation];
        var report = new Mismatches();
        foreach (int length in _spanLengths)
        {
            double[] z = SweepValues(length, precision);
            double[] g = OutputGradients(length, precision);
            double[] a = Numeric.Forward(c.Activation, z, width: length, precision);
            double[] delta = Numeric.Backward(c.Activation, z, a, g, width: length, precision);
            double[] inPlace = Numeric.BackwardInPlace(c.Activation, z, a, g, width: length, precision);
            for (int i = 0; i < length; i++)
            {
                // Sigmoid and Tanh document the classic output form f′ = a·(1 − a) and 1 − a²: it inherits the
                // rounding of a, an absolute error of about one unit of 1 (times |g|).
                double tolerance = Math.Abs(g[i]) * (Accuracy.Tolerance(c.D, z[i], precision)
                    + (c.BackwardFromOutput ? 4 * Numeric.Epsilon(precision) : 0));
                string at = $"{c.Name}.Backward<{precision}> length {length}, [{i}]: z = {z[i]:R}, g = {g[i]:R}";
                report.Check(at, delta[i], g[i] * c.D(z[i]), tolerance);
                report.Check(at + " in place", inPlace[i], delta[i], 0);
            }
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Sigmoid_DerivativeFromOutput_EqualsDerivativeAtThePreActivation(Precision precision)
    {
        var report = new Mismatches();
        foreach (double value in Sweep)
        {
            double z = Numeric.Round(value, precision);
            double output = Numeric.Apply(Backprop.Activations.Sigmoid, z, precision);
            double fromOutput = precision == Precision.Float
                ? Sigmoid.DerivativeFromOutput((float)output)
                : Sigmoid.DerivativeFromOutput(output);

            // a·(1 − a) carries the rounding of a: an absolute error of about one unit of 1.
            double tolerance = Accuracy.Tolerance(ScalarReference.SigmoidDerivative, z, precision) + 2 * Numeric.Epsilon(precision);
            report.Check($"DerivativeFromOutput<{precision}>(σ({z:R}))", fromOutput,
                Numeric.Derivative(Backprop.Activations.Sigmoid, z, precision), tolerance);
            report.Check($"DerivativeFromOutput<{precision}>(σ({z:R})) vs reference", fromOutput, ScalarReference.SigmoidDerivative(z), tolerance);
        }

        report.ShouldBeEmpty();
        Sigmoid.DerivativeFromOutput(0.5).Should().Be(0.25);
        Sigmoid.DerivativeFromOutput(0.75f).Should().Be(0.1875f);
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Softmax_Forward_MatchesReference_AndIsFiniteAtExtremeLogits(Precision precision)
    {
        (double[] Z, int Width)[] batches =
        [
            ([1000, 0, -1000], 3),
            ([-1000, -1000, 1e4, 1e4 - 1], 2),
            ([0.5, -0.5, 3, -3, 20, -20, 40, -40], 8),
            ([700, 699, -700, 0, -700, 0.25], 3),
            ([1e-8, -1e-8, 0, 1.5, 1, -1.5, 100, 100.25, -100], 3),
            ([5], 1),
        ];
        var report = new Mismatches();
        foreach (var (values, width) in batches)
        {
            double[] z = Numeric.Round(values, precision);
            double[] a = Numeric.Forward(Backprop.Activations.Softmax, z, width, precision);
            double[] inPlace = Numeric.ForwardInPlace(Backprop.Activations.Softmax, z, width, precision);
            double[] expected = ScalarReference.Softmax(z, width);
            a.Should().OnlyContain(p => double.IsFinite(p) && p >= 0 && p <= 1, "softmax of [{0}] must be finite probabilities", Numeric.Format(z));
            for (int i = 0; i < z.Length; i++)
            {
                // The inputs are chosen so that the differences zᵢ − max are exact; each output then depends on `width` exps.
                double tolerance = Numeric.RelativeTolerance(precision) * (1 + width) * expected[i] + Numeric.SmallestNormal(precision);
                report.Check($"Softmax<{precision}>([{Numeric.Format(z)}], width {width})[{i}]", a[i], expected[i], tolerance);
                report.Check($"Softmax<{precision}> in place [{i}]", inPlace[i], a[i], 0);
            }
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Softmax_RowsSumToOne(Precision precision)
    {
        foreach (int width in new[] { 1, 2, 3, 7, 8, 9, 16, 17, 33 })
        {
            const int Rows = 3;
            double[] z = Numeric.Round(Enumerable.Range(0, Rows * width).Select(i => Sweep[(5 * i + width) % Sweep.Length]).ToArray(), precision);
            double[] a = Numeric.Forward(Backprop.Activations.Softmax, z, width, precision);
            for (int row = 0; row < Rows; row++)
            {
                double sum = a.Skip(row * width).Take(width).Sum();
                sum.Should().BeApproximately(1, 2 * width * Numeric.Epsilon(precision), "row {0} of width {1}: [{2}]", row, width, Numeric.Format(z.Skip(row * width).Take(width)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Softmax_IsInvariantToAddingAConstantToARow(Precision precision)
    {
        // Quarter-integers below 2^12: the shifted values and every difference zᵢ − max are exact in float and double.
        double[] z = [0.25, -1.5, 3, 2.75, -20, 0, 7.5, 7.25, -7.5, 1];
        const int Width = 5;
        double[] a = Numeric.Forward(Backprop.Activations.Softmax, z, Width, precision);
        foreach (double shift in new[] { -1000.0, -3.5, 0.25, 512, 1000 })
        {
            // A different constant for each row, as the invariance is per row.
            double[] shifted = z.Select((v, i) => v + (i < Width ? shift : -shift / 2)).ToArray();
            double[] b = Numeric.Forward(Backprop.Activations.Softmax, shifted, Width, precision);
            b.Should().Equal(a, (x, y) => Math.Abs(x - y) <= 2 * Numeric.Epsilon(precision) * y, "shifting the rows by {0} and {1}", shift, -shift / 2);
        }
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void Softmax_Backward_EqualsExplicitJacobianTransposeTimesOutputGradient(Precision precision)
    {
        (double[] Z, double[] G, int Width)[] batches =
        [
            ([0.5, -1, 2, 0.25, 3, -3], [1, -2, 0.5, 0.75, -0.25, 2], 3),
            ([1000, 0, -1000, 1e-8, -1e-8, 0], [1, 2, 3, -1, 0.5, 4], 3),
            ([0.5, -0.5, 3, -3, 20, -20, 40, -40], [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8], 8),
            ([2, 2, 2, 2, 2], [1, 2, 3, 4, 5], 5),
            ([7], [3], 1),
        ];
        var report = new Mismatches();
        foreach (var (zValues, gValues, width) in batches)
        {
            double[] z = Numeric.Round(zValues, precision);
            double[] g = Numeric.Round(gValues, precision);
            double[] a = Numeric.Forward(Backprop.Activations.Softmax, z, width, precision);
            double[] delta = Numeric.Backward(Backprop.Activations.Softmax, z, a, g, width, precision);
            double[] inPlace = Numeric.BackwardInPlace(Backprop.Activations.Softmax, z, a, g, width, precision);
            for (int start = 0; start < z.Length; start += width)
            {
                for (int i = 0; i < width; i++)
                {
                    // δᵢ = Σⱼ gⱼ·∂aⱼ/∂zᵢ with the Jacobian ∂aⱼ/∂zᵢ = aⱼ·([i = j] − aᵢ), built entry by entry.
                    double expected = 0, magnitude = 0;
                    for (int j = 0; j < width; j++)
                    {
                        double aj = a[start + j], ai = a[start + i];
                        double kronecker = i == j ? 1 : 0;
                        expected += g[start + j] * aj * (kronecker - ai);
                        magnitude += Math.Abs(g[start + j]) * aj * (kronecker + ai);
                    }

                    double tolerance = 2 * Numeric.RelativeTolerance(precision) * magnitude + Numeric.SmallestNormal(precision);
                    string at = $"Softmax.Backward<{precision}> z = [{Numeric.Format(z.AsSpan(start, width).ToArray())}], i = {i}";
                    report.Check(at, delta[start + i], expected, tolerance);
                    report.Check(at + " in place", inPlace[start + i], delta[start + i], 0);
                }
            }
        }

        report.ShouldBeEmpty();
    }

    [Fact]
    public void Softmax_RejectsSpansThatDoNotHoldWholeRows()
    {
        var softmax = Backprop.Activations.Softmax;
        var forward = () => softmax.Forward<double>(new double[7], new double[7], 3);
        forward.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("preActivations");

        var zeroWidth = () => softmax.Forward<float>(new float[6], new float[6], 0);
        zeroWidth.Should().Throw<ArgumentException>();

        var backward = () => softmax.Backward<double>(new double[7], new double[7], new double[7], new double[7], 2);
        backward.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("activations");
    }

    [Theory]
    [MemberData(nameof(AllActivationNames))]
    public void MismatchedSpanLengths_ThrowArgumentException_NamingTheArgument(string activation)
    {
        IActivation f = activation == "Softmax" ? Backprop.Activations.Softmax : _cases[activation].Activation;
        const int N = 6, Width = 3;

        var shortActivations = () => f.Forward<double>(new double[N], new double[N - 1], Width);
        shortActivations.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("activations");

        var shortActivationsFloat = () => f.Forward<float>(new float[N], new float[N + 3], Width);
        shortActivationsFloat.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("activations");

        var shortOutputGradients = () => f.Backward<double>(new double[N], new double[N], new double[N - 3], new double[N], Width);
        shortOutputGradients.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("outputGradients");

        var shortLocalGradients = () => f.Backward<float>(new float[N], new float[N], new float[N], new float[N - 1], Width);
        shortLocalGradients.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("localGradients");
    }

    [Fact]
    public void Constructors_RejectInvalidParameters()
    {
        new Action(() => _ = new LeakyReLU(-0.1)).Should().Throw<ArgumentOutOfRangeException>();
        new Action(() => _ = new LeakyReLU(double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
        new Action(() => _ = new Elu(0)).Should().Throw<ArgumentOutOfRangeException>();
        new Action(() => _ = new Elu(double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>();
        new LeakyReLU(0).Apply(-3.0).Should().Be(0);
    }

    /// <summary>The sweep values in a varied order, repeated to fill <paramref name="length"/>, so that large and tiny
    /// magnitudes land in the vector body and in the scalar tail alike.</summary>
    private static double[] SweepValues(int length, Precision precision) =>
        Numeric.Round(Enumerable.Range(0, length).Select(i => Sweep[(7 * i + length) % Sweep.Length]).ToArray(), precision);

    private static double[] OutputGradients(int length, Precision precision) =>
        Numeric.Round(Enumerable.Range(0, length).Select(i => 0.375 * ((i % 7) - 3) + 0.1).ToArray(), precision);

    private static double[] BuildSweep(params double[] magnitudes) =>
        magnitudes.SelectMany(m => new[] { -m, m }).Prepend(0).OrderBy(v => v).ToArray();

    private sealed record ActivationCase(
        string Name, ElementwiseActivation Activation, Func<double, double> F, Func<double, double> D, bool BackwardFromOutput = false);
}

/// <summary>
/// Plain scalar references, in double with Math.*, written independently of the library: each uses a different
/// formula (or an exact series) from the implementation it checks. Checked against 60-digit mpmath values on the sweep:
/// all within 2e-15 relative.
/// </summary>
internal static class ScalarReference
{
    private const double InverseSqrt2Pi = 0.398942280401432677939946059934381868;

    /// <summary>σ(z), from whichever side does not overflow.</summary>
    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>σ′(z) = e^(−|z|) / (1 + e^(−|z|))²: no difference of nearly equal numbers anywhere.</summary>
    public static double SigmoidDerivative(double z)
    {
        double e = Math.Exp(-Math.Abs(z));
        return e / ((1 + e) * (1 + e));
    }

    /// <summary>tanh′(z) = sech²(z) = 4·e^(−2|z|) / (1 + e^(−2|z|))².</summary>
    public static double TanhDerivative(double z)
    {
        double e = Math.Exp(-2 * Math.Abs(z));
        return 4 * e / ((1 + e) * (1 + e));
    }

    /// <summary>ln(1 + x) for x ≥ 0 as 2·atanh(u), u = x/(2 + x): an odd series in u whose terms all have one sign.</summary>
    public static double Log1p(double x)
    {
        double u = x / (2 + x), u2 = u * u, power = u, sum = 0;
        for (int k = 1; k < 400; k += 2)
        {
            double term = power / k;
            sum += term;
            if (Math.Abs(term) <= 1e-18 * Math.Abs(sum))
            {
                break;
            }

            power *= u2;
        }

        return 2 * sum;
    }

    /// <summary>e^x − 1: the Taylor series for |x| &lt; 1, where the subtraction would cancel.</summary>
    public static double Expm1(double x)
    {
        if (Math.Abs(x) >= 1)
        {
            return Math.Exp(x) - 1;
        }

        double term = x, sum = x;
        for (int n = 2; n < 40 && term != 0; n++)
        {
            term *= x / n;
            sum += term;
        }

        return sum;
    }

    /// <summary>ln(1 + e^z) = z + ln(1 + e^(−z)) for z &gt; 0.</summary>
    public static double Softplus(double z) => z > 0 ? z + Log1p(Math.Exp(-z)) : Log1p(Math.Exp(z));

    /// <summary>φ(x) = e^(−x²/2)/√(2π).</summary>
    public static double NormalPdf(double x) => InverseSqrt2Pi * Math.Exp(-0.5 * (x * x));

    /// <summary>Φ(x), the standard normal CDF: a series near 0, Laplace's continued fraction in the tails.</summary>
    public static double NormalCdf(double x)
    {
        if (Math.Abs(x) <= 1)
        {
            // Abramowitz & Stegun 26.2.11: Φ(x) = ½ + φ(x)·Σₙ x^(2n+1)/(1·3·5···(2n+1)); all terms have the sign of x.
            double term = x, sum = x;
            for (int n = 1; n < 200; n++)
            {
                term *= x * x / (2 * n + 1);
                sum += term;
                if (Math.Abs(term) <= 1e-18 * Math.Abs(sum))
                {
                    break;
                }
            }

            return 0.5 + NormalPdf(x) * sum;
        }

        double upperTail = NormalPdf(x) * MillsRatio(Math.Abs(x));
        return x < 0 ? upperTail : 1 - upperTail;
    }

    /// <summary>Mills' ratio R(t) = (1 − Φ(t))/φ(t) = 1/(t + 1/(t + 2/(t + 3/(t + ...)))) for t ≥ 1, evaluated from the tail.</summary>
    public static double MillsRatio(double t)
    {
        double tail = t;
        for (int k = 4000; k >= 1; k--)
        {
            tail = t + k / tail;
        }

        return 1 / tail;
    }

    /// <summary>GELU, exact form: x·Φ(x).</summary>
    public static double Gelu(double x) => x * NormalCdf(x);

    /// <summary>GELU′(x) = Φ(x) + x·φ(x).</summary>
    public static double GeluDerivative(double x) => NormalCdf(x) + x * NormalPdf(x);

    /// <summary>SiLU: z·σ(z).</summary>
    public static double Silu(double z) => z * Sigmoid(z);

    /// <summary>SiLU′(z) = σ(z) + z·σ′(z).</summary>
    public static double SiluDerivative(double z) => Sigmoid(z) + z * SigmoidDerivative(z);

    /// <summary>Softmax row by row: subtract the row maximum, exponentiate, normalise.</summary>
    public static double[] Softmax(double[] z, int width)
    {
        double[] a = new double[z.Length];
        for (int start = 0; start < z.Length; start += width)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < width; j++)
            {
                max = Math.Max(max, z[start + j]);
            }

            double sum = 0;
            for (int j = 0; j < width; j++)
            {
                a[start + j] = Math.Exp(z[start + j] - max);
                sum += a[start + j];
            }

            for (int j = 0; j < width; j++)
            {
                a[start + j] /= sum;
            }
        }

        return a;
    }

    /// <summary>ln Σⱼ e^(zⱼ) of one row, shifted by its maximum.</summary>
    public static double LogSumExp(ReadOnlySpan<double> row)
    {
        double max = double.NegativeInfinity;
        foreach (double v in row)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (double v in row)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}

/// <summary>The accuracy criterion shared by the activation and loss tests.</summary>
internal static class Accuracy
{
    /// <summary>
    /// rel·(|f(x)| + |x·f′(x)|) + the smallest normal number: the result must be exact up to a relative error of rel in
    /// the output and one of rel in the input. |x·f′(x)| is estimated from the reference itself by a relative central
    /// difference, which never crosses 0 and so never straddles a kink.
    /// </summary>
    public static double Tolerance(Func<double, double> f, double x, Precision precision)
    {
        const double H = 1e-7;
        double sensitivity = x == 0 ? 0 : Math.Abs(f(x * (1 + H)) - f(x * (1 - H))) / (2 * H);
        return Numeric.RelativeTolerance(precision) * (Math.Abs(f(x)) + sensitivity) + Numeric.SmallestNormal(precision);
    }
}

/// <summary>Calls the library in the requested precision on double data, converting at the boundary.</summary>
internal static class Numeric
{
    public static double RelativeTolerance(Precision precision) => precision == Precision.Double ? 1e-14 : 1e-6;

    /// <summary>The spacing of the type's numbers just above 1.</summary>
    public static double Epsilon(Precision precision) => precision == Precision.Double ? Math.Pow(2, -52) : Math.Pow(2, -23);

    /// <summary>Below this, results are subnormal and only absolutely accurate.</summary>
    public static double SmallestNormal(Precision precision) => precision == Precision.Double ? 2.2250738585072014E-308 : 1.17549435E-38;

    public static double Round(double value, Precision precision) => precision == Precision.Float ? (float)value : value;

    public static double[] Round(double[] values, Precision precision) => values.Select(v => Round(v, precision)).ToArray();

    public static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    public static double[] ToDouble(float[] values) => values.Select(v => (double)v).ToArray();

    public static double Apply(ElementwiseActivation f, double z, Precision precision) =>
        precision == Precision.Float ? f.Apply((float)z) : f.Apply(z);

    public static double Derivative(ElementwiseActivation f, double z, Precision precision) =>
        precision == Precision.Float ? f.Derivative((float)z) : f.Derivative(z);

    public static double[] Forward(IActivation f, double[] z, int width, Precision precision)
    {
        if (precision == Precision.Float)
        {
            float[] a = new float[z.Length];
            f.Forward<float>(ToFloat(z), a, width);
            return ToDouble(a);
        }

        double[] result = new double[z.Length];
        f.Forward<double>(z, result, width);
        return result;
    }

    /// <summary>Forward with the activations written over the pre-activations, as the interface allows.</summary>
    public static double[] ForwardInPlace(IActivation f, double[] z, int width, Precision precision)
    {
        if (precision == Precision.Float)
        {
            float[] buffer = ToFloat(z);
            f.Forward<float>(buffer, buffer, width);
            return ToDouble(buffer);
        }

        double[] values = (double[])z.Clone();
        f.Forward<double>(values, values, width);
        return values;
    }

    public static double[] Backward(IActivation f, double[] z, double[] a, double[] g, int width, Precision precision)
    {
        if (precision == Precision.Float)
        {
            float[] delta = new float[z.Length];
            f.Backward<float>(ToFloat(z), ToFloat(a), ToFloat(g), delta, width);
            return ToDouble(delta);
        }

        double[] result = new double[z.Length];
        f.Backward<double>(z, a, g, result, width);
        return result;
    }

    /// <summary>Backward with the local gradients written over the output gradients, as the interface allows.</summary>
    public static double[] BackwardInPlace(IActivation f, double[] z, double[] a, double[] g, int width, Precision precision)
    {
        if (precision == Precision.Float)
        {
            float[] buffer = ToFloat(g);
            f.Backward<float>(ToFloat(z), ToFloat(a), buffer, buffer, width);
            return ToDouble(buffer);
        }

        double[] values = (double[])g.Clone();
        f.Backward<double>(z, a, values, values, width);
        return values;
    }

    public static string Format(IEnumerable<double> values) =>
        string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}

/// <summary>Collects every mismatch of a sweep, so that one failure lists them all.</summary>
internal sealed class Mismatches
{
    private readonly List<string> _failures = [];

    public void Check(string what, double actual, double expected, double tolerance)
    {
        bool ok = actual.Equals(expected)
            || (double.IsFinite(actual) && double.IsFinite(expected) && Math.Abs(actual - expected) <= tolerance);
        if (!ok)
        {
            double error = Math.Abs(actual - expected);
            double relative = expected == 0 ? double.PositiveInfinity : error / Math.Abs(expected);
            _failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{what}: expected {expected:R}, actual {actual:R} (error {error:G3}, relative {relative:G3}, tolerance {tolerance:G3})"));
        }
    }

    public void ShouldBeEmpty()
    {
        if (_failures.Count > 0)
        {
            Assert.Fail($"{_failures.Count} value(s) differ from the reference:\n{string.Join("\n", _failures)}");
        }
    }
}
