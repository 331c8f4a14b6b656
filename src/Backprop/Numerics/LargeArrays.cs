using System.Runtime.InteropServices;

namespace Backprop.Numerics;

/// <summary>
/// Allocates the library's large arrays (copies of whole data sets, decoded files) so that touching them for the first
/// time is cheap: on Linux the array's memory is advised to be backed by transparent huge pages
/// (<c>madvise(MADV_HUGEPAGE)</c>), as numpy does for every array of 4 MiB or more.
/// </summary>
/// <remarks>
/// Where the kernel's transparent huge pages are set to <c>madvise</c> (the default of many distributions), fresh memory is
/// otherwise mapped 4 KiB at a time, one page fault each: 48,000 faults for the 188 MB of Fashion-MNIST's training
/// images. On the 2-core development machine (a virtual machine, where a fault is dear) the first write of a fresh
/// 188 MB array took 546–552 ms with 4 KiB pages and 34–36 ms with the advice (alternating fresh processes). The advice
/// is a hint: where huge pages are off, on other systems, or where libc has no <c>madvise</c>, nothing changes. Only
/// whole 2 MiB pages inside the array are advised, so no memory outside it is affected.
/// </remarks>
internal static unsafe class LargeArrays
{
    /// <summary>Arrays of at least this many bytes are advised (numpy's threshold).</summary>
    internal const long MinAdvisedBytes = 4L << 20;

    private const long HugePageBytes = 2L << 20;

    // MADV_HUGEPAGE in Linux's <asm-generic/mman-common.h>.
    private const int MadviseHugePage = 14;

    // libc's madvise(void* addr, size_t length, int advice), or null where there is none: an immutable fact about the
    // process, looked up once.
    private static readonly delegate* unmanaged<nint, nuint, int, int> Madvise = FindMadvise();

    /// <summary>An array of <paramref name="length"/> elements whose contents are undefined: the caller writes every
    /// element before reading any. Large arrays are advised to use huge pages first.</summary>
    public static T[] Uninitialized<T>(int length)
        where T : unmanaged
    {
        var array = GC.AllocateUninitializedArray<T>(length);
        AdviseHugePages(array);
        return array;
    }

    /// <summary>Advises the whole 2 MiB pages inside <paramref name="array"/> to be huge pages; returns whether the
    /// advice was given and taken (false for small arrays, on systems without it, or when the kernel refuses).</summary>
    internal static bool AdviseHugePages<T>(T[] array)
        where T : unmanaged
    {
        long bytes = (long)array.Length * sizeof(T);
        if (Madvise == null || bytes < MinAdvisedBytes)
        {
            return false;
        }

        // Arrays this large live in the large object heap, which does not move them; the pin only covers reading the
        // address.
        fixed (T* data = array)
        {
            long start = ((long)data + HugePageBytes - 1) & ~(HugePageBytes - 1);
            long end = ((long)data + bytes) & ~(HugePageBytes - 1);
            return end > start && Madvise((nint)start, (nuint)(end - start), MadviseHugePage) == 0;
        }
    }

    private static delegate* unmanaged<nint, nuint, int, int> FindMadvise()
    {
        if (!OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad("libc.so.6", typeof(LargeArrays).Assembly, DllImportSearchPath.SafeDirectories, out nint libc)
            || !NativeLibrary.TryGetExport(libc, "madvise", out nint madvise))
        {
            return null;
        }

        return (delegate* unmanaged<nint, nuint, int, int>)madvise;
    }
}
