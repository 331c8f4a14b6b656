using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void Xor_converges_in_double()
    {
        var (x, y) = TestData.Xor();
        var network = new Network<double>(2, seed: 7, new Dense<double>(3, Activations.Sigmoid), new Dense<double>(1, Activations.Sigmoid));
        var trainer = new Trainer<double>(network, Losses.SumSquaredError, new Sgd(0.5));

        var history = trainer.Fit(x, y, new FitOptions { Epochs = 5000, BatchSize = 4, Shuffle = false });

        history.Loss[^1].Should().BeLessThan(0.01);
        history.Loss[^1].Should().BeLessThan(history.Loss[0] / 50);
        var predictions = network.Predict(x);
        for (int i = 0; i < 4; i++)
        {
            predictions[i, 0].Should().BeApproximately(y[i, 0], 0.1);
        }
    }

    [Fact]
    public void Xor_converges_in_float_with_cross_entropy_and_momentum()
    {
        var x = Matrix<float>.Build.DenseOfRowArrays([0f, 0f], [0f, 1f], [1f, 0f], [1f, 1f]);
        int[] labels = [0, 1, 1, 0];
        var network = new Network<float>(2, seed: 1, new Dense<float>(8, Activations.Tanh), new Dense<float>(2, Activations.Softmax));
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.1, momentum: 0.9, nesterov: true));

        trainer.Fit(x, labels, new FitOptions { Epochs = 500, BatchSize = 2, Seed = 3 });

        network.PredictClasses(x).Should().Equal(labels);
    }

    [Fact]
    public void Iris_reaches_at_least_95_percent_held_out_accuracy()
    {
        var (features, labels) = TestData.Iris();
        // A stratified hold-out: every third sample of each class is kept for testing (50 of 150).
        var test = Enumerable.Range(0, labels.Length).Where(i => i % 3 == 0).ToArray();
        var train = Enumerable.Range(0, labels.Length).Where(i => i % 3 != 0).ToArray();

        // Standardise with the training set's statistics only.
        double[] mean = Enumerable.Range(0, 4).Select(j => train.Average(i => features[i][j])).ToArray();
        double[] std = Enumerable.Range(0, 4).Select(j => Math.Sqrt(train.Average(i => Math.Pow(features[i][j] - mean[j], 2)))).ToArray();
        Matrix<float> Rows(int[] index) => Matrix<float>.Build.Dense(index.Length, 4, (r, j) => (float)((features[index[r]][j] - mean[j]) / std[j]));

        var network = new Network<float>(4, seed: 42, new Dense<float>(16, Activations.Tanh), new Dense<float>(3, Activations.Softmax));
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.02, momentum: 0.9));
        trainer.Fit(Rows(train), train.Select(i => labels[i]).ToArray(), new FitOptions { Epochs = 200, BatchSize = 8, Seed = 42 });

        int[] predicted = network.PredictClasses(Rows(test));
        double accuracy = predicted.Where((p, r) => p == labels[test[r]]).Count() / (double)test.Length;
        accuracy.Should().BeGreaterThanOrEqualTo(0.95);
    }

    [Fact]
    public void The_same_seed_and_data_give_bit_identical_weights_when_run_twice()
    {
        static (double[][] Float, double[][] Double) Train()
        {
            var xf = TestData.Random<float>(97, 6, seed: 5);
            var xd = TestData.Random<double>(97, 6, seed: 5);
            int[] labels = Enumerable.Range(0, 97).Select(i => i % 3).ToArray();

            var nf = new Network<float>(6, seed: 9, new Dense<float>(10, Activations.ReLU), new Dense<float>(3, Activations.Softmax));
            new Trainer<float>(nf, Losses.CrossEntropy, new Sgd(0.1, 0.9)).Fit(xf, labels, new FitOptions { Epochs = 5, BatchSize = 16, Seed = 4 });
            var nd = new Network<double>(6, seed: 9, new Dense<double>(10, Activations.ReLU), new Dense<double>(3, Activations.Softmax));
            new Trainer<double>(nd, Losses.CrossEntropy, new Sgd(0.1, 0.9)).Fit(xd, labels, new FitOptions { Epochs = 5, BatchSize = 16, Seed = 4 });

            return (Snapshot(nf), Snapshot(nd));
        }

        var first = Train();
        var second = Train();

        first.Float.Should().BeEquivalentTo(second.Float, o => o.WithStrictOrdering());
        first.Double.Should().BeEquivalentTo(second.Double, o => o.WithStrictOrdering());
        for (int i = 0; i < first.Float.Length; i++)
        {
            // Bit for bit, not approximately.
            first.Float[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(second.Float[i].Select(BitConverter.DoubleToInt64Bits));
            first.Double[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(second.Double[i].Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void A_different_shuffling_seed_gives_different_weights()
    {
        double[][] Train(int seed)
        {
            var x = TestData.Random<double>(40, 3, seed: 1);
            var y = TestData.Random<double>(40, 2, seed: 2);
            var network = new Network<double>(3, new Dense<double>(4, Activations.Tanh), new Dense<double>(2));
            new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1)).Fit(x, y, new FitOptions { Epochs = 2, BatchSize = 8, Seed = seed });
            return Snapshot(network);
        }

        Train(1)[0].Should().NotEqual(Train(2)[0]);
    }

    [Fact]
    public void Biases_are_updated()
    {
        var (x, y) = TestData.Xor();
        var network = new Network<double>(2, new Dense<double>(3, Activations.Sigmoid), new Dense<double>(1, Activations.Sigmoid));
        new Trainer<double>(network, Losses.SumSquaredError, new Sgd(0.5)).TrainBatch(x, y);

        foreach (var layer in network.Layers.Cast<Dense<double>>())
        {
            layer.Biases.Should().Contain(b => b != 0);
        }
    }

    [Fact]
    public void The_fused_softmax_cross_entropy_gives_the_same_update_as_the_chained_one()
    {
        var x = TestData.Random<double>(7, 3, seed: 8);
        var y = Matrix<double>.Build.Dense(7, 4, (r, c) => c == r % 4 ? 1.0 : 0.0);

        double[][] Step(IActivation output)
        {
            var network = new Network<double>(3, seed: 2, new Dense<double>(5, Activations.Tanh), new Dense<double>(4, output));
            var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.3));
            trainer.TrainBatch(x, y);
            return Snapshot(network);
        }

        var fused = Step(Activations.Softmax);
        var chained = Step(new DelegatingSoftmax());
        for (int i = 0; i < fused.Length; i++)
        {
            fused[i].Should().Equal(chained[i], (a, b) => Math.Abs(a - b) < 1e-14);
        }
    }

    [Fact]
    public void Evaluate_gives_the_mean_loss_over_the_whole_set()
    {
        var x = TestData.Random<double>(300, 3, seed: 1);
        var y = TestData.Random<double>(300, 2, seed: 2);
        var network = new Network<double>(3, new Dense<double>(2));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));

        var predicted = network.Predict(x);
        double expected = (predicted - y).PointwisePower(2).Enumerate().Average();

        trainer.Evaluate(x, y).Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void The_four_steps_must_run_in_order()
    {
        var (x, y) = TestData.Xor();
        var network = new Network<double>(2, new Dense<double>(1, Activations.Sigmoid));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1));
        var pass = trainer.Forward(x);

        FluentActions.Invoking(() => trainer.BackpropagateErrors(pass)).Should().Throw<InvalidOperationException>().WithMessage("*LocalGradientsComputed*Forwarded*");
        FluentActions.Invoking(() => trainer.UpdateWeights(pass)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => pass.GetLocalGradients(0)).Should().Throw<InvalidOperationException>();

        trainer.ComputeLocalGradients(pass, y);
        FluentActions.Invoking(() => trainer.ComputeLocalGradients(pass, y)).Should().Throw<InvalidOperationException>();
        trainer.BackpropagateErrors(pass);
        trainer.UpdateWeights(pass);
        pass.Stage.Should().Be(ForwardPassStage.WeightsUpdated);

        var other = new Trainer<double>(new Network<double>(2, new Dense<double>(1)), Losses.MeanSquaredError, new Sgd(0.1));
        FluentActions.Invoking(() => other.ComputeLocalGradients(trainer.Forward(x), y)).Should().Throw<ArgumentException>().WithParameterName("pass");
    }

    [Fact]
    public void The_fused_output_layer_has_no_separate_loss_gradient()
    {
        var x = TestData.Random<double>(3, 2, seed: 1);
        var network = new Network<double>(2, new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.1));
        trainer.IsLossFused.Should().BeTrue();
        var pass = trainer.Forward(x);
        trainer.ComputeLocalGradients(pass, Matrix<double>.Build.DenseIdentity(3));

        FluentActions.Invoking(() => pass.GetPropagatedErrors(0)).Should().Throw<InvalidOperationException>().WithMessage("*fused*");
        var delta = pass.GetLocalGradients(0);
        var expected = (pass.GetOutput() - Matrix<double>.Build.DenseIdentity(3)) / 3;
        delta.Enumerate().Zip(expected.Enumerate()).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-15);
    }

    internal static double[][] Snapshot<T>(Network<T> network)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        network.Layers.SelectMany(l => l.Parameters).Select(p => p.Values.ToArray().Select(v => double.CreateChecked(v)).ToArray()).ToArray();

    /// <summary>A softmax the trainer does not recognise, so the loss gradient and the Jacobian-vector product are chained.</summary>
    private sealed class DelegatingSoftmax : IActivation
    {
        private readonly Softmax _inner = new();

        public string Name => "delegating_softmax";

        public void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => _inner.Forward(preActivations, activations, width);

        public void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => _inner.Backward(preActivations, activations, outputGradients, localGradients, width);
    }
}
