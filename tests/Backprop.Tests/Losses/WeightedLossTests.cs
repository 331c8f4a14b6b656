using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.LossesTests;

/// <summary>Sample weights through every loss and reduction, the fused softmax and sigmoid paths, Fit and validation
/// loss: a weighted loss equals the unweighted loss of the data with each row repeated by its (integer) weight, and its
/// gradient is checked against central differences.</summary>
public class WeightedLossTests
{
    private const int Width = 3;
    private static readonly double[] Weights = [2, 0, 1, 3];
    private static readonly double[] Probabilities = [0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.05, 0.9, 0.05, 0.25, 0.5, 0.25];
    private static readonly double[] Logits = [2, -1, 0.5, 30, 0, -30, 0.1, 0.2, 0.3, -4, 4, 1];
    private static readonly double[] OneHot = [1, 0, 0, 0, 0, 1, 0, 1, 0, 0.2, 0.3, 0.5];
    private static readonly double[] Values = [0.5, -1.25, 3, 0.1, 20.4, -7, 0.3, 2.5, -0.6, 1e-3, 4, -1];
    private static readonly double[] Targets = [1, -1, 0, 0.2, 19, -6.5, 0.75, -2, -0.1, 0, 1, 1];

    public static TheoryData<string, LossReduction> AllLosses()
    {
        var data = new TheoryData<string, LossReduction>();
        foreach (var name in new[] { "mse", "mae", "huber", "bce", "bce_logits", "cce", "cce_logits" })
        {
            data.Add(name, LossReduction.Mean);
            data.Add(name, LossReduction.Sum);
        }

        return data;
    }

    private static (ILossFunction Loss, double[] Outputs, double[] Targets) Case(string name, LossReduction reduction) => name switch
    {
        "mse" => (new MeanSquaredError(reduction), Values, Targets),
        "mae" => (new MeanAbsoluteError(reduction), Values, Targets),
        "huber" => (new Huber(1.0, reduction), Values, Targets),
        "bce" => (new BinaryCrossEntropy(reduction), Probabilities, OneHot),
        "bce_logits" => (new BinaryCrossEntropyWithLogits(reduction), Logits, OneHot),
        "cce" => (new CategoricalCrossEntropy(reduction), Probabilities, OneHot),
        _ => (new CategoricalCrossEntropyWithLogits(reduction), Logits, OneHot),
    };

    /// <summary>Each row repeated by its weight.</summary>
    private static double[] Repeat(double[] rows, double[] weights)
    {
        var repeated = new List<double>();
        for (int r = 0; r < weights.Length; r++)
        {
            for (int k = 0; k < (int)weights[r]; k++)
            {
                repeated.AddRange(rows.AsSpan(r * Width, Width).ToArray());
            }
        }

        return repeated.ToArray();
    }

    private static void Close(double actual, double expected, string because) =>
        actual.Should().BeApproximately(expected, 1e-12 * (1 + Math.Abs(expected)), because);

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void Weighted_loss_and_gradient_equal_those_of_rows_repeated_by_their_weight(string name, LossReduction reduction)
    {
        var (loss, outputs, targets) = Case(name, reduction);
        var repeatedOutputs = Repeat(outputs, Weights);
        var repeatedTargets = Repeat(targets, Weights);
        Close(WeightedLoss.Value<double>(loss, outputs, targets, Weights, Width), loss.Value<double>(repeatedOutputs, repeatedTargets, Width), "the value");

        var weighted = new double[outputs.Length];
        WeightedLoss.Gradient<double>(loss, outputs, targets, Weights, weighted, Width);
        var repeated = new double[repeatedOutputs.Length];
        loss.Gradient<double>(repeatedOutputs, repeatedTargets, repeated, Width);

        // Row r's outputs appear w_r times in the repeated batch: their total derivative is w_r copies of one copy's.
        int copy = 0;
        for (int r = 0; r < Weights.Length; r++)
        {
            for (int j = 0; j < Width; j++)
            {
                double expected = Weights[r] == 0 ? 0 : Weights[r] * repeated[copy * Width + j];
                Close(weighted[r * Width + j], expected, $"∂L/∂ŷ[{r},{j}]");
            }

            copy += (int)Weights[r];
        }
    }

