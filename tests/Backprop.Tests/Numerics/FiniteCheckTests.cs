using System.Numerics;

namespace Backprop.Tests.Numerics;

// The finiteness check at the public boundary (prediction and training inputs): its vector loops must find the first
// NaN or infinity wherever it lies, at every length around the vector and unrolled-block sizes.
public class FiniteCheckTests
{
    [Fact]
    public void FindsTheFirstNonFiniteValueAtEveryPositionAndLength()
    {
        Check<float>([float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
        Check<double>([double.NaN, double.PositiveInfinity, double.NegativeInfinity]);

        static void Check<T>(T[] bad)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var random = new Random(7);
            foreach (int length in new[] { 0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 1000 })
            {
                T[] values = new T[length];
                for (int i = 0; i < length; i++)
                {
                    // Large finite values too: their differences x − x are still 0.
                    values[i] = T.CreateTruncating((random.NextDouble() - 0.5) * (i % 5 == 0 ? 1e30 : 1));
                }

                Guard.IndexOfNonFinite<T>(values).Should().Be(-1, "{0} finite values", length);
                for (int at = 0; at < length; at++)
                {
                    T[] copy = (T[])values.Clone();
                    copy[at] = bad[at % bad.Length];
                    if (at + 3 < length)
                    {
                        copy[at + 3] = bad[(at + 1) % bad.Length];
                    }

                    Guard.IndexOfNonFinite<T>(copy).Should().Be(at, "length {0}, first non-finite value at {1}", length, at);
                }
            }
        }
    }
}
