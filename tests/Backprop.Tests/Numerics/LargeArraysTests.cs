using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>Large arrays are advised to use transparent huge pages on Linux (numpy's rule: 4 MiB and more), and are
/// plain arrays of the asked length everywhere.</summary>
public class LargeArraysTests
{
    // The kernel offers transparent huge pages (any of always, madvise or never: madvise succeeds whenever the kernel
    // was built with them, whatever the setting).
    private static bool KernelHasHugePages => OperatingSystem.IsLinux() && File.Exists("/sys/kernel/mm/transparent_hugepage/enabled");

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1_048_575)]
    [InlineData(1_048_576)]
    [InlineData(3_000_001)]
    public void Uninitialized_has_the_length_asked_and_holds_what_is_written(int length)
    {
        var array = LargeArrays.Uninitialized<float>(length);

        array.Should().HaveCount(length);
        for (int i = 0; i < length; i++)
        {
            array[i] = i;
        }

        for (int i = 0; i < length; i += 4099)
        {
            array[i].Should().Be(i);
        }
    }

    [Fact]
    public void Arrays_under_4_MiB_are_not_advised()
    {
        LargeArrays.AdviseHugePages(new float[1_048_575]).Should().BeFalse("4 MiB less 4 bytes is under numpy's threshold");
        LargeArrays.AdviseHugePages(new byte[100]).Should().BeFalse();
    }

    [Fact]
    public void Arrays_of_4_MiB_and_more_are_advised_where_the_kernel_has_huge_pages()
    {
        // 8 MiB always contains at least three whole 2 MiB pages, wherever the array starts.
        bool advised = LargeArrays.AdviseHugePages(new double[1 << 20]);

        advised.Should().Be(KernelHasHugePages);
    }
}
