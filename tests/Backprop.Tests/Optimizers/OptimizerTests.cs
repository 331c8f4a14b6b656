using MathNet.Numerics.LinearAlgebra;
using static Backprop.Tests.Optimizers.OptimizerTestKit;

namespace Backprop.Tests.Optimizers;

/// <summary>What every optimizer must do: train, keep state per parameter, not allocate, restore exactly, reject bad settings.</summary>
public class OptimizerTests
{
    private static FitOptions Options(string name, int rows, int epochs) => new()
    {
        Epochs = epochs,
        // RPROP is a full-batch method: its step sizes follow the sign of the whole data set's gradient.
        BatchSize = name == "rprop" ? rows : 16,
        Seed = 5,
    };

    [Theory]
    [MemberData(nameof(AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Reduces_the_loss_of_a_regression(string name)
    {
        var (x, y) = Regression();
        var network = new Network<double>(2, seed: 3, new Dense<double>(16, Activations.Tanh), new Dense<double>(1));
        var trainer = new Trainer<double>(network, Losses.MeanSquaredError, Create(name));
        double initial = trainer.Evaluate(x, y);

        var history = trainer.Fit(x, y, Options(name, x.RowCount, 200));

        double final = trainer.Evaluate(x, y);
        history.Loss.Should().HaveCount(200);
        final.Should().BeLessThan(initial / 10, $"{name} should fit the regression (initial MSE {initial})");
    }

    [Theory]
    [MemberData(nameof(AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Reduces_the_loss_of_a_classification(string name)
    {
        var (x, labels) = Classification();
        var targets = Matrix<double>.Build.Dense(x.RowCount, 3, (r, c) => labels[r] == c ? 1 : 0);
        var network = new Network<double>(2, seed: 4, new Dense<double>(16, Activations.Tanh), new Dense<double>(3, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, Create(name));
        double initial = trainer.Evaluate(x, targets);

        trainer.Fit(x, labels, Options(name, x.RowCount, 100));

        double final = trainer.Evaluate(x, targets);
        final.Should().BeLessThan(initial / 10, $"{name} should fit the classification (initial cross-entropy {initial})");
        Metrics.Accuracy(labels, network.PredictClasses(x)).Should().BeGreaterThan(0.85);
    }

    [Theory]
    [MemberData(nameof(AllNames), MemberType = typeof(OptimizerTestKit))]
    public void State_is_kept_per_parameter(string name)
    {
        // One optimizer updating two parameters in turn must do to each what a fresh optimizer does to it alone.
        var shared = Create(name);
        var first = MakeParameter<double>(Initial);
        var second = MakeParameter<double>([-0.5, 0.25, 2.0]);
        var firstAlone = MakeParameter<double>(Initial);
        var secondAlone = MakeParameter<double>([-0.5, 0.25, 2.0]);
        var (optimizerOfFirst, optimizerOfSecond) = (Create(name), Create(name));
        for (int t = 0; t < 3; t++)
        {
            double[] g = Gradients[t], h = Gradients[2 - t].Select(v => -2 * v).ToArray();
            SetGradients(first, g);
            SetGradients(firstAlone, g);
            SetGradients(second, h);
            SetGradients(secondAlone, h);
            shared.Update(first);
            shared.Update(second);
            if (t == 0)
            {
                shared.Update(second); // an extra step for the second parameter only
                optimizerOfSecond.Update(secondAlone);
            }

            optimizerOfFirst.Update(firstAlone);
            optimizerOfSecond.Update(secondAlone);
        }

        first.Values.ToArray().Should().Equal(firstAlone.Values.ToArray());
        second.Values.ToArray().Should().Equal(secondAlone.Values.ToArray());
        var optimizer = (Optimizer)shared;
        optimizer.GetState(first)!.Step.Should().Be(3);
        optimizer.GetState(second)!.Step.Should().Be(4);
        optimizer.StateCount.Should().Be(2);
        optimizer.GetStates<double>().Select(e => e.Key).Should().Equal([first, second], (a, b) => ReferenceEquals(a, b));
        optimizer.GetStates<float>().Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Updates_allocate_nothing_after_the_first(string name)
    {
        var optimizer = Create(name);
        var parameters = new[] { MakeParameter<float>(new double[300]), MakeParameter<float>(new double[7]) };
        foreach (var parameter in parameters)
        {
            SetGradients(parameter, Enumerable.Range(0, parameter.Length).Select(i => Math.Sin(i)).ToArray());
            optimizer.Update(parameter);
        }

        AllocationMeter.SteadyStateBytes(() =>
        {
            optimizer.Update(parameters[0]);
            optimizer.Update(parameters[1]);
        }).Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Restored_state_continues_bit_for_bit(string name)
    {
        var original = (Optimizer)Create(name);
        var parameter = MakeParameter<double>(Initial);
        for (int t = 0; t < 2; t++)
        {
            SetGradients(parameter, Gradients[t]);
            original.Update(parameter);
        }

        // Save: the step and a copy of every slot, as a persistence layer would.
        var saved = original.GetState(parameter)!;
        long step = saved.Step;
        var slots = Enumerable.Range(0, saved.SlotCount).Select(i => saved.GetSlot(i).ToArray()).ToArray();
        var copy = MakeParameter<double>(parameter.Values.ToArray());

        var restored = (Optimizer)Create(name);
        restored.RestoreState(copy, step, slots);
        SetGradients(parameter, Gradients[2]);
        SetGradients(copy, Gradients[2]);
        original.Update(parameter);
        restored.Update(copy);

        copy.Values.ToArray().Should().Equal(parameter.Values.ToArray());
        restored.GetState(copy)!.Step.Should().Be(3);
        slots.Should().HaveCount(original.SlotNames.Count);
        slots.Where(s => s.Length != 3).Should().BeEmpty();
        restored.SlotNames.Should().Equal(original.SlotNames);
    }

    [Theory]
    [MemberData(nameof(AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Float_follows_the_double_rule(string name)
    {
        var (inDouble, inFloat) = (Create(name), Create(name));
        var d = MakeParameter<double>(Initial);
        var f = MakeParameter<float>(Initial);
        for (int t = 0; t < 3; t++)
        {
            SetGradients(d, Gradients[t]);
            SetGradients(f, Gradients[t]);
            inDouble.Update(d);
            inFloat.Update(f);
        }

        f.Values.ToArray().Select(v => (double)v).Should().Equal(d.Values.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void Reset_forgets_every_state()
    {
        var adam = new Adam();
        var parameter = MakeParameter<double>(Initial);
        adam.Update(parameter);
        adam.ResetState();
        adam.StateCount.Should().Be(0);
        adam.GetState(parameter).Should().BeNull();
        adam.Update(parameter);
        adam.GetState(parameter)!.Step.Should().Be(1);
    }

    [Fact]
    public void Restoring_checks_the_saved_state()
    {
        var adam = new Adam();
        var parameter = MakeParameter<double>(Initial);
        double[] ok = new double[3];

        FluentActions.Invoking(() => adam.RestoreState(parameter, 0, [ok, ok])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("step");
        FluentActions.Invoking(() => adam.RestoreState(parameter, 1, [ok])).Should().Throw<ArgumentException>().WithParameterName("slots")
            .WithMessage("*2 arrays (exp_avg, exp_avg_sq)*holds 1*");
        FluentActions.Invoking(() => adam.RestoreState(parameter, 1, [ok, new double[2]])).Should().Throw<ArgumentException>().WithParameterName("slots")
            .WithMessage("slots[1] (exp_avg_sq) must hold 3 values*holds 2*");
        FluentActions.Invoking(() => adam.RestoreState(parameter, 1, [ok, [0, double.NaN, 0]])).Should().Throw<ArgumentException>().WithParameterName("slots")
            .WithMessage("*element 1 is NaN*");
        FluentActions.Invoking(() => adam.RestoreState(null!, 1, [ok, ok])).Should().Throw<ArgumentNullException>().WithParameterName("parameter");
        adam.StateCount.Should().Be(0);
    }

    [Fact]
    public void A_null_parameter_throws()
    {
        FluentActions.Invoking(() => new Adam().Update<double>(null!)).Should().Throw<ArgumentNullException>().WithParameterName("parameter");
    }

    public static TheoryData<string, Func<object>> BadSettings() => new()
    {
        // The learning rate is reported under the property's name, as Sgd always has (see BadInputTests).
        { "learningRate", () => new Adam(learningRate: 0) },
        { "learningRate", () => new AdamW(learningRate: double.NaN) },
        { "learningRate", () => new RmsProp(learningRate: double.PositiveInfinity) },
        { "learningRate", () => new Adagrad(learningRate: -0.01) },
        { "learningRate", () => new Rprop(learningRate: -1) },
        { "beta1", () => new Adam(beta1: 1) },
        { "beta1", () => new AdamW(beta1: -0.1) },
        { "beta2", () => new Adam(beta2: 1.5) },
        { "beta2", () => new AdamW(beta2: double.NaN) },
        { "epsilon", () => new Adam(epsilon: 0) },
        { "epsilon", () => new AdamW(epsilon: double.PositiveInfinity) },
        { "weightDecay", () => new Adam(weightDecay: -1e-4) },
        { "weightDecay", () => new AdamW(weightDecay: -1) },
        { "weightDecay", () => new Sgd(0.1, weightDecay: double.NaN) },
        { "momentum", () => new Sgd(0.1, momentum: 1) },
        { "alpha", () => new RmsProp(alpha: 1) },
        { "epsilon", () => new RmsProp(epsilon: -1e-8) },
        { "momentum", () => new RmsProp(momentum: -0.5) },
        { "weightDecay", () => new RmsProp(weightDecay: -1) },
        { "epsilon", () => new Adagrad(epsilon: 0) },
        { "initialAccumulatorValue", () => new Adagrad(initialAccumulatorValue: -1) },
        { "learningRateDecay", () => new Adagrad(learningRateDecay: double.NaN) },
        { "weightDecay", () => new Adagrad(weightDecay: -0.1) },
        { "increaseFactor", () => new Rprop(increaseFactor: 1) },
        { "decreaseFactor", () => new Rprop(decreaseFactor: 1) },
        { "decreaseFactor", () => new Rprop(decreaseFactor: 0) },
        { "minStepSize", () => new Rprop(minStepSize: 0) },
        { "maxStepSize", () => new Rprop(minStepSize: 1, maxStepSize: 0.5) },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Bad_hyper_parameters_throw_naming_the_argument(string parameterName, Func<object> create)
    {
        create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameterName)
            .Which.Message.Should().Contain(parameterName).And.Contain("but it is");
    }

    [Fact]
    public void The_learning_rate_can_be_changed_but_not_to_a_bad_value()
    {
        IOptimizer adam = new Adam();
        adam.LearningRate = 0.5;
        adam.LearningRate.Should().Be(0.5);
        FluentActions.Invoking(() => adam.LearningRate = 0).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("LearningRate");
        FluentActions.Invoking(() => adam.LearningRate = double.PositiveInfinity).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Slot_lookup_by_a_wrong_name_or_index_throws()
    {
        var adagrad = new Adagrad();
        var parameter = MakeParameter<double>(Initial);
        adagrad.Update(parameter);
        var state = adagrad.GetState(parameter)!;
        FluentActions.Invoking(() => state.GetSlot("exp_avg")).Should().Throw<ArgumentException>().WithParameterName("name").WithMessage("*(sum)*\"exp_avg\"*");
        FluentActions.Invoking(() => state.GetSlot(1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("index");
        state.ToString().Should().Be("step 1: sum[3]");
    }
}
