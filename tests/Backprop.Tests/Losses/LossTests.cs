using System.Globalization;
using Backprop.Tests.ActivationsTests;
using FluentAssertions.Execution;

// Not "Backprop.Tests.Losses": a namespace of that name would hide the library's static class Backprop.Losses
// from every other test namespace under Backprop.Tests (which write Losses.MeanSquaredError and so on).
namespace Backprop.Tests.LossesTests;

/// <summary>
/// Checks every loss against plainly written references in double (<see cref="ScalarReference"/> and the formulas below),
/// in float and in double: values, analytic gradients, central finite differences, the reduction conventions, the fused
/// output forms at extreme logits, target validation and argument checks.
/// </summary>
/// <remarks>
/// A value or gradient is compared as |actual − expected| ≤ rel·(|expected| + M) + the smallest normal number, with
/// rel = 1e-14 in double and 1e-6 in float, where M is the size of what the formula combines (for instance Σ|y·z| for
/// the logit forms, which subtract z·y from max(z, 0)): the attainable accuracy of an honest implementation.
/// </remarks>
public class LossTests
{
    private const int Rows = 3;
    private const int Width = 4;

    // Regression data: the differences ŷ − y are −0.5, −0.25, 3, −0.1, 1, −0.5, −0.45, 4.5, −0.5, 1e-3, 30, −200,
    // on both sides of every Huber threshold used below, and never 0 (MAE's kink).
    private static readonly double[] _regressionOutputs = [0.5, -1.25, 3, 0.1, 20, -7, 0.3, 2.5, -0.6, 1e-3, 40, -100];
    private static readonly double[] _regressionTargets = [1, -1, 0, 0.2, 19, -6.5, 0.75, -2, -0.1, 0, 10, 100];

    private static readonly double[] _probabilities = [0.9, 0.1, 0.5, 0.02, 0.98, 0.3, 0.7, 0.25, 0.6, 0.45, 0.999, 0.001];
    private static readonly double[] _binaryTargets = [1, 0, 1, 0, 1, 0.35, 0, 1, 0.6, 0.5, 1, 1];

    // Logits reaching far into the saturated tails, with hard and soft targets on both sides.
    private static readonly double[] _binaryLogits = [0.5, -1.25, 3, -3, 50, -50, 500, -500, 1e-8, 20, -40, 0];
    private static readonly double[] _binaryLogitTargets = [1, 0, 0.25, 1, 1, 0, 0, 1, 0.5, 0, 1, 0.75];

    // Rows of class probabilities, with one-hot, soft and unnormalised (mass 1.5) targets.
    private static readonly double[] _classProbabilities = [0.7, 0.1, 0.15, 0.05, 0.25, 0.25, 0.25, 0.25, 0.001, 0.989, 0.005, 0.005];
    private static readonly double[] _classTargets = [1, 0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.2, 0.3, 0, 1];

    private static readonly double[] _classLogits = [2, -1, 0.5, 3, 1000, 0, -1000, 5, 50, 0, 0, -50];
    private static readonly double[] _classLogitTargets = [0.2, 0.3, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0];

