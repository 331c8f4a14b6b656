using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// Backpropagation against fourth-order central differences (<see cref="GradientCheck"/>), always with the default
/// options: step 1e-3, tolerance 1e-6, floor 1e-6.
/// </summary>
/// <remarks>
/// <para>Kinks. ReLU and LeakyReLU (f′ jumps at 0) and ELU (f″ jumps at 0), MAE (at ŷ = y) and Huber (at |ŷ − y| = δ)
/// are not smooth there, and a finite difference whose stencil θ ± 2h straddles such a point is wrong by far more than
/// 1e-6. A single perturbation of ±2h = ±2e-3 moves any pre-activation or output by at most 2h times the size of the
/// value it multiplies (|x| ≤ 1, activations ≲ 3) times the weights on the way (Glorot, widths ≤ 5): well under
/// <see cref="KinkMargin"/> = 0.05. So every network below is taken from the first seed (1, 2, 3, …) whose
/// pre-activations of kinked layers and whose MAE/Huber output differences are all at least 0.05 away from their kink;
/// the search is deterministic, and <see cref="ClearOfKinks"/> states the precondition that the chosen seed meets.
/// The tolerance is never loosened.</para>
/// </remarks>
public sealed class GradientCheckTests(ITestOutputHelper output)
{
    private const int InputWidth = 4;
    private const int OutputWidth = 3;
    private const double Tolerance = 1e-6;
    private const double KinkMargin = 0.05;
    private const int MaxSeedSearch = 5000;

    private static readonly Dictionary<string, IActivation> HiddenActivationsByName = new()
    {
        ["identity"] = Activations.Identity,
        ["sigmoid"] = Activations.Sigmoid,
        ["tanh"] = Activations.Tanh,
        ["relu"] = Activations.ReLU,
        ["leaky_relu"] = Activations.LeakyReLU,
        ["leaky_relu(0.2)"] = new LeakyReLU(0.2),
        ["elu"] = Activations.ELU,
        ["softplus"] = Activations.Softplus,
        ["gelu"] = Activations.GELU,
        ["silu"] = Activations.SiLU,
    };

    /// <summary>Every loss with every output activation it is valid for; the targets fit the loss.</summary>
    private static readonly Dictionary<string, LossCase> LossCases = new LossCase[]
    {
        new("mse/identity", Losses.MeanSquaredError, Activations.Identity, Targets.Regression(-1.5, 1.5)),
        new("mse/tanh", Losses.MeanSquaredError, Activations.Tanh, Targets.Regression(-0.9, 0.9)),
        new("mse/sigmoid", Losses.MeanSquaredError, Activations.Sigmoid, Targets.Regression(0.05, 0.95)),
        new("mse/softmax", Losses.MeanSquaredError, Activations.Softmax, Targets.OneHot),
        new("sse/identity", Losses.SumSquaredError, Activations.Identity, Targets.Regression(-1.5, 1.5)),
        new("sse/tanh", Losses.SumSquaredError, Activations.Tanh, Targets.Regression(-0.9, 0.9)),
        new("sse/sigmoid", Losses.SumSquaredError, Activations.Sigmoid, Targets.Regression(0.05, 0.95)),
        new("mae/identity", Losses.MeanAbsoluteError, Activations.Identity, Targets.Regression(-1.5, 1.5)),
        new("mae/tanh", Losses.MeanAbsoluteError, Activations.Tanh, Targets.Regression(-0.9, 0.9)),
        new("mae/sigmoid", Losses.MeanAbsoluteError, Activations.Sigmoid, Targets.Regression(0.05, 0.95)),
        new("mae-sum/identity", new MeanAbsoluteError(LossReduction.Sum), Activations.Identity, Targets.Regression(-1.5, 1.5)),
        new("huber/identity", Losses.Huber, Activations.Identity, Targets.Regression(-2.5, 2.5)),
        new("huber/tanh", Losses.Huber, Activations.Tanh, Targets.Regression(-2.5, 2.5)),
        new("huber/sigmoid", Losses.Huber, Activations.Sigmoid, Targets.Regression(-1.5, 2.5)),
        new("huber(0.3,sum)/tanh", new Huber(0.3, LossReduction.Sum), Activations.Tanh, Targets.Regression(-1, 1)),
        new("bce/sigmoid(fused)", Losses.BinaryCrossEntropy, Activations.Sigmoid, Targets.Binary),
        new("bce/plain-sigmoid(unfused)", Losses.BinaryCrossEntropy, new PlainSigmoid(), Targets.Binary),
        new("bce-sum/sigmoid(fused)", new BinaryCrossEntropy(LossReduction.Sum), Activations.Sigmoid, Targets.Binary),
        new("bce-sum/plain-sigmoid(unfused)", new BinaryCrossEntropy(LossReduction.Sum), new PlainSigmoid(), Targets.Binary),
        new("bce-logits/identity", Losses.BinaryCrossEntropyWithLogits, Activations.Identity, Targets.Binary),
        new("cce/softmax(fused)", Losses.CrossEntropy, Activations.Softmax, Targets.OneHot),
        new("cce/wrapped-softmax(unfused)", Losses.CrossEntropy, new WrappedSoftmax(), Targets.OneHot),
        new("cce-sum/softmax(fused)", new CategoricalCrossEntropy(LossReduction.Sum), Activations.Softmax, Targets.OneHot),
        new("cce-sum/wrapped-softmax(unfused)", new CategoricalCrossEntropy(LossReduction.Sum), new WrappedSoftmax(), Targets.OneHot),
        new("cce-logits/identity", Losses.CrossEntropyWithLogits, Activations.Identity, Targets.OneHot),
    }.ToDictionary(c => c.Name);

