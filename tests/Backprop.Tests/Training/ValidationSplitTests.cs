using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

/// <summary>
/// <see cref="FitOptions.ValidationFraction"/> holds out exactly the test rows of <see cref="DataSplit"/> for the same
/// fraction and seed: training with the fraction equals training on DataSplit's training rows with its test rows as
/// validation data, bit for bit (every epoch's losses and accuracies, and the weights).
/// </summary>
public class ValidationSplitTests
{
    public enum Targets
    {
        Labels,
        OneHotRows,
        BinaryLabels,
        BinaryColumn,
        Regression,
    }

    public static TheoryData<Targets, int[], double, int> Cases()
    {
        var cases = new TheoryData<Targets, int[], double, int>();
        // Class sizes chosen so that rounding each class's share on its own would hold out other rows (or another
        // number of them) than largest remainders: 3 × round(0.5) = 3 rows against round(1.5) = 2.
        int[][] sizes = [[5, 5, 5], [7, 3], [40, 9, 1, 13], [1, 30]];
        foreach (var kind in new[] { Targets.Labels, Targets.OneHotRows })
        {
            foreach (var classSizes in sizes)
            {
                foreach (double fraction in new[] { 0.1, 0.25, 0.5 })
                {
                    cases.Add(kind, classSizes, fraction, 7);
                }
            }
        }

        foreach (var kind in new[] { Targets.BinaryLabels, Targets.BinaryColumn })
        {
            foreach (double fraction in new[] { 0.1, 0.3 })
            {
                cases.Add(kind, [9, 4], fraction, 3);
                cases.Add(kind, [25, 6], fraction, 11);
            }
        }

        foreach (double fraction in new[] { 0.1, 0.33, 0.9 })
        {
            cases.Add(Targets.Regression, [17], fraction, 5);
            cases.Add(Targets.Regression, [50], fraction, 0);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_validation_fraction_holds_out_the_test_rows_of_DataSplit(Targets kind, int[] classSizes, double fraction, int seed)
    {
        int rows = classSizes.Sum(), classes = classSizes.Length;
        var x = TestData.Random<double>(rows, 3, seed: 1);
        // Classes interleaved through the rows, so that a split that ignored them would not keep their proportions.
        int[] labels = Interleaved(classSizes);
        var options = new FitOptions { Epochs = 2, BatchSize = 4, Seed = seed, ValidationFraction = fraction };

        var (network, trainer) = Make(kind, classes);
        var withFraction = Fit(kind, trainer, x, labels, classes, options, validation: null);

        SplitIndices split = kind == Targets.Regression
            ? DataSplit.ShuffledIndices(rows, fraction, seed)
            : DataSplit.StratifiedIndices(labels, fraction, seed);
        var (reference, referenceTrainer) = Make(kind, classes);
        var trainX = DataSplit.SelectRows(x, split.Train);
        var testX = DataSplit.SelectRows(x, split.Test);
        int[] trainLabels = split.Train.Select(r => labels[r]).ToArray(), testLabels = split.Test.Select(r => labels[r]).ToArray();
        var validation = kind is Targets.Labels or Targets.BinaryLabels
            ? new ValidationData<double>(testX, testLabels)
            : new ValidationData<double>(testX, TargetMatrix(kind, testX, testLabels, classes));
        var withSplit = Fit(kind, referenceTrainer, trainX, trainLabels, classes,
            new FitOptions { Epochs = options.Epochs, BatchSize = options.BatchSize, Seed = seed }, validation);

        withFraction.Loss.Should().Equal(withSplit.Loss);
        withFraction.ValidationLoss.Should().Equal(withSplit.ValidationLoss).And.HaveCount(2);
        withFraction.Accuracy.Should().Equal(withSplit.Accuracy);
        withFraction.ValidationAccuracy.Should().Equal(withSplit.ValidationAccuracy);
        withFraction.ValidationAccuracy.Should().HaveCount(kind == Targets.Regression ? 0 : 2, "class rows are scored, so they were stratified");
        TrainerTests.Snapshot(network).Should().BeEquivalentTo(TrainerTests.Snapshot(reference), o => o.WithStrictOrdering());
    }

    [Fact]
    public void The_held_out_count_is_rounded_over_the_whole_set_not_per_class()
    {
        // Three classes of 5 rows at 10%: DataSplit holds out round(1.5) = 2 rows; rounding each class (0.5 → 1) held out 3.
        var x = TestData.Random<double>(15, 3, seed: 1);
        int[] labels = Interleaved([5, 5, 5]);
        var counter = new RowCounter();
        new Trainer<double>(new Network<double>(3, seed: 1, new Dense<double>(3, Activations.Softmax)), Losses.CrossEntropy, new Sgd(0.1))
            .Fit(x, labels, new FitOptions { Epochs = 1, BatchSize = 1, ValidationFraction = 0.1, Observers = [counter] });

        counter.Batches.Should().Be(13);
        DataSplit.StratifiedIndices(labels, 0.1, 0).Test.Should().HaveCount(2);
    }

    private static int[] Interleaved(int[] classSizes)
    {
        var left = (int[])classSizes.Clone();
        var labels = new List<int>();
        while (left.Any(n => n > 0))
        {
            for (int c = 0; c < left.Length; c++)
            {
                if (left[c]-- > 0)
                {
                    labels.Add(c);
                }
            }
        }

        return [.. labels];
    }

    private static (Network<double> Network, Trainer<double> Trainer) Make(Targets kind, int classes)
    {
        var network = kind switch
        {
            Targets.BinaryLabels or Targets.BinaryColumn => new Network<double>(3, seed: 2, new Dense<double>(4, Activations.Tanh), new Dense<double>(1, Activations.Sigmoid)),
            Targets.Regression => new Network<double>(3, seed: 2, new Dense<double>(4, Activations.Tanh), new Dense<double>(2)),
            _ => new Network<double>(3, seed: 2, new Dense<double>(4, Activations.Tanh), new Dense<double>(Math.Max(classes, 2), Activations.Softmax)),
        };
        ILossFunction loss = kind switch
        {
            Targets.BinaryLabels or Targets.BinaryColumn => Losses.BinaryCrossEntropy,
            Targets.Regression => Losses.MeanSquaredError,
            _ => Losses.CrossEntropy,
        };
        return (network, new Trainer<double>(network, loss, new Sgd(0.1)));
    }

    private static TrainingHistory Fit(Targets kind, Trainer<double> trainer, Matrix<double> x, int[] labels, int classes, FitOptions options, ValidationData<double>? validation) =>
        kind is Targets.Labels or Targets.BinaryLabels
            ? trainer.Fit(x, labels, options, validation)
            : trainer.Fit(x, TargetMatrix(kind, x, labels, classes), options, validation);

    private static Matrix<double> TargetMatrix(Targets kind, Matrix<double> x, int[] labels, int classes) => kind switch
    {
        Targets.OneHotRows => OneHot.Encode<double>(labels, Math.Max(classes, 2)),
        Targets.BinaryColumn => Matrix<double>.Build.Dense(labels.Length, 1, (r, _) => labels[r]),
        _ => Matrix<double>.Build.Dense(x.RowCount, 2, (r, c) => x[r, c] * 0.5 + x[r, 2]),
    };

    private sealed class RowCounter : ITrainingObserver
    {
        public int Batches { get; private set; }

        public void OnBatchEnd(int epoch, int batch, double loss) => Batches++;
    }
}
