using System.Runtime.CompilerServices;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>A network's parallel work runs on the <see cref="ComputeContext"/> it is given: networks trained at once on
/// several threads, with contexts of their own or one shared, each train exactly as they do alone; a context's threads
/// end when it is disposed or collected, and keep nothing alive.</summary>
[Collection(nameof(Backprop.Tests.Reliability.RunsAlone))]
public class ComputeContextTests
{
    // Products of 2·64·200·160 flops (split on two threads), parameters of 32 000 values (their update split too),
    // batches copied by both threads; and a narrow net whose products stay on one thread (the batch copy then runs in
    // the background on the worker, holding the pool for a whole step).
    private static Network<T> Wide<T>(int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        new(200, seed, new Dense<T>(160, Activations.ReLU), new Dense<T>(96, Activations.Tanh), new Dense<T>(10, Activations.Softmax));

    private static Network<T> Narrow<T>(int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        new(600, seed, new Dense<T>(8, Activations.Tanh), new Dense<T>(10, Activations.Softmax));

    private static double[][] Train<T>(Network<T> network, int dataSeed, int epochs = 3)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var x = TestData.Random<T>(320, network.InputSize, seed: dataSeed);
        int[] labels = Enumerable.Range(0, 320).Select(i => (i * 7 + dataSeed) % 10).ToArray();
        new Trainer<T>(network, Losses.CrossEntropy, new Adam(0.001))
            .Fit(x, labels, new FitOptions { Epochs = epochs, BatchSize = 64, Seed = dataSeed });
        return Backprop.Tests.Training.TrainerTests.Snapshot(network);
    }

    private static void AssertBitIdentical(double[][] expected, double[][] actual, string because)
    {
        actual.Should().HaveSameCount(expected);
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i}: {because}");
        }
    }

    public static TheoryData<string> Sharing => new() { "own", "one shared", "default" };

    [Theory]
    [MemberData(nameof(Sharing))]
    public void Two_networks_trained_at_once_on_two_threads_train_as_alone(string sharing)
    {
        // References: each network trained alone, on one thread.
        var expected = new[]
        {
            Train(Wide<float>(1), dataSeed: 11),
            Train(Wide<float>(2), dataSeed: 12),
            Train(Narrow<double>(3), dataSeed: 13),
            Train(Narrow<double>(4), dataSeed: 14),
        };

        using var first = new ComputeContext(2);
        using var second = new ComputeContext(2);
        ComputeContext ContextOf(int i) => sharing switch
        {
            "own" => i % 2 == 0 ? first : second,
            "one shared" => first,
            _ => ComputeContext.Shared,
        };

        for (int round = 0; round < 3; round++)
        {
            // Two threads, started together on a barrier, each training one network on two threads, then another.
            var actual = new double[4][][];
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            using var barrier = new Barrier(2);
            var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
            {
                try
                {
                    barrier.SignalAndWait();
                    var wide = Wide<float>(1 + t);
                    wide.Context = ContextOf(t);
                    wide.MaxDegreeOfParallelism = 2;
                    actual[t] = Train(wide, dataSeed: 11 + t);
                    var narrow = Narrow<double>(3 + t);
                    narrow.Context = ContextOf(t);
                    narrow.MaxDegreeOfParallelism = 2;
                    actual[2 + t] = Train(narrow, dataSeed: 13 + t);
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            })).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            foreach (var thread in threads)
            {
                thread.Join();
            }

            errors.Should().BeEmpty();
            for (int i = 0; i < 4; i++)
            {
                AssertBitIdentical(expected[i], actual[i], $"network {i} trained beside another ({sharing} context, round {round}) must equal it trained alone");
            }
        }

        first.Pool.IsHeld.Should().BeFalse();
        second.Pool.IsHeld.Should().BeFalse();
    }

    [Fact]
    public void The_shared_context_backs_off_from_contention_as_long_as_a_context_of_ones_own()
    {
        using var own = new ComputeContext(2);
        own.Pool.MinBackoff.Should().Be(TimeSpan.FromMilliseconds(1));
        own.Pool.MaxBackoff.Should().Be(TimeSpan.FromMilliseconds(250));
        ComputeContext.Shared.Pool.MinBackoff.Should().Be(own.Pool.MinBackoff, "the shared context is made by the same constructor, after the bounds are set");
        ComputeContext.Shared.Pool.MaxBackoff.Should().Be(own.Pool.MaxBackoff);
    }

    [Fact]
    public void A_network_uses_its_context_and_at_most_its_threads()
    {
        using var single = new ComputeContext(1);
        var network = Wide<float>(5);
        network.Context.Should().BeSameAs(ComputeContext.Shared);
        network.Context = single;
        network.MaxDegreeOfParallelism = 4;
        network.Layers.Should().OnlyContain(l => ReferenceEquals(l.Context, single));

        AssertBitIdentical(Train(Wide<float>(5), dataSeed: 3), Train(network, dataSeed: 3), "a one-thread context runs everything on the caller");
        single.Pool.LiveWorkers.Should().Be(0, "a context of one thread starts no worker");
    }

    [Fact]
    public void Dispose_ends_the_workers_and_later_work_runs_alone_with_the_same_result()
    {
        var reference = Wide<float>(6);
        Train(reference, dataSeed: 4, epochs: 1);
        var expected = Train(reference, dataSeed: 4, epochs: 1);

        var context = new ComputeContext(2);
        var network = Wide<float>(6);
        network.Context = context;
        network.MaxDegreeOfParallelism = 2;
        Train(network, dataSeed: 4, epochs: 1);
        context.Pool.LiveWorkers.Should().Be(1, "a split job started the one worker of a two-thread context");

        context.Dispose();
        context.IsDisposed.Should().BeTrue();
        WaitUntil(() => context.Pool.LiveWorkers == 0).Should().BeTrue("Dispose ends the worker threads");
        context.Dispose();

        // The network keeps the disposed context: its second run goes on the caller alone, with the same bits.
        AssertBitIdentical(expected, Train(network, dataSeed: 4, epochs: 1), "a run split across a disposal equals one on one thread");
        context.Pool.LiveWorkers.Should().Be(0, "a disposed context starts no thread again");
        var act = () => Wide<float>(7).Context = context;
        act.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Training_on_a_disposed_context_equals_training_on_one_thread()
    {
        var context = new ComputeContext(2);
        var network = Wide<float>(8);
        network.Context = context;
        network.MaxDegreeOfParallelism = 2;
        context.Dispose();
        AssertBitIdentical(Train(Wide<float>(8), dataSeed: 6), Train(network, dataSeed: 6), "a disposed context runs its jobs on the caller");
    }

    [Fact]
    public void The_shared_context_outlives_Dispose()
    {
        ComputeContext.Shared.Dispose();
        ComputeContext.Shared.IsDisposed.Should().BeFalse();
        ComputeContext.Shared.MaxDegreeOfParallelism.Should().Be(Math.Clamp(Environment.ProcessorCount, 1, ComputeContext.MaxThreads));
    }

    [Fact]
    public void Workers_keep_neither_their_context_nor_a_network_alive()
    {
        (WorkerPool pool, WeakReference network, WeakReference context) = TrainOnAContextOfItsOwn();
        WaitUntil(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !network.IsAlive && !context.IsAlive && pool.LiveWorkers == 0;
        }).Should().BeTrue($"once nothing references the network and its context, the finalizer ends the workers (network alive {network.IsAlive}, context alive {context.IsAlive}, live workers {pool.LiveWorkers})");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WorkerPool Pool, WeakReference Network, WeakReference Context) TrainOnAContextOfItsOwn()
    {
        var network = Wide<float>(9);
        network.Context = new ComputeContext(2);
        network.MaxDegreeOfParallelism = 2;
        Train(network, dataSeed: 5, epochs: 1);
        network.Context.Pool.LiveWorkers.Should().Be(1);
        return (network.Context.Pool, new WeakReference(network), new WeakReference(network.Context));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(ComputeContext.MaxThreads + 1)]
    public void A_thread_count_out_of_range_is_rejected(int threads)
    {
        var act = () => new ComputeContext(threads);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxDegreeOfParallelism");
    }

    [Fact]
    public void A_threshold_below_one_flop_and_a_null_context_are_rejected()
    {
        var threshold = () => new ComputeContext(2) { ParallelThresholdFlops = 0 };
        threshold.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at least 1*0*");
        var nullContext = () => Wide<float>(1).Context = null!;
        nullContext.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void The_threshold_decides_the_split_and_never_the_result()
    {
        // 2·16·32·784 flops: below the default threshold, above a lowered one.
        using var eager = new ComputeContext(2) { ParallelThresholdFlops = 1 << 16 };
        var plan = GemmDriver<GemmSimd256<float>, System.Runtime.Intrinsics.Vector256<float>, float>.CreatePlan(784, false, 32, false, 32, 16, 32, 784, false, false);
        GemmDriver<GemmSimd256<float>, System.Runtime.Intrinsics.Vector256<float>, float>.PartCount(ref plan, ComputeContext.Shared, 2).Should().Be(1);
        GemmDriver<GemmSimd256<float>, System.Runtime.Intrinsics.Vector256<float>, float>.PartCount(ref plan, eager, 2).Should().Be(2);

        float[] a = TestData.Random<float>(16, 784, seed: 1).ToRowMajorArray();
        float[] b = TestData.Random<float>(784, 32, seed: 2).ToRowMajorArray();
        float[] alone = new float[16 * 32], split = new float[16 * 32];
        Gemm.Multiply<float>(a, 784, false, b, 32, false, alone, 32, 16, 32, 784);
        Gemm.Multiply<float>(a, 784, false, b, 32, false, split, 32, 16, 32, 784, maxDegreeOfParallelism: 2, context: eager);
        split.Select(BitConverter.SingleToInt32Bits).Should().Equal(alone.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void A_threshold_below_two_parts_worth_of_flops_runs_a_small_product_whole()
    {
        // 2·4·4·8 = 256 flops: above a threshold of 1, far below the 2·2¹⁶ two parts need; this divided by zero once.
        using var eager = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var plan = GemmDriver<GemmSimd256<float>, System.Runtime.Intrinsics.Vector256<float>, float>.CreatePlan(8, false, 4, false, 4, 4, 4, 8, false, false);
        GemmDriver<GemmSimd256<float>, System.Runtime.Intrinsics.Vector256<float>, float>.PartCount(ref plan, eager, 2).Should().Be(1);

        float[] a = TestData.Random<float>(4, 8, seed: 3).ToRowMajorArray();
        float[] b = TestData.Random<float>(8, 4, seed: 4).ToRowMajorArray();
        float[] alone = new float[16], eagerResult = new float[16];
        Gemm.Multiply<float>(a, 8, false, b, 4, false, alone, 4, 4, 4, 8);
        Gemm.Multiply<float>(a, 8, false, b, 4, false, eagerResult, 4, 4, 4, 8, maxDegreeOfParallelism: 2, context: eager);
        eagerResult.Select(BitConverter.SingleToInt32Bits).Should().Equal(alone.Select(BitConverter.SingleToInt32Bits));
    }

    private static bool WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }
}