    /// <summary>Which loss cases the trainer computes through the fused (logit) path.</summary>
    private static readonly HashSet<string> FusedCases =
        ["bce/sigmoid(fused)", "bce-sum/sigmoid(fused)", "cce/softmax(fused)", "cce-sum/softmax(fused)"];

    public static TheoryData<string, int> HiddenActivationCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in HiddenActivationsByName.Keys)
        {
            data.Add(name, 1);
            data.Add(name, 7);
        }

        return data;
    }

    public static TheoryData<string> LossCaseNames() => new(LossCases.Keys);

    public static TheoryData<int, int, string, string> DepthCases()
    {
        (string Hidden, string Loss)[] pairs =
        [
            ("tanh", "mse/identity"),
            ("relu", "cce/softmax(fused)"),
            ("sigmoid", "bce/plain-sigmoid(unfused)"),
            ("elu", "huber/identity"),
            ("silu", "cce/wrapped-softmax(unfused)"),
        ];
        var data = new TheoryData<int, int, string, string>();
        foreach (int hiddenLayers in new[] { 1, 2, 3 })
        {
            foreach (int batch in new[] { 1, 7 })
            {
                foreach (var (hidden, loss) in pairs)
                {
                    data.Add(hiddenLayers, batch, hidden, loss);
                }
            }
        }

        return data;
    }

    [Fact]
    public void DefaultOptionsAreTheDocumentedOnes()
    {
        var options = new GradientCheckOptions();

        options.StepSize.Should().Be(1e-3);
        options.Tolerance.Should().Be(1e-6);
        options.Floor.Should().Be(1e-6);
        options.CheckInputs.Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(HiddenActivationCases))]
    public void EveryHiddenActivationPasses(string activation, int batch)
    {
        var lossCase = LossCases["mse/identity"];
        CheckPasses([5, 4], HiddenActivationsByName[activation], lossCase, batch, $"hidden {activation}, batch {batch}");
    }

    [Theory]
    [MemberData(nameof(LossCaseNames))]
    public void EveryLossWithEveryValidOutputPasses(string lossCase)
    {
        var c = LossCases[lossCase];
        var (network, _, _, report) = CheckPasses([5, 4], Activations.Tanh, c, 7, lossCase);

        new Trainer<double>(network, c.Loss, new Sgd(1)).IsLossFused.Should().Be(FusedCases.Contains(lossCase),
            "the case {0} is meant to take the {1} path", lossCase, FusedCases.Contains(lossCase) ? "fused" : "unfused");
        report.Worst.Analytic.Should().NotBe(0, "a check whose worst entry is a zero gradient would prove little");
    }

    [Theory]
    [MemberData(nameof(DepthCases))]
    public void NetworksOfOneToThreeHiddenLayersPassAtBatchSizesOneAndSeven(int hiddenLayers, int batch, string hidden, string lossCase)
    {
        int[] widths = new[] { 5, 4, 3 }[..hiddenLayers];
        var (network, _, _, report) = CheckPasses(widths, HiddenActivationsByName[hidden], LossCases[lossCase], batch, $"{hiddenLayers}×{hidden}, {lossCase}, batch {batch}");

        network.Layers.Should().HaveCount(hiddenLayers + 1);
        report.Entries.Should().HaveCount(2 * (hiddenLayers + 1) + 1);
    }

    [Fact]
    public void HuberCasesExerciseBothTheQuadraticAndTheLinearPart()
    {
        // Otherwise "huber passes" could mean only "its quadratic part, which is the MSE, passes".
        foreach (var name in LossCases.Keys.Where(n => n.StartsWith("huber", StringComparison.Ordinal)))
        {
            var c = LossCases[name];
            double delta = ((Huber)c.Loss).Delta;
            var (network, x, y) = BuildCase([5, 4], Activations.Tanh, c, 7);
            var outputs = network.Predict(x);
            var distances = (outputs - y).Enumerate().Select(Math.Abs).ToArray();

            distances.Should().Contain(d => d < delta, "{0} needs an element in the quadratic part", name);
            distances.Should().Contain(d => d > delta, "{0} needs an element in the linear part", name);
        }
    }

    [Fact]
    public void CheckLeavesWeightsAndBiasesBitIdentical()
    {
        var c = LossCases["cce/softmax(fused)"];
        var (network, x, y) = BuildCase([5, 4, 3], Activations.GELU, c, 7);
        long[] before = SnapshotBits(network);
        long[] inputBefore = Bits(x);

        var report = GradientCheck.Run(network, c.Loss, x, y);

        report.Passed.Should().BeTrue();
        SnapshotBits(network).Should().Equal(before, "every weight and bias must be restored bit for bit");
        Bits(x).Should().Equal(inputBefore, "the input batch is the caller's");

        // And the network still predicts exactly as before: nothing hidden (such as a stale copy) changed either.
        var fresh = new Network<double>(InputWidth, network.Seed,
            new Dense<double>(5, Activations.GELU), new Dense<double>(4, Activations.GELU), new Dense<double>(3, Activations.GELU), new Dense<double>(OutputWidth, Activations.Softmax));
        Bits(network.Predict(x)).Should().Equal(Bits(fresh.Predict(x)));
    }

    [Fact]
    public void CheckLeavesWeightsBitIdenticalEvenWhenItFails()
    {
        var (network, x, y) = BuildFixedNetwork(new TanhWithWrongDerivative(), Activations.Tanh);
        long[] before = SnapshotBits(network);

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);

        report.Passed.Should().BeFalse();
        SnapshotBits(network).Should().Equal(before);
    }

    [Fact]
    public void DerivativeOffByOnePercentFailsAndTheExceptionNamesTheLayer()
    {
        // Layer 0's activation has f′ 1% too large; layers 1 and 2 are correct. Backprop then scales δ₀, and so ∂L/∂W₀
        // and ∂L/∂b₀ (and ∂L/∂x), by exactly 1.01, while ∂L/∂W₁, ∂L/∂W₂ stay exact: relative error 0.01/1.01.
        var (network, x, y) = BuildFixedNetwork(new TanhWithWrongDerivative(), Activations.Tanh);
        var options = new GradientCheckOptions { CheckInputs = false };

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y, options);
        output.WriteLine(report.ToString());

        report.Passed.Should().BeFalse();
        report.MaxRelativeError.Should().BeApproximately(0.01 / 1.01, 1e-6);
        report.Worst.LayerIndex.Should().Be(0, "only layer 0's gradients are wrong");
        report.Entries.Where(e => e.LayerIndex == 0).Should().OnlyContain(e => Math.Abs(e.RelativeError - 0.01 / 1.01) < 1e-6);
        report.Entries.Where(e => e.LayerIndex > 0).Should().OnlyContain(e => e.RelativeError < Tolerance, "layers 1 and 2 are backpropagated correctly");
        (report.Worst.Analytic / report.Worst.Numeric).Should().BeApproximately(1.01, 1e-6);

        var thrown = report.Invoking(r => r.ThrowIfFailed()).Should().Throw<GradientCheckFailedException>().Which;
        thrown.Report.Should().BeSameAs(report);
        thrown.Message.Should().Contain("FAILED");
        string worstLine = thrown.Message.Split('\n').Single(line => line.Contains($"layer 0 {report.Worst.Parameter}", StringComparison.Ordinal));
        worstLine.Should().Contain(report.Worst.RelativeError.ToString("E2", CultureInfo.InvariantCulture), "the failing layer's line must show its error");
        thrown.Message.Should().Contain(report.MaxRelativeError.ToString("E2", CultureInfo.InvariantCulture));
    }

    [Fact]
    public void DerivativeOffByOnePercentInTheOutputLayerFailsThere()
    {
        // The same fault in the output activation: now every layer's gradients are wrong, the input's too.
        var (network, x, y) = BuildFixedNetwork(Activations.Tanh, new TanhWithWrongDerivative());

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y);

        report.Passed.Should().BeFalse();
        report.Entries.Should().OnlyContain(e => e.RelativeError > 1e-3);
        report.Invoking(r => r.ThrowIfFailed()).Should().Throw<GradientCheckFailedException>()
            .WithMessage("*layer 2 weights*").WithMessage("*layer 2 biases*").WithMessage("*FAILED*");
    }

    [Fact]
    public void ReportNamesTheWorstEntryByLayerParameterRowAndColumn()
    {
        // Only unit 2 of layer 0 has a wrong derivative (by 1%), so the errors are confined to column 2 of W₀ (that
        // unit's incoming weights) and element 2 of b₀, each off by exactly the factor 1.01; every other weight and
        // bias is exact. (The input gradient mixes all units, so it is left out here.)
        var (network, x, y) = BuildFixedNetwork(new TanhWrongOnOneUnit(unit: 2), Activations.Tanh);
        var options = new GradientCheckOptions { CheckInputs = false };

        var report = GradientCheck.Run(network, Losses.MeanSquaredError, x, y, options);
        output.WriteLine(report.ToString());

        report.Passed.Should().BeFalse();
        var weights = report.Entries.Single(e => e.LayerIndex == 0 && e.Parameter == "weights");
        var biases = report.Entries.Single(e => e.LayerIndex == 0 && e.Parameter == "biases");
        int inputs = network.Layers[0].InputSize;
        weights.Column.Should().Be(2, "only unit 2's incoming weights are wrong");
        weights.Row.Should().BeInRange(0, inputs - 1);
        weights.WorstIndex.Should().Be((weights.Column * inputs) + weights.Row, "W is stored column-major (inputs × units)");
        weights.RelativeError.Should().BeApproximately(0.01 / 1.01, 1e-6);
        biases.Row.Should().Be(2);
        biases.Column.Should().Be(0);
        biases.WorstIndex.Should().Be(2);
        biases.RelativeError.Should().BeApproximately(0.01 / 1.01, 1e-6);
        report.Entries.Where(e => e.LayerIndex > 0).Should().OnlyContain(e => e.RelativeError < Tolerance);

        report.Worst.Should().BeOneOf(weights, biases);
        report.MaxRelativeError.Should().Be(report.Worst.RelativeError);

        // The reported analytic value is the backpropagated gradient of exactly that weight ...
        var dense = (Dense<double>)network.Layers[0];
        dense.GetWeightGradients()[weights.Row, weights.Column].Should().Be(weights.Analytic);
        dense.GetBiasGradients()[2].Should().Be(biases.Analytic);

        // ... and the reported numeric value is the finite difference of the loss in exactly that weight.
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(1));
        double original = dense.Weights[weights.Row, weights.Column];
        double LossAt(double w)
        {
            dense.Weights[weights.Row, weights.Column] = w;
            return trainer.Evaluate(x, y);
        }

        const double h = 1e-3;
        double numeric = (-LossAt(original + (2 * h)) + (8 * LossAt(original + h)) - (8 * LossAt(original - h)) + LossAt(original - (2 * h))) / (12 * h);
        dense.Weights[weights.Row, weights.Column] = original;
        numeric.Should().BeApproximately(weights.Numeric, (1e-9 * Math.Abs(weights.Numeric)) + 1e-15);
        (weights.Analytic / weights.Numeric).Should().BeApproximately(1.01, 1e-6);

        report.ToString().Should().Contain($"layer 0 weights").And.Contain($"worst at [{weights.Row}, 2]");
    }

    [Fact]
    public void InputEntryIsNamedBySampleAndFeature()
    {
        var c = LossCases["mse/identity"];
        var (network, x, y) = BuildCase([5, 4], Activations.Tanh, c, 7);

        var report = GradientCheck.Run(network, c.Loss, x, y);
        var input = report.Entries.Single(e => e.Parameter == "input");

        input.LayerIndex.Should().Be(-1);
        input.Count.Should().Be(7 * InputWidth);
        input.Row.Should().BeInRange(0, 6);
        input.Column.Should().BeInRange(0, InputWidth - 1);
        input.WorstIndex.Should().Be(input.Row * InputWidth + input.Column, "the input is stored row-major");
    }

    private (Network<double> Network, Matrix<double> X, Matrix<double> Y, GradientCheckReport Report) CheckPasses(
        int[] hiddenWidths, IActivation hidden, LossCase c, int batch, string label)
    {
        var (network, x, y) = BuildCase(hiddenWidths, hidden, c, batch);

        var report = GradientCheck.Run(network, c.Loss, x, y);
        output.WriteLine(FormattableString.Invariant($"{label}: seed {network.Seed}, max relative error {report.MaxRelativeError:E2}"));
        output.WriteLine(report.ToString());

        report.Compared.Should().BeGreaterThan(0);
        report.Compared.Should().Be((int)network.ParameterCount + batch * InputWidth);
        report.Tolerance.Should().Be(Tolerance);
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            report.Entries.Should().ContainSingle(e => e.LayerIndex == l && e.Parameter == "weights" && e.Count == layer.InputSize * layer.OutputSize, "layer {0}'s weights must be checked", l);
            report.Entries.Should().ContainSingle(e => e.LayerIndex == l && e.Parameter == "biases" && e.Count == layer.OutputSize, "layer {0}'s biases must be checked", l);
        }

        report.Entries.Should().ContainSingle(e => e.LayerIndex == -1 && e.Parameter == "input" && e.Count == batch * InputWidth);
        report.MaxRelativeError.Should().BeLessThan(Tolerance, "backpropagation must match the finite differences ({0}):\n{1}", label, report);
        report.Passed.Should().BeTrue();
        report.Invoking(r => r.ThrowIfFailed()).Should().NotThrow();
        return (network, x, y, report);
    }

    /// <summary>The data of a case and the network of the first seed that keeps the check clear of kinks.</summary>
    private static (Network<double> Network, Matrix<double> X, Matrix<double> Y) BuildCase(int[] hiddenWidths, IActivation hidden, LossCase c, int batch)
    {
        var x = Uniform(batch, InputWidth, -1, 1, seed: 1000 + batch);
        var y = c.MakeTargets(batch, OutputWidth, new DeterministicRandom(2000 + batch));
        for (int seed = 1; seed <= MaxSeedSearch; seed++)
        {
            var layers = hiddenWidths.Select(w => (Layer<double>)new Dense<double>(w, hidden))
                .Append(new Dense<double>(OutputWidth, c.Output))
                .ToArray();
            var network = new Network<double>(InputWidth, seed, layers);
            if (ClearOfKinks(network, c.Loss, x, y))
            {
                return (network, x, y);
            }
        }

        throw new InvalidOperationException($"No seed up to {MaxSeedSearch} keeps {c.Name} with {hidden.Name} clear of kinks.");
    }

    /// <summary>
    /// The precondition of every passing check: the pre-activations of every layer with a kinked activation
    /// (ReLU, LeakyReLU, ELU) and, for MAE and Huber, the output differences |ŷ − y| are at least
    /// <see cref="KinkMargin"/> from their kink; for Huber on a batch of more than one, both regimes occur.
    /// </summary>
    private static bool ClearOfKinks(Network<double> network, ILossFunction loss, Matrix<double> x, Matrix<double> y)
    {
        var pass = new Trainer<double>(network, loss, new Sgd(1)).Forward(x);
        for (int l = 0; l < network.Layers.Count; l++)
        {
            if (network.Layers[l].Activation is ReLU or LeakyReLU or Elu
                && pass.GetPreActivations(l).Enumerate().Any(z => Math.Abs(z) < KinkMargin))
            {
                return false;
            }
        }

        var differences = (pass.GetOutput() - y).Enumerate().Select(Math.Abs).ToArray();
        return loss switch
        {
            MeanAbsoluteError => differences.All(d => d >= KinkMargin),
            Huber huber => differences.All(d => Math.Abs(d - huber.Delta) >= KinkMargin)
                && (x.RowCount == 1 || (differences.Any(d => d < huber.Delta) && differences.Any(d => d > huber.Delta))),
            _ => true,
        };
    }

    /// <summary>A fixed 4-5-4-3 network (seed 3), smooth everywhere, for the tests of failing checks.</summary>
    private static (Network<double> Network, Matrix<double> X, Matrix<double> Y) BuildFixedNetwork(
        IActivation hidden0, IActivation outputActivation)
    {
        var network = new Network<double>(InputWidth, 3,
            new Dense<double>(5, hidden0), new Dense<double>(4, Activations.Tanh), new Dense<double>(OutputWidth, outputActivation));
        var x = Uniform(7, InputWidth, -1, 1, seed: 42);
        var y = Uniform(7, OutputWidth, -0.9, 0.9, seed: 43);
        return (network, x, y);
    }

    private static Matrix<double> Uniform(int rows, int columns, double min, double max, int seed)
    {
        var random = new DeterministicRandom(seed);
        return Matrix<double>.Build.Dense(rows, columns, (_, _) => min + (max - min) * random.NextDouble());
    }

    /// <summary>The bit patterns of every weight and bias, layer by layer, weights before biases.</summary>
    private static long[] SnapshotBits(Network<double> network) =>
        network.Layers.SelectMany(l => l.Parameters)
            .SelectMany(p => p.Values.ToArray())
            .Select(BitConverter.DoubleToInt64Bits)
            .ToArray();

    private static long[] Bits(Matrix<double> matrix) => matrix.ToColumnMajorArray().Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static class Targets
    {
        /// <summary>Any real values in [min, max].</summary>
        public static Func<int, int, DeterministicRandom, Matrix<double>> Regression(double min, double max) =>
            (rows, columns, random) => Matrix<double>.Build.Dense(rows, columns, (_, _) => min + (max - min) * random.NextDouble());

        /// <summary>Values in [0, 1]: a mix of hard labels 0 and 1 and soft ones.</summary>
        public static Matrix<double> Binary(int rows, int columns, DeterministicRandom random) =>
            Matrix<double>.Build.Dense(rows, columns, (r, c) => ((r * columns) + c) % 3 switch
            {
                0 => 0.0,
                1 => 1.0,
                _ => random.NextDouble(),
            });

        /// <summary>One-hot rows.</summary>
        public static Matrix<double> OneHot(int rows, int columns, DeterministicRandom random)
        {
            var y = Matrix<double>.Build.Dense(rows, columns);
            for (int r = 0; r < rows; r++)
            {
                y[r, random.NextInt32(columns)] = 1;
            }

            return y;
        }
    }

    private sealed record LossCase(string Name, ILossFunction Loss, IActivation Output, Func<int, int, DeterministicRandom, Matrix<double>> MakeTargets);

    /// <summary>The logistic sigmoid, but not the <see cref="Sigmoid"/> type, so binary cross-entropy is not fused with it:
    /// the loss's own gradient −y/p + (1 − y)/(1 − p) goes through f′(z) = σ(z)(1 − σ(z)).</summary>
    private sealed class PlainSigmoid : ElementwiseActivation
    {
        public override string Name => "plain_sigmoid";

        public override T Apply<T>(T z) => T.One / (T.One + T.Exp(-z));

        public override T Derivative<T>(T z)
        {
            T s = Apply(z);
            return s * (T.One - s);
        }
    }

    /// <summary>A softmax that is not the <see cref="Softmax"/> type, so categorical cross-entropy is not fused with
    /// it: the loss's gradient −y/p goes through the softmax's Jacobian-vector product.</summary>
    private sealed class WrappedSoftmax : IActivation
    {
        private readonly Softmax _inner = new();

        public string Name => "wrapped_softmax";

        public void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
            where T : unmanaged, IFloatingPointIeee754<T> => _inner.Forward(preActivations, activations, width);

        public void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
            where T : unmanaged, IFloatingPointIeee754<T> => _inner.Backward(preActivations, activations, outputGradients, localGradients, width);
    }

    /// <summary>tanh with a derivative 1% too large: a deliberately wrong backward pass.</summary>
    private sealed class TanhWithWrongDerivative : ElementwiseActivation
    {
        public override string Name => "tanh_wrong_derivative";

        public override T Apply<T>(T z) => T.Tanh(z);

        public override T Derivative<T>(T z)
        {
            T t = T.Tanh(z);
            return T.CreateChecked(1.01) * (T.One - t * t);
        }
    }

    /// <summary>tanh whose derivative is 1% too large for one unit (column) only.</summary>
    private sealed class TanhWrongOnOneUnit(int unit) : IActivation
    {
        public string Name => "tanh_wrong_on_one_unit";

        public void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int i = 0; i < preActivations.Length; i++)
            {
                activations[i] = T.Tanh(preActivations[i]);
            }
        }

        public void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int i = 0; i < preActivations.Length; i++)
            {
                T t = T.Tanh(preActivations[i]);
                T factor = i % width == unit ? T.CreateChecked(1.01) : T.One;
                localGradients[i] = outputGradients[i] * factor * (T.One - t * t);
            }
        }
    }
}
