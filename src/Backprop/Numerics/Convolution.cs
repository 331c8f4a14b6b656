using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Numerics;

/// <summary>The shapes of a two-dimensional convolution: input C × H × W, kernel kh × kw, stride, padding and output.</summary>
internal struct Geometry
{
    public int Channels;
    public int Height;
    public int Width;
    public int KernelHeight;
    public int KernelWidth;
    public int StrideHeight;
    public int StrideWidth;
    public int PadTop;
    public int PadLeft;
    public int PadBottom;
    public int PadRight;
    public int OutputHeight;
    public int OutputWidth;

    /// <summary>K = C·kh·kw, the values of one patch.</summary>
    public readonly int PatchSize => Channels * KernelHeight * KernelWidth;

    /// <summary>P = outH·outW, the output positions of one sample.</summary>
    public readonly int Positions => OutputHeight * OutputWidth;

    /// <summary>C·H·W, the values of one input sample.</summary>
    public readonly int InputSize => Channels * Height * Width;

    /// <summary>Whether the patch matrix is the input itself: a 1 × 1 kernel, stride 1 and no padding.</summary>
    public readonly bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    /// <summary>Whether the patch rows are shifted copies of the input planes: stride 1, as many output as input
    /// columns, and a kernel narrower than the input.</summary>
    public readonly bool IsShift => StrideHeight == 1 && StrideWidth == 1 && OutputWidth == Width && KernelWidth < Width;

    /// <summary>The output rows whose input row y·sh + i − top lies inside the input: [start, end).</summary>
    public readonly (int Start, int End) RowRange(int i)
    {
        int offset = PadTop - i;
        int start = offset <= 0 ? 0 : (offset + StrideHeight - 1) / StrideHeight;
        int last = Height - 1 + offset;
        int end = last < 0 ? 0 : Math.Min(OutputHeight, (last / StrideHeight) + 1);
        return (start, Math.Max(start, end));
    }

    /// <summary>The output columns whose input column x·sw + j − left lies inside the input: [start, end).</summary>
    public readonly (int Start, int End) ColumnRange(int j)
    {
        int offset = PadLeft - j;
        int start = offset <= 0 ? 0 : (offset + StrideWidth - 1) / StrideWidth;
        int last = Width - 1 + offset;
        int end = last < 0 ? 0 : Math.Min(OutputWidth, (last / StrideWidth) + 1);
        return (start, Math.Max(start, end));
    }
}

