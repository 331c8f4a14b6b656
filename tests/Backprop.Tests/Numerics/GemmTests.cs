using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

public class GemmTests
{
    // The longest K block: shapes with more steps than this run two K blocks or more.
    private const int Kc = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.KcMax;

    private static readonly int[] _floatSizes = [1, 2, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65];
    private static readonly int[] _floatDepths = [1, 2, 3, 15, 16, 17, 33, 64, 255, 257, 531, Kc + 1];
    private static readonly int[] _doubleSizes = [1, 3, 7, 8, 9, 10, 15, 16, 17, 23, 31, 32, 33];
    private static readonly int[] _doubleDepths = [1, 2, 7, 8, 9, 16, 17, 129, 257, Kc + 3];

    // Multiplies with a given vector width (the public entry point picks the widest one the machine accelerates).
    private delegate void Multiplier<T>(Problem<T> problem, int maxDegreeOfParallelism)
        where T : unmanaged, IFloatingPointIeee754<T>;

    public static TheoryData<bool, bool> Transpositions => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Transpositions))]
    public void FloatMatchesNaiveProductOverSizeSweep(bool transposeA, bool transposeB) =>
        Sweep<float>(_floatSizes, _floatDepths, transposeA, transposeB, 1e-5, Public<float>());

    [Theory]
    [MemberData(nameof(Transpositions))]
    public void DoubleMatchesNaiveProductOverSizeSweep(bool transposeA, bool transposeB) =>
        Sweep<double>(_doubleSizes, _doubleDepths, transposeA, transposeB, 1e-12, Public<double>());

    [Theory]
    [MemberData(nameof(Transpositions))]
    public void EveryVectorWidthMatchesNaiveProduct(bool transposeA, bool transposeB)
    {
        int[] sizes = [1, 2, 3, 6, 7, 9, 11, 14, 16, 17, 23, 33];
        int[] depths = [1, 4, 17, 260];
        Sweep<float>(sizes, depths, transposeA, transposeB, 1e-5, With<GemmSimd512<float>, Vector512<float>, float>());
        Sweep<float>(sizes, depths, transposeA, transposeB, 1e-5, With<GemmSimd256<float>, Vector256<float>, float>());
        Sweep<float>(sizes, depths, transposeA, transposeB, 1e-5, With<GemmSimd128<float>, Vector128<float>, float>());
        Sweep<float>(sizes, depths, transposeA, transposeB, 1e-5, With<GemmScalar<float>, float, float>());
        Sweep<double>(sizes, depths, transposeA, transposeB, 1e-12, With<GemmSimd512<double>, Vector512<double>, double>());
        Sweep<double>(sizes, depths, transposeA, transposeB, 1e-12, With<GemmSimd256<double>, Vector256<double>, double>());
        Sweep<double>(sizes, depths, transposeA, transposeB, 1e-12, With<GemmSimd128<double>, Vector128<double>, double>());
        Sweep<double>(sizes, depths, transposeA, transposeB, 1e-12, With<GemmScalar<double>, double, double>());
    }

    public static TheoryData<int, int, int, bool, bool> LayerShapes => new()
    {
        // Forward Z = X·Wᵀ, input gradient dX = dZ·W, weight gradient dW = dZᵀ·X of 784-128-10 and 784-32-10 nets.
        { 64, 128, 784, false, true },
        { 64, 10, 128, false, true },
        { 16, 32, 784, false, true },
        { 16, 10, 32, false, true },
        { 64, 128, 10, false, false },
        { 16, 32, 10, false, false },
        { 128, 784, 64, true, false },
        { 10, 128, 64, true, false },
        { 32, 784, 16, true, false },
        { 10, 32, 16, true, false },
        { 150, 200, 300, true, true },
        { 150, 200, Kc + 44, true, true },
    };

    [Theory]
    [MemberData(nameof(LayerShapes))]
    public void LayerShapesMatchNaiveProductAtEveryDegreeOfParallelism(int m, int n, int k, bool transposeA, bool transposeB)
    {
        foreach (bool withBias in new[] { true, false })
        {
            var floats = Problem<float>.Random(m, n, k, transposeA, transposeB, accumulate: !withBias, withBias, padding: 0, seed: m + n + k);
            var doubles = Problem<double>.Random(m, n, k, transposeA, transposeB, accumulate: !withBias, withBias, padding: 3, seed: m * n);
            float[] expectedFloats = floats.Reference();
            double[] expectedDoubles = doubles.Reference();
            for (int threads = 1; threads <= 3; threads++)
            {
                floats.ResetC();
                floats.Run(threads);
                AssertClose(floats, expectedFloats, 1e-5, $"{threads} thread(s)");
                doubles.ResetC();
                doubles.Run(threads);
                AssertClose(doubles, expectedDoubles, 1e-12, $"{threads} thread(s)");
            }
        }
    }

    [Theory]
    [MemberData(nameof(LayerShapes))]
    public void ResultIsBitIdenticalForOneAndTwoThreads(int m, int n, int k, bool transposeA, bool transposeB)
    {
        AssertDeterministic<float>(m, n, k, transposeA, transposeB);
        AssertDeterministic<double>(m, n, k, transposeA, transposeB);
    }

    [Theory]
    [InlineData(256, 256, 256)]
    [InlineData(97, 389, 131)]
    [InlineData(1000, 7, 300)]
    [InlineData(5, 1000, 600)]
    [InlineData(37, 100, (2 * Kc) + 37)]
    public void LargeOddShapesAreBitIdenticalForOneAndTwoThreads(int m, int n, int k)
    {
        foreach (bool transposeA in new[] { false, true })
        {
            foreach (bool transposeB in new[] { false, true })
            {
                AssertDeterministic<float>(m, n, k, transposeA, transposeB);
            }
        }

        AssertDeterministic<double>(m, n, k, false, true);
    }

    [Fact]
    public void EmptyDimensionsLeaveCUntouchedOrApplyTheBias()
    {
        float[] c = [5, 6, 7, 8];
        Gemm.Multiply<float>([], 3, false, new float[6], 2, false, c, 2, 0, 2, 3);
        c.Should().Equal(5, 6, 7, 8);
        Gemm.Multiply<float>(new float[6], 3, false, [], 1, false, c, 2, 2, 0, 3);
        c.Should().Equal(5, 6, 7, 8);

        // k = 0: the product is zero, so C becomes the bias (or zero), or keeps its value plus the bias.
        Gemm.Multiply<float>([], 1, false, [], 2, false, c, 2, 2, 2, 0, accumulate: true, bias: [1, -1]);
        c.Should().Equal(6, 5, 8, 7);
        Gemm.Multiply<float>([], 1, false, [], 2, false, c, 2, 2, 2, 0, accumulate: false, bias: [1, -1]);
        c.Should().Equal(1, -1, 1, -1);
        Gemm.Multiply<float>([], 1, false, [], 2, false, c, 2, 2, 2, 0);
        c.Should().Equal(0, 0, 0, 0);
    }

    [Fact]
    public void PaddingIsNeitherReadNorWritten()
    {
        // The padding of A and B holds NaN, that of C a sentinel: results must stay finite and the sentinel intact.
        foreach (bool transposeA in new[] { false, true })
        {
            foreach (bool transposeB in new[] { false, true })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    var problem = Problem<float>.Random(67, 45, Kc + 44, transposeA, transposeB, accumulate: true, withBias: true, padding: 5, seed: 7);
                    problem.FillPadding(float.NaN, -12345f);
                    Check(problem, 1e-5, Public<float>(), threads);
                    problem.AssertCPaddingIs(-12345f);
                }
            }
        }
    }

    [Theory]
    [InlineData(16, 32, 784, false, true, 1)]    // a 784-32-10 net's forward at batch 16: the hand-over costs more than it saves
    [InlineData(32, 784, 16, true, false, 1)]    // and its weight gradient
    [InlineData(64, 128, 784, false, true, 2)]   // a 784-128-10 net's forward at batch 64
    [InlineData(128, 784, 64, true, false, 2)]   // and its weight gradient
    public void SmallProductsStayOnOneThread(int m, int n, int k, bool transposeA, bool transposeB, int expectedParts)
    {
        var plan = GemmDriver<GemmSimd256<float>, Vector256<float>, float>.CreatePlan(
            transposeA ? m : k, transposeA, transposeB ? k : n, transposeB, n, m, n, k, accumulate: false, hasBias: false);
        int parts = GemmDriver<GemmSimd256<float>, Vector256<float>, float>.PartCount(ref plan, ComputeContext.Shared, 2);
        parts.Should().Be(Math.Min(expectedParts, ComputeContext.Shared.MaxDegreeOfParallelism));
    }

    [Fact]
    public void AJobNeverHasMorePartsThanThreads()
    {
        // Shapes with fewer row tiles and column panels than threads once took one part per tile or panel, more than
        // the pool's threads: IndexOutOfRangeException, found by the FsCheck prediction properties.
        foreach (int threads in new[] { 2, 3, 4, 8, 64 })
        {
            foreach (int m in new[] { 1, 7, 8, 9, 17, 33 })
            {
                for (int n = 1; n <= 200; n += 3)
                {
                    foreach (bool rows in new[] { false, true })
                    {
                        var plan = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.CreatePlan(4000, false, 4000, true, n, m, n, 4000, false, false);
                        int parts = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.PartCount(ref plan, ComputeContext.Shared, threads, rows);
                        parts.Should().BeInRange(1, Math.Min(threads, ComputeContext.Shared.MaxDegreeOfParallelism), "m {0}, n {1}, {2} threads", m, n, threads);
                    }
                }
            }
        }
    }

    [Fact]
    public void PredictingFewRowsOfAWideLayerOnTwoThreadsWorks()
    {
        // 8 rows × 80 units × 2000 inputs: one row tile, three column panels (of 32 floats), two threads.
        var network = new Network<float>(2000, seed: 3, new Dense<float>(80, Activations.Tanh)) { MaxDegreeOfParallelism = 2 };
        var x = TestData.Random<float>(8, 2000, seed: 4);
        var single = new Network<float>(2000, seed: 3, new Dense<float>(80, Activations.Tanh)).Predict(x);
        network.Predict(x).Enumerate().Should().Equal(single.Enumerate());
    }

    [Fact]
    public void TheRowSplitHintSharesOutContiguousRows()
    {
        // The weight gradient of a 784-128-10 net: columns would be split by default, rows when asked.
        var plan = GemmDriver<GemmSimd256<float>, Vector256<float>, float>.CreatePlan(128, true, 784, false, 784, 128, 784, 64, false, false);
        int parts = GemmDriver<GemmSimd256<float>, Vector256<float>, float>.PartCount(ref plan, ComputeContext.Shared, 2);
        plan.SplitRows.Should().BeFalse();
        parts = GemmDriver<GemmSimd256<float>, Vector256<float>, float>.PartCount(ref plan, ComputeContext.Shared, 2, preferRowSplit: true);
        plan.SplitRows.Should().Be(parts > 1);
    }

    [Fact]
    public void NarrowProductsMatchNaiveProductAndAreBitIdenticalAtEveryDegreeOfParallelism()
    {
        // op(B) = Bᵀ with n up to about one vector (the output layer's forward product) and k of several vectors: odd
        // row counts (balanced row tiles), odd k, and rows enough to be split across threads.
        int[] rows = [4, 5, 7, 9, 13, 64, 67, 1001];
        int[] cols = [1, 2, 3, 5, 8, 10, 15, 16, 17];
        int[] depths = [64, 65, 127, 128, 200, 784];
        int index = 0;
        foreach (int m in rows)
        {
            foreach (int n in cols)
            {
                int k = depths[index % depths.Length];
                CheckEveryDegree(Problem<float>.Random(m, n, k, false, true, accumulate: index % 3 == 1, withBias: index % 2 == 0, padding: index % 4 == 3 ? 2 : 0, seed: index), 1e-5);
                CheckEveryDegree(Problem<double>.Random(m, n, k, false, true, accumulate: index % 3 == 2, withBias: index % 2 == 1, padding: index % 4 == 1 ? 3 : 0, seed: index), 1e-12);
                index++;
            }
        }

        static void CheckEveryDegree<T>(Problem<T> problem, double tolerance)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            problem.ResetC();
            T[] expected = problem.Reference();
            problem.Run(1);
            AssertClose(problem, expected, tolerance, "1 thread");
            T[] single = (T[])problem.C.Clone();
            for (int threads = 2; threads <= 3; threads++)
            {
                problem.ResetC();
                problem.Run(threads);
                problem.C.Should().Equal(single, (x, y) => Bits(x) == Bits(y), "{0}×{1}·{2} on {3} threads", problem.M, problem.N, problem.K, threads);
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(9, 5)]
    [InlineData(10, 5)]
    [InlineData(12, 6)]
    [InlineData(17, 6)]
    [InlineData(64, 8)]
    [InlineData(65, 8)]
    public void RowTilesHaveBalancedHeights(int m, int tileRows)
    {
        var plan = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.CreatePlan(64, true, 128, false, 128, m, 128, 64, false, false);
        plan.TileRows.Should().Be(tileRows);
        (plan.RowTiles * plan.TileRows).Should().BeGreaterThanOrEqualTo(m);
        ((plan.RowTiles - 1) * plan.TileRows).Should().BeLessThan(m);
    }

    [Theory]
    [InlineData(1024, true)]    // 4 KB between B's rows: every row of a panel in the same L1 set
    [InlineData(512, true)]     // 2 KB
    [InlineData(1040, false)]
    [InlineData(784, false)]
    [InlineData(128, false)]    // 512 B: eight sets, read in place as before
    public void RowMajorBWhoseRowStrideAliasesInL1IsPackedWithTheSameBits(int ldb, bool packed)
    {
        // Few row tiles (m = 64): B would be read in place, unless its rows fall into too few cache sets.
        const int M = 64, N = 96, K = Kc + 44;
        var plan = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.CreatePlan(K, false, ldb, false, N, M, N, K, false, false);
        plan.DirectB.Should().Be(!packed);

        // The same B at a stride read in place gives the same bits: packing changes where B is read from, not the sums.
        var random = new Random(11);
        float[] a = Enumerable.Range(0, M * K).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[] b = new float[K * ldb], bInPlace = new float[K * 1040];
        for (int p = 0; p < K; p++)
        {
            for (int j = 0; j < N; j++)
            {
                b[(p * ldb) + j] = bInPlace[(p * 1040) + j] = (float)(random.NextDouble() - 0.5);
            }
        }

        float[] c = new float[M * N], expected = new float[M * N];
        Gemm.Multiply<float>(a, K, false, b, ldb, false, c, N, M, N, K);
        Gemm.Multiply<float>(a, K, false, bInPlace, 1040, false, expected, N, M, N, K);
        c.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(1024, true)]    // A stored k×m with its rows 4 KB apart
    [InlineData(512, true)]
    [InlineData(1040, false)]
    [InlineData(200, false)]
    public void StoredKByMAWhoseRowStrideAliasesInL1IsPackedWithTheSameBits(int lda, bool packed)
    {
        // m = 200 (25 tiles of 8), k = Kc + 44 (two K blocks); n = 40 (a wide and a narrow panel: two threads split the
        // panels) and n = 16 (one panel of doubles: they split the row tiles, 12 and 13, so each packs rows from its own
        // first).
        foreach (int n in new[] { 40, 16 })
        {
            AssertPackedAGivesTheSameBits(lda, packed, n);
        }
    }

    private static void AssertPackedAGivesTheSameBits(int lda, bool packed, int n)
    {
        const int M = 200, K = Kc + 44;
        int N = n;
        GemmDriver<GemmSimd512<double>, Vector512<double>, double>.CreatePlan(lda, true, N, false, N, M, N, K, false, false).PackA.Should().Be(packed);
        var random = new Random(12);
        double[] a = new double[K * lda], aInPlace = new double[K * 1040];
        for (int p = 0; p < K; p++)
        {
            for (int i = 0; i < M; i++)
            {
                a[(p * lda) + i] = aInPlace[(p * 1040) + i] = random.NextDouble() - 0.5;
            }
        }

        double[] b = Enumerable.Range(0, K * N).Select(_ => random.NextDouble() - 0.5).ToArray();
        // A context that splits any product, so that two threads always take a part each.
        using var eager = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        foreach (int threads in new[] { 1, 2 })
        {
            double[] c = new double[M * N], expected = new double[M * N];
            Gemm.Multiply<double>(a, lda, true, b, N, false, c, N, M, N, K, maxDegreeOfParallelism: threads, context: eager);
            Gemm.Multiply<double>(aInPlace, 1040, true, b, N, false, expected, N, M, N, K, maxDegreeOfParallelism: threads, context: eager);
            c.Select(BitConverter.DoubleToInt64Bits).Should().Equal(expected.Select(BitConverter.DoubleToInt64Bits), "n = {0}, on {1} thread(s)", N, threads);
        }

        // And the float kernels (8 rows of 4 bytes: the vector copy) against a plain product.
        float[] af = a.Select(v => (float)v).ToArray(), bf = b.Select(v => (float)v).ToArray(), cf = new float[M * N];
        Gemm.Multiply<float>(af, lda, true, bf, N, false, cf, N, M, N, K);
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int p = 0; p < K; p++)
                {
                    sum += (double)af[(p * lda) + i] * bf[(p * N) + j];
                }

                cf[(i * N) + j].Should().BeApproximately((float)sum, 1e-4f, "element ({0}, {1})", i, j);
            }
        }
    }

    [Fact]
    public void InternalEntryPointUsedByTheLayersMatchesThePublicOne()
    {
        var problem = Problem<float>.Random(64, 10, 128, false, true, accumulate: false, withBias: true, padding: 0, seed: 3);
        float[] expected = problem.Reference();
        Gemm.MultiplyUnchecked<float>(problem.A, problem.Lda, false, problem.B, problem.Ldb, true, problem.C, problem.Ldc, 64, 10, 128, false, problem.Bias);
        AssertClose(problem, expected, 1e-5, "internal entry point");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SteadyStateCallsAllocateNothing(int threads)
    {
        // Big enough to be split across threads (over 2^21 flops), and to pack B: transposed, and row-major across
        // many row tiles.
        var forward = Problem<float>.Random(48, 72, 400, false, true, accumulate: false, withBias: true, padding: 0, seed: 1);
        var weights = Problem<float>.Random(136, 40, 200, true, false, accumulate: true, withBias: false, padding: 0, seed: 2);
        var small = Problem<float>.Random(16, 10, 32, false, true, accumulate: false, withBias: true, padding: 0, seed: 3);
        var doubles = Problem<double>.Random(16, 40, 130, false, true, accumulate: false, withBias: true, padding: 0, seed: 4);
        AllocationMeter.SteadyStateBytes(RunAll).Should().Be(0, "steady-state GEMM calls on {0} thread(s) must not allocate", threads);

        void RunAll()
        {
            forward.Run(threads);
            weights.Run(threads);
            small.Run(threads);
            doubles.Run(threads);
        }
    }

    [Fact]
    public void ConcurrentCallersGetCorrectBitIdenticalResults()
    {
        // Callers that find the worker pool busy run alone: results must not depend on who got it.
        var template = Problem<float>.Random(64, 128, 300, false, true, accumulate: true, withBias: true, padding: 1, seed: 11);
        template.Run(1);
        float[] expected = (float[])template.C.Clone();
        var failures = new int[4];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, caller =>
        {
            var problem = Problem<float>.Random(64, 128, 300, false, true, accumulate: true, withBias: true, padding: 1, seed: 11);
            for (int i = 0; i < 50; i++)
            {
                problem.ResetC();
                problem.Run(2);
                if (!problem.C.AsSpan().SequenceEqual(expected))
                {
                    failures[caller]++;
                }
            }
        });
        failures.Should().AllBeEquivalentTo(0);
    }

    [Fact]
    public async Task ParallelProductsSurviveCompactingCollectionsWhileWorkersRun()
    {
        // The operands are pinned for the duration of a parallel call, so collections that compact the heap while
        // workers compute cannot move them.
        var problem = Problem<float>.Random(64, 128, 300, false, true, accumulate: false, withBias: true, padding: 0, seed: 5);
        float[] expected = (float[])problem.C.Clone();
        Gemm.Multiply<float>(problem.A, problem.Lda, false, problem.B, problem.Ldb, true, expected, problem.Ldc, 64, 128, 300, bias: problem.Bias);
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
                _ = new byte[1024];
                await Task.Delay(1);
            }
        });

        // Bounded in time as well as count: inside the full, parallel suite every forced collection also stops the
        // other tests' threads, so each call can take much longer than alone.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int calls = 0;
        while (calls < 300 && (calls < 10 || clock.Elapsed < TimeSpan.FromSeconds(3)))
        {
            float[] c = new float[expected.Length];
            Gemm.Multiply<float>(problem.A, problem.Lda, false, problem.B, problem.Ldb, true, c, problem.Ldc, 64, 128, 300, bias: problem.Bias, maxDegreeOfParallelism: 2);
            c.Should().Equal(expected);
            calls++;
        }

        await stop.CancelAsync();
        await collector;
    }

    [Fact]
    public void ValidationRejectsBadArgumentsNamingThem()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];

        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, -1, 2, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("m");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, 2, -1, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("n");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, 2, 2, -3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("k");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, 2, 2, 3, maxDegreeOfParallelism: 0))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxDegreeOfParallelism");

        // Leading dimensions below the stored column count: A is 2×3 (or 3×2 transposed), B 3×2 (or 2×3), C 2×2.
        Invoking(() => Gemm.Multiply<float>(a, 2, false, b, 2, false, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("lda");
        Invoking(() => Gemm.Multiply<float>(a, 1, true, b, 2, false, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("lda");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 1, false, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("ldb");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, true, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("ldb");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 1, 2, 2, 3))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("ldc");

        // Spans shorter than their matrices.
        Invoking(() => Gemm.Multiply<float>(a.AsSpan(0, 5), 3, false, b, 2, false, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        Invoking(() => Gemm.Multiply<float>(a, 4, false, b, 2, false, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("a");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b.AsSpan(0, 5), 2, false, c, 2, 2, 2, 3))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("b");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c.AsSpan(0, 3), 2, 2, 2, 3))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("c");

        // A bias must be empty or hold n values.
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, 2, 2, 3, bias: new float[3]))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("bias");
        Invoking(() => Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, 2, 2, 3, bias: new float[1]))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("bias");

        // The exact minimum is accepted, and the last row of a padded matrix need not be padded.
        Gemm.Multiply<float>(a, 3, false, b, 2, false, c, 2, 2, 2, 3, bias: new float[2]);
        Gemm.Multiply<float>(new float[5], 4, false, b, 2, false, c, 2, 1, 2, 3);
    }

    private static Action Invoking(Action action) => action;

    private static long Bits<T>(T value)
        where T : unmanaged, IFloatingPointIeee754<T> => BitConverter.DoubleToInt64Bits(double.CreateTruncating(value));

    private static Multiplier<T> Public<T>()
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (p, threads) => Gemm.Multiply<T>(p.A, p.Lda, p.TransposeA, p.B, p.Ldb, p.TransposeB, p.C, p.Ldc, p.M, p.N, p.K, p.Accumulate, p.Bias, threads);

    private static Multiplier<T> With<TOps, TVec, T>()
        where TOps : struct, IGemmSimd<TVec, T>
        where TVec : struct
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (p, threads) => GemmDriver<TOps, TVec, T>.Multiply(p.A, p.Lda, p.TransposeA, p.B, p.Ldb, p.TransposeB, p.C, p.Ldc, p.M, p.N, p.K, p.Accumulate, p.Bias, threads, ComputeContext.Shared);

    // Every m × n pair, with k, accumulate, bias and padding varying along the sweep.
    private static void Sweep<T>(int[] sizes, int[] depths, bool transposeA, bool transposeB, double tolerance, Multiplier<T> multiply)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int index = 0;
        foreach (int m in sizes)
        {
            foreach (int n in sizes)
            {
                int k = depths[index % depths.Length];
                var problem = Problem<T>.Random(
                    m, n, k, transposeA, transposeB, accumulate: index % 3 == 1, withBias: index % 2 == 0, padding: index % 4 == 3 ? 2 : 0, seed: index);
                Check(problem, tolerance, multiply, 1 + (index % 2));
                index++;
            }
        }
    }

    private static void Check<T>(Problem<T> problem, double tolerance, Multiplier<T> multiply, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        problem.ResetC();
        T[] expected = problem.Reference();
        multiply(problem, threads);
        AssertClose(problem, expected, tolerance, $"{threads} thread(s)");
    }

    private static void AssertClose<T>(Problem<T> problem, T[] expected, double tolerance, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double scale = 0;
        foreach (T value in expected)
        {
            scale = Math.Max(scale, Math.Abs(double.CreateTruncating(value)));
        }

        double worst = 0;
        for (int i = 0; i < problem.M; i++)
        {
            for (int j = 0; j < problem.N; j++)
            {
                int index = (i * problem.Ldc) + j;
                double error = Math.Abs(double.CreateTruncating(problem.C[index]) - double.CreateTruncating(expected[index]));
                worst = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(worst, error);
            }
        }

        worst.Should().BeLessThanOrEqualTo(
            tolerance * Math.Max(scale, 1e-30),
            "{0}×{1}·{2}, transposeA {3}, transposeB {4}, accumulate {5}, bias {6}, ld padding {7}, {8}",
            problem.M, problem.N, problem.K, problem.TransposeA, problem.TransposeB, problem.Accumulate, problem.Bias.Length > 0, problem.Ldc - problem.N, context);
    }

    private static void AssertDeterministic<T>(int m, int n, int k, bool transposeA, bool transposeB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var problem = Problem<T>.Random(m, n, k, transposeA, transposeB, accumulate: true, withBias: true, padding: 1, seed: m ^ n ^ k);
        problem.ResetC();
        problem.Run(1);
        T[] single = (T[])problem.C.Clone();
        for (int repeat = 0; repeat < 3; repeat++)
        {
            problem.ResetC();
            problem.Run(2);
            problem.C.Should().Equal(single, (x, y) => Bits(x) == Bits(y), "{0}×{1}·{2} ({3}, {4}) on two threads", m, n, k, transposeA, transposeB);

            // The layers' weight-gradient product asks for contiguous rows per thread: the same bits again.
            problem.ResetC();
            Gemm.MultiplyUnchecked<T>(problem.A, problem.Lda, problem.TransposeA, problem.B, problem.Ldb, problem.TransposeB, problem.C, problem.Ldc,
                problem.M, problem.N, problem.K, problem.Accumulate, problem.Bias, 2, ComputeContext.Shared, preferRowSplit: true);
            problem.C.Should().Equal(single, (x, y) => Bits(x) == Bits(y), "{0}×{1}·{2} ({3}, {4}) on two threads split by rows", m, n, k, transposeA, transposeB);
        }
    }

    // One multiplication's operands, stored with optional padding after every row.
    private sealed class Problem<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private T[] _initialC = [];

        public int M { get; private init; }

        public int N { get; private init; }

        public int K { get; private init; }

        public bool TransposeA { get; private init; }

        public bool TransposeB { get; private init; }

        public bool Accumulate { get; private init; }

        public int Lda { get; private init; }

        public int Ldb { get; private init; }

        public int Ldc { get; private init; }

        public T[] A { get; private init; } = [];

        public T[] B { get; private init; } = [];

        public T[] C { get; private init; } = [];

        public T[] Bias { get; private init; } = [];

        private int ARows => TransposeA ? K : M;

        private int ACols => TransposeA ? M : K;

        private int BRows => TransposeB ? N : K;

        private int BCols => TransposeB ? K : N;

        public static Problem<T> Random(int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, bool withBias, int padding, int seed)
        {
            var random = new Random(seed);
            int aRows = transposeA ? k : m, aCols = transposeA ? m : k, bRows = transposeB ? n : k, bCols = transposeB ? k : n;
            int lda = Math.Max(1, aCols + padding), ldb = Math.Max(1, bCols + padding), ldc = n + padding;
            var problem = new Problem<T>
            {
                M = m,
                N = n,
                K = k,
                TransposeA = transposeA,
                TransposeB = transposeB,
                Accumulate = accumulate,
                Lda = lda,
                Ldb = ldb,
                Ldc = ldc,
                A = Fill(random, Length(aRows, aCols, lda)),
                B = Fill(random, Length(bRows, bCols, ldb)),
                C = new T[Length(m, n, ldc)],
                Bias = withBias ? Fill(random, n) : [],
                _initialC = Fill(random, Length(m, n, ldc)),
            };
            problem.ResetC();
            return problem;
        }

        public void Run(int threads) =>
            Gemm.Multiply<T>(A, Lda, TransposeA, B, Ldb, TransposeB, C, Ldc, M, N, K, Accumulate, Bias, threads);

        public void ResetC() => _initialC.CopyTo(C, 0);

        // The product by the textbook triple loop, summed in double, from the current contents of C.
        public T[] Reference() => GemmReference.Product(A, Lda, TransposeA, B, Ldb, TransposeB, C, Ldc, M, N, K, Accumulate, Bias);

        public void FillPadding(T operandPadding, T cPadding)
        {
            FillPadding(A, ARows, ACols, Lda, operandPadding);
            FillPadding(B, BRows, BCols, Ldb, operandPadding);
            FillPadding(_initialC, M, N, Ldc, cPadding);
            ResetC();
        }

        public void AssertCPaddingIs(T value)
        {
            for (int i = 0; i < M; i++)
            {
                for (int j = N; j < Ldc && (i * Ldc) + j < C.Length; j++)
                {
                    C[(i * Ldc) + j].Should().Be(value, "C's padding at row {0}, column {1} must be left alone", i, j);
                }
            }
        }

        private static void FillPadding(T[] matrix, int rows, int cols, int ld, T value)
        {
            for (int i = 0; i < rows; i++)
            {
                for (int j = cols; j < ld && (i * ld) + j < matrix.Length; j++)
                {
                    matrix[(i * ld) + j] = value;
                }
            }
        }

        private static int Length(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : ((rows - 1) * ld) + cols;

        private static T[] Fill(Random random, int length)
        {
            var values = new T[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = T.CreateTruncating((random.NextDouble() * 2) - 1);
            }

            return values;
        }
    }
}
