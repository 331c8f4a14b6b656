using System.Numerics;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

// The finiteness check of a large prediction batch split over a pool's threads: the same first index as one scan,
// wherever the non-finite values lie relative to the parts' boundaries, and with the pool held by another caller.
public class ParallelFiniteCheckTests
{
    private const int Length = (3 * ParallelFiniteCheck<float>.MinLength) + 17;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void FindsTheFirstNonFiniteValueAsOneScanDoes(int threads)
    {
        Check<float>(threads, [float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
        Check<double>(threads, [double.NaN, double.NegativeInfinity, double.PositiveInfinity]);

        static void Check<T>(int threads, T[] bad)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            using var context = new ComputeContext(threads);
            var check = new ParallelFiniteCheck<T>();
            var random = new Random(3);
            T[] values = new T[Length];
            for (int i = 0; i < Length; i++)
            {
                values[i] = T.CreateTruncating(random.NextDouble() - 0.5);
            }

            check.IndexOfNonFinite(values, context.Pool, threads).Should().Be(-1, "every value is finite");

            // Each part's first and last values and their neighbours, for two and three parts, and both ends.
            var positions = new SortedSet<int> { 0, 1, Length - 2, Length - 1 };
            foreach (int parts in new[] { 2, 3 })
            {
                for (int part = 1; part < parts; part++)
                {
                    int boundary = (int)((long)Length * part / parts);
                    positions.UnionWith([boundary - 2, boundary - 1, boundary, boundary + 1]);
                }
            }

            int n = 0;
            foreach (int at in positions)
            {
                T[] copy = (T[])values.Clone();
                copy[at] = bad[n++ % bad.Length];

                // A second, later non-finite value in a later part: the first still wins.
                int later = Math.Min(Length - 1, at + (Length / 2));
                if (later != at)
                {
                    copy[later] = bad[n % bad.Length];
                }

                int expected = Guard.IndexOfNonFinite<T>(copy);
                expected.Should().Be(at);
                check.IndexOfNonFinite(copy, context.Pool, threads).Should().Be(expected, "first non-finite value at {0} of {1}", at, Length);
            }
        }
    }

    [Fact]
    public void ShortSpansAndABusyPoolAreScannedOnTheCaller()
    {
        using var context = new ComputeContext(2);
        var check = new ParallelFiniteCheck<float>();
        float[] small = new float[ParallelFiniteCheck<float>.MinLength - 1];
        small[^1] = float.NaN;
        check.IndexOfNonFinite(small, context.Pool, 2).Should().Be(small.Length - 1);

        float[] large = new float[Length];
        large[Length - 5] = float.NaN;
        context.Pool.TryAcquire().Should().BeTrue();
        try
        {
            check.IndexOfNonFinite(large, context.Pool, 2).Should().Be(Length - 5, "the pool is held: one scan on the caller");
        }
        finally
        {
            context.Pool.End();
        }

        check.IndexOfNonFinite(large, context.Pool, 2).Should().Be(Length - 5, "the pool is free again");
    }

    [Fact]
    public void A_large_batch_on_two_threads_names_its_first_non_finite_input_and_predicts_nothing()
    {
        using var context = new ComputeContext(2) { ParallelThresholdFlops = 1 };
        var network = new Network<float>(64, new Dense<float>(3)) { Context = context, MaxDegreeOfParallelism = 2 };
        const int Rows = 3000;
        var inputs = new float[Rows * 64];
        inputs[(2900 * 64) + 2] = float.NaN;
        inputs[(1700 * 64) + 5] = float.NegativeInfinity;
        var outputs = new float[Rows * 3];
        FluentActions.Invoking(() => network.Predict(inputs, Rows, outputs)).Should().Throw<ArgumentException>()
            .WithParameterName("inputs").WithMessage("*row 1700, column 5 is -Infinity*");
        outputs.Should().OnlyContain(v => v == 0, "nothing is predicted from a batch that holds a non-finite value");

        var matrix = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(Rows, 64, (r, c) => r == 2100 && c == 7 ? float.NaN : 0.5f);
        FluentActions.Invoking(() => network.Predict(matrix)).Should().Throw<ArgumentException>()
            .WithMessage("*row 2100, column 7 is NaN*");
    }
}
