using Backprop.Data;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Distributed.Tests;

/// <summary>The data-parallel trainer in this process alone (no MPI): what "one process" means, what it refuses, and the
/// message where MPI is missing.</summary>
public class InProcessTests
{
    private const int Rows = 203, Inputs = 8, Classes = 3;

    [Fact]
    public void With_one_shard_one_process_equals_plain_Fit_bit_for_bit()
    {
        var (x, labels) = Data();
        var options = new FitOptions { Epochs = 3, BatchSize = 32, Seed = 5 };
        var plain = NewTrainer();
        var plainHistory = plain.Fit(x, labels, options);
        var distributed = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, gradientShards: 1);

        var history = distributed.Fit(x, labels, options);

        Weights(distributed.Trainer).Should().Equal(Weights(plain), "one shard is the whole batch, weighted by exactly 1");
        history.Epochs.Select(e => e.Loss).Should().Equal(plainHistory.Epochs.Select(e => e.Loss));
        history.Epochs.Select(e => e.Accuracy).Should().Equal(plainHistory.Epochs.Select(e => e.Accuracy));
    }

    [Fact]
    public void Twelve_shards_train_as_well_as_one_and_stay_deterministic()
    {
        var (x, labels) = Data();
        var options = new FitOptions { Epochs = 20, BatchSize = 48, Seed = 2 };
        var one = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 1);
        var twelve = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 12);
        var again = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 12);

        double lossOne = one.Fit(x, labels, options).Epochs[^1].Loss;
        double lossTwelve = twelve.Fit(x, labels, options).Epochs[^1].Loss;
        again.Fit(x, labels, options);

        lossTwelve.Should().BeApproximately(lossOne, 1e-9 + (1e-6 * lossOne), "shards change only the rounding of the same mean gradient");
        twelve.WeightDigest().Should().Be(again.WeightDigest());
        twelve.WeightDigest().Should().NotBe(one.WeightDigest(), "the shard count, unlike the process count, fixes the rounding");
    }

    [Fact]
    public void A_weighted_fit_weighs_each_shard_by_its_share_of_the_batch_weight()
    {
        var (x, labels) = Data();
        var targets = Matrix<double>.Build.Dense(Rows, Classes, (r, c) => labels[r] == c ? 1 : 0);
        double[] weights = Enumerable.Range(0, Rows).Select(r => r % 5 == 0 ? 0.0 : 1 + (r % 3)).ToArray();
        var options = new FitOptions { Epochs = 2, BatchSize = 40, Seed = 1, Shuffle = false };
        var plain = NewTrainer();
        plain.Fit(x, targets, weights, options);
        var distributed = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 4);

        distributed.Fit(x, targets, weights, options);

        // Σ_k (W_k/W)·g_k with g_k the shard's weighted mean equals the batch's weighted mean gradient, up to rounding.
        var a = Weights(plain);
        var b = Weights(distributed.Trainer);
        for (int i = 0; i < a.Length; i++)
        {
            b[i].Should().BeApproximately(a[i], 1e-9);
        }
    }

    [Fact]
    public void Weighted_labels_with_one_shard_equal_plain_Fit_bit_for_bit()
    {
        var (x, labels) = Data();
        double[] weights = Enumerable.Range(0, Rows).Select(r => 0.5 + (r % 4)).ToArray();
        var options = new FitOptions { Epochs = 2, BatchSize = 30, Seed = 8 };
        var plain = NewTrainer();
        plain.Fit(x, labels, weights, options);
        var distributed = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 1);

        distributed.Fit(x, labels, weights, options);

        Weights(distributed.Trainer).Should().Equal(Weights(plain));
    }

    [Fact]
    public void A_streamed_source_with_one_shard_equals_plain_Fit_on_the_source()
    {
        var (x, labels) = Data();
        var source = new InMemorySampleSource<double>(x, labels, Classes);
        var options = new FitOptions { Epochs = 2, BatchSize = 25, Seed = 3, ShuffleBufferSize = 64 };
        var plain = NewTrainer();
        plain.Fit(source, options);
        var distributed = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 1);

        distributed.Fit(source, options);

        Weights(distributed.Trainer).Should().Equal(Weights(plain));
    }

    [Fact]
    public void A_step_allocates_nothing_once_the_first_epoch_has_run()
    {
        var (x, labels) = Data();
        var meter = new StepAllocations(epoch: 2);
        var distributed = new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess);

        distributed.Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 20, Seed = 1, Observers = [meter] });

        meter.Steps.Should().BeGreaterThanOrEqualTo(8);
        meter.Bytes.Should().Be(0, $"the {meter.Steps} steps after the second of epoch 2 reuse the shard pass, the running sum and the shard buffers");
    }

    [Fact]
    public void Batch_normalisation_is_refused_naming_the_layer()
    {
        var network = new Network<double>(Inputs, 1, new Dense<double>(4), new BatchNorm<double>(), new Dense<double>(Classes, Activations.Softmax));
        var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Sgd(0.1));

        var act = () => new DistributedTrainer<double>(trainer, Communicator.SingleProcess);

        act.Should().Throw<NotSupportedException>().WithMessage("The network has a batch-normalisation layer (BatchNorm*");
    }

    [Fact]
    public void A_summed_loss_with_a_weight_penalty_is_refused()
    {
        var network = new Network<double>(Inputs, 1, new Dense<double>(Classes) { L2 = 0.01 });
        var trainer = new Trainer<double>(network, Losses.SumSquaredError, new Sgd(0.1));

        var act = () => new DistributedTrainer<double>(trainer, Communicator.SingleProcess);

        act.Should().Throw<NotSupportedException>().WithMessage("*is summed and a layer has a weight penalty*");
    }

    [Fact]
    public void A_shard_count_below_one_is_refused_with_the_value()
    {
        var act = () => new DistributedTrainer<double>(NewTrainer(), Communicator.SingleProcess, 0);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("gradientShards").WithMessage("gradientShards must be at least 1, but it is 0.*");
    }

    [Fact]
    public void A_missing_MPI_library_says_how_to_install_it()
    {
        string? saved = Environment.GetEnvironmentVariable("BACKPROP_MPI_LIBRARY");
        Environment.SetEnvironmentVariable("BACKPROP_MPI_LIBRARY", "/no/such/libmpi.so.40");
        try
        {
            Mpi.IsLibraryAvailable().Should().BeFalse();
            var act = () => Mpi.World;
            act.Should().Throw<DllNotFoundException>().WithMessage("The MPI library '/no/such/libmpi.so.40' named by BACKPROP_MPI_LIBRARY could not be loaded*");
        }
        finally
        {
            Environment.SetEnvironmentVariable("BACKPROP_MPI_LIBRARY", saved);
        }
    }

    [Fact]
    public void The_single_process_communicator_is_rank_0_of_1_and_checks_its_arguments()
    {
        var one = Communicator.SingleProcess;
        int[] all = new int[2];

        one.Rank.Should().Be(0);
        one.Size.Should().Be(1);
        one.AllGather<int>([7, 8], all);
        all.Should().Equal(7, 8);
        one.Invoking(c => c.Broadcast<int>(all, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("root");
        one.Invoking(c => c.Send<int>(all, 0, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("destination");
        one.Invoking(c => c.AllReduceSum<long>(new long[1])).Should().Throw<NotSupportedException>();
    }

    private static Trainer<double> NewTrainer()
    {
        var network = new Network<double>(Inputs, 11,
            new Dense<double>(16, Activations.ReLU),
            new Dropout<double>(0.25, seed: 4),
            new Dense<double>(Classes, Activations.Softmax));
        return new Trainer<double>(network, Losses.CrossEntropy, new Adam(0.01));
    }

    private static (Matrix<double> X, int[] Labels) Data()
    {
        var random = new DeterministicRandom(17);
        var x = Matrix<double>.Build.Dense(Rows, Inputs, (_, _) => random.NextGaussian());
        int[] labels = Enumerable.Range(0, Rows).Select(r => x[r, 0] + x[r, 1] > 0.5 ? 0 : x[r, 2] > 0 ? 1 : 2).ToArray();
        return (x, labels);
    }

    private static double[] Weights(Trainer<double> trainer) =>
        [.. trainer.Network.Layers.SelectMany(l => l.Parameters).SelectMany(p => p.Values.ToArray())];

    /// <summary>Bytes this thread allocates from the end of a step to the end of the last step of one epoch.</summary>
    private sealed class StepAllocations(int epoch) : ITrainingObserver
    {
        private long _first = -1, _last;

        public int Steps { get; private set; }

        public long Bytes => _last - _first;

        public void OnBatchEnd(int epoch1, int batch, double loss)
        {
            if (epoch1 != epoch || batch < 2)
            {
                return;
            }

            long now = GC.GetAllocatedBytesForCurrentThread();
            if (_first < 0)
            {
                _first = now;
            }
            else
            {
                Steps++;
            }

            _last = now;
        }
    }
}
