using Backprop.Tests.Properties;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Training;

/// <summary>
/// <c>Fit</c> on row-major memory (<see cref="Trainer{T}.Fit(ReadOnlyMemory{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/>
/// and its overloads) trains exactly as <c>Fit</c> on the matrix whose rows the memory holds: the same history and the
/// same weights, bit for bit, with and without shuffling, a validation fraction, sample weights, on one and two threads;
/// it rejects bad memory precisely, and allocates nothing per step.
/// </summary>
public class RowMajorFitTests
{
    private const int Inputs = 12;
    private const int Classes = 3;

    public static TheoryData<int, bool, double, bool, bool> Cases()
    {
        var cases = new TheoryData<int, bool, double, bool, bool>();
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (bool shuffle in new[] { false, true })
            {
                foreach (double fraction in new[] { 0.0, 0.25 })
                {
                    foreach (bool weighted in new[] { false, true })
                    {
                        cases.Add(threads, shuffle, fraction, weighted, false);
                    }
                }
            }

            // Products split across two threads (the feeder's shared gather).
            cases.Add(threads, true, 0.25, true, true);
            cases.Add(threads, true, 0.0, false, true);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Labels_on_row_major_memory_train_as_the_matrix_does(int threads, bool shuffle, double fraction, bool weighted, bool wide)
    {
        var (rows, labels) = Data(97, seed: 5);
        var weights = weighted ? Enumerable.Range(0, labels.Length).Select(i => 0.25 + (i % 7) * 0.5).ToArray() : null;
        var options = new FitOptions { Epochs = 3, BatchSize = 8, Shuffle = shuffle, Seed = 17, ValidationFraction = fraction };
        var matrix = Matrix<double>.Build.DenseOfRowMajor(labels.Length, Inputs, rows);

        var (expectedNetwork, expectedTrainer) = Make(threads, wide);
        var expected = weights is null
            ? expectedTrainer.Fit(matrix, labels, options)
            : expectedTrainer.Fit(matrix, labels, weights, options);
        var (actualNetwork, actualTrainer) = Make(threads, wide);
        var actual = weights is null
            ? actualTrainer.Fit(rows, labels, options)
            : actualTrainer.Fit(rows, labels, weights, options);

        SameHistory(expected, actual);
        BitAssert.SameParameters(expectedNetwork, actualNetwork, "weights after the row-major Fit");
    }

    [Theory]
    [InlineData(1, 0.0, false)]
    [InlineData(2, 0.3, true)]
    public void Target_rows_on_row_major_memory_train_as_the_matrices_do(int threads, double fraction, bool weighted)
    {
        var (rows, labels) = Data(61, seed: 9);
        var targets = new double[labels.Length * Classes];
        for (int r = 0; r < labels.Length; r++)
        {
            targets[r * Classes + labels[r]] = 1;
        }

        var weights = weighted ? Enumerable.Range(0, labels.Length).Select(i => 1.0 + (i % 3)).ToArray() : null;
        var options = new FitOptions { Epochs = 2, BatchSize = 5, Seed = 3, ValidationFraction = fraction };
        var x = Matrix<double>.Build.DenseOfRowMajor(labels.Length, Inputs, rows);
        var y = Matrix<double>.Build.DenseOfRowMajor(labels.Length, Classes, targets);

        var (expectedNetwork, expectedTrainer) = Make(threads, wide: false);
        var expected = weights is null ? expectedTrainer.Fit(x, y, options) : expectedTrainer.Fit(x, y, weights, options);
        var (actualNetwork, actualTrainer) = Make(threads, wide: false);
        var actual = weights is null
            ? actualTrainer.Fit(rows.AsMemory(), targets.AsMemory(), options)
            : actualTrainer.Fit(rows.AsMemory(), targets.AsMemory(), weights, options);

        SameHistory(expected, actual);
        BitAssert.SameParameters(expectedNetwork, actualNetwork, "weights after the row-major Fit");
    }

    [Fact]
    public void A_slice_of_a_larger_array_is_read_in_place()
    {
        var (rows, labels) = Data(40, seed: 2);
        var padded = new double[rows.Length + 2 * Inputs];
        rows.CopyTo(padded, Inputs);
        padded[0] = double.NaN;
        padded[^1] = double.NaN;
        var options = new FitOptions { Epochs = 2, BatchSize = 7, Seed = 1 };

        var (expectedNetwork, expectedTrainer) = Make(1, wide: false);
        var expected = expectedTrainer.Fit(rows, labels, options);
        var (actualNetwork, actualTrainer) = Make(1, wide: false);
        var actual = actualTrainer.Fit(padded.AsMemory(Inputs, rows.Length), labels, options);

        SameHistory(expected, actual);
        BitAssert.SameParameters(expectedNetwork, actualNetwork, "weights after training on a slice");
    }

    [Fact]
    public void Memory_of_the_wrong_length_is_rejected_with_the_lengths()
    {
        var (rows, labels) = Data(10, seed: 1);
        var (_, trainer) = Make(1, wide: false);

        FluentActions.Invoking(() => trainer.Fit(rows.AsMemory(0, rows.Length - 1), labels))
            .Should().Throw<ArgumentException>().WithParameterName("inputs")
            .WithMessage("inputs must hold 120 values (10 rows, one per label in labels, × the network's input size 12), but it holds 119.*");
        FluentActions.Invoking(() => trainer.Fit(rows, labels[..9]))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("inputs must hold 108 values (9 rows*but it holds 120.*");
        FluentActions.Invoking(() => trainer.Fit((double[])null!, labels))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("*but it holds 0 (a null array converts to empty memory).*");
        FluentActions.Invoking(() => trainer.Fit(rows, (int[])null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("labels");
        FluentActions.Invoking(() => trainer.Fit(Array.Empty<double>(), Array.Empty<int>()))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("inputs must hold at least one row (sample), but it is empty*");

        var targets = new double[10 * Classes];
        FluentActions.Invoking(() => trainer.Fit(rows.AsMemory(0, 115), targets.AsMemory()))
            .Should().Throw<ArgumentException>().WithParameterName("inputs")
            .WithMessage("inputs must hold whole rows of the network's input size 12 values, but it holds 115 = 9 rows and 7 values more.*");
        FluentActions.Invoking(() => trainer.Fit(rows.AsMemory(), targets.AsMemory(0, 29)))
            .Should().Throw<ArgumentException>().WithParameterName("targets")
            .WithMessage("targets must hold 30 values (10 rows of inputs × the network's output size 3), but it holds 29.*");
        FluentActions.Invoking(() => trainer.Fit(rows, labels, new double[9]))
            .Should().Throw<ArgumentException>().WithParameterName("sampleWeights");
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 7)]
    [InlineData(9, 11)]
    public void A_value_that_is_not_finite_is_named_by_row_and_column(int row, int column)
    {
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            var (rows, labels) = Data(10, seed: 4);
            rows[row * Inputs + column] = bad;
            var (_, trainer) = Make(1, wide: false);
            string expected = $"inputs must contain only finite numbers, but the element at row {row}, column {column} is {bad.ToString(System.Globalization.CultureInfo.InvariantCulture)}.*";

            FluentActions.Invoking(() => trainer.Fit(rows, labels))
                .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage(expected);
            var targets = new double[10 * Classes];
            FluentActions.Invoking(() => trainer.Fit(rows.AsMemory(), targets.AsMemory()))
                .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage(expected);

            var (clean, _) = Data(10, seed: 4);
            targets[row * Classes + (column % Classes)] = bad;
            FluentActions.Invoking(() => trainer.Fit(clean.AsMemory(), targets.AsMemory()))
                .Should().Throw<ArgumentException>().WithParameterName("targets")
                .WithMessage($"targets must contain only finite numbers, but the element at row {row}, column {column % Classes} is *");
        }
    }

    [Fact]
    public void Labels_out_of_range_are_rejected_as_for_a_matrix()
    {
        var (rows, labels) = Data(10, seed: 6);
        labels[4] = Classes;
        var (_, trainer) = Make(1, wide: false);
        FluentActions.Invoking(() => trainer.Fit(rows, labels))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels").WithMessage("labels[4] is 3*");
    }

    [Theory]
    [InlineData(1, false, 0.0)]
    [InlineData(2, false, 0.2)]
    [InlineData(2, true, 0.0)]
    [InlineData(2, true, 0.2)]
    public void A_step_of_a_row_major_Fit_allocates_nothing(int threads, bool wide, double fraction)
    {
        var (rows, labels) = Data(2_000, seed: 8);
        var floats = Array.ConvertAll(rows, v => (float)v);
        var network = new Network<float>(Inputs, 3,
            new Dense<float>(wide ? 512 : 16, Activations.ReLU), new Dense<float>(Classes, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 << 16 };
        if (wide)
        {
            // Split products: the batch is gathered on both threads (without: by the idle worker, in the background).
            network.Context = context;
        }

        var meter = new StepAllocations();
        new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01))
            .Fit(floats, labels, Enumerable.Repeat(1.0, labels.Length).ToArray(),
                new FitOptions { Epochs = 3, BatchSize = 16, Seed = 2, ValidationFraction = fraction, Observers = [meter] });

        meter.Least.Should().Be(0, "a steady-state step (batch copy from the caller's memory included) allocates nothing");
    }

