namespace Backprop.Tests.Schedules;

public class ScheduleTests
{
    private static double[] Rates(ILearningRateSchedule schedule, double baseRate, int epochs) =>
        Enumerable.Range(1, epochs).Select(e => schedule.LearningRateFor(e, baseRate)).ToArray();

    private static void ShouldEqual(double[] actual, params double[] expected) =>
        actual.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-15 * Math.Max(1, Math.Abs(b)));

    [Fact]
    public void Constant_keeps_the_base_rate()
    {
        ShouldEqual(Rates(new ConstantSchedule(), 0.1, 4), 0.1, 0.1, 0.1, 0.1);
        new ConstantSchedule().LearningRateFor(1000, 0.3).Should().Be(0.3);
    }

    [Fact]
    public void Step_multiplies_by_gamma_every_step_size_epochs()
    {
        // η₀·γ^⌊(e − 1)/3⌋ with η₀ = 0.1, γ = 0.5.
        ShouldEqual(Rates(new StepSchedule(3, 0.5), 0.1, 8), 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025);
        ShouldEqual(Rates(new StepSchedule(1), 1.0, 3), 1.0, 0.1, 0.01);
    }

    [Fact]
    public void Exponential_multiplies_by_gamma_every_epoch()
    {
        // η₀·γ^(e − 1) with η₀ = 0.1, γ = 0.9.
        ShouldEqual(Rates(new ExponentialSchedule(0.9), 0.1, 4), 0.1, 0.09, 0.081, 0.0729);
    }

    [Fact]
    public void Cosine_annealing_falls_from_the_base_to_the_minimum_over_the_period()
    {
        // η_min + (η₀ − η_min)·(1 + cos(π·k/4))/2 for k = 0…3, then η_min; η₀ = 0.1, η_min = 0.01.
        double c = Math.Sqrt(0.5); // cos(π/4)
        ShouldEqual(Rates(new CosineAnnealingSchedule(4, 0.01), 0.1, 6),
            0.1, 0.01 + 0.09 * (1 + c) / 2, 0.01 + 0.09 * 0.5, 0.01 + 0.09 * (1 - c) / 2, 0.01, 0.01);
    }

    [Fact]
    public void Cosine_annealing_warms_up_linearly_first()
    {
        // Two warm-up epochs: η₀/2, η₀; then the cosine over T = 2: η₀, (η₀ + η_min)/2 with η_min = 0; then 0.
        ShouldEqual(Rates(new CosineAnnealingSchedule(2, warmupEpochs: 2), 0.2, 5), 0.1, 0.2, 0.2, 0.1, 0);
    }

    [Fact]
    public void Reduce_on_plateau_follows_a_scripted_loss_curve()
    {
        // factor 0.5, patience 2, δ = 0.1, cooldown 1. Epoch by epoch (bad = epochs without improvement):
        // 1: 1.00 best; 2: 0.95 bad 1 (not below 1.00 − 0.1); 3: 0.85 best; 4, 5: bad 1, 2; 6: bad 3 > 2, reduce;
        // 7: cooldown, bad reset; 8: bad 1; 9: 0.60 best; 10, 11: bad 1, 2; 12: bad 3, reduce.
        var schedule = new ReduceOnPlateauSchedule(factor: 0.5, patience: 2, minDelta: 0.1, cooldown: 1);
        double[] losses = [1.00, 0.95, 0.85, 0.80, 0.80, 0.80, 0.80, 0.80, 0.60, 0.60, 0.60, 0.60];
        var rates = new List<double>();
        for (int epoch = 1; epoch <= losses.Length; epoch++)
        {
            rates.Add(schedule.LearningRateFor(epoch, 1.0));
            ((ILearningRateSchedule)schedule).OnEpochEnd(epoch, losses[epoch - 1]);
        }

        rates.Add(schedule.LearningRateFor(losses.Length + 1, 1.0));
        rates.Should().Equal(1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25);
        schedule.Reductions.Should().Be(2);
        schedule.BestLoss.Should().Be(0.60);
    }

    [Fact]
    public void Reduce_on_plateau_without_cooldown_counts_again_at_once()
    {
        // patience 1: a reduction after every second epoch without improvement.
        var schedule = new ReduceOnPlateauSchedule(factor: 0.1, patience: 1, minDelta: 0);
        double[] losses = [2, 2, 2, 2, 2, 1.5, 1.5, 1.5];
        var rates = new List<double>();
        for (int epoch = 1; epoch <= losses.Length; epoch++)
        {
            rates.Add(schedule.LearningRateFor(epoch, 1.0));
            schedule.OnEpochEnd(epoch, losses[epoch - 1]);
        }

        ShouldEqual([.. rates], 1, 1, 1, 0.1, 0.1, 0.01, 0.01, 0.01);
        schedule.LearningRateFor(9, 1.0).Should().BeApproximately(0.001, 1e-18);
    }

    [Fact]
    public void Reduce_on_plateau_stops_at_the_minimum_rate()
    {
        var schedule = new ReduceOnPlateauSchedule(factor: 0.1, patience: 0, minLearningRate: 0.005);
        var rates = new List<double>();
        for (int epoch = 1; epoch <= 4; epoch++)
        {
            schedule.OnEpochEnd(epoch, 1.0);
            rates.Add(schedule.LearningRateFor(epoch + 1, 0.1));
        }

        // Epoch 1 improves on +∞; epochs 2, 3, 4 do not: 0.1 → 0.01 → 0.005 (not 0.001) → 0.005.
        ShouldEqual([.. rates], 0.1, 0.01, 0.005, 0.005);
        schedule.LearningRateFor(10, 0.001).Should().Be(0.001, "a floor above the base rate never raises it");
    }

    [Fact]
    public void Schedules_that_ignore_the_loss_accept_reports()
    {
        ILearningRateSchedule schedule = new ExponentialSchedule(0.5);
        schedule.OnEpochEnd(1, 123.0);
        schedule.LearningRateFor(2, 1.0).Should().Be(0.5);
    }

    public static TheoryData<ILearningRateSchedule> All() =>
    [
        new ConstantSchedule(), new StepSchedule(2), new ExponentialSchedule(0.9), new CosineAnnealingSchedule(10, 0.001, 2), new ReduceOnPlateauSchedule(),
    ];

    [Theory]
    [MemberData(nameof(All))]
    public void Bad_epochs_and_base_rates_throw_naming_the_argument(ILearningRateSchedule schedule)
    {
        FluentActions.Invoking(() => schedule.LearningRateFor(0, 0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epoch")
            .WithMessage("epoch must be at least 1*but it is 0*");
        FluentActions.Invoking(() => schedule.LearningRateFor(1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("baseLearningRate");
        FluentActions.Invoking(() => schedule.LearningRateFor(1, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("baseLearningRate");
    }

    public static TheoryData<string, Func<object>> BadSettings() => new()
    {
        { "stepSize", () => new StepSchedule(0) },
        { "gamma", () => new StepSchedule(2, 0) },
        { "gamma", () => new ExponentialSchedule(-0.5) },
        { "gamma", () => new ExponentialSchedule(double.PositiveInfinity) },
        { "period", () => new CosineAnnealingSchedule(0) },
        { "minLearningRate", () => new CosineAnnealingSchedule(5, -1e-3) },
        { "warmupEpochs", () => new CosineAnnealingSchedule(5, warmupEpochs: -1) },
        { "factor", () => new ReduceOnPlateauSchedule(factor: 1) },
        { "factor", () => new ReduceOnPlateauSchedule(factor: 0) },
        { "patience", () => new ReduceOnPlateauSchedule(patience: -1) },
        { "minDelta", () => new ReduceOnPlateauSchedule(minDelta: -0.1) },
        { "cooldown", () => new ReduceOnPlateauSchedule(cooldown: -2) },
        { "minLearningRate", () => new ReduceOnPlateauSchedule(minLearningRate: double.NaN) },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Bad_settings_throw_naming_the_argument(string parameterName, Func<object> create)
    {
        create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameterName)
            .Which.Message.Should().Contain("but it is");
    }

    [Fact]
    public void Reduce_on_plateau_rejects_a_non_finite_loss()
    {
        var schedule = new ReduceOnPlateauSchedule();
        FluentActions.Invoking(() => schedule.OnEpochEnd(1, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("monitoredLoss");
        FluentActions.Invoking(() => schedule.OnEpochEnd(0, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epoch");
    }

    [Fact]
    public void Schedules_describe_themselves()
    {
        new StepSchedule(10, 0.5).ToString().Should().Be("Step(every 10 epochs, γ=0.5)");
        new ExponentialSchedule(0.95).ToString().Should().Be("Exponential(γ=0.95)");
        new CosineAnnealingSchedule(50, 0, 5).ToString().Should().Be("CosineAnnealing(T=50, η_min=0, warm-up 5)");
        new ReduceOnPlateauSchedule().ToString().Should().Be("ReduceOnPlateau(factor=0.1, patience=10, δ=0.0001, cooldown=0, η_min=0)");
    }
}
