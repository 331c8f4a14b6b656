using System.IO.Compression;

namespace Backprop.Tests.Data;

/// <summary>Seeded, format-blind damage to valid inputs, shared by the readers' fuzz tests: the same seed always gives
/// the same mutants, so a failure reproduces from the test alone.</summary>
internal static class FuzzMutations
{
    /// <summary>One random byte-level change: bit flips, an overwritten, inserted or deleted run, a duplicated slice, or a truncation.</summary>
    public static byte[] Bytes(byte[] valid, DeterministicRandom random)
    {
        if (valid.Length == 0)
        {
            return [(byte)random.NextInt32(256)];
        }

        var mutant = new List<byte>(valid);
        int at = random.NextInt32(mutant.Count);
        switch (random.NextInt32(6))
        {
            case 0:
                // Flip one to four random bits.
                for (int k = random.NextInt32(4); k >= 0; k--)
                {
                    int bit = random.NextInt32(mutant.Count * 8);
                    mutant[bit / 8] ^= (byte)(1 << (bit % 8));
                }

                break;
            case 1:
                // Insert one to four random bytes.
                for (int k = random.NextInt32(4); k >= 0; k--)
                {
                    mutant.Insert(at, (byte)random.NextInt32(256));
                }

                break;
            case 2:
                // Delete a run of one to eight bytes.
                mutant.RemoveRange(at, Math.Min(mutant.Count - at, 1 + random.NextInt32(8)));
                break;
            case 3:
                // Duplicate a slice of up to sixteen bytes somewhere else.
                int length = Math.Min(mutant.Count - at, 1 + random.NextInt32(16));
                mutant.InsertRange(random.NextInt32(mutant.Count + 1), mutant.GetRange(at, length));
                break;
            case 4:
                // Truncate.
                mutant.RemoveRange(at, mutant.Count - at);
                break;
            default:
                // Overwrite one byte.
                mutant[at] = (byte)random.NextInt32(256);
                break;
        }

        return [.. mutant];
    }

    /// <summary>The bytes compressed as a gzip member.</summary>
    public static byte[] Gzip(byte[] plain)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            zip.Write(plain);
        }

        return buffer.ToArray();
    }

    /// <summary>One of <paramref name="items"/>, chosen by <paramref name="random"/>.</summary>
    public static TItem Pick<TItem>(DeterministicRandom random, IReadOnlyList<TItem> items) => items[random.NextInt32(items.Count)];
}
