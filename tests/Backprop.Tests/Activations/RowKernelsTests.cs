using System.Numerics;

namespace Backprop.Tests.ActivationsTests;

/// <summary>The row maximum behind softmax and cross-entropy: vectorised for short rows, yet bit for bit the value of
/// the plain loop it replaced (which NaN; of equal zeros, the first to become the maximum).</summary>
public class RowKernelsTests
{
    [Theory]
    [InlineData(0.0, 0.0)]    // random values only
    [InlineData(0.3, 0.0)]    // many zeros of both signs, often the maximum
    [InlineData(0.0, 0.05)]   // NaNs with distinct payloads
    [InlineData(0.2, 0.05)]
    public void Max_of_a_row_is_the_plain_loops_value_bit_for_bit(double zeroFraction, double nanFraction)
    {
        var random = new Random(17);
        // Short rows (below 32, longer ones go to SpanKernels.Max as before).
        for (int width = 1; width < 32; width++)
        {
            for (int trial = 0; trial < 200; trial++)
            {
                float[] floats = new float[width];
                double[] doubles = new double[width];
                bool negativeRow = random.NextDouble() < 0.5;
                for (int j = 0; j < width; j++)
                {
                    double u = random.NextDouble();
                    double value = u < zeroFraction ? (random.NextDouble() < 0.5 ? -0.0 : 0.0)
                        : u < zeroFraction + nanFraction ? BitConverter.Int64BitsToDouble(unchecked((long)(0xFFF8000000000000UL | (ulong)(uint)random.Next(1, 1 << 20))))
                        : (negativeRow ? -1 : 1) * random.NextDouble() * 10;
                    doubles[j] = value;
                    floats[j] = double.IsNaN(value) ? BitConverter.Int32BitsToSingle(unchecked((int)(0xFFC00000u | (uint)random.Next(1, 1 << 20)))) : (float)value;
                }

                BitConverter.SingleToInt32Bits(RowKernels.Max<float>(floats)).Should().Be(BitConverter.SingleToInt32Bits(Reference(floats)),
                    "float row of {0}: {1}", width, string.Join(", ", floats));
                BitConverter.DoubleToInt64Bits(RowKernels.Max<double>(doubles)).Should().Be(BitConverter.DoubleToInt64Bits(Reference(doubles)),
                    "double row of {0}: {1}", width, string.Join(", ", doubles));
            }
        }
    }

    [Fact]
    public void The_maximum_anywhere_in_a_row_is_found_whatever_the_width()
    {
        for (int width = 1; width <= 31; width++)
        {
            for (int at = 0; at < width; at++)
            {
                float[] row = Enumerable.Range(0, width).Select(j => -1f - j).ToArray();
                row[at] = 5;
                RowKernels.Max<float>(row).Should().Be(5, "width {0}, maximum at {1}", width, at);
                double[] wide = row.Select(v => (double)v).ToArray();
                RowKernels.Max<double>(wide).Should().Be(5, "width {0}, maximum at {1}", width, at);
            }
        }
    }

    // The plain loop as it was: the first NaN after the first element (or the first element, if it alone is NaN), else
    // the largest value, the first of equal ones.
    private static T Reference<T>(T[] row)
        where T : IFloatingPointIeee754<T>
    {
        T max = row[0];
        for (int j = 1; j < row.Length; j++)
        {
            if (T.IsNaN(row[j]))
            {
                return row[j];
            }

            if (row[j] > max)
            {
                max = row[j];
            }
        }

        return max;
    }
}

/// <summary>Float softmax on short rows exponentiates the whole batch in one call: every row must keep the bits it has
/// when it is the only row (a float's exponential does not depend on the span it lies in).</summary>
public class BatchedSoftmaxTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(64)]
    public void Each_row_of_a_float_batch_has_the_bits_of_that_row_alone(int rows)
    {
        var random = new Random(rows);
        for (int width = 1; width < 32; width++)
        {
            float[] z = Enumerable.Range(0, rows * width).Select(_ => (float)((random.NextDouble() * 40) - 20)).ToArray();
            var batch = new float[z.Length];
            global::Backprop.Activations.Softmax.Forward<float>(z, batch, width);
            var alone = new float[width];
            for (int r = 0; r < rows; r++)
            {
                global::Backprop.Activations.Softmax.Forward<float>(z.AsSpan(r * width, width), alone, width);
                batch.AsSpan(r * width, width).ToArray().Should().Equal(alone, "row {0} of {1}, width {2}", r, rows, width);
            }
        }
    }
}
