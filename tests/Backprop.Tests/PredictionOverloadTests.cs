using System.Collections.Concurrent;
using System.Numerics;
using Backprop.Tests.Properties;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests;

/// <summary>
/// The prediction overloads on caller buffers (<c>Predict(span, rows, span)</c>, <c>Predict(matrix, matrix)</c>), the
/// column-major read of MathNet batches and the dense layers' transposed copy of their weights with its matrix-vector
/// kernel: each path gives the bits of the others and of a plainly written forward pass, allocates nothing per call,
/// rejects bad buffers precisely, and never predicts from weights that have changed since the copy was made.
/// </summary>
public class PredictionOverloadTests
{
    /// <summary>Shapes that cross the kernels' edges: K over one block (the GEMM's longest, <c>KcMax</c>) and two, widths
    /// below, at and above one and eight vectors, and batches across the 256-row chunks.</summary>
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 5, 3, 2, 1 },
        { 17, 16, 5, 7 },
        { 300, 64, 10, 257 },
        { 784, 128, 10, 600 },
        { 257, 129, 33, 3 },
        { 64, 200, 1, 256 },
        { 1100, 40, 10, 70 },
        { 2100, 17, 3, 9 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_overload_gives_the_bits_of_the_others_and_of_a_plain_forward_pass_in_float(int inputs, int hidden, int outputs, int rows) =>
        EveryOverloadAgrees<float>(inputs, hidden, outputs, rows, 1e-5);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_overload_gives_the_bits_of_the_others_and_of_a_plain_forward_pass_in_double(int inputs, int hidden, int outputs, int rows) =>
        EveryOverloadAgrees<double>(inputs, hidden, outputs, rows, 1e-12);

    private static void EveryOverloadAgrees<T>(int inputs, int hidden, int outputs, int rows, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = new Network<T>(inputs, 3, new Dense<T>(hidden, Activations.ReLU, Initializers.HeUniform), new Dense<T>(outputs, Activations.Tanh));
        var x = TestData.Random<T>(rows, inputs, seed: 5);
        Train(network, inputs, outputs);
        var reference = PlainForward(Clone(network), x);

        // The first prediction at these weights transposes per call; from the second on the layers read their copy.
        T[] first = network.Predict(x).ToRowMajorArray();
        for (int pass = 0; pass < 2; pass++)
        {
            T[] fromMatrix = network.Predict(x).ToRowMajorArray();
            BitAssert.Identical<T>(first, fromMatrix, $"Predict(matrix), pass {pass}");

            var into = Matrix<T>.Build.Dense(rows, outputs);
            network.Predict(x, into);
            BitAssert.Identical<T>(first, into.ToRowMajorArray(), $"Predict(matrix, matrix), pass {pass}");

            var sparse = Matrix<T>.Build.Sparse(rows, outputs);
            network.Predict(Matrix<T>.Build.SparseOfMatrix(x), sparse);
            BitAssert.Identical<T>(first, sparse.ToRowMajorArray(), $"Predict(sparse matrix, sparse matrix), pass {pass}");

            var spans = new T[rows * outputs];
            network.Predict(x.ToRowMajorArray(), rows, spans);
            BitAssert.Identical<T>(first, spans, $"Predict(span, rows, span), pass {pass}");

            var destination = new T[outputs];
            for (int r = 0; r < rows; r += Math.Max(1, rows / 5))
            {
                network.Predict(x.Row(r).ToArray(), destination);
                BitAssert.Identical<T>(first.AsSpan(r * outputs, outputs), destination, $"Predict(row {r}, destination), pass {pass}");
            }
        }

        network.Layers.OfType<Dense<T>>().Should().OnlyContain(d => d.HasCurrentPredictionWeights, "the second prediction at unchanged weights makes the copy");
        for (int i = 0; i < first.Length; i++)
        {
            double.CreateChecked(first[i]).Should().BeApproximately(reference[i / outputs, i % outputs], tolerance, "element {0} against the plain forward pass", i);
        }
    }

    [Fact]
    public void A_network_whose_first_layer_is_not_dense_reads_a_matrix_through_its_own_copy()
    {
        var network = new Network<float>(new TensorShape(1, 6, 6), 2,
            new Conv2D<float>(3, 3, 3, activation: Activations.ReLU),
            new Dense<float>(4, Activations.Softmax));
        var x = TestData.Random<float>(300, 36, seed: 8);
        float[] expected = new float[300 * 4];
        float[] rowMajor = x.ToRowMajorArray();
        var row = new float[4];
        for (int r = 0; r < 300; r++)
        {
            network.Predict(rowMajor.AsSpan(r * 36, 36), row);
            row.CopyTo(expected, r * 4);
        }

        BitAssert.Identical<float>(expected, network.Predict(x).ToRowMajorArray(), "Predict(matrix) of a convolutional network");
        var into = Matrix<float>.Build.Dense(300, 4);
        network.Predict(x, into);
        BitAssert.Identical<float>(expected, into.ToRowMajorArray(), "Predict(matrix, matrix) of a convolutional network");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(300)]
    public void A_matrix_can_be_predicted_in_place_when_the_widths_agree(int rows)
    {
        var network = new Network<double>(6, 2, new Dense<double>(9, Activations.Tanh), new Dense<double>(6));
        var x = TestData.Random<double>(rows, 6, seed: 3);
        double[] expected = network.Predict(x).ToRowMajorArray();
        network.Predict(x, x);
        BitAssert.Identical<double>(expected, x.ToRowMajorArray(), "Predict(x, x)");
    }

    [Fact]
    public void Bad_buffers_are_rejected_with_the_argument_and_the_sizes()
    {
        var network = new Network<float>(4, new Dense<float>(3), new Dense<float>(2));
        var inputs = new float[3 * 4];
        var outputs = new float[3 * 2];

        FluentActions.Invoking(() => network.Predict(inputs, 0, outputs)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rows");
        FluentActions.Invoking(() => network.Predict(inputs.AsSpan(1), 3, outputs)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*12 values*3 rows*4*holds 11*");
        FluentActions.Invoking(() => network.Predict(inputs, 3, new float[7])).Should().Throw<ArgumentException>()
            .WithParameterName("outputs").WithMessage("*6 values*3 rows*2*holds 7*");
        FluentActions.Invoking(() => network.Predict(inputs, 2, outputs)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*8 values*holds 12*");
        var shared = new float[12];
        FluentActions.Invoking(() => network.Predict(shared.AsSpan(0, 8), 2, shared.AsSpan(4, 4))).Should().Throw<ArgumentException>()
            .WithParameterName("outputs").WithMessage("*overlap*");
        inputs[5] = float.NaN;
        FluentActions.Invoking(() => network.Predict(inputs, 3, outputs)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*row 1, column 1 is NaN*");

        var x = Matrix<float>.Build.Dense(3, 4);
        FluentActions.Invoking(() => network.Predict(x, (Matrix<float>)null!)).Should().Throw<ArgumentNullException>().WithParameterName("outputs");
        FluentActions.Invoking(() => network.Predict(null!, Matrix<float>.Build.Dense(3, 2))).Should().Throw<ArgumentNullException>().WithParameterName("inputs");
        FluentActions.Invoking(() => network.Predict(x, Matrix<float>.Build.Dense(4, 2))).Should().Throw<ArgumentException>()
            .WithParameterName("outputs").WithMessage("*3 × 2*it is 4 × 2*");
        FluentActions.Invoking(() => network.Predict(x, Matrix<float>.Build.Dense(3, 3))).Should().Throw<ArgumentException>()
            .WithParameterName("outputs").WithMessage("*3 × 2*it is 3 × 3*");
        FluentActions.Invoking(() => network.Predict(Matrix<float>.Build.Dense(3, 5), Matrix<float>.Build.Dense(3, 2))).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*5 values per sample*expects 4*");

        // A column-major batch names the first bad value in row order, as a row-major one does.
        x[2, 0] = float.PositiveInfinity;
        x[1, 3] = float.NaN;
        FluentActions.Invoking(() => network.Predict(x)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*row 1, column 3 is NaN*");
        FluentActions.Invoking(() => network.Predict(x, Matrix<float>.Build.Dense(3, 2))).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*row 1, column 3 is NaN*");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_overloads_on_caller_buffers_allocate_nothing_per_call(int threads)
    {
        var network = new Network<float>(784, 1, new Dense<float>(128, Activations.ReLU), new Dense<float>(10, Activations.Softmax))
        {
            MaxDegreeOfParallelism = threads,
        };
        var x = TestData.Random<float>(600, 784, seed: 2);
        float[] rowMajor = x.ToRowMajorArray();
        var outputs = new float[600 * 10];
        var into = Matrix<float>.Build.Dense(600, 10);
        var destination = new float[10];

        AllocationMeter.SteadyStateBytes(() => network.Predict(rowMajor, 600, outputs), calls: 10).Should().Be(0, "Predict(span, rows, span)");
        AllocationMeter.SteadyStateBytes(() => network.Predict(x, into), calls: 10).Should().Be(0, "Predict(matrix, matrix)");
        AllocationMeter.SteadyStateBytes(() => network.Predict(rowMajor.AsSpan(0, 784), destination)).Should().Be(0, "Predict(sample, destination)");
        network.Layers.OfType<Dense<float>>().Should().OnlyContain(d => d.HasCurrentPredictionWeights);
    }

    [Fact]
    public void Predictions_follow_every_change_of_the_weights()
    {
        var network = new Network<float>(300, 4, new Dense<float>(40, Activations.ReLU), new Dense<float>(6, Activations.Softmax));
        var x = TestData.Random<float>(20, 300, seed: 9);
        float[] sample = x.Row(3).ToArray();
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Adam(0.01));
        int[] labels = Enumerable.Range(0, 20).Select(i => i % 6).ToArray();

        void PredictionsMatchAFreshCopy(string after)
        {
            for (int pass = 0; pass < 3; pass++)
            {
                var copy = Clone(network);
                BitAssert.Identical<float>(copy.Predict(sample), network.Predict(sample), $"one sample after {after}, pass {pass}");
                BitAssert.Identical<float>(copy.Predict(x).ToRowMajorArray(), network.Predict(x).ToRowMajorArray(), $"a batch after {after}, pass {pass}");
            }
        }

        PredictionsMatchAFreshCopy("building");
        var dense = (Dense<float>)network.Layers[0];
        dense.HasCurrentPredictionWeights.Should().BeTrue();

        // A training step, then Fit with early stopping that restores the best weights at its end.
        trainer.TrainBatch(x, OneHot.Encode<float>(labels, 6));
        dense.HasCurrentPredictionWeights.Should().BeFalse("a training step changes the weights");
        PredictionsMatchAFreshCopy("a training step");
        trainer.Fit(x, labels, new FitOptions
        {
            Epochs = 6,
            BatchSize = 5,
            EarlyStopping = new EarlyStopping { Patience = 1, RestoreBestWeights = true },
        });
        PredictionsMatchAFreshCopy("a fit that restores its best weights");

        // A gradient check perturbs the weights and puts them back.
        var doubles = new Network<double>(6, 1, new Dense<double>(5, Activations.Tanh), new Dense<double>(2));
        var xd = TestData.Random<double>(4, 6, seed: 1);
        double[] before = doubles.Predict(xd.Row(0).ToArray());
        doubles.Predict(xd.Row(0).ToArray());
        GradientCheck.Run(doubles, Losses.MeanSquaredError, xd, TestData.Random<double>(4, 2, seed: 2));
        BitAssert.Identical<double>(before, doubles.Predict(xd.Row(0).ToArray()), "after a gradient check");

        // A loaded network, and a write through Weights after the copy was made.
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        var loaded = Network<float>.Load(stream);
        BitAssert.Identical<float>(network.Predict(sample), loaded.Predict(sample), "a loaded network");
        BitAssert.Identical<float>(network.Predict(sample), loaded.Predict(sample), "a loaded network, second prediction");
        float[] unchanged = network.Predict(sample);
        var weights = dense.Weights;
        dense.HasCurrentPredictionWeights.Should().BeFalse("the live storage has been handed out");
        weights[7, 2] += 0.5f;
        float[] changed = network.Predict(sample);
        changed.Should().NotEqual(unchanged, "a write through Weights is seen by the next prediction");
        PredictionsMatchAFreshCopy("a write through Weights");
        weights[7, 2] -= 0.25f;
        PredictionsMatchAFreshCopy("a second write through the same Weights matrix");

        // A write through Parameter.Values of another network.
        var other = Clone(network);
        other.Predict(sample);
        other.Predict(sample);
        ((Dense<float>)other.Layers[1]).HasCurrentPredictionWeights.Should().BeTrue();
        Span<float> values = other.Layers[1].Parameters[0].Values;
        values[4] += 1;
        BitAssert.Identical<float>(Clone(other).Predict(sample), other.Predict(sample), "a write through Parameter.Values");
        values[5] += 1;
        BitAssert.Identical<float>(Clone(other).Predict(sample), other.Predict(sample), "a second write through the same span");
    }

    [Fact]
    public void Threads_that_race_to_make_the_copy_predict_the_same_bits_while_another_network_trains()
    {
        var network = new Network<float>(200, 6, new Dense<float>(96, Activations.ReLU), new Dense<float>(7, Activations.Softmax));
        var x = TestData.Random<float>(64, 200, seed: 4);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 7).ToArray();
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.05));
        var busy = new Network<float>(200, 7, new Dense<float>(96, Activations.ReLU), new Dense<float>(7, Activations.Softmax));
        var busyTrainer = new Trainer<float>(busy, Losses.CrossEntropy, new Sgd(0.05));
        using var stop = new CancellationTokenSource();
        var training = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                busyTrainer.Fit(x, labels, new FitOptions { Epochs = 1, BatchSize = 8 });
            }
        }) { IsBackground = true, Name = "training another network" };
        training.Start();

        var failures = new ConcurrentQueue<string>();
        try
        {
            for (int round = 0; round < 20; round++)
            {
                trainer.TrainBatch(x.SubMatrix(round % 8 * 8, 8, 0, 200), OneHot.Encode<float>(labels.Skip(round % 8 * 8).Take(8).ToArray(), 7));
                var copy = Clone(network);
                float[] expectedBatch = copy.Predict(x).ToRowMajorArray();
                float[][] expectedRows = Enumerable.Range(0, 8).Select(r => copy.Predict(x.Row(r).ToArray())).ToArray();
                using var start = new Barrier(8);
                Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
                {
                    start.SignalAndWait();
                    var destination = new float[7];
                    float[] row = x.Row(thread).ToArray();
                    for (int i = 0; i < 20; i++)
                    {
                        network.Predict(row, destination);
                        if (!destination.SequenceEqual(expectedRows[thread]))
                        {
                            failures.Enqueue($"round {round}, thread {thread}, call {i}: one sample");
                        }

                        if (i % 5 == thread % 5)
                        {
                            var outputs = new float[64 * 7];
                            network.Predict(x.ToRowMajorArray(), 64, outputs);
                            if (!outputs.SequenceEqual(expectedBatch))
                            {
                                failures.Enqueue($"round {round}, thread {thread}, call {i}: a batch");
                            }
                        }
                    }
                });
            }
        }
        finally
        {
            stop.Cancel();
            training.Join();
        }

        failures.Should().BeEmpty();
    }

    /// <summary>Batches of one chunk (128 rows), of two with a short one, and of many; float and double.</summary>
    public static TheoryData<int, bool> ParallelBatches => new()
    {
        { 100, false },
        { 129, false },
        { 300, true },
        { 1000, false },
        { 1000, true },
    };

    [Theory]
    [MemberData(nameof(ParallelBatches))]
    public void A_batch_predicted_on_two_threads_has_the_bits_of_one_thread(int rows, bool useDouble)
    {
        if (useDouble)
        {
            PredictsTheSameOnTwoThreads<double>(rows);
        }
        else
        {
            PredictsTheSameOnTwoThreads<float>(rows);
        }
    }

    private static void PredictsTheSameOnTwoThreads<T>(int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var one = new Network<T>(40, 3, new Dense<T>(33, Activations.ReLU), new Dense<T>(7, Activations.Softmax));
        Train(one, 40, 7);
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var two = Clone(one);
        two.Context = context;
        two.MaxDegreeOfParallelism = 2;
        var x = TestData.Random<T>(rows, 40, seed: 12);
        T[] rowMajor = x.ToRowMajorArray();

        // Twice each: the first prediction at these weights transposes them per call, the second reads the layers' copy.
        for (int pass = 0; pass < 2; pass++)
        {
            T[] expected = one.Predict(x).ToRowMajorArray();
            BitAssert.Identical<T>(expected, two.Predict(x).ToRowMajorArray(), $"Predict(matrix), pass {pass}");
            var spans = new T[rows * 7];
            two.Predict(rowMajor, rows, spans);
            BitAssert.Identical<T>(expected, spans, $"Predict(span, rows, span), pass {pass}");
            var into = Matrix<T>.Build.Dense(rows, 7);
            two.Predict(x, into);
            BitAssert.Identical<T>(expected, into.ToRowMajorArray(), $"Predict(matrix, matrix), pass {pass}");
        }
    }

    [Fact]
    public void A_network_whose_first_layer_is_not_dense_predicts_a_matrix_on_two_threads_with_the_bits_of_one()
    {
        var one = new Network<float>(new TensorShape(1, 6, 6), 2,
            new Conv2D<float>(3, 3, 3, activation: Activations.ReLU),
            new Dense<float>(4, Activations.Softmax));
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var two = new Network<float>(new TensorShape(1, 6, 6), 2,
            new Conv2D<float>(3, 3, 3, activation: Activations.ReLU),
            new Dense<float>(4, Activations.Softmax))
        {
            Context = context,
            MaxDegreeOfParallelism = 2,
        };
        var x = TestData.Random<float>(700, 36, seed: 8);
        BitAssert.Identical<float>(one.Predict(x).ToRowMajorArray(), two.Predict(x).ToRowMajorArray(), "Predict(matrix) of a convolutional network on two threads");
    }

    [Fact]
    public void A_batch_on_two_threads_shares_its_chunks_between_both_threads()
    {
        var recorder = new ThreadRecorder();
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = new Network<double>(3, 1, recorder, new Dense<double>(2)) { Context = context, MaxDegreeOfParallelism = 2 };
        var x = TestData.Random<double>(128 * 32, 3, seed: 4);
        double[] expected = new Network<double>(3, 1, new ThreadRecorder(), new Dense<double>(2)).Predict(x).ToRowMajorArray();

        double[] outputs = network.Predict(x).ToRowMajorArray();

        BitAssert.Identical<double>(expected, outputs, "the outputs of 32 chunks on two threads");
        recorder.Chunks.Should().Be(32, "each chunk of 128 rows passes through the layer once");
        recorder.Threads.Should().HaveCount(2, "a worker that wakes within 32 chunks of 1 ms each takes some of them");
    }

    [Theory]
    [InlineData(600, false)]
    [InlineData(3000, true)]   // 150,000 values: the input check is split over the threads too
    public void A_batch_on_two_threads_allocates_nothing_per_call(int rows, bool splitCheck)
    {
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = new Network<float>(50, 2, new Dense<float>(20, Activations.ReLU), new Dense<float>(5, Activations.Softmax))
        {
            Context = context,
            MaxDegreeOfParallelism = 2,
        };
        var inputs = TestData.Random<float>(rows, 50, seed: 9).ToRowMajorArray();
        (inputs.Length >= Backprop.Numerics.ParallelFiniteCheck<float>.MinLength).Should().Be(splitCheck, "whether the check is split");
        var outputs = new float[rows * 5];
        AllocationMeter.SteadyStateBytes(() => network.Predict(inputs, rows, outputs)).Should().Be(0);
    }

    [Fact]
    public void A_non_finite_input_is_named_before_any_chunk_runs_on_two_threads()
    {
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = new Network<float>(4, new Dense<float>(3)) { Context = context, MaxDegreeOfParallelism = 2 };
        var inputs = new float[900 * 4];
        inputs[(700 * 4) + 2] = float.NaN;
        inputs[(300 * 4) + 1] = float.PositiveInfinity;
        var outputs = new float[900 * 3];
        FluentActions.Invoking(() => network.Predict(inputs, 900, outputs)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*row 300, column 1 is Infinity*");
        outputs.Should().OnlyContain(v => v == 0, "nothing is predicted from a batch that holds a non-finite value");
    }

    /// <summary>A layer that passes its input through and records, under a lock, how many chunks it saw and on which
    /// threads, taking a millisecond per chunk so that a second thread has time to join.</summary>
    private sealed class ThreadRecorder : Layer<double>
    {
        private readonly Lock _lock = new();
        private readonly HashSet<int> _threads = [];

        public int Chunks { get; private set; }

        public IReadOnlyCollection<int> Threads
        {
            get
            {
                lock (_lock)
                {
                    return _threads.ToArray();
                }
            }
        }

        public override string SavedForBackwardName => "none";

        public override int SavedForBackwardSize => 0;

        protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random) => inputShape;

        protected override void OnForward(ReadOnlySpan<double> inputs, Span<double> preActivations, Span<double> activations, int rows, bool training)
        {
            inputs.CopyTo(activations);
            lock (_lock)
            {
                Chunks++;
                _threads.Add(Environment.CurrentManagedThreadId);
            }

            Thread.Sleep(1);
        }

        protected override void OnComputeLocalGradients(ReadOnlySpan<double> preActivations, ReadOnlySpan<double> activations, ReadOnlySpan<double> outputGradients, Span<double> localGradients, int rows) =>
            outputGradients.CopyTo(localGradients);

        protected override void OnBackpropagate(ReadOnlySpan<double> inputs, ReadOnlySpan<double> localGradients, Span<double> inputGradients, int rows) =>
            localGradients.CopyTo(inputGradients);
    }

    private static void Train<T>(Network<T> network, int inputs, int outputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = TestData.Random<T>(32, inputs, seed: 11);
        var y = TestData.Random<T>(32, outputs, seed: 12);
        new Trainer<T>(network, Losses.MeanSquaredError, new Sgd(0.01)).Fit(x, y, new FitOptions { Epochs = 1, BatchSize = 16 });
    }

    private static Network<T> Clone<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        return Network<T>.Load(stream);
    }

    /// <summary>A dense network's forward pass written out in double: z_j = b_j + Σ_i x_i·W[j, i], then the activation.</summary>
    private static double[,] PlainForward<T>(Network<T> network, Matrix<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.RowCount;
        var current = new double[rows, x.ColumnCount];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < x.ColumnCount; c++)
            {
                current[r, c] = double.CreateChecked(x[r, c]);
            }
        }

        foreach (var dense in network.Layers.Cast<Dense<T>>())
        {
            Span<T> w = dense.Parameters[0].Values;
            Span<T> b = dense.Parameters[1].Values;
            int n = dense.InputSize, units = dense.Units;
            var next = new double[rows, units];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < units; j++)
                {
                    double z = double.CreateChecked(b[j]);
                    for (int i = 0; i < n; i++)
                    {
                        z += current[r, i] * double.CreateChecked(w[(j * n) + i]);
                    }

                    next[r, j] = dense.Activation switch
                    {
                        ReLU => Math.Max(0, z),
                        Tanh => Math.Tanh(z),
                        _ => throw new NotSupportedException(dense.Activation.Name),
                    };
                }
            }

            current = next;
        }

        return current;
    }
}