    [Fact]
    public void Evaluation_on_row_major_memory_gives_the_bits_of_the_matrix_evaluation()
    {
        var (rows, labels) = Data(53, seed: 12);
        var targets = new double[labels.Length * Classes];
        for (int r = 0; r < labels.Length; r++)
        {
            targets[r * Classes + labels[r]] = 1;
        }

        var (_, trainer) = Make(1, wide: false);
        trainer.Fit(rows, labels, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 4 });
        var x = Matrix<double>.Build.DenseOfRowMajor(labels.Length, Inputs, rows);
        var y = Matrix<double>.Build.DenseOfRowMajor(labels.Length, Classes, targets);

        BitConverter.DoubleToInt64Bits(trainer.Evaluate(rows.AsMemory(), targets.AsMemory()))
            .Should().Be(BitConverter.DoubleToInt64Bits(trainer.Evaluate(x, y)), "Evaluate on memory against the matrices");
        SameResult(trainer.EvaluateMetrics(x, y), trainer.EvaluateMetrics(rows.AsMemory(), targets.AsMemory()), "EvaluateMetrics with target rows");
        SameResult(trainer.EvaluateMetrics(x, labels), trainer.EvaluateMetrics(rows, labels), "EvaluateMetrics with labels");

        FluentActions.Invoking(() => trainer.Evaluate(rows.AsMemory(0, 50), targets.AsMemory()))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("inputs must hold whole rows*but it holds 50*");
        FluentActions.Invoking(() => trainer.EvaluateMetrics(rows.AsMemory(), targets.AsMemory(1)))
            .Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => trainer.EvaluateMetrics(rows, labels[..50]))
            .Should().Throw<ArgumentException>().WithParameterName("inputs");
        rows[7] = double.NaN;
        FluentActions.Invoking(() => trainer.EvaluateMetrics(rows, labels))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("*row 0, column 7 is NaN*");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FitAsync_on_row_major_memory_trains_as_Fit_does(bool useTargets)
    {
        var (rows, labels) = Data(45, seed: 13);
        var targets = new double[labels.Length * Classes];
        for (int r = 0; r < labels.Length; r++)
        {
            targets[r * Classes + labels[r]] = 1;
        }

        var options = new FitOptions { Epochs = 2, BatchSize = 6, Seed = 8 };
        var (expectedNetwork, expectedTrainer) = Make(1, wide: false);
        var expected = useTargets ? expectedTrainer.Fit(rows.AsMemory(), targets.AsMemory(), options) : expectedTrainer.Fit(rows, labels, options);
        var (actualNetwork, actualTrainer) = Make(1, wide: false);
        var actual = useTargets
            ? await actualTrainer.FitAsync(rows.AsMemory(), targets.AsMemory(), options)
            : await actualTrainer.FitAsync(rows, labels, options);

        SameHistory(expected, actual);
        BitAssert.SameParameters(expectedNetwork, actualNetwork, "weights after FitAsync on memory");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Row_major_validation_data_scores_every_epoch_as_the_matrix_does(bool labelled, bool weighted)
    {
        // Early stopping that restores the best weights: the validation scores decide the weights the network ends with.
        var (rows, labels) = Data(80, seed: 6);
        var (validationRows, validationLabels) = Data(23, seed: 7);
        double[] validationTargets = OneHotRows(validationLabels);
        double[]? validationWeights = weighted ? Enumerable.Range(0, 23).Select(i => 0.5 + (i % 3)).ToArray() : null;
        var options = new FitOptions { Epochs = 6, BatchSize = 8, Seed = 3, EarlyStopping = new EarlyStopping { Patience = 2, RestoreBestWeights = true } };
        var validationMatrix = Matrix<double>.Build.DenseOfRowMajor(23, Inputs, validationRows);
        var matrixValidation = labelled
            ? new ValidationData<double>(validationMatrix, validationLabels) { SampleWeights = validationWeights }
            : new ValidationData<double>(validationMatrix, Matrix<double>.Build.DenseOfRowMajor(23, Classes, validationTargets)) { SampleWeights = validationWeights };
        var rowMajorValidation = labelled
            ? new ValidationData<double>(validationRows, validationLabels) { SampleWeights = validationWeights }
            : new ValidationData<double>(validationRows, validationTargets.AsMemory()) { SampleWeights = validationWeights };
        rowMajorValidation.IsRowMajor.Should().BeTrue();
        rowMajorValidation.Inputs.Should().BeNull();

        var (expectedNetwork, expectedTrainer) = Make(1, wide: false);
        var expected = expectedTrainer.Fit(rows, labels, options, matrixValidation);
        var (actualNetwork, actualTrainer) = Make(1, wide: false);
        var actual = actualTrainer.Fit(rows, labels, options, rowMajorValidation);

        expected.ValidationLoss.Should().HaveCount(expected.EpochsCompleted);
        SameHistory(expected, actual);
        BitAssert.SameParameters(expectedNetwork, actualNetwork, "weights restored from the best validation epoch");
    }

    [Fact]
    public void Row_major_validation_data_of_the_wrong_shape_is_rejected_naming_it()
    {
        var (rows, labels) = Data(40, seed: 8);
        var (validationRows, validationLabels) = Data(10, seed: 9);
        var options = new FitOptions { Epochs = 1, BatchSize = 8 };
        var trainer = Make(1, wide: false).Trainer;

        FluentActions.Invoking(() => trainer.Fit(rows, labels, options, new ValidationData<double>(validationRows.AsMemory(0, (10 * Inputs) - 1), OneHotRows(validationLabels).AsMemory())))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("validation.RowMajorInputs");
        FluentActions.Invoking(() => trainer.Fit(rows, labels, options, new ValidationData<double>(validationRows, OneHotRows(validationLabels).AsMemory(0, (10 * Classes) - 1))))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("validation.RowMajorTargets");
        FluentActions.Invoking(() => trainer.Fit(rows, labels, options, new ValidationData<double>(validationRows, validationLabels[..9])))
            .Should().Throw<ArgumentException>().WithMessage("*validation*");
        FluentActions.Invoking(() => new ValidationData<double>(validationRows, (int[])null!))
            .Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("labels");
    }

    private static double[] OneHotRows(int[] labels)
    {
        double[] targets = new double[labels.Length * Classes];
        for (int r = 0; r < labels.Length; r++)
        {
            targets[(r * Classes) + labels[r]] = 1;
        }

        return targets;
    }

    private static void SameResult(EvaluationResult expected, EvaluationResult actual, string what)
    {
        actual.SampleCount.Should().Be(expected.SampleCount, what);
        BitConverter.DoubleToInt64Bits(actual.Loss).Should().Be(BitConverter.DoubleToInt64Bits(expected.Loss), what);
        actual.Accuracy.Should().Be(expected.Accuracy, what);
        actual.BalancedAccuracy.Should().Be(expected.BalancedAccuracy, what);
        actual.Kind.Should().Be(expected.Kind, what);
    }

    private static void SameHistory(TrainingHistory expected, TrainingHistory actual)
    {
        actual.Epochs.Should().HaveCount(expected.Epochs.Count);
        for (int e = 0; e < expected.Epochs.Count; e++)
        {
            var (x, y) = (expected.Epochs[e], actual.Epochs[e]);
            BitConverter.DoubleToInt64Bits(y.Loss).Should().Be(BitConverter.DoubleToInt64Bits(x.Loss), $"epoch {e + 1}'s loss");
            y.ValidationLoss.Should().Be(x.ValidationLoss, $"epoch {e + 1}'s validation loss");
            y.Accuracy.Should().Be(x.Accuracy, $"epoch {e + 1}'s accuracy");
            y.ValidationAccuracy.Should().Be(x.ValidationAccuracy, $"epoch {e + 1}'s validation accuracy");
        }
    }

    private static (Network<double> Network, Trainer<double> Trainer) Make(int threads, bool wide)
    {
        var network = new Network<double>(Inputs, 11,
            new Dense<double>(wide ? 600 : 10, Activations.Tanh), new Dense<double>(Classes, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        if (wide)
        {
            // A threshold low enough that two threads split the products, and the feeder gathers each batch on both.
            network.Context = new ComputeContext(2) { ParallelThresholdFlops = 1 << 16 };
        }

        return (network, new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.1, momentum: 0.5)));
    }

    /// <summary>Row-major samples with a class each, every class present.</summary>
    private static (double[] Rows, int[] Labels) Data(int count, int seed)
    {
        var random = new DeterministicRandom(seed);
        var labels = Enumerable.Range(0, count).Select(i => i % Classes).ToArray();
        var rows = new double[count * Inputs];
        for (int r = 0; r < count; r++)
        {
            for (int c = 0; c < Inputs; c++)
            {
                rows[r * Inputs + c] = random.NextDouble() - 0.5 + (c % Classes == labels[r] ? 0.5 : 0);
            }
        }

        return (rows, labels);
    }

    /// <summary>The fewest bytes the training thread allocated over a window of 10 batches of the last epoch.</summary>
    private sealed class StepAllocations : ITrainingObserver
    {
        private long _before;

        public long Least { get; private set; } = long.MaxValue;

        public void OnBatchBegin(int epoch, int batch)
        {
            if (epoch == 3 && batch % 10 == 1)
            {
                _before = GC.GetAllocatedBytesForCurrentThread();
            }
        }

        public void OnBatchEnd(int epoch, int batch, double loss)
        {
            if (epoch == 3 && batch % 10 == 0)
            {
                Least = Math.Min(Least, GC.GetAllocatedBytesForCurrentThread() - _before);
            }
        }
    }
}
