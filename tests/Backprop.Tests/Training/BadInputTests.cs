using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

/// <summary>Every bad input named by the design raises the documented exception with a message that names the problem.</summary>
public class BadInputTests
{
    private static (Network<double> Network, Trainer<double> Trainer) Make(ILossFunction? loss = null)
    {
        var network = new Network<double>(3, new Dense<double>(4, Activations.Tanh), new Dense<double>(2, Activations.Sigmoid));
        return (network, new Trainer<double>(network, loss ?? Losses.MeanSquaredError, new Sgd(0.1)));
    }

    private static Matrix<double> X(int rows = 5) => TestData.Random<double>(rows, 3, seed: 1);

    private static Matrix<double> Y(int rows = 5) => Matrix<double>.Build.Dense(rows, 2, 0.5);

    [Fact]
    public void Targets_with_the_wrong_width_name_both_sizes() =>
        FluentActions.Invoking(() => Make().Trainer.Fit(X(), Matrix<double>.Build.Dense(5, 3)))
            .Should().Throw<ArgumentException>().WithParameterName("targets").WithMessage("*3 values per sample*output layer*has 2*");

    [Fact]
    public void Targets_with_the_wrong_row_count_name_both_counts() =>
        FluentActions.Invoking(() => Make().Trainer.Fit(X(5), Y(4)))
            .Should().Throw<ArgumentException>().WithParameterName("targets").WithMessage("*4 rows*5 input samples*");

    [Fact]
    public void Inputs_with_the_wrong_width_name_the_layer_and_both_sizes() =>
        FluentActions.Invoking(() => Make().Trainer.Fit(Matrix<double>.Build.Dense(5, 2), Y()))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("*2 values per sample*layer 0*expects 3*");

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_inputs_are_rejected_with_their_position(double bad)
    {
        var x = X();
        x[3, 1] = bad;
        FluentActions.Invoking(() => Make().Trainer.Fit(x, Y())).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*finite*row 3, column 1*");
        FluentActions.Invoking(() => Make().Trainer.Forward(x)).Should().Throw<ArgumentException>().WithParameterName("inputs");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Non_finite_targets_are_rejected_with_their_position(double bad)
    {
        var y = Y();
        y[2, 0] = bad;
        FluentActions.Invoking(() => Make().Trainer.Fit(X(), y)).Should().Throw<ArgumentException>()
            .WithParameterName("targets").WithMessage("*finite*row 2, column 0*");
        var (_, trainer) = Make();
        FluentActions.Invoking(() => trainer.ComputeLocalGradients(trainer.Forward(X()), y)).Should().Throw<ArgumentException>().WithParameterName("targets");
    }

    [Fact]
    public void Targets_outside_the_loss_domain_are_rejected()
    {
        var y = Y();
        y[1, 1] = 1.5;
        FluentActions.Invoking(() => Make(Losses.BinaryCrossEntropy).Trainer.Fit(X(), y)).Should().Throw<ArgumentException>()
            .WithParameterName("targets").WithMessage("*[0, 1]*1.5*row 1, column 1*");
    }

    [Fact]
    public void An_empty_data_set_is_rejected()
    {
        FluentActions.Invoking(() => Make().Trainer.Fit(Matrix<double>.Build.Dense(0, 3), Matrix<double>.Build.Dense(0, 2)))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("*at least one row*none*");
        FluentActions.Invoking(() => Make().Network.Predict(Matrix<double>.Build.Dense(0, 3)))
            .Should().Throw<ArgumentException>().WithParameterName("inputs");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Labels_out_of_range_are_rejected_naming_the_index_and_range(int label)
    {
        int[] labels = [0, 1, 0, label, 1];
        FluentActions.Invoking(() => Make(Losses.CrossEntropy).Trainer.Fit(X(), labels)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("labels").WithMessage($"*labels[3] is {label}*[0, 1]*2 outputs*");
    }

    [Fact]
    public void A_label_count_that_differs_from_the_rows_is_rejected() =>
        FluentActions.Invoking(() => Make(Losses.CrossEntropy).Trainer.Fit(X(5), new[] { 0, 1 }))
            .Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*2 labels*5 input samples*");

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_learning_rate_that_is_not_finite_and_positive_is_rejected(double rate)
    {
        FluentActions.Invoking(() => new Sgd(rate)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("learningRate").WithMessage("*finite number greater than 0*");
        var sgd = new Sgd(0.1);
        FluentActions.Invoking(() => sgd.LearningRate = rate).Should().Throw<ArgumentOutOfRangeException>();
        sgd.LearningRate.Should().Be(0.1);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_momentum_outside_zero_to_one_is_rejected(double momentum) =>
        FluentActions.Invoking(() => new Sgd(0.1, momentum)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("momentum").WithMessage("*[0, 1)*");

    [Fact]
    public void Nesterov_without_momentum_is_rejected() =>
        FluentActions.Invoking(() => new Sgd(0.1, nesterov: true)).Should().Throw<ArgumentException>().WithParameterName("nesterov");

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void A_batch_size_that_is_not_positive_is_rejected(int batchSize) =>
        FluentActions.Invoking(() => Make().Trainer.Fit(X(), Y(), new FitOptions { BatchSize = batchSize }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage($"*BatchSize*at least 1*{batchSize}*");

    [Fact]
    public void A_number_of_epochs_that_is_not_positive_is_rejected() =>
        FluentActions.Invoking(() => Make().Trainer.Fit(X(), Y(), new FitOptions { Epochs = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Epochs*at least 1*0*");

    [Fact]
    public void Null_arguments_are_rejected_by_name()
    {
        var (network, trainer) = Make();
        FluentActions.Invoking(() => new Trainer<double>(null!, Losses.MeanSquaredError, new Sgd(1))).Should().Throw<ArgumentNullException>().WithParameterName("network");
        FluentActions.Invoking(() => new Trainer<double>(network, null!, new Sgd(1))).Should().Throw<ArgumentNullException>().WithParameterName("loss");
        FluentActions.Invoking(() => new Trainer<double>(network, Losses.MeanSquaredError, null!)).Should().Throw<ArgumentNullException>().WithParameterName("optimizer");
        FluentActions.Invoking(() => trainer.Fit(null!, Y())).Should().Throw<ArgumentNullException>().WithParameterName("inputs");
        FluentActions.Invoking(() => trainer.Fit(X(), (Matrix<double>)null!)).Should().Throw<ArgumentNullException>().WithParameterName("targets");
    }

    [Fact]
    public void Invalid_activation_and_loss_settings_are_rejected()
    {
        FluentActions.Invoking(() => new LeakyReLU(-0.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alpha");
        FluentActions.Invoking(() => new Elu(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("alpha");
        FluentActions.Invoking(() => new Huber(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("delta");
    }

    [Fact]
    public void A_diverging_loss_stops_training_before_the_weights_are_spoiled()
    {
        // Regression with a huge learning rate: the loss overflows to infinity within a few steps.
        var x = TestData.Random<double>(16, 3, seed: 2, scale: 10);
        var y = Matrix<double>.Build.Dense(16, 1, 1e3);
        var network = new Network<double>(3, new Dense<double>(8, Activations.ReLU), new Dense<double>(1));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(1e6));

        var act = () => trainer.Fit(x, y, new FitOptions { Epochs = 50, BatchSize = 4 });

        act.Should().Throw<TrainingDivergedException>().WithMessage("*epoch*batch*");
        network.Layers.SelectMany(l => l.Parameters).SelectMany(p => p.Values.ToArray()).Should().OnlyContain(v => double.IsFinite(v));
    }
}
