using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Data;

public class ScalerTests
{
    // Columns: 1, 2, 3, 6 (mean 3, population σ = √(14/4) = √3.5); 5, 5, 5, 5 (constant); −2, 0, 2, 4 (mean 1, σ = √5).
    private static readonly Matrix<double> Data = Matrix<double>.Build.DenseOfRowArrays(
        [1, 5, -2], [2, 5, 0], [3, 5, 2], [6, 5, 4]);

    [Fact]
    public void StandardScaler_statistics_match_hand_computed_values()
    {
        var scaler = new StandardScaler();

        scaler.Fit(Data);

        scaler.Means.Should().Equal(3, 5, 1);
        scaler.StandardDeviations[0].Should().BeApproximately(Math.Sqrt(3.5), 1e-15);
        scaler.StandardDeviations[1].Should().Be(0);
        scaler.StandardDeviations[2].Should().BeApproximately(Math.Sqrt(5), 1e-15);
        scaler.FeatureCount.Should().Be(3);
    }

    [Fact]
    public void StandardScaler_gives_mean_0_and_deviation_1_and_zeros_for_a_constant_column()
    {
        var scaled = new StandardScaler().FitTransform(Data);

        scaled[0, 0].Should().BeApproximately((1 - 3) / Math.Sqrt(3.5), 1e-15);
        scaled[3, 2].Should().BeApproximately((4 - 1) / Math.Sqrt(5), 1e-15);
        scaled.Column(1).Should().OnlyContain(v => v == 0);
        for (int c = 0; c < 3; c += 2)
        {
            scaled.Column(c).Average().Should().BeApproximately(0, 1e-12);
            Math.Sqrt(scaled.Column(c).Select(v => v * v).Average()).Should().BeApproximately(1, 1e-12);
        }
    }

    [Fact]
    public void StandardScaler_inverts_and_rebuilds_from_its_statistics_in_float()
    {
        var data = Data.Map(v => (float)v);
        var scaler = new StandardScaler();
        var scaled = scaler.FitTransform(data);

        var rebuilt = new StandardScaler([.. scaler.Means], [.. scaler.StandardDeviations]);

        rebuilt.Transform(data).Should().Be(scaled);
        var back = rebuilt.InverseTransform(scaled);
        for (int i = 0; i < data.RowCount; i++)
        {
            for (int j = 0; j < data.ColumnCount; j++)
            {
                back[i, j].Should().BeApproximately(data[i, j], 1e-5f);
            }
        }
    }

    [Fact]
    public void MinMaxScaler_maps_the_training_range_onto_the_target_range()
    {
        var scaler = new MinMaxScaler(-1, 1);

        var scaled = scaler.FitTransform(Data);

        scaler.Minimums.Should().Equal(1, 5, -2);
        scaler.Maximums.Should().Equal(6, 5, 4);
        scaled.Column(0).Should().Equal(-1, -1 + 2.0 / 5, -1 + 4.0 / 5, 1);
        scaled.Column(1).Should().OnlyContain(v => v == -1, "a constant column maps to the low end");
        scaled.Column(2).Should().Equal(-1, -1 + 2.0 / 3, -1 + 4.0 / 3, 1);
        scaler.InverseTransform(scaled).Should().Be(Data);
    }

    [Fact]
    public void MinMaxScaler_does_not_clip_values_outside_the_training_range()
    {
        var scaler = new MinMaxScaler();
        scaler.Fit(Matrix<double>.Build.DenseOfRowArrays([0.0], [10.0]));

        scaler.Transform(Matrix<double>.Build.DenseOfRowArrays([20.0], [-5.0])).Column(0).Should().Equal(2, -0.5);
    }

    [Fact]
    public void Transforming_before_fitting_says_what_to_do()
    {
        IFeatureScaler[] scalers = [new StandardScaler(), new MinMaxScaler()];
        foreach (var scaler in scalers)
        {
            var act = () => scaler.Transform(Data);

            act.Should().Throw<InvalidOperationException>().WithMessage($"This {scaler.GetType().Name} has not been fitted: call Fit*");
        }
    }

    [Fact]
    public void Transforming_the_wrong_width_names_both_widths()
    {
        var scaler = new StandardScaler();
        scaler.Fit(Data);

        var act = () => scaler.Transform(Matrix<double>.Build.Dense(2, 5));

        act.Should().Throw<ArgumentException>().WithParameterName("data")
            .WithMessage("data has 5 columns, but this StandardScaler was fitted on 3.*");
    }

    [Fact]
    public void Fitting_on_a_non_finite_value_names_its_row_and_column()
    {
        var bad = Data.Clone();
        bad[2, 1] = double.NaN;

        var act = () => new MinMaxScaler().Fit(bad);

        act.Should().Throw<ArgumentException>().WithMessage("*row 2, column 1 is NaN*");
    }

    [Fact]
    public void Bad_statistics_and_ranges_are_rejected()
    {
        var negative = () => new StandardScaler([0, 0], [1, -1]);
        var mismatch = () => new StandardScaler([0, 0], [1]);
        var range = () => new MinMaxScaler(1, 1);
        var inverted = () => new MinMaxScaler([0, 5], [1, 4]);

        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("standardDeviations[1] must be a finite number ≥ 0, but it is -1.*");
        mismatch.Should().Throw<ArgumentException>().WithParameterName("standardDeviations");
        range.Should().Throw<ArgumentOutOfRangeException>().WithMessage("high must be greater than low (1), but it is 1.*");
        inverted.Should().Throw<ArgumentOutOfRangeException>().WithMessage("maximums[1] must be at least minimums[1] (5), but it is 4.*");
    }
}