/// <summary>
/// The patch matrix of a convolution (im2col) and its adjoint (col2im), on row-major spans of channels-first samples.
/// </summary>
/// <remarks>
/// <para>The patch matrix X̂ of <c>count</c> samples has K = C·kh·kw rows, row k = (c·kh + i)·kw + j, and count·P columns,
/// column s·P + y·outW + x: X̂[k, s·P + y·outW + x] = x_s[c, y·sh + i − top, x·sw + j − left], 0 outside the input.</para>
/// <para>Col2Im is its transpose: it overwrites dx with Σ over the patch entries that read each input value, adding them
/// in the order of k, then s, y and x, the same for any thread count.</para>
/// </remarks>
internal static class Convolution
{
    /// <summary>Fills the K × (count·P) patch matrix of <paramref name="count"/> samples.</summary>
    public static void Im2Col<T>(in Geometry g, ReadOnlySpan<T> inputs, int count, Span<T> patches)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int positions = g.Positions, n = count * positions, plane = g.Height * g.Width, inputSize = g.InputSize;
        int outW = g.OutputWidth, sw = g.StrideWidth;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    Span<T> row = patches.Slice((((c * g.KernelHeight) + i) * g.KernelWidth + j) * n, n);
                    var (start, end) = g.ColumnRange(j);
                    int firstColumn = (start * sw) + j - g.PadLeft;
                    for (int s = 0; s < count; s++)
                    {
                        ReadOnlySpan<T> channel = inputs.Slice((s * inputSize) + (c * plane), plane);
                        if (g.IsShift)
                        {
                            ShiftCopy(g, channel, row.Slice(s * positions, positions), i, j);
                            continue;
                        }

                        for (int y = 0; y < g.OutputHeight; y++)
                        {
                            Span<T> target = row.Slice((s * positions) + (y * outW), outW);
                            int iy = (y * g.StrideHeight) + i - g.PadTop;
                            if ((uint)iy >= (uint)g.Height || start == end)
                            {
                                target.Clear();
                                continue;
                            }

                            target[..start].Clear();
                            target[end..].Clear();
                            ReadOnlySpan<T> source = channel.Slice((iy * g.Width) + firstColumn);
                            if (sw == 1)
                            {
                                source[..(end - start)].CopyTo(target[start..end]);
                            }
                            else
                            {
                                for (int x = start, ix = 0; x < end; x++, ix += sw)
                                {
                                    target[x] = source[ix];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // Stride 1 and as many output as input columns: the patch row of (i, j) is the input plane shifted by
    // (i − top)·W + (j − left), so the rows inside the input copy as one block; then the columns that fell outside
    // the input (and wrapped into the neighbouring row) are set to 0.
    private static void ShiftCopy<T>(in Geometry g, ReadOnlySpan<T> channel, Span<T> target, int i, int j)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = g.Width, shift = j - g.PadLeft;
        var (y0, y1) = g.RowRange(i);
        target[..(y0 * width)].Clear();
        target[(y1 * width)..].Clear();
        if (y0 >= y1)
        {
            return;
        }

        int first = (y0 * width) + Math.Max(0, -shift), end = (y1 * width) - Math.Max(0, shift);
        channel.Slice(((y0 + i - g.PadTop) * width) + Math.Max(0, -shift) + shift, end - first).CopyTo(target[first..end]);
        ClearOutside(target, y0, y1, width, shift);
    }

    // Sets to 0 the entries of rows [y0, y1) whose input column x + shift lies outside [0, width).
    private static void ClearOutside<T>(Span<T> target, int y0, int y1, int width, int shift)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (shift < 0)
        {
            for (int y = y0; y < y1; y++)
            {
                target.Slice(y * width, -shift).Clear();
            }
        }
        else if (shift > 0)
        {
            for (int y = y0; y < y1; y++)
            {
                target.Slice(((y + 1) * width) - shift, shift).Clear();
            }
        }
    }

    /// <summary>Overwrites <paramref name="inputGradients"/> (count samples) with the sum, for each input value, of the
    /// entries of the K × (count·P) matrix <paramref name="patchGradients"/> that the patch matrix reads it into.</summary>
    /// <remarks>Entries that no input value reads may be set to 0 in <paramref name="patchGradients"/>.</remarks>
    public static void Col2Im<T>(in Geometry g, Span<T> patchGradients, int count, Span<T> inputGradients)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int positions = g.Positions, n = count * positions, plane = g.Height * g.Width, inputSize = g.InputSize;
        int outW = g.OutputWidth, sw = g.StrideWidth;
        inputGradients[..(count * inputSize)].Clear();
        for (int c = 0; c < g.Channels; c++)
        {
            for (int i = 0; i < g.KernelHeight; i++)
            {
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    Span<T> row = patchGradients.Slice((((c * g.KernelHeight) + i) * g.KernelWidth + j) * n, n);
                    var (start, end) = g.ColumnRange(j);
                    if (start == end)
                    {
                        continue;
                    }

                    if (g.IsShift)
                    {
                        // The transpose of ShiftCopy: zero the entries that read outside the input, then add the block.
                        int width = g.Width, shift = j - g.PadLeft;
                        var (y0, y1) = g.RowRange(i);
                        if (y0 >= y1)
                        {
                            continue;
                        }

                        int first = (y0 * width) + Math.Max(0, -shift), last = (y1 * width) - Math.Max(0, shift);
                        int offset = ((y0 + i - g.PadTop) * width) + Math.Max(0, -shift) + shift;
                        for (int s = 0; s < count; s++)
                        {
                            Span<T> source = row.Slice(s * positions, positions);
                            ClearOutside(source, y0, y1, width, shift);
                            Span<T> target = inputGradients.Slice((s * inputSize) + (c * plane) + offset, last - first);
                            TensorPrimitives.Add(target, source[first..last], target);
                        }

                        continue;
                    }

                    int firstColumn = (start * sw) + j - g.PadLeft;
                    for (int s = 0; s < count; s++)
                    {
                        Span<T> channel = inputGradients.Slice((s * inputSize) + (c * plane), plane);
                        for (int y = 0; y < g.OutputHeight; y++)
                        {
                            int iy = (y * g.StrideHeight) + i - g.PadTop;
                            if ((uint)iy >= (uint)g.Height)
                            {
                                continue;
                            }

                            ReadOnlySpan<T> source = row.Slice((s * positions) + (y * outW) + start, end - start);
                            Span<T> target = channel.Slice((iy * g.Width) + firstColumn);
                            if (sw == 1)
                            {
                                TensorPrimitives.Add(target[..source.Length], source, target[..source.Length]);
                            }
                            else
                            {
                                for (int x = 0, ix = 0; x < source.Length; x++, ix += sw)
                                {
                                    target[ix] += source[x];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