    private static readonly Dictionary<string, LossCase> _cases = new[]
    {
        Elementwise("MSE", Backprop.Losses.MeanSquaredError, Regression, (o, y) => (o - y) * (o - y), (o, y) => 2 * (o - y),
            (o, y) => 2 * Math.Abs(o - y) * (Math.Abs(o) + Math.Abs(y)), (o, y) => 2 * (Math.Abs(o) + Math.Abs(y))),
        Elementwise("MSE(Sum)", Backprop.Losses.SumSquaredError, Regression, (o, y) => (o - y) * (o - y), (o, y) => 2 * (o - y),
            (o, y) => 2 * Math.Abs(o - y) * (Math.Abs(o) + Math.Abs(y)), (o, y) => 2 * (Math.Abs(o) + Math.Abs(y))),
        Elementwise("MAE", Backprop.Losses.MeanAbsoluteError, Regression, (o, y) => Math.Abs(o - y), (o, y) => Math.Sign(o - y),
            (o, y) => Math.Abs(o) + Math.Abs(y), (_, _) => 0),
        Elementwise("MAE(Sum)", new MeanAbsoluteError(LossReduction.Sum), Regression, (o, y) => Math.Abs(o - y), (o, y) => Math.Sign(o - y),
            (o, y) => Math.Abs(o) + Math.Abs(y), (_, _) => 0),
        HuberCase("Huber", Backprop.Losses.Huber, 1.0),
        HuberCase("Huber(0.5)", new Huber(0.5), 0.5),
        HuberCase("Huber(2.5, Sum)", new Huber(2.5, LossReduction.Sum), 2.5),
        Elementwise("BCE", Backprop.Losses.BinaryCrossEntropy, Binary, BinaryCrossEntropyTerm, (p, y) => (p - y) / (p * (1 - p)),
            (p, y) => BinaryCrossEntropyTerm(p, y), (p, y) => (y / p) + ((1 - y) / (1 - p))),
        Elementwise("BCE(Sum)", new BinaryCrossEntropy(LossReduction.Sum), Binary, BinaryCrossEntropyTerm, (p, y) => (p - y) / (p * (1 - p)),
            (p, y) => BinaryCrossEntropyTerm(p, y), (p, y) => (y / p) + ((1 - y) / (1 - p))),
        Elementwise("BCEWithLogits", Backprop.Losses.BinaryCrossEntropyWithLogits, BinaryLogits, BinaryCrossEntropyFromLogit,
            (z, y) => ScalarReference.Sigmoid(z) - y, (z, y) => ScalarReference.Softplus(z) + Math.Abs(z * y), (z, y) => ScalarReference.Sigmoid(z) + y),
        Elementwise("BCEWithLogits(Sum)", new BinaryCrossEntropyWithLogits(LossReduction.Sum), BinaryLogits, BinaryCrossEntropyFromLogit,
            (z, y) => ScalarReference.Sigmoid(z) - y, (z, y) => ScalarReference.Softplus(z) + Math.Abs(z * y), (z, y) => ScalarReference.Sigmoid(z) + y),
        Categorical("CCE", Backprop.Losses.CrossEntropy, fromLogits: false),
        Categorical("CCE(Sum)", new CategoricalCrossEntropy(LossReduction.Sum), fromLogits: false),
        Categorical("CCEWithLogits", Backprop.Losses.CrossEntropyWithLogits, fromLogits: true),
        Categorical("CCEWithLogits(Sum)", new CategoricalCrossEntropyWithLogits(LossReduction.Sum), fromLogits: true),
    }.ToDictionary(c => c.Name);

    private static readonly Dictionary<string, IActivation> _activations = new()
    {
        ["Identity"] = Backprop.Activations.Identity,
        ["Sigmoid"] = Backprop.Activations.Sigmoid,
        ["new Sigmoid()"] = new Sigmoid(),
        ["Tanh"] = Backprop.Activations.Tanh,
        ["ReLU"] = Backprop.Activations.ReLU,
        ["LeakyReLU"] = Backprop.Activations.LeakyReLU,
        ["ELU"] = Backprop.Activations.ELU,
        ["Softplus"] = Backprop.Activations.Softplus,
        ["GELU"] = Backprop.Activations.GELU,
        ["SiLU"] = Backprop.Activations.SiLU,
        ["Softmax"] = Backprop.Activations.Softmax,
        ["new Softmax()"] = new Softmax(),
    };

    private static (double[] Outputs, double[] Targets) Regression => (_regressionOutputs, _regressionTargets);

    private static (double[] Outputs, double[] Targets) Binary => (_probabilities, _binaryTargets);

    private static (double[] Outputs, double[] Targets) BinaryLogits => (_binaryLogits, _binaryLogitTargets);

    public static TheoryData<string, Precision> LossCases()
    {
        var data = new TheoryData<string, Precision>();
        foreach (string name in _cases.Keys)
        {
            data.Add(name, Precision.Float);
            data.Add(name, Precision.Double);
        }

        return data;
    }

