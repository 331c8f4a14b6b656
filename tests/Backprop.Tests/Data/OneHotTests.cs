namespace Backprop.Tests.Data;

public class OneHotTests
{
    [Fact]
    public void Encodes_each_label_as_a_row_with_one_1()
    {
        var y = OneHot.Encode<float>([2, 0, 1], classCount: 4);

        y.ToRowArrays().Should().BeEquivalentTo(new[]
        {
            new[] { 0f, 0, 1, 0 },
            new[] { 1f, 0, 0, 0 },
            new[] { 0f, 1, 0, 0 },
        }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Infers_the_class_count_from_the_largest_label_and_decodes_back()
    {
        int[] labels = [3, 1, 0, 3];

        var y = OneHot.Encode<double>(labels);

        y.ColumnCount.Should().Be(4);
        OneHot.Decode(y).Should().Equal(labels);
    }

    [Fact]
    public void A_label_out_of_range_names_its_index_and_the_range()
    {
        var act = () => OneHot.Encode<double>([0, 5], classCount: 3);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels")
            .WithMessage("labels[1] must be in [0, 2] (classCount is 3), but it is 5.*");
    }

    [Fact]
    public void Empty_labels_cannot_infer_a_class_count()
    {
        var act = () => OneHot.Encode<double>([]);

        act.Should().Throw<ArgumentException>().WithParameterName("labels");
    }
}