    [Theory]
    [InlineData(LossReduction.Mean)]
    [InlineData(LossReduction.Sum)]
    public void The_fused_softmax_and_sigmoid_paths_weigh_rows_as_the_plain_path(LossReduction reduction)
    {
        foreach (IFusedOutputLoss loss in new IFusedOutputLoss[] { new CategoricalCrossEntropy(reduction), new BinaryCrossEntropy(reduction) })
        {
            var activation = loss is CategoricalCrossEntropy ? (IActivation)Activations.Softmax : Activations.Sigmoid;
            var a = new double[Logits.Length];
            for (int r = 0; r < Weights.Length; r++)
            {
                activation.Forward<double>(Logits.AsSpan(r * Width, Width), a.AsSpan(r * Width, Width), Width);
            }

            var repeatedLogits = Repeat(Logits, Weights);
            var repeatedA = Repeat(a, Weights);
            var repeatedTargets = Repeat(OneHot, Weights);
            Close(WeightedLoss.FusedValue<double>(loss, Logits, OneHot, Weights, Width), loss.FusedValue<double>(repeatedLogits, repeatedTargets, Width), $"{loss.Name}'s fused value");

            var weighted = new double[Logits.Length];
            WeightedLoss.FusedLocalGradients<double>(loss, a, OneHot, Weights, weighted, Width);
            var repeated = new double[repeatedA.Length];
            loss.FusedLocalGradients<double>(repeatedA, repeatedTargets, repeated, Width);
            int copy = 0;
            for (int r = 0; r < Weights.Length; r++)
            {
                for (int j = 0; j < Width; j++)
                {
                    Close(weighted[r * Width + j], Weights[r] == 0 ? 0 : Weights[r] * repeated[copy * Width + j], $"{loss.Name}'s δ[{r},{j}]");
                }

                copy += (int)Weights[r];
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void The_weighted_gradient_matches_central_differences(string name, LossReduction reduction)
    {
        var (loss, outputs, targets) = Case(name, reduction);
        double[] weights = [0.3, 2.5, 0, 1.25];
        var gradient = new double[outputs.Length];
        WeightedLoss.Gradient<double>(loss, outputs, targets, weights, gradient, Width);
        int compared = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(outputs[i]));
            var plus = (double[])outputs.Clone();
            var minus = (double[])outputs.Clone();
            plus[i] += h;
            minus[i] -= h;
            if (name is "bce" or "cce" && (minus[i] <= 0 || plus[i] >= 1))
            {
                continue;
            }

            double numeric = (WeightedLoss.Value<double>(loss, plus, targets, weights, Width) - WeightedLoss.Value<double>(loss, minus, targets, weights, Width)) / (2 * h);
            gradient[i].Should().BeApproximately(numeric, 1e-6 * (1 + Math.Abs(numeric)), $"element {i}");
            compared++;
        }

        compared.Should().BeGreaterThan(8);
    }

    [Fact]
    public void Bad_weights_are_refused_and_all_zero_weights_give_zero()
    {
        var loss = Losses.MeanSquaredError;
        var wrongCount = () => WeightedLoss.Value<double>(loss, Values, Targets, [1, 2], Width);
        wrongCount.Should().Throw<ArgumentException>().WithMessage("weights must have one weight per row (4), but it has 2.*");
        var negative = () => WeightedLoss.Value<double>(loss, Values, Targets, [1, -2, 1, 1], Width);
        negative.Should().Throw<ArgumentException>().WithMessage("weights[1] must be finite and at least 0, but it is -2.*");
        WeightedLoss.Value<double>(loss, Values, Targets, [0, 0, 0, 0], Width).Should().Be(0);
    }

    private static (Network<double> Network, Trainer<double> Trainer) Model(ILossFunction loss, IActivation output) =>
        Build(new Network<double>(2, seed: 5, new Dense<double>(4, Activations.Tanh), new Dense<double>(3, output)), loss);

    private static (Network<double>, Trainer<double>) Build(Network<double> network, ILossFunction loss) => (network, new Trainer<double>(network, loss, new Sgd(0.1)));

    private static readonly Matrix<double> X = Matrix<double>.Build.DenseOfArray(new double[,] { { 0.1, 0.2 }, { -0.5, 1 }, { 2, -1 }, { 0.3, 0.3 }, { -1, -1 } });
    private static readonly int[] Labels = [0, 1, 2, 1, 0];
    private static readonly double[] RowWeights = [1, 3, 0, 2, 1];

    private static (Matrix<double> X, int[] Labels) Repeated()
    {
        var rows = Enumerable.Range(0, RowWeights.Length).SelectMany(r => Enumerable.Repeat(r, (int)RowWeights[r])).ToArray();
        return (Backprop.Data.DataSplit.SelectRows(X, rows), rows.Select(r => Labels[r]).ToArray());
    }

    [Theory]
    [InlineData("softmax")]
    [InlineData("logits")]
    public void Fit_with_sample_weights_trains_as_fit_on_rows_repeated_by_their_weight(string kind)
    {
        ILossFunction loss = kind == "softmax" ? Losses.CrossEntropy : Losses.CrossEntropyWithLogits;
        IActivation output = kind == "softmax" ? Activations.Softmax : Activations.Identity;
        var options = new FitOptions { Epochs = 5, BatchSize = 100, Shuffle = false };
        var (weighted, weightedTrainer) = Model(loss, output);
        var weightedHistory = weightedTrainer.Fit(X, Labels, RowWeights, options);
        var (repeated, repeatedTrainer) = Model(loss, output);
        var (rx, ry) = Repeated();
        var repeatedHistory = repeatedTrainer.Fit(rx, ry, options);

        for (int e = 0; e < 5; e++)
        {
            weightedHistory.Loss[e].Should().BeApproximately(repeatedHistory.Loss[e], 1e-12);
        }

        var a = weighted.Predict(X);
        var b = repeated.Predict(X);
        (a - b).Enumerate().Max(Math.Abs).Should().BeLessThan(1e-12).And.Subject.Should().NotBe(double.NaN);
        weightedTrainer.IsLossFused.Should().Be(kind == "softmax");
    }

    [Fact]
    public void Validation_loss_is_weighted_by_the_validation_sample_weights()
    {
        var (_, trainer) = Model(Losses.CrossEntropy, Activations.Softmax);
        var history = trainer.Fit(X, Labels, new FitOptions { Epochs = 1 }, new ValidationData<double>(X, Labels) { SampleWeights = RowWeights });
        var (rx, ry) = Repeated();
        var targets = Matrix<double>.Build.Dense(ry.Length, 3, (r, c) => ry[r] == c ? 1 : 0);
        history.ValidationLoss[0].Should().BeApproximately(trainer.Evaluate(rx, targets), 1e-12);
    }

    [Fact]
    public void Class_weights_equal_the_sample_weights_of_each_row_class_and_balanced_is_n_over_k_times_count()
    {
        ClassWeights.Balanced.For(Labels, 3).Should().Equal(5 / (3.0 * 2), 5 / (3.0 * 2), 5 / (3.0 * 1));
        var options = new FitOptions { Epochs = 3, BatchSize = 2, Seed = 4 };
        var (a, trainerA) = Model(Losses.CrossEntropy, Activations.Softmax);
        trainerA.Fit(X, Labels, options);
        var (b, trainerB) = Model(Losses.CrossEntropy, Activations.Softmax);
        trainerB.Fit(X, Labels, new FitOptions { Epochs = 3, BatchSize = 2, Seed = 4, ClassWeights = ClassWeights.Of(2, 0.5, 1) });
        var (c, trainerC) = Model(Losses.CrossEntropy, Activations.Softmax);
        trainerC.Fit(X, Labels, Labels.Select(l => new[] { 2, 0.5, 1 }[l]).ToArray(), new FitOptions { Epochs = 3, BatchSize = 2, Seed = 4 });
        b.Predict(X).Should().Be(c.Predict(X), "class weights are per-row weights, bit for bit");
        b.Predict(X).Should().NotBe(a.Predict(X));
    }

    [Fact]
    public void Bad_sample_and_class_weights_are_refused()
    {
        var (_, trainer) = Model(Losses.CrossEntropy, Activations.Softmax);
        ((Action)(() => trainer.Fit(X, Labels, [1, 2]))).Should().Throw<ArgumentException>().WithMessage("sampleWeights has 2 weights, but there are 5 samples*");
        ((Action)(() => trainer.Fit(X, Labels, [0, 0, 0, 0, 0]))).Should().Throw<ArgumentException>().WithMessage("*all 0*");
        ((Action)(() => trainer.Fit(X, Labels, [1, 1, double.NaN, 1, 1]))).Should().Throw<ArgumentException>().WithMessage("sampleWeights[2] must be finite*");
        ((Action)(() => trainer.Fit(X, Labels, new FitOptions { ClassWeights = ClassWeights.Of(1, 2) }))).Should().Throw<ArgumentException>().WithMessage("options.ClassWeights has 2 weights, but the network tells 3 classes apart*");
        ((Action)(() => ClassWeights.Of(1, -1))).Should().Throw<ArgumentException>();
    }
}
