using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>The training thread's queue of the next batch's cache lines: what is queued, how fast the products' tiles
/// drain it, and that nothing else notices it (the queue is per thread and only ever prefetches).</summary>
public class LinePrefetchTests
{
    [Theory]
    [InlineData(3, 3136, 256, 45)]   // a float Fashion-MNIST row after its first four lines: 45 lines each
    [InlineData(2, 100, 64, 1)]      // a short row: one line after the first
    [InlineData(4, 200, 0, 4)]       // from the start: ⌈200 / 64⌉ lines
    [InlineData(5, 128, 256, 0)]     // rows shorter than the part already requested: nothing queued
    public void Draining_requests_every_queued_line_once_and_empties_the_queue(int rows, int rowBytes, int firstOffset, int linesPerRow)
    {
        var data = new byte[(rows * rowBytes) + 64];
        var starts = new nint[rows];
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(data, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            nint start = handle.AddrOfPinnedObject();
            for (int r = 0; r < rows; r++)
            {
                starts[r] = start + (r * rowBytes);
            }

            LinePrefetch.Clear();
            LinePrefetch.Queue(starts, rows, rowBytes, firstOffset);
            LinePrefetch.Pending.Should().Be(rows * linesPerRow);
            LinePrefetch.Rate.Should().Be(LinePrefetch.MaxLinesPerCall, "the first queue has seen no calls to spread over");
            long before = LinePrefetch.Requested;
            int calls = 0;
            while (LinePrefetch.Pending > 0)
            {
                long pending = LinePrefetch.Pending;
                LinePrefetch.Drain();
                calls++;
                LinePrefetch.Pending.Should().Be(Math.Max(0, pending - LinePrefetch.MaxLinesPerCall));
            }

            (LinePrefetch.Requested - before).Should().Be(rows * linesPerRow);
            calls.Should().Be(((rows * linesPerRow) + LinePrefetch.MaxLinesPerCall - 1) / LinePrefetch.MaxLinesPerCall);
            LinePrefetch.Drain();
            (LinePrefetch.Requested - before).Should().Be(rows * linesPerRow, "an empty queue requests nothing");
        }
        finally
        {
            LinePrefetch.Clear();
            handle.Free();
        }
    }

    [Theory]
    [InlineData(150, 90, 2)]     // 90 lines over 75 calls: ⌈90 / 75⌉ a call
    [InlineData(20, 90, 9)]      // over 10 calls: 9 a call
    [InlineData(2, 900, 16)]     // over one call: capped
    [InlineData(200, 90, 1)]     // more calls than lines: products that dwarf the gather, nothing queued
    public void A_queue_spreads_its_lines_over_half_of_the_calls_the_previous_queue_saw(int previousCalls, int lines, int expectedRate)
    {
        var starts = new nint[lines];
        LinePrefetch.Clear();
        LinePrefetch.Queue(starts, 0, 64, 0);
        for (int i = 0; i < previousCalls; i++)
        {
            LinePrefetch.Drain();
        }

        // Address 0 upwards: a prefetch never faults, so the queue may name any address.
        LinePrefetch.Queue(starts, lines, 64, 0);
        LinePrefetch.Rate.Should().Be(expectedRate);
        LinePrefetch.Pending.Should().Be(previousCalls > lines ? 0 : lines);
        LinePrefetch.Clear();
    }

    [Fact]
    public void A_feeder_on_the_training_thread_queues_the_rest_of_the_next_batch_and_clears_it_when_released()
    {
        const int Inputs = 100, Outputs = 2, Rows = 10, Batch = 4;
        float[] x = Enumerable.Range(0, Rows * Inputs).Select(i => (float)i).ToArray();
        float[] y = new float[Rows * Outputs];
        var inputs = new float[Batch * Inputs];
        var targets = new float[Batch * Outputs];
        using (var feeder = new InMemoryFeeder<float>(Inputs, Outputs, shuffle: true, seed: 1) { Gather = GatherMode.Caller })
        {
            feeder.SetRows(x, y, null, Rows);
            feeder.BeginEpoch(1);
            feeder.NextBatch(inputs, targets, default).Should().Be(Batch);

            // 400-byte rows: the first 256 bytes are requested at once, the other 144 (three lines) queued.
            LinePrefetch.Pending.Should().Be(Batch * 3);
            feeder.NextBatch(inputs, targets, default).Should().Be(Batch);
            LinePrefetch.Pending.Should().Be(2 * 3, "the last batch has two rows");
            feeder.NextBatch(inputs, targets, default).Should().Be(2);
            LinePrefetch.Pending.Should().Be(0, "no batch follows the last");
            feeder.BeginEpoch(2);
            feeder.NextBatch(inputs, targets, default);
            LinePrefetch.Pending.Should().BeGreaterThan(0);
        }

        LinePrefetch.Pending.Should().Be(0, "releasing the feeder empties the queue");
    }

    [Fact]
    public void Feeders_that_copy_on_the_worker_queue_nothing()
    {
        const int Inputs = 100, Outputs = 2, Rows = 10, Batch = 4;
        float[] x = new float[Rows * Inputs];
        float[] y = new float[Rows * Outputs];
        var inputs = new float[Batch * Inputs];
        var targets = new float[Batch * Outputs];
        using var context = new ComputeContext(2);
        foreach (var mode in new[] { GatherMode.Shared, GatherMode.Background })
        {
            LinePrefetch.Clear();
            using var feeder = new InMemoryFeeder<float>(Inputs, Outputs, shuffle: true, seed: 1) { Gather = mode, Context = context };
            feeder.SetRows(x, y, null, Rows);
            feeder.BeginEpoch(1);
            feeder.NextBatch(inputs, targets, default);
            LinePrefetch.Pending.Should().Be(0, "mode {0}", mode);
        }
    }

    [Fact]
    public void A_products_tiles_drain_the_queue()
    {
        var starts = new nint[64];
        LinePrefetch.Clear();
        LinePrefetch.Queue(starts, starts.Length, 3136, 0);
        long pending = LinePrefetch.Pending;

        // 64×128×784: 64 row tiles × column panels × K blocks of micro-kernel calls, each draining up to 16 lines.
        var a = new float[64 * 784];
        var b = new float[784 * 128];
        var c = new float[64 * 128];
        Gemm.Multiply<float>(a, 784, false, b, 128, false, c, 128, 64, 128, 784, maxDegreeOfParallelism: 1);
        LinePrefetch.Pending.Should().BeLessThan(pending);
        LinePrefetch.Clear();
    }
}
