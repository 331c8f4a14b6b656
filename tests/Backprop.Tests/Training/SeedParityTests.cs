using MathNet.Numerics.LinearAlgebra;
using Xunit.Abstractions;

namespace Backprop.Tests.Training;

/// <summary>
/// The library against the seed's algorithm (a 2-3-1 sigmoid network trained on XOR by gradient descent on the sum of
/// squared errors, learning rate 0.5), written out independently below with plain arrays and loops, with the bias
/// updates the seed's code leaves out.
/// </summary>
/// <remarks>
/// Sign convention: the seed's d2 = 2(y − ŷ)·ŷ(1 − ŷ) is −∂E/∂z₂, and it adds lr·hᵀ·d2 to the weights; the library's
/// local gradient δ is ∂E/∂z = −d2, and SGD subtracts lr·∂E/∂W. Both are the same update.
/// </remarks>
public sealed class SeedParityTests(ITestOutputHelper output)
{
    private const double LearningRate = 0.5;
    private const int Seed = 7;
    private const double Tolerance = 1e-12;

    private static readonly double[,] X = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } };
    private static readonly double[,] Y = { { 0 }, { 1 }, { 1 }, { 0 } };

    private static Matrix<double> XMatrix => Matrix<double>.Build.DenseOfArray(X);

    private static Matrix<double> YMatrix => Matrix<double>.Build.DenseOfArray(Y);

    [Fact]
    public void OneTrainBatchStepEqualsTheSeedAlgorithmWithBiasUpdates()
    {
        var (network, trainer) = CreateSeedNetwork();
        var reference = SeedReference.From(network);
        double referenceError = reference.Error(X, Y);

        double error = trainer.TrainBatch(XMatrix, YMatrix);
        reference.Step(X, Y, LearningRate);

        error.Should().BeApproximately(referenceError, Tolerance, "TrainBatch returns E = Σ (y − ŷ)² before the update");
        AssertParametersEqual(network, reference, "after 1 step");

        // The step really changed the biases (they start at 0), so the bias updates are being compared, not skipped.
        Hidden(network).Biases.Should().OnlyContain(b => b != 0);
        Output(network).Biases[0].Should().NotBe(0);
    }

    [Fact]
    public void FiveHundredTrainBatchStepsEqualTheSeedAlgorithmWithBiasUpdates()
    {
        var (network, trainer) = CreateSeedNetwork();
        var reference = SeedReference.From(network);
        double firstError = reference.Error(X, Y);

        double lastError = double.NaN;
        for (int step = 1; step <= 500; step++)
        {
            double error = trainer.TrainBatch(XMatrix, YMatrix);
            double referenceError = reference.Error(X, Y);
            error.Should().BeApproximately(referenceError, Tolerance, "step {0}'s error", step);
            reference.Step(X, Y, LearningRate);
            lastError = error;
        }

        AssertParametersEqual(network, reference, "after 500 steps");

        // Not a trivial agreement: 500 steps moved the weights and lowered the error.
        lastError.Should().BeLessThan(firstError);
        var fresh = new Network<double>(2, Seed, new Dense<double>(3, Activations.Sigmoid), new Dense<double>(1, Activations.Sigmoid));
        (Hidden(network).Weights - Hidden(fresh).Weights).InfinityNorm().Should().BeGreaterThan(0.1);
    }

    [Fact]
    public void TheFourStepsExposeTheSeedQuantitiesAtStepOne()
    {
        var (network, trainer) = CreateSeedNetwork();
        var reference = SeedReference.From(network);
        double[,] w2Before = (double[,])reference.W2.Clone();
        double referenceError = reference.Error(X, Y);
        reference.Step(X, Y, LearningRate);

        // Step 1: forward propagation.
        var pass = trainer.Forward(XMatrix);
        pass.Stage.Should().Be(ForwardPassStage.Forwarded);
        AssertEqual(pass.GetInput(), X, "input");
        AssertEqual(pass.GetActivations(0), reference.H, "h");
        AssertEqual(pass.GetActivations(1), reference.YHat, "ŷ");
        AssertEqual(pass.GetOutput(), reference.YHat, "output ŷ");
        AssertEqual(pass.GetPreActivations(0), reference.Z1, "z1 = X·W1 + b1");
        AssertEqual(pass.GetPreActivations(1), reference.Z2, "z2 = h·W2 + b2");

        // Step 2: the error and the output layer's local gradients, δ2 = ∂E/∂z2 = −d2.
        double error = trainer.ComputeLocalGradients(pass, YMatrix);
        pass.Stage.Should().Be(ForwardPassStage.LocalGradientsComputed);
        error.Should().BeApproximately(referenceError, Tolerance);
        pass.Loss.Should().Be(error);
        trainer.IsLossFused.Should().BeFalse("the squared error is never fused");
        AssertEqual(pass.GetPropagatedErrors(1), Map(reference.YHat, Y, (yHat, y) => -2 * (y - yHat)), "∂E/∂ŷ = −2(y − ŷ)");
        AssertEqual(pass.GetLocalGradients(1), Negate(reference.D2), "δ2 = −d2");

        // Step 3: backward propagation of errors, δ1 = (δ2·W2ᵀ) ⊙ h(1 − h) = −d1.
        trainer.BackpropagateErrors(pass);
        pass.Stage.Should().Be(ForwardPassStage.ErrorsBackpropagated);
        AssertEqual(pass.GetPropagatedErrors(0), Negate(MultiplyTransposedB(reference.D2, w2Before)), "errors at the hidden outputs −d2·W2ᵀ");
        AssertEqual(pass.GetLocalGradients(0), Negate(reference.D1), "δ1 = −d1");
        AssertEqual(Output(network).GetWeightGradients(), Negate(MultiplyTransposedA(reference.H, reference.D2)), "∂E/∂W2 = −hᵀ·d2");
        AssertEqual(Hidden(network).GetWeightGradients(), Negate(MultiplyTransposedA(X, reference.D1)), "∂E/∂W1 = −Xᵀ·d1");
        AssertEqual(Output(network).GetBiasGradients().ToRowMatrix(), Negate(ColumnSums(reference.D2)), "∂E/∂b2 = −Σ d2");
        AssertEqual(Hidden(network).GetBiasGradients().ToRowMatrix(), Negate(ColumnSums(reference.D1)), "∂E/∂b1 = −Σ d1");

        // Step 4: adjusting weights and biases.
        trainer.UpdateWeights(pass);
        pass.Stage.Should().Be(ForwardPassStage.WeightsUpdated);
        AssertParametersEqual(network, reference, "after the four steps");
    }

    [Fact]
    public void TheFourStepsOneByOneGiveBitForBitWhatTrainBatchGives()
    {
        var (stepped, stepTrainer) = CreateSeedNetwork();
        var (batched, batchTrainer) = CreateSeedNetwork();

        for (int step = 1; step <= 20; step++)
        {
            var pass = stepTrainer.Forward(XMatrix);
            double stepError = stepTrainer.ComputeLocalGradients(pass, YMatrix);
            stepTrainer.BackpropagateErrors(pass);
            stepTrainer.UpdateWeights(pass);

            double batchError = batchTrainer.TrainBatch(XMatrix, YMatrix);

            BitConverter.DoubleToInt64Bits(stepError).Should().Be(BitConverter.DoubleToInt64Bits(batchError), "step {0}'s error", step);
            Bits(stepped).Should().Equal(Bits(batched), "step {0}'s weights and biases", step);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(25)]
    public void FitWithOneUnshuffledBatchOfFourEqualsTrainBatchStepsBitForBit(int epochs)
    {
        var (fitted, fitTrainer) = CreateSeedNetwork();
        var (batched, batchTrainer) = CreateSeedNetwork();

        var history = fitTrainer.Fit(XMatrix, YMatrix, new FitOptions { Epochs = epochs, BatchSize = 4, Shuffle = false });
        var errors = new List<double>();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            errors.Add(batchTrainer.TrainBatch(XMatrix, YMatrix));
        }

        Bits(fitted).Should().Equal(Bits(batched));
        history.EpochsCompleted.Should().Be(epochs);
        history.Loss.Select(BitConverter.DoubleToInt64Bits).Should().Equal(errors.Select(BitConverter.DoubleToInt64Bits),
            "with the sum reduction and one batch per epoch, an epoch's loss is that batch's error");
    }

    private (Network<double> Network, Trainer<double> Trainer) CreateSeedNetwork()
    {
        var network = new Network<double>(2, Seed, new Dense<double>(3, Activations.Sigmoid), new Dense<double>(1, Activations.Sigmoid));
        return (network, new Trainer<double>(network, Losses.SumSquaredError, new Sgd(LearningRate)));
    }

    private static Dense<double> Hidden(Network<double> network) => (Dense<double>)network.Layers[0];

    private static Dense<double> Output(Network<double> network) => (Dense<double>)network.Layers[1];

    private static long[] Bits(Network<double> network) =>
        network.Layers.SelectMany(l => l.Parameters).SelectMany(p => p.Values.ToArray()).Select(BitConverter.DoubleToInt64Bits).ToArray();

    private void AssertParametersEqual(Network<double> network, SeedReference reference, string when)
    {
        AssertEqual(Hidden(network).Weights, reference.W1, $"W1 {when}");
        AssertEqual(Hidden(network).Biases.ToRowMatrix(), new[,] { { reference.B1[0], reference.B1[1], reference.B1[2] } }, $"b1 {when}");
        AssertEqual(Output(network).Weights, reference.W2, $"W2 {when}");
        AssertEqual(Output(network).Biases.ToRowMatrix(), new[,] { { reference.B2[0] } }, $"b2 {when}");
    }

    private void AssertEqual(Matrix<double> actual, double[,] expected, string what)
    {
        actual.RowCount.Should().Be(expected.GetLength(0), what);
        actual.ColumnCount.Should().Be(expected.GetLength(1), what);
        double worst = 0;
        for (int i = 0; i < actual.RowCount; i++)
        {
            for (int j = 0; j < actual.ColumnCount; j++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i, j] - expected[i, j]));
                actual[i, j].Should().BeApproximately(expected[i, j], Tolerance, "{0}[{1}, {2}]", what, i, j);
            }
        }

        output.WriteLine(FormattableString.Invariant($"{what}: max |library − reference| = {worst:E2}"));
    }

    private static double[,] Negate(double[,] a) => Map(a, a, (v, _) => -v);

    private static double[,] Map(double[,] a, double[,] b, Func<double, double, double> f)
    {
        var result = new double[a.GetLength(0), a.GetLength(1)];
        for (int i = 0; i < a.GetLength(0); i++)
        {
            for (int j = 0; j < a.GetLength(1); j++)
            {
                result[i, j] = f(a[i, j], b[i, j]);
            }
        }

        return result;
    }

    /// <summary>a·bᵀ.</summary>
    private static double[,] MultiplyTransposedB(double[,] a, double[,] b)
    {
        var result = new double[a.GetLength(0), b.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++)
        {
            for (int j = 0; j < b.GetLength(0); j++)
            {
                for (int k = 0; k < a.GetLength(1); k++)
                {
                    result[i, j] += a[i, k] * b[j, k];
                }
            }
        }

        return result;
    }

    /// <summary>aᵀ·b.</summary>
    private static double[,] MultiplyTransposedA(double[,] a, double[,] b)
    {
        var result = new double[a.GetLength(1), b.GetLength(1)];
        for (int i = 0; i < a.GetLength(1); i++)
        {
            for (int j = 0; j < b.GetLength(1); j++)
            {
                for (int k = 0; k < a.GetLength(0); k++)
                {
                    result[i, j] += a[k, i] * b[k, j];
                }
            }
        }

        return result;
    }

    /// <summary>The sum over rows, as a 1 × columns array.</summary>
    private static double[,] ColumnSums(double[,] a)
    {
        var result = new double[1, a.GetLength(1)];
        for (int i = 0; i < a.GetLength(0); i++)
        {
            for (int j = 0; j < a.GetLength(1); j++)
            {
                result[0, j] += a[i, j];
            }
        }

        return result;
    }

    /// <summary>
    /// The seed's backpropagation, written out with plain arrays and loops and no library calls, plus the bias
    /// updates: h = σ(X·W1 + b1), ŷ = σ(h·W2 + b2), d2 = 2(y − ŷ)·ŷ(1 − ŷ), d1 = (d2·W2ᵀ)·h(1 − h),
    /// W2 += lr·hᵀ·d2, W1 += lr·Xᵀ·d1, b2 += lr·Σrows d2, b1 += lr·Σrows d1.
    /// </summary>
    private sealed class SeedReference
    {
        public double[,] W1 { get; } = new double[2, 3];

        public double[] B1 { get; } = new double[3];

        public double[,] W2 { get; } = new double[3, 1];

        public double[] B2 { get; } = new double[1];

        /// <summary>The last step's quantities, computed with the weights before its update.</summary>
        public double[,] Z1 { get; private set; } = new double[0, 0];

        public double[,] H { get; private set; } = new double[0, 0];

        public double[,] Z2 { get; private set; } = new double[0, 0];

        public double[,] YHat { get; private set; } = new double[0, 0];

        public double[,] D2 { get; private set; } = new double[0, 0];

        public double[,] D1 { get; private set; } = new double[0, 0];

        /// <summary>Copies the network's initial weights and biases, element by element.</summary>
        public static SeedReference From(Network<double> network)
        {
            var reference = new SeedReference();
            var hidden = (Dense<double>)network.Layers[0];
            var output = (Dense<double>)network.Layers[1];
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 3; j++)
                {
                    reference.W1[i, j] = hidden.Weights[i, j];
                }
            }

            for (int j = 0; j < 3; j++)
            {
                reference.B1[j] = hidden.Biases[j];
                reference.W2[j, 0] = output.Weights[j, 0];
            }

            reference.B2[0] = output.Biases[0];
            return reference;
        }

        /// <summary>E = Σ (y − ŷ)² at the current weights.</summary>
        public double Error(double[,] x, double[,] y)
        {
            Forward(x);
            double error = 0;
            for (int r = 0; r < y.GetLength(0); r++)
            {
                double e = y[r, 0] - YHat[r, 0];
                error += e * e;
            }

            return error;
        }

        public void Step(double[,] x, double[,] y, double lr)
        {
            int rows = x.GetLength(0);
            Forward(x);

            var d2 = new double[rows, 1];
            for (int r = 0; r < rows; r++)
            {
                double yHat = YHat[r, 0];
                d2[r, 0] = 2 * (y[r, 0] - yHat) * (yHat * (1 - yHat));
            }

            var d1 = new double[rows, 3];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < 3; j++)
                {
                    double h = H[r, j];
                    d1[r, j] = d2[r, 0] * W2[j, 0] * (h * (1 - h));
                }
            }

            // W2 += lr·hᵀ·d2 and b2 += lr·Σ d2 (with W2 as it was when d1 was computed, as above).
            for (int j = 0; j < 3; j++)
            {
                double sum = 0;
                for (int r = 0; r < rows; r++)
                {
                    sum += H[r, j] * d2[r, 0];
                }

                W2[j, 0] += lr * sum;
            }

            double biasSum2 = 0;
            for (int r = 0; r < rows; r++)
            {
                biasSum2 += d2[r, 0];
            }

            B2[0] += lr * biasSum2;

            // W1 += lr·Xᵀ·d1 and b1 += lr·Σ d1.
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 3; j++)
                {
                    double sum = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        sum += x[r, i] * d1[r, j];
                    }

                    W1[i, j] += lr * sum;
                }
            }

            for (int j = 0; j < 3; j++)
            {
                double sum = 0;
                for (int r = 0; r < rows; r++)
                {
                    sum += d1[r, j];
                }

                B1[j] += lr * sum;
            }

            D2 = d2;
            D1 = d1;
        }

        private static double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));

        private void Forward(double[,] x)
        {
            int rows = x.GetLength(0);
            var z1 = new double[rows, 3];
            var h = new double[rows, 3];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < 3; j++)
                {
                    double z = B1[j];
                    for (int i = 0; i < 2; i++)
                    {
                        z += x[r, i] * W1[i, j];
                    }

                    z1[r, j] = z;
                    h[r, j] = Sigmoid(z);
                }
            }

            var z2 = new double[rows, 1];
            var yHat = new double[rows, 1];
            for (int r = 0; r < rows; r++)
            {
                double z = B2[0];
                for (int j = 0; j < 3; j++)
                {
                    z += h[r, j] * W2[j, 0];
                }

                z2[r, 0] = z;
                yHat[r, 0] = Sigmoid(z);
            }

            Z1 = z1;
            H = h;
            Z2 = z2;
            YHat = yHat;
        }
    }
}
