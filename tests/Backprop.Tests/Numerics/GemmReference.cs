using System.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>The plainly written product the GEMM tests compare against.</summary>
internal static class GemmReference
{
    // The textbook triple loop, summed in double; C's padding is left as it was.
    public static T[] Product<T>(T[] a, int lda, bool transposeA, T[] b, int ldb, bool transposeB, T[] c, int ldc, int m, int n, int k, bool accumulate, T[] bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] result = (T[])c.Clone();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    T x = transposeA ? a[(p * lda) + i] : a[(i * lda) + p];
                    T y = transposeB ? b[(j * ldb) + p] : b[(p * ldb) + j];
                    sum += double.CreateTruncating(x) * double.CreateTruncating(y);
                }

                if (bias.Length > 0)
                {
                    sum += double.CreateTruncating(bias[j]);
                }

                if (accumulate)
                {
                    sum += double.CreateTruncating(c[(i * ldc) + j]);
                }

                result[(i * ldc) + j] = T.CreateTruncating(sum);
            }
        }

        return result;
    }
}
