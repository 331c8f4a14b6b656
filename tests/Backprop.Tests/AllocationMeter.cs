namespace Backprop.Tests;

/// <summary>Measures what a call allocates in steady state on the calling thread.</summary>
/// <remarks>The runtime itself may allocate once on a test's thread while the code under test warms up, for example when
/// a method is promoted to optimised code or a type's statics are first touched, which under a loaded parallel test run
/// can happen after any fixed warm-up. Such an allocation lands in one window of calls; an allocation made by every call
/// lands in every window. So the least of a few windows is zero exactly when the steady state allocates nothing.</remarks>
internal static class AllocationMeter
{
    /// <summary>The fewest bytes the calling thread allocated over one window of <paramref name="calls"/> calls, among up
    /// to <paramref name="windows"/> windows after a warm-up window (stopping at the first window that allocates nothing).</summary>
    public static long SteadyStateBytes(Action call, int calls = 100, int windows = 5)
    {
        for (int i = 0; i < calls; i++)
        {
            call();
        }

        long least = long.MaxValue;
        for (int w = 0; w < windows && least > 0; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++)
            {
                call();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
