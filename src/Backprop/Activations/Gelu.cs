using System.Numerics;
using MathNet.Numerics;

namespace Backprop;

/// <summary>The Gaussian error linear unit, exact form: f(z) = z·Φ(z) = ½·z·(1 + erf(z/√2)),
/// with f′(z) = Φ(z) + z·φ(z), where φ(z) = e^(−z²/2)/√(2π).</summary>
/// <remarks>
/// <para>Hendrycks and Gimpel, "Gaussian error linear units (GELUs)" (2016). The exact (erf) form, as PyTorch's default.
/// <see cref="Apply{T}"/> and <see cref="Derivative{T}"/> use MathNet.Numerics' double-precision
/// <see cref="SpecialFunctions.Erfc(double)"/>; the span methods use a vectorised erfc of the library's own (a Chebyshev
/// series times e^(−a²), within a few units in the last place of double), evaluated in double for float too.</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Gelu : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "gelu";

    /// <inheritdoc />
    public override T Apply<T>(T z) => default(Operator<T>).Value(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z) => default(Operator<T>).Derivative(z);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width) =>
        ElementwiseKernel.Forward(default(Operator<T>), preActivations, activations);

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width) =>
        ElementwiseKernel.Backward(default(Operator<T>), preActivations, activations, outputGradients, localGradients);

    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    // Scalar: MathNet's erfc in double. Vector: GeluErfc below, in double for float too, rounded to T once at the end as
    // the scalar form does; the backward pass multiplies f′ (rounded to T) by g in T, as the scalar form would.
    private readonly struct Operator<T> : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool BackwardReadsActivations => false;

        public T Value(T z)
        {
            double x = double.CreateChecked(z);
            return T.CreateChecked(0.5 * x * SpecialFunctions.Erfc(-x * InverseSqrt2));
        }

        public T Derivative(T z)
        {
            double x = double.CreateChecked(z);
            double cdf = 0.5 * SpecialFunctions.Erfc(-x * InverseSqrt2);
            double pdf = InverseSqrt2Pi * Math.Exp(-0.5 * x * x);
            return T.CreateChecked(cdf + x * pdf);
        }

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.InDouble<ValueKernel>(z);

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> => TSimd.Multiply(g, TSimd.InDouble<DerivativeKernel>(z));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        // Exact GELU for opset 17, which has no Gelu operator: 0.5·z·(1 + erf(z / √2)), the pattern that ONNX Runtime
        // fuses into its Gelu kernel.
        string sqrt2 = graph.AddScalar("gelu.sqrt2", MathF.Sqrt(2f));
        string one = graph.AddScalar("gelu.one", 1f);
        string half = graph.AddScalar("gelu.half", 0.5f);
        string output = graph.Name("a");
        graph.AddNode("Div", graph.Name("gelu.div"), [input, sqrt2], graph.Name("gelu.scaled"));
        graph.AddNode("Erf", graph.Name("gelu.erf"), [graph.Name("gelu.scaled")], graph.Name("gelu.erf"));
        graph.AddNode("Add", graph.Name("gelu.add"), [graph.Name("gelu.erf"), one], graph.Name("gelu.erf_plus_one"));
        graph.AddNode("Mul", graph.Name("gelu.mul"), [input, graph.Name("gelu.erf_plus_one")], graph.Name("gelu.product"));
        graph.AddNode("Mul", graph.Name("gelu.half"), [graph.Name("gelu.product"), half], output);
        return output;
    }

    // ½·x·erfc(−x/√2).
    private readonly struct ValueKernel : IDoubleKernel
    {
        public static TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, double>
        {
            TVec erfc = Erfc<TVec, TSimd>(TSimd.Multiply(TSimd.Negate(x), TSimd.Broadcast(InverseSqrt2)));
            return TSimd.Multiply(TSimd.Multiply(TSimd.Broadcast(0.5), x), erfc);
        }
    }

    // Φ(x) + x·φ(x) = ½·erfc(−x/√2) + x·e^(−x²/2)/√(2π).
    private readonly struct DerivativeKernel : IDoubleKernel
    {
        public static TVec Invoke<TVec, TSimd>(TVec x)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, double>
        {
            TVec cdf = TSimd.Multiply(TSimd.Broadcast(0.5), Erfc<TVec, TSimd>(TSimd.Multiply(TSimd.Negate(x), TSimd.Broadcast(InverseSqrt2))));
            TVec pdf = TSimd.Multiply(TSimd.Broadcast(InverseSqrt2Pi), TSimd.Exp(TSimd.Multiply(TSimd.Multiply(TSimd.Broadcast(-0.5), x), x)));
            return TSimd.Add(cdf, TSimd.Multiply(x, pdf));
        }
    }

    /// <summary>
    /// erfc(u) in double, lane by lane, within about 1e-16 relative of the exact value over the whole line (before the
    /// rounding of the few operations that evaluate it).
    /// </summary>
    /// <remarks>
    /// For a = |u|: erfc(a) = e^(−a²)·G(a), where G(a) = e^(a²)·erfc(a) is smooth and decreasing (G(0) = 1, G(a) ≈
    /// 1/(a√π) for large a). G is a Chebyshev series of degree 24 in t = 1/(1 + 0.4·a), fitted by interpolation at the
    /// Chebyshev points for a ∈ [0, 27.5] with 40-digit mpmath (the largest relative error of the fit over that interval
    /// is 4e-18); beyond 27.5, e^(−a²) underflows to 0 and a is clamped so that G stays in its interval. e^(−a²) is
    /// e^(−p)·(1 − (a² − p)) with p = a·a rounded and a² − p exact by a fused multiply-add, so that the rounding of a²
    /// (a relative error of up to a²·2^−53 in e^(−a²)) does not reach the result. Negative u: erfc(u) = 2 − erfc(|u|).
    /// </remarks>
    private static TVec Erfc<TVec, TSimd>(TVec u)
        where TVec : struct
        where TSimd : ISimdWidth<TVec, double>
    {
        TVec a = TSimd.Min(TSimd.Abs(u), TSimd.Broadcast(27.5));
        TVec t = TSimd.Divide(TSimd.Broadcast(1.0), TSimd.MultiplyAdd(TSimd.Broadcast(0.4), a, TSimd.Broadcast(1.0)));

        // t ∈ [1/12, 1] mapped onto s ∈ [−1, 1]; Clenshaw's recurrence bₖ = 2s·bₖ₊₁ − bₖ₊₂ + cₖ.
        TVec s = TSimd.MultiplyAdd(t, TSimd.Broadcast(24.0 / 11.0), TSimd.Broadcast(-13.0 / 11.0));
        TVec twoS = TSimd.Add(s, s);
        TVec b1 = TSimd.Broadcast(0.0), b2 = b1;
        ReadOnlySpan<double> c = ErfcSeries;
        for (int k = c.Length - 1; k >= 1; k--)
        {
            TVec b0 = TSimd.MultiplyAdd(twoS, b1, TSimd.Subtract(TSimd.Broadcast(c[k]), b2));
            b2 = b1;
            b1 = b0;
        }

        TVec g = TSimd.MultiplyAdd(s, b1, TSimd.Subtract(TSimd.Broadcast(c[0]), b2));

        TVec p = TSimd.Multiply(a, a);
        TVec pError = TSimd.MultiplyAdd(a, a, TSimd.Negate(p));
        TVec gaussian = TSimd.Multiply(TSimd.Exp(TSimd.Negate(p)), TSimd.Subtract(TSimd.Broadcast(1.0), pError));
        TVec upper = TSimd.Multiply(gaussian, g);
        TVec result = TSimd.Select(TSimd.LessThan(u, TSimd.Broadcast(0.0)), TSimd.Subtract(TSimd.Broadcast(2.0), upper), upper);

        // NaN in, NaN out (the clamp may have replaced it).
        return TSimd.Select(TSimd.Equal(u, u), result, u);
    }

    // Chebyshev coefficients c₀ … c₂₄ of G (see Erfc); generated by gelu_erfc_fit.py beside this file.
    private static ReadOnlySpan<double> ErfcSeries =>
    [
        0.37359857459675583, 0.46259377051024936, 0.1333715205822717, 0.02709202327532436,
        0.003329489646776935, 6.743880189530435E-5, -4.924927486277051E-5, -4.582547013153979E-6,
        9.122144143078476E-7, 1.2943909196777798E-7, -2.4935319506400865E-8, -3.2304022417646364E-9,
        8.959740172737934E-10, 5.7949781266466425E-11, -3.492014800068376E-11, 7.484360143299061E-13,
        1.2490497389167238E-12, -1.6161120337860242E-13, -3.195480796692774E-14, 1.087287199039482E-14,
        -1.0618404457813719E-16, -4.701540113999631E-16, 7.808501168320525E-17, 9.366017206772608E-18,
        -5.545426404199834E-18,
    ];
}
