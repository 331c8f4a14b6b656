using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

// The kernels for few columns (GemmColumns: vectors along the rows of C) against a plainly written product, against the
// row-broadcast kernels bit for bit, and at every degree of parallelism.
public class GemmColumnsTests
{
    private static readonly int[] _rows = [1, 2, 5, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100];
    // The longest K block: depths past one and two of them.
    private const int Kc = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.KcMax;
    private static readonly int[] _depths = [1, 2, 3, 15, 16, 17, 31, 128, 257, 300, Kc + 1, (2 * Kc) + 3];

    public static TheoryData<bool, bool> Transpositions => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Transpositions))]
    public void FloatMatchesPlainProductAndTheRowBroadcastKernelsBitForBit(bool transposeA, bool transposeB) =>
        Sweep<float>(transposeA, transposeB, 1e-5);

    [Theory]
    [MemberData(nameof(Transpositions))]
    public void DoubleMatchesPlainProductAndTheRowBroadcastKernelsBitForBit(bool transposeA, bool transposeB) =>
        Sweep<double>(transposeA, transposeB, 1e-12);

    [Fact]
    public void ThePathIsChosenByTheShapeAlone()
    {
        bool avx512 = Avx512F.IsSupported;
        Plan<float>(64, 10, 128, false).Columns.Should().Be(avx512, "the output layer's forward product, float");
        Plan<float>(128, 10, 128, false).Columns.Should().Be(avx512, "a prediction chunk's output product, float");
        Plan<float>(64, 10, 128, true).Columns.Should().Be(avx512, "A stored k×m needs no transposition");
        Plan<double>(64, 10, 128, true).Columns.Should().Be(avx512, "A stored k×m needs no transposition");
        Plan<double>(64, 10, 128, false).Columns.Should().BeFalse("in double the transposition of A does not pay");
        Plan<float>(16, 10, 32, false).Columns.Should().Be(avx512, "the tiny network's forward product, float");
        Plan<float>(15, 10, 32, false).Columns.Should().BeFalse("less than a vector of rows does not pay for the transposition");
        Plan<float>(64, 16, 128, true).Columns.Should().BeFalse("16 columns fill a vector already");
        Plan<float>(10, 10, 128, true).Columns.Should().BeFalse("as few rows as columns");
        Plan<float>(1, 10, 128, false).Columns.Should().BeFalse("a single row");
        Plan<float>(64, 128, 784, false).Columns.Should().BeFalse("a wide product");

        var plan = Plan<float>(100, 10, 300, true);
        if (avx512)
        {
            plan.TileRows.Should().Be(32);
            plan.RowTiles.Should().Be(4);
            plan.Panels.Should().Be(1);
        }

        // Splitting a call never changes the plan's path or blocks: the split only shares out its row tiles.
        var split = plan;
        int parts = GemmDriver<GemmSimd512<float>, Vector512<float>, float>.PartCount(ref split, ComputeContext.Shared, 2);
        split.Columns.Should().Be(plan.Columns);
        split.Kc.Should().Be(plan.Kc);
        if (parts > 1 && plan.Columns)
        {
            split.SplitRows.Should().BeTrue();
        }

        static GemmPlan Plan<T>(int m, int n, int k, bool transposeA)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            GemmDriver<GemmSimd512<T>, Vector512<T>, T>.CreatePlan(transposeA ? m : k, transposeA, k, true, n, m, n, k, false, true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(12)]
    public void OneRowByGemvEqualsTheSameRowOfABatchOnTheColumnsPath(int units)
    {
        // A dense layer's prediction: one sample through Gemv, a batch through the GEMM (which takes the columns path
        // for 64 rows and few units); each row must come out with the same bits.
        CheckRows<float>(units, 1);
        CheckRows<double>(units, 2);

        static void CheckRows<T>(int units, int seed)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            const int Rows = 64, Inputs = Kc + 44;
            var random = new Random(seed + units);
            int ld = (units + Gemv.Padding<T>() - 1) / Gemv.Padding<T>() * Gemv.Padding<T>();
            T[] x = Fill<T>(random, Rows * Inputs);
            T[] w = new T[Inputs * ld];
            for (int p = 0; p < Inputs; p++)
            {
                for (int j = 0; j < units; j++)
                {
                    w[(p * ld) + j] = T.CreateTruncating(random.NextDouble() - 0.5);
                }
            }

            T[] bias = Fill<T>(random, units);
            T[] batch = new T[Rows * units];
            Gemm.Multiply<T>(x, Inputs, false, w, ld, false, batch, units, Rows, units, Inputs, bias: bias);
            T[] single = new T[units];
            for (int r = 0; r < Rows; r++)
            {
                Gemv.Multiply<T>(x.AsSpan(r * Inputs, Inputs), w, ld, bias, single, units, Inputs);
                single.Should().Equal(batch.AsSpan(r * units, units).ToArray(), (a, b) => Bits(a) == Bits(b), "row {0} of {1} units", r, units);
            }
        }
    }

    // Every m (multiples of 16 and not) × n = 1..17, k cycling through the depths (1 to two K blocks and more), with
    // accumulate, bias and leading-dimension padding varying: close to the plain product, bit-identical to the
    // row-broadcast kernels, and bit-identical on 1, 2 and 3 threads.
    private static void Sweep<T>(bool transposeA, bool transposeB, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int index = 0;
        foreach (int m in _rows)
        {
            for (int n = 1; n <= 17; n++)
            {
                int k = _depths[index % _depths.Length];
                bool accumulate = index % 3 == 1;
                bool withBias = index % 2 == 0;
                int padding = index % 4 == 3 ? 3 : 0;
                var random = new Random(index);
                int aRows = transposeA ? k : m, aCols = transposeA ? m : k, bRows = transposeB ? n : k, bCols = transposeB ? k : n;
                int lda = aCols + padding, ldb = bCols + padding, ldc = n + padding;
                T[] a = Fill<T>(random, ((aRows - 1) * lda) + aCols);
                T[] b = Fill<T>(random, ((bRows - 1) * ldb) + bCols);
                T[] initial = Fill<T>(random, ((m - 1) * ldc) + n);
                T[] bias = withBias ? Fill<T>(random, n) : [];
                string what = $"{m}×{n}·{k}, transposeA {transposeA}, transposeB {transposeB}, accumulate {accumulate}, bias {withBias}, padding {padding}";

                T[] expected = GemmReference.Product(a, lda, transposeA, b, ldb, transposeB, initial, ldc, m, n, k, accumulate, bias);
                T[] columns = Run(allowColumns: true, threads: 1);
                AssertClose(columns, expected, m, n, ldc, tolerance, what);
                T[] rowBroadcast = Run(allowColumns: false, threads: 1);
                columns.Should().Equal(rowBroadcast, (x, y) => Bits(x) == Bits(y), "the two kernels sum alike: {0}", what);
                for (int threads = 2; threads <= 3; threads++)
                {
                    Run(allowColumns: true, threads).Should().Equal(columns, (x, y) => Bits(x) == Bits(y), "{0} on {1} threads", what, threads);
                }

                // The public entry point (widest vector width) agrees with the plain product too.
                T[] viaPublic = (T[])initial.Clone();
                Gemm.Multiply<T>(a, lda, transposeA, b, ldb, transposeB, viaPublic, ldc, m, n, k, accumulate, bias);
                AssertClose(viaPublic, expected, m, n, ldc, tolerance, what);
                index++;

                T[] Run(bool allowColumns, int threads)
                {
                    T[] c = (T[])initial.Clone();
                    GemmDriver<GemmSimd512<T>, Vector512<T>, T>.Multiply(
                        a, lda, transposeA, b, ldb, transposeB, c, ldc, m, n, k, accumulate, bias, threads, ComputeContext.Shared, allowColumns: allowColumns);
                    return c;
                }
            }
        }
    }

    private static void AssertClose<T>(T[] actual, T[] expected, int m, int n, int ldc, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double scale = 1e-30;
        foreach (T value in expected)
        {
            scale = Math.Max(scale, Math.Abs(double.CreateTruncating(value)));
        }

        for (int i = 0; i < actual.Length; i++)
        {
            bool inside = i % ldc < n && i / ldc < m;
            double error = Math.Abs(double.CreateTruncating(actual[i]) - double.CreateTruncating(expected[i]));
            if (!inside)
            {
                // Padding is neither read into the product nor written.
                Bits(actual[i]).Should().Be(Bits(expected[i]), "C's padding at {0} must be left alone: {1}", i, what);
            }
            else if (!(error <= tolerance * scale))
            {
                error.Should().BeLessThanOrEqualTo(tolerance * scale, "element ({0}, {1}) of {2}", i / ldc, i % ldc, what);
            }
        }
    }

    private static T[] Fill<T>(Random random, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[Math.Max(0, length)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = T.CreateTruncating(random.NextDouble() - 0.5);
        }

        return values;
    }

    private static long Bits<T>(T value)
        where T : unmanaged, IFloatingPointIeee754<T> => BitConverter.DoubleToInt64Bits(double.CreateTruncating(value));
}
