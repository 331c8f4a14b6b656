// Not Backprop.Tests.Metrics: a namespace of that name would hide the class Backprop.Metrics from every test in
// Backprop.Tests.* ("Metrics.Accuracy" would bind to the namespace).
namespace Backprop.Tests.MetricsTests;

public class ConfusionMatrixTests
{
    // Rows actual, columns predicted; class 3 never occurs and is never predicted:
    //            0  1  2  3
    // actual 0:  2  1  1  0
    // actual 1:  1  2  0  0
    // actual 2:  0  1  2  0
    // actual 3:  0  0  0  0
    private static readonly int[] Actual = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
    private static readonly int[] Predicted = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];

    private static ConfusionMatrix Example() => new(Actual, Predicted, 4);

    [Fact]
    public void Counts_every_pair_of_actual_and_predicted_class()
    {
        var matrix = Example();
        matrix.ToArray().Should().BeEquivalentTo(new int[,]
        {
            { 2, 1, 1, 0 },
            { 1, 2, 0, 0 },
            { 0, 1, 2, 0 },
            { 0, 0, 0, 0 },
        });
        matrix[0, 2].Should().Be(1);
        matrix[2, 1].Should().Be(1);
        matrix.SampleCount.Should().Be(10);
        matrix.ClassCount.Should().Be(4);
        Enumerable.Range(0, 4).Select(matrix.Support).Should().Equal(4, 3, 3, 0);
        Enumerable.Range(0, 4).Select(matrix.PredictedCount).Should().Equal(3, 4, 3, 0);
    }

    [Fact]
    public void Precision_recall_and_f1_per_class_with_zero_where_undefined()
    {
        var matrix = Example();
        // precision = TP / column sum, recall = TP / row sum, F1 = 2TP / (2TP + FP + FN).
        Enumerable.Range(0, 4).Select(matrix.Precision).Should().Equal([2.0 / 3, 2.0 / 4, 2.0 / 3, 0], Close);
        Enumerable.Range(0, 4).Select(matrix.Recall).Should().Equal([2.0 / 4, 2.0 / 3, 2.0 / 3, 0], Close);
        Enumerable.Range(0, 4).Select(matrix.F1).Should().Equal([4.0 / 7, 4.0 / 7, 2.0 / 3, 0], Close);
    }

    [Fact]
    public void Accuracy_and_macro_averages()
    {
        var matrix = Example();
        matrix.Accuracy.Should().BeApproximately(6.0 / 10, 1e-15);
        matrix.MacroPrecision.Should().BeApproximately((2.0 / 3 + 0.5 + 2.0 / 3 + 0) / 4, 1e-15);
        matrix.MacroRecall.Should().BeApproximately((0.5 + 2.0 / 3 + 2.0 / 3 + 0) / 4, 1e-15);
        matrix.MacroF1.Should().BeApproximately(19.0 / 42, 1e-15);
        matrix.Accuracy.Should().Be(Metrics.Accuracy(Actual, Predicted));
    }

    [Fact]
    public void A_class_predicted_but_never_present_has_zero_recall_and_f1_but_counted_precision()
    {
        var matrix = new ConfusionMatrix([0, 0], [1, 0], 2);
        matrix.Precision(1).Should().Be(0);
        matrix.Recall(1).Should().Be(0, "class 1 never occurs: recall is undefined and reported as 0");
        matrix.F1(1).Should().Be(0);
        matrix.Precision(0).Should().Be(1);
        matrix.Recall(0).Should().Be(0.5);
    }

    [Fact]
    public void Formats_a_readable_table()
    {
        Example().ToString().Should().Be(
            """
            Confusion matrix: 10 samples, 4 classes (rows: actual, columns: predicted)
            actual\predicted  0  1  2  3 |   support precision    recall        f1
                           0  2  1  1  0 |         4    0.6667    0.5000    0.5714
                           1  1  2  0  0 |         3    0.5000    0.6667    0.5714
                           2  0  1  2  0 |         3    0.6667    0.6667    0.6667
                           3  0  0  0  0 |         0    0.0000    0.0000    0.0000
            accuracy 0.6000, macro precision 0.4583, macro recall 0.4583, macro F1 0.4524
            """.ReplaceLineEndings(Environment.NewLine));
    }

    [Fact]
    public void Bad_input_throws_naming_the_argument()
    {
        FluentActions.Invoking(() => new ConfusionMatrix([0, 1], [0], 2)).Should().Throw<ArgumentException>().WithParameterName("predicted")
            .WithMessage("predicted must hold as many samples as actual (2), but it holds 1.*");
        FluentActions.Invoking(() => new ConfusionMatrix([], [], 2)).Should().Throw<ArgumentException>().WithParameterName("actual");
        FluentActions.Invoking(() => new ConfusionMatrix([0, 2], [0, 1], 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("actual")
            .WithMessage("actual[1] must be a class in [0, 1], but it is 2.*");
        FluentActions.Invoking(() => new ConfusionMatrix([0, 1], [-1, 1], 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("predicted");
        FluentActions.Invoking(() => new ConfusionMatrix([0], [0], 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classCount");
        FluentActions.Invoking(() => Example().Precision(4)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("class");
        FluentActions.Invoking(() => Example()[0, -1]).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("predicted");
    }

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-15;
}