    public static TheoryData<string> LossNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in _cases.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    public static TheoryData<string> ActivationNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in _activations.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    public static TheoryData<Precision> Precisions() => new() { Precision.Float, Precision.Double };

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Value_MatchesReference(string loss, Precision precision)
    {
        var c = _cases[loss];
        var (outputs, targets) = c.Data(precision);
        double actual = LossCall.Value(c.Loss, outputs, targets, Width, precision);
        double expected = c.Value(outputs, targets);
        double tolerance = Numeric.RelativeTolerance(precision) * (Math.Abs(expected) + c.ValueMagnitude(outputs, targets)) + Numeric.SmallestNormal(precision);

        double.IsFinite(actual).Should().BeTrue("{0} of [{1}] must be finite", c.Name, Numeric.Format(outputs));
        actual.Should().BeApproximately(expected, tolerance, "{0}<{1}> on outputs [{2}], targets [{3}]", c.Name, precision, Numeric.Format(outputs), Numeric.Format(targets));
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void Gradient_MatchesReferenceAnalyticGradient(string loss, Precision precision)
    {
        var c = _cases[loss];
        var (outputs, targets) = c.Data(precision);
        double[] actual = LossCall.Gradient(c.Loss, outputs, targets, Width, precision);
        double[] expected = c.Gradient(outputs, targets);
        double[] magnitude = c.GradientMagnitude(outputs, targets);
        var report = new Mismatches();
        for (int i = 0; i < actual.Length; i++)
        {
            double tolerance = Numeric.RelativeTolerance(precision) * (Math.Abs(expected[i]) + magnitude[i]) + Numeric.SmallestNormal(precision);
            report.Check($"{c.Name}.Gradient<{precision}>[{i}] at output {outputs[i]:R}, target {targets[i]:R}", actual[i], expected[i], tolerance);
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Gradient_MatchesCentralFiniteDifferenceOfValue(string loss)
    {
        var c = _cases[loss];
        var (data, targets) = c.Data(Precision.Double);

        // Moved by 1e-4 off the kinks of MAE (ŷ = y) and Huber (|ŷ − y| = δ), so that no difference straddles one.
        double[] outputs = data.Select(v => v + 1e-4).ToArray();
        double[] gradient = LossCall.Gradient(c.Loss, outputs, targets, Width, Precision.Double);
        double value = LossCall.Value(c.Loss, outputs, targets, Width, Precision.Double);
        var report = new Mismatches();
        for (int i = 0; i < outputs.Length; i++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(outputs[i]));
            double[] plus = (double[])outputs.Clone(), minus = (double[])outputs.Clone();
            plus[i] += h;
            minus[i] -= h;
            double difference = (LossCall.Value(c.Loss, plus, targets, Width, Precision.Double) - LossCall.Value(c.Loss, minus, targets, Width, Precision.Double)) / (plus[i] - minus[i]);

            // Truncation error O(h²) relative, plus the rounding noise of the two values over 2h.
            double tolerance = 1e-6 * Math.Abs(gradient[i]) + 1e-14 * (1 + Math.Abs(value)) / h;
            report.Check($"{c.Name}: ∂L/∂ŷ[{i}] at output {outputs[i]:R}, target {targets[i]:R}", gradient[i], difference, tolerance);
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("MSE", "MSE(Sum)", Rows * Width)]
    [InlineData("MAE", "MAE(Sum)", Rows * Width)]
    [InlineData("BCE", "BCE(Sum)", Rows * Width)]
    [InlineData("BCEWithLogits", "BCEWithLogits(Sum)", Rows * Width)]
    [InlineData("CCE", "CCE(Sum)", Rows)]
    [InlineData("CCEWithLogits", "CCEWithLogits(Sum)", Rows)]
    public void Mean_DividesTheSumByAllElements_OrByTheRowsForCategoricalLosses(string meanLoss, string sumLoss, int count)
    {
        var mean = _cases[meanLoss];
        var sum = _cases[sumLoss];
        mean.Loss.Reduction.Should().Be(LossReduction.Mean);
        sum.Loss.Reduction.Should().Be(LossReduction.Sum);
        var (outputs, targets) = mean.Data(Precision.Double);

        double meanValue = LossCall.Value(mean.Loss, outputs, targets, Width, Precision.Double);
        double sumValue = LossCall.Value(sum.Loss, outputs, targets, Width, Precision.Double);
        meanValue.Should().BeApproximately(sumValue / count, 1e-14 * Math.Abs(sumValue / count));

        double[] meanGradient = LossCall.Gradient(mean.Loss, outputs, targets, Width, Precision.Double);
        double[] sumGradient = LossCall.Gradient(sum.Loss, outputs, targets, Width, Precision.Double);
        meanGradient.Should().Equal(sumGradient, (m, s) => Math.Abs(m - (s / count)) <= 1e-14 * Math.Abs(s / count));
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void SumSquaredError_IsTheClassicSumOfSquares(Precision precision)
    {
        // E = Σ (ŷ − y)², ∂E/∂ŷ = 2·(ŷ − y), on dyadic values where every step is exact.
        double[] outputs = [0.5, 0.25, 0.75, 1];
        double[] targets = [1, 0, 0.5, 1];
        LossCall.Value(Backprop.Losses.SumSquaredError, outputs, targets, 2, precision).Should().Be(0.25 + 0.0625 + 0.0625);
        LossCall.Gradient(Backprop.Losses.SumSquaredError, outputs, targets, 2, precision).Should().Equal(-1, 0.5, 0.5, 0);
        LossCall.Value(Backprop.Losses.MeanSquaredError, outputs, targets, 2, precision).Should().Be(0.375 / 4);
        LossCall.Gradient(Backprop.Losses.MeanSquaredError, outputs, targets, 2, precision).Should().Equal(-0.25, 0.125, 0.125, 0);
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void CrossEntropies_OfExactHardPredictions_AreZero_WithFiniteGradients(Precision precision)
    {
        // 0·ln 0 counts as 0: a hard prediction that matches its hard target costs nothing.
        double[] p = [0, 1, 1, 0];
        double[] y = [0, 1, 1, 0];
        LossCall.Value(Backprop.Losses.BinaryCrossEntropy, p, y, 2, precision).Should().Be(0);
        LossCall.Gradient(Backprop.Losses.BinaryCrossEntropy, p, y, 2, precision).Should().OnlyContain(g => double.IsFinite(g));
        LossCall.Value(Backprop.Losses.CrossEntropy, p, y, 2, precision).Should().Be(0);
        LossCall.Gradient(Backprop.Losses.CrossEntropy, p, y, 2, precision).Should().OnlyContain(g => double.IsFinite(g));
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void BinaryCrossEntropy_FusedValue_EqualsValueOfSigmoid_ForModerateLogits(Precision precision)
    {
        double[] z = Numeric.Round([-4, -1.5, -0.5, 0, 0.25, 1, 2.5, 4], precision);
        double[] y = Numeric.Round([0, 1, 0.3, 1, 0, 0.5, 1, 0.9], precision);
        foreach (var loss in new[] { Backprop.Losses.BinaryCrossEntropy, new BinaryCrossEntropy(LossReduction.Sum) })
        {
            double[] p = Numeric.Forward(Backprop.Activations.Sigmoid, z, 4, precision);
            double fused = LossCall.FusedValue(loss, z, y, 4, precision);
            double unfused = LossCall.Value(loss, p, y, 4, precision);

            // The unfused path takes ln(1 − p) of a rounded p: a few units of the type's epsilon.
            fused.Should().BeApproximately(unfused, 100 * Numeric.Epsilon(precision) * (1 + Math.Abs(unfused)), "{0}<{1}>", loss, precision);
            double expected = _cases["BCEWithLogits"].Value(z, y) * (loss.Reduction == LossReduction.Sum ? z.Length : 1);
            fused.Should().BeApproximately(expected, Numeric.RelativeTolerance(precision) * 10 * (1 + Math.Abs(expected)), "{0}<{1}> against the reference", loss, precision);
        }
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void BinaryCrossEntropy_FusedValue_IsFiniteAndAccurate_WhereTheSigmoidSaturates(Precision precision)
    {
        var report = new Mismatches();
        foreach (double z in new[] { 50.0, -50, 500, -500 })
        {
            foreach (double y in new[] { 0.0, 1, 0.25 })
            {
                double actual = LossCall.FusedValue(Backprop.Losses.BinaryCrossEntropy, [z], [y], 1, precision);
                double expected = BinaryCrossEntropyFromLogit(z, y);
                double tolerance = Numeric.RelativeTolerance(precision) * (expected + Math.Abs(z * y)) + Numeric.SmallestNormal(precision);
                report.Check($"BCE.FusedValue<{precision}>(z = {z}, y = {y})", actual, expected, tolerance);
            }
        }

        report.ShouldBeEmpty();

        // Why the fused form exists: σ(50) rounds to exactly 1, and the unfused value of a contradicting target is +∞.
        double saturated = Numeric.Forward(Backprop.Activations.Sigmoid, [50], 1, precision)[0];
        saturated.Should().Be(1);
        LossCall.Value(Backprop.Losses.BinaryCrossEntropy, [saturated], [0], 1, precision).Should().Be(double.PositiveInfinity);
        LossCall.FusedValue(Backprop.Losses.BinaryCrossEntropy, [50], [0], 1, precision).Should().BeApproximately(50, 50 * Numeric.RelativeTolerance(precision));
    }

    [Theory]
    [InlineData(Precision.Float, LossReduction.Mean)]
    [InlineData(Precision.Float, LossReduction.Sum)]
    [InlineData(Precision.Double, LossReduction.Mean)]
    [InlineData(Precision.Double, LossReduction.Sum)]
    public void BinaryCrossEntropy_FusedLocalGradients_EqualSigmoidMinusTargetScaled(Precision precision, LossReduction reduction)
    {
        var loss = new BinaryCrossEntropy(reduction);
        double[] z = Numeric.Round(_binaryLogits, precision);
        double[] y = Numeric.Round(_binaryLogitTargets, precision);
        double[] a = Numeric.Forward(Backprop.Activations.Sigmoid, z, Width, precision);
        double[] delta = LossCall.FusedLocalGradients(loss, a, y, Width, precision);
        double scale = reduction == LossReduction.Mean ? 1.0 / z.Length : 1;
        var report = new Mismatches();
        for (int i = 0; i < z.Length; i++)
        {
            double rel = Numeric.RelativeTolerance(precision);
            report.Check($"BCE.FusedLocalGradients<{precision}>[{i}] = (a − y)·scale, a = {a[i]:R}, y = {y[i]:R}",
                delta[i], (a[i] - y[i]) * scale, (2 * Numeric.Epsilon(precision) * scale * (a[i] + y[i])) + Numeric.SmallestNormal(precision));
            report.Check($"BCE.FusedLocalGradients<{precision}>[{i}] vs (σ(z) − y)·scale, z = {z[i]:R}, y = {y[i]:R}",
                delta[i], (ScalarReference.Sigmoid(z[i]) - y[i]) * scale, (rel * (1 + y[i]) * scale) + Numeric.SmallestNormal(precision));
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void CategoricalCrossEntropy_FusedValue_EqualsValueOfSoftmax(Precision precision)
    {
        double[] z = Numeric.Round([2, -1, 0.5, -0.25, 1.5, 3, 0, 0, 0], precision);
        double[] y = Numeric.Round([0, 1, 0, 0.2, 0.5, 0.3, 0.5, 0.25, 0.75], precision);
        foreach (var loss in new[] { Backprop.Losses.CrossEntropy, new CategoricalCrossEntropy(LossReduction.Sum) })
        {
            double[] p = Numeric.Forward(Backprop.Activations.Softmax, z, 3, precision);
            double fused = LossCall.FusedValue(loss, z, y, 3, precision);
            double unfused = LossCall.Value(loss, p, y, 3, precision);
            fused.Should().BeApproximately(unfused, 100 * Numeric.Epsilon(precision) * (1 + Math.Abs(unfused)), "{0}<{1}>", loss, precision);
        }
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void CategoricalCrossEntropy_FusedValue_IsFiniteAndAccurate_AtExtremeLogits(Precision precision)
    {
        (double[] Z, double[] Y)[] rows =
        [
            ([1000, 0, -1000], [0, 0, 1]),
            ([1000, 0, -1000], [1, 0, 0]),
            ([-1e4, 1e4, 0], [1, 0, 0]),
            ([-1e4, 1e4, 0], [0.25, 0.5, 0.25]),
            ([700, 699, -700], [0, 1, 0]),
            ([50, 0, -50], [1, 0, 0]),
            ([-1000, -1000, -1000], [0, 0, 1]),
        ];
        var report = new Mismatches();
        foreach (var (zValues, yValues) in rows)
        {
            double[] z = Numeric.Round(zValues, precision);
            double[] y = Numeric.Round(yValues, precision);
            double actual = LossCall.FusedValue(Backprop.Losses.CrossEntropy, z, y, 3, precision);
            double lse = ScalarReference.LogSumExp(z);
            double expected = 0, magnitude = 0;
            for (int j = 0; j < 3; j++)
            {
                expected += y[j] * (lse - z[j]);
                magnitude += y[j] * (Math.Abs(lse) + Math.Abs(z[j]));
            }

            double tolerance = Numeric.RelativeTolerance(precision) * (expected + magnitude) + Numeric.SmallestNormal(precision);
            report.Check($"CCE.FusedValue<{precision}>(z = [{Numeric.Format(z)}], y = [{Numeric.Format(y)}])", actual, expected, tolerance);
            report.Check($"CCEWithLogits.Value<{precision}>(z = [{Numeric.Format(z)}], y = [{Numeric.Format(y)}])",
                LossCall.Value(Backprop.Losses.CrossEntropyWithLogits, z, y, 3, precision), expected, tolerance);
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(Precision.Float, LossReduction.Mean)]
    [InlineData(Precision.Float, LossReduction.Sum)]
    [InlineData(Precision.Double, LossReduction.Mean)]
    [InlineData(Precision.Double, LossReduction.Sum)]
    public void CategoricalCrossEntropy_FusedLocalGradients_EqualProbabilitiesTimesMassMinusTargets_OverRows(Precision precision, LossReduction reduction)
    {
        var loss = new CategoricalCrossEntropy(reduction);
        double[] z = Numeric.Round(_classLogits, precision);
        double[] y = Numeric.Round(_classLogitTargets, precision);
        double[] a = Numeric.Forward(Backprop.Activations.Softmax, z, Width, precision);
        double[] delta = LossCall.FusedLocalGradients(loss, a, y, Width, precision);
        double[] reference = ScalarReference.Softmax(z, Width);
        double scale = reduction == LossReduction.Mean ? 1.0 / Rows : 1;
        var report = new Mismatches();
        for (int row = 0; row < Rows; row++)
        {
            double mass = y.Skip(row * Width).Take(Width).Sum();
            for (int j = 0; j < Width; j++)
            {
                int i = (row * Width) + j;
                double slack = (4 * Numeric.Epsilon(precision) * scale * ((a[i] * mass) + y[i])) + Numeric.SmallestNormal(precision);
                report.Check($"CCE.FusedLocalGradients<{precision}>[{i}] = (a·Σy − y)/rows, a = {a[i]:R}, Σy = {mass}, y = {y[i]:R}",
                    delta[i], ((a[i] * mass) - y[i]) * scale, slack);
                report.Check($"CCE.FusedLocalGradients<{precision}>[{i}] vs reference softmax of z = {z[i]:R}",
                    delta[i], ((reference[i] * mass) - y[i]) * scale, (Numeric.RelativeTolerance(precision) * scale * ((reference[i] * mass) + y[i])) + slack);
            }
        }

        report.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void CanFuseWith_IsTrueExactlyForTheMatchingOutputActivation(string activation)
    {
        var f = _activations[activation];
        Backprop.Losses.BinaryCrossEntropy.CanFuseWith(f).Should().Be(f is Sigmoid, "binary cross-entropy fuses with a sigmoid only");
        new BinaryCrossEntropy(LossReduction.Sum).CanFuseWith(f).Should().Be(f is Sigmoid);
        Backprop.Losses.CrossEntropy.CanFuseWith(f).Should().Be(f is Softmax, "categorical cross-entropy fuses with a softmax only");
        new CategoricalCrossEntropy(LossReduction.Sum).CanFuseWith(f).Should().Be(f is Softmax);
    }

    [Theory]
    [InlineData("BCE", 1.5, Precision.Double)]
    [InlineData("BCE", -0.1, Precision.Float)]
    [InlineData("BCE", double.NaN, Precision.Double)]
    [InlineData("BCE", double.PositiveInfinity, Precision.Float)]
    [InlineData("BCEWithLogits", 1.0000001, Precision.Double)]
    [InlineData("BCEWithLogits", -1e-9, Precision.Double)]
    [InlineData("BCEWithLogits", 2, Precision.Float)]
    [InlineData("CCE", -0.5, Precision.Double)]
    [InlineData("CCE", -1e-30, Precision.Float)]
    [InlineData("CCE", double.NaN, Precision.Float)]
    [InlineData("CCE", double.PositiveInfinity, Precision.Double)]
    [InlineData("CCEWithLogits", -1, Precision.Float)]
    [InlineData("CCEWithLogits", double.NegativeInfinity, Precision.Double)]
    public void ValidateTargets_RejectsATargetOutsideTheDomain_NamingRowColumnAndValue(string loss, double bad, Precision precision)
    {
        // The bad target sits at index 6 of a width-4 batch: row 1, column 2.
        double[] targets = [0, 1, 0.5, 0, 0, 0.25, bad, 1];
        double value = Numeric.Round(bad, precision);
        var validate = () => LossCall.ValidateTargets(_cases[loss].Loss, targets, Width, "trainTargets", precision);

        var exception = validate.Should().Throw<ArgumentException>().Which;
        exception.ParamName.Should().Be("trainTargets");
        exception.Message.Should().Contain("row 1").And.Contain("column 2").And.Contain("trainTargets");
        string shown = precision == Precision.Float
            ? ((float)value).ToString(CultureInfo.InvariantCulture)
            : value.ToString(CultureInfo.InvariantCulture);
        exception.Message.Should().Contain(shown);
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void ValidateTargets_AcceptsTheDataSetsOfTheseTests(string loss, Precision precision)
    {
        var c = _cases[loss];
        var (_, targets) = c.Data(precision);
        var validate = () => LossCall.ValidateTargets(c.Loss, targets, Width, "targets", precision);
        validate.Should().NotThrow();
    }

    [Theory]
    [InlineData("MSE")]
    [InlineData("MAE")]
    [InlineData("Huber")]
    public void ValidateTargets_OfRegressionLosses_AcceptsAnyFiniteTarget(string loss)
    {
        var validate = () => LossCall.ValidateTargets(_cases[loss].Loss, [-5, 1e6, 0.5, -1e-30], 2, "targets", Precision.Double);
        validate.Should().NotThrow();
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void MismatchedSpanLengths_ThrowArgumentException_NamingTheArgument(string loss)
    {
        var f = _cases[loss].Loss;

        var shortTargets = () => f.Value<double>(new double[6], new double[5], 3);
        shortTargets.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");

        var shortTargetsInGradient = () => f.Gradient<float>(new float[6], new float[7], new float[6], 3);
        shortTargetsInGradient.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");

        var shortGradients = () => f.Gradient<double>(new double[6], new double[6], new double[5], 3);
        shortGradients.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("outputGradients");

        var partialRow = () => f.Value<float>(new float[7], new float[7], 3);
        partialRow.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("outputs");

        var zeroWidth = () => f.Gradient<double>(new double[6], new double[6], new double[6], 0);
        zeroWidth.Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData("BCE")]
    [InlineData("CCE")]
    public void FusedMethods_MismatchedSpanLengths_ThrowArgumentException_NamingTheirOwnArguments(string loss)
    {
        var f = (IFusedOutputLoss)_cases[loss].Loss;
        using var scope = new AssertionScope();

        var shortTargets = () => f.FusedValue<double>(new double[6], new double[5], 3);
        shortTargets.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");

        var shortTargetsInGradients = () => f.FusedLocalGradients<float>(new float[6], new float[5], new float[6], 3);
        shortTargetsInGradients.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");

        var shortLocalGradients = () => f.FusedLocalGradients<double>(new double[6], new double[6], new double[5], 3);
        shortLocalGradients.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("localGradients");

        var partialRowOfLogits = () => f.FusedValue<float>(new float[7], new float[7], 3);
        partialRowOfLogits.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("preActivations");

        var partialRowOfActivations = () => f.FusedLocalGradients<double>(new double[7], new double[7], new double[7], 3);
        partialRowOfActivations.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("activations");
    }

    [Fact]
    public void Huber_RejectsANonPositiveDelta()
    {
        new Action(() => _ = new Huber(0)).Should().Throw<ArgumentOutOfRangeException>();
        new Action(() => _ = new Huber(-1)).Should().Throw<ArgumentOutOfRangeException>();
        new Action(() => _ = new Huber(double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>−[y·ln p + (1 − y)·ln(1 − p)], with 0·ln 0 = 0.</summary>
    private static double BinaryCrossEntropyTerm(double p, double y) =>
        -((y == 0 ? 0 : y * Math.Log(p)) + (y == 1 ? 0 : (1 - y) * Math.Log(1 - p)));

    /// <summary>The same term from the logit: −[y·ln σ(z) + (1 − y)·ln σ(−z)] = y·softplus(−z) + (1 − y)·softplus(z).</summary>
    private static double BinaryCrossEntropyFromLogit(double z, double y) =>
        (y * ScalarReference.Softplus(-z)) + ((1 - y) * ScalarReference.Softplus(z));

    private static LossCase HuberCase(string name, Huber loss, double delta) =>
        Elementwise(name, loss, Regression,
            (o, y) => Math.Abs(o - y) <= delta ? 0.5 * (o - y) * (o - y) : delta * (Math.Abs(o - y) - (0.5 * delta)),
            (o, y) => Math.Clamp(o - y, -delta, delta),
            (o, y) => Math.Min(Math.Abs(o - y), delta) * (Math.Abs(o) + Math.Abs(y)),
            (o, y) => Math.Abs(o - y) <= delta ? Math.Abs(o) + Math.Abs(y) : 0);

    /// <summary>An element-wise loss: terms summed over all elements, divided by their count for a mean.</summary>
    private static LossCase Elementwise(
        string name,
        ILossFunction loss,
        (double[] Outputs, double[] Targets) data,
        Func<double, double, double> term,
        Func<double, double, double> derivative,
        Func<double, double, double> termMagnitude,
        Func<double, double, double> derivativeMagnitude)
    {
        double Scale(int count) => loss.Reduction == LossReduction.Mean ? 1.0 / count : 1;
        return new LossCase(
            name,
            loss,
            precision => (Numeric.Round(data.Outputs, precision), Numeric.Round(data.Targets, precision)),
            (o, y) => Scale(o.Length) * o.Select((v, i) => term(v, y[i])).Sum(),
            (o, y) => o.Select((v, i) => Scale(o.Length) * derivative(v, y[i])).ToArray(),
            (o, y) => Scale(o.Length) * o.Select((v, i) => termMagnitude(v, y[i])).Sum(),
            (o, y) => o.Select((v, i) => Scale(o.Length) * derivativeMagnitude(v, y[i])).ToArray());
    }

    /// <summary>Categorical cross-entropy on probabilities or logits: per row, divided by the number of rows for a mean.</summary>
    private static LossCase Categorical(string name, ILossFunction loss, bool fromLogits)
    {
        double Scale(int length) => loss.Reduction == LossReduction.Mean ? (double)Width / length : 1;
        double[] outputs = fromLogits ? _classLogits : _classProbabilities;
        double[] targets = fromLogits ? _classLogitTargets : _classTargets;

        double Value(double[] o, double[] y)
        {
            double sum = 0;
            for (int start = 0; start < o.Length; start += Width)
            {
                double lse = ScalarReference.LogSumExp(o.AsSpan(start, Width));
                for (int j = start; j < start + Width; j++)
                {
                    sum += y[j] == 0 ? 0 : y[j] * (fromLogits ? lse - o[j] : -Math.Log(o[j]));
                }
            }

            return Scale(o.Length) * sum;
        }

        double ValueMagnitude(double[] o, double[] y)
        {
            double sum = 0;
            for (int start = 0; start < o.Length; start += Width)
            {
                double lse = ScalarReference.LogSumExp(o.AsSpan(start, Width));
                for (int j = start; j < start + Width; j++)
                {
                    sum += y[j] == 0 ? 0 : y[j] * (fromLogits ? Math.Abs(lse) + Math.Abs(o[j]) : -Math.Log(o[j]));
                }
            }

            return Scale(o.Length) * sum;
        }

        double[] Gradient(double[] o, double[] y, bool magnitude)
        {
            double[] p = ScalarReference.Softmax(o, Width);
            double[] g = new double[o.Length];
            for (int start = 0; start < o.Length; start += Width)
            {
                double mass = y.AsSpan(start, Width).ToArray().Sum();
                for (int j = start; j < start + Width; j++)
                {
                    g[j] = Scale(o.Length) * (fromLogits
                        ? (magnitude ? (p[j] * mass) + y[j] : (p[j] * mass) - y[j])
                        : (y[j] == 0 ? 0 : (magnitude ? y[j] / o[j] : -y[j] / o[j])));
                }
            }

            return g;
        }

        return new LossCase(
            name,
            loss,
            precision => (Numeric.Round(outputs, precision), Numeric.Round(targets, precision)),
            Value,
            (o, y) => Gradient(o, y, magnitude: false),
            ValueMagnitude,
            (o, y) => Gradient(o, y, magnitude: true));
    }

    private sealed record LossCase(
        string Name,
        ILossFunction Loss,
        Func<Precision, (double[] Outputs, double[] Targets)> Data,
        Func<double[], double[], double> Value,
        Func<double[], double[], double[]> Gradient,
        Func<double[], double[], double> ValueMagnitude,
        Func<double[], double[], double[]> GradientMagnitude);
}

/// <summary>Calls a loss in the requested precision on double data, converting at the boundary.</summary>
internal static class LossCall
{
    public static double Value(ILossFunction loss, double[] outputs, double[] targets, int width, Precision precision) =>
        precision == Precision.Float
            ? loss.Value<float>(Numeric.ToFloat(outputs), Numeric.ToFloat(targets), width)
            : loss.Value<double>(outputs, targets, width);

    public static double[] Gradient(ILossFunction loss, double[] outputs, double[] targets, int width, Precision precision)
    {
        if (precision == Precision.Float)
        {
            float[] g = new float[outputs.Length];
            loss.Gradient<float>(Numeric.ToFloat(outputs), Numeric.ToFloat(targets), g, width);
            return Numeric.ToDouble(g);
        }

        double[] result = new double[outputs.Length];
        loss.Gradient<double>(outputs, targets, result, width);
        return result;
    }

    public static double FusedValue(IFusedOutputLoss loss, double[] preActivations, double[] targets, int width, Precision precision) =>
        precision == Precision.Float
            ? loss.FusedValue<float>(Numeric.ToFloat(preActivations), Numeric.ToFloat(targets), width)
            : loss.FusedValue<double>(preActivations, targets, width);

    public static double[] FusedLocalGradients(IFusedOutputLoss loss, double[] activations, double[] targets, int width, Precision precision)
    {
        if (precision == Precision.Float)
        {
            float[] delta = new float[activations.Length];
            loss.FusedLocalGradients<float>(Numeric.ToFloat(activations), Numeric.ToFloat(targets), delta, width);
            return Numeric.ToDouble(delta);
        }

        double[] result = new double[activations.Length];
        loss.FusedLocalGradients<double>(activations, targets, result, width);
        return result;
    }

    public static void ValidateTargets(ILossFunction loss, double[] targets, int width, string paramName, Precision precision)
    {
        if (precision == Precision.Float)
        {
            loss.ValidateTargets<float>(Numeric.ToFloat(targets), width, paramName);
        }
        else
        {
            loss.ValidateTargets<double>(targets, width, paramName);
        }
    }
}
