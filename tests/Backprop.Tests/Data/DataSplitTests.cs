using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Data;

public class DataSplitTests
{
    [Fact]
    public void Stratified_split_keeps_every_class_proportion_within_one_row()
    {
        // 3 classes of 50, 30 and 20 rows, interleaved.
        int[] labels = Enumerable.Range(0, 100).Select(i => i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2).ToArray();

        var (train, test) = DataSplit.StratifiedIndices(labels, testFraction: 0.25, seed: 7);

        test.Length.Should().Be(25);
        train.Length.Should().Be(75);
        train.Concat(test).Order().Should().Equal(Enumerable.Range(0, 100));
        train.Should().BeInAscendingOrder();
        test.Should().BeInAscendingOrder();
        foreach (var (label, count) in new[] { (0, 50), (1, 30), (2, 20) })
        {
            int inTest = test.Count(i => labels[i] == label);
            Math.Abs(inTest - 0.25 * count).Should().BeLessThanOrEqualTo(1, $"class {label} has {count} rows");
        }
    }

    [Fact]
    public void Stratified_counts_add_up_to_the_rounded_total_by_largest_remainders()
    {
        // 3 classes of 7 rows; 0.5 of each is 3.5, and 0.5 of 21 rounds to 11: two classes get 4, one gets 3.
        int[] labels = Enumerable.Range(0, 21).Select(i => i % 3).ToArray();

        var split = DataSplit.StratifiedIndices(labels, 0.5, seed: 1);

        split.Test.Length.Should().Be(11);
        split.Test.GroupBy(i => labels[i]).Select(g => g.Count()).Order().Should().Equal(3, 4, 4);
    }

    [Fact]
    public void Equal_seeds_give_equal_splits_and_other_seeds_differ()
    {
        int[] labels = Enumerable.Range(0, 200).Select(i => i % 4).ToArray();

        var a = DataSplit.StratifiedIndices(labels, 0.3, seed: 5);
        var b = DataSplit.StratifiedIndices(labels, 0.3, seed: 5);
        var c = DataSplit.StratifiedIndices(labels, 0.3, seed: 6);

        b.Test.Should().Equal(a.Test);
        c.Test.Should().NotEqual(a.Test);
    }

    [Fact]
    public void Splitting_a_data_set_keeps_rows_and_labels_together()
    {
        var features = Matrix<double>.Build.Dense(12, 2, (r, c) => r * 10 + c);
        int[] labels = Enumerable.Range(0, 12).Select(i => i % 2).ToArray();

        var (train, test) = DataSplit.Stratified(new ClassificationData<double>(features, labels), 0.5, seed: 3);

        train.Count.Should().Be(6);
        test.Count.Should().Be(6);
        foreach (var part in new[] { train, test })
        {
            for (int r = 0; r < part.Count; r++)
            {
                int original = (int)part.Features[r, 0] / 10;
                part.Labels[r].Should().Be(labels[original]);
                part.Features[r, 1].Should().Be(original * 10 + 1);
            }
        }
    }

    [Fact]
    public void Shuffled_split_covers_every_row_once()
    {
        var data = new RegressionData<float>(Matrix<float>.Build.Dense(10, 1, (r, _) => r), Matrix<float>.Build.Dense(10, 1, (r, _) => -r));

        var (train, test) = DataSplit.Shuffled(data, 0.2, seed: 9);

        test.Count.Should().Be(2);
        train.Features.Column(0).Concat(test.Features.Column(0)).Order().Should().Equal(Enumerable.Range(0, 10).Select(i => (float)i));
        test.Targets.Column(0).Should().Equal(test.Features.Column(0).Select(v => -v));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_fraction_outside_0_1_is_rejected(double fraction)
    {
        var act = () => DataSplit.ShuffledIndices(10, fraction, seed: 1);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("testFraction").WithMessage("testFraction must be in (0, 1)*");
    }

    [Fact]
    public void A_split_that_leaves_a_part_empty_says_so()
    {
        var act = () => DataSplit.ShuffledIndices(3, 0.1, seed: 1);

        act.Should().Throw<ArgumentException>().WithMessage("A test fraction of 0.1 of 3 rows leaves 3 training and 0 test rows*");
    }

    [Fact]
    public void SelectRows_rejects_an_index_outside_the_matrix()
    {
        var act = () => DataSplit.SelectRows(Matrix<double>.Build.Dense(2, 2), [0, 2]);

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("rows[1] must be in [0, 1] (the matrix has 2 rows), but it is 2.*");
    }
}
