using System.Diagnostics;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>A worker pool's contention backoff: a caller that waited on its worker for over half its own share in
/// <see cref="WorkerPool.SlowJobsBeforeBackoff"/> jobs in a row runs alone for a while; one late worker now and then
/// (a quiet machine's wake-ups and interrupts) must not make it.</summary>
[Collection(nameof(Backprop.Tests.Reliability.RunsAlone))]
public class ContentionBackoffTests
{
    [Fact]
    public void A_caller_backs_off_after_three_slow_jobs_in_a_row_and_not_before()
    {
        var pool = new WorkerPool(1, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        try
        {
            var job = new Job();
            for (int i = 1; i < WorkerPool.SlowJobsBeforeBackoff; i++)
            {
                Run(pool, job, slowWorker: true);
                pool.IsBackingOff.Should().BeFalse("after {0} slow job(s) in a row", i);
            }

            Run(pool, job, slowWorker: true);
            pool.IsBackingOff.Should().BeTrue("after {0} slow jobs in a row", WorkerPool.SlowJobsBeforeBackoff);
            pool.TryAcquire().Should().BeFalse("a caller backing off runs its jobs alone");
        }
        finally
        {
            pool.Shutdown();
        }
    }

    [Fact]
    public void A_job_that_keeps_its_caller_waiting_no_longer_than_half_its_share_starts_the_count_again()
    {
        var pool = new WorkerPool(1, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        try
        {
            WorkerPool.SlowJobsBeforeBackoff.Should().BeGreaterThan(1, "one late worker must not make a caller back off");
            var job = new Job();
            for (int round = 0; round < 3; round++)
            {
                for (int i = 1; i < WorkerPool.SlowJobsBeforeBackoff; i++)
                {
                    Run(pool, job, slowWorker: true);
                }

                Run(pool, job, slowWorker: false);
                pool.IsBackingOff.Should().BeFalse("round {0}: a job without a long wait came between the slow ones", round);
            }
        }
        finally
        {
            pool.Shutdown();
        }
    }

    // Runs one two-part job. Slow: the caller's part waits until the worker has started part 1, which then takes at least
    // 40 ms and three times the caller's own share, so the caller waits far longer than half its share. Not slow: the
    // caller's part takes 40 ms, part 1 nothing.
    private static void Run(WorkerPool pool, Job job, bool slowWorker)
    {
        pool.TryAcquire().Should().BeTrue();
        job.Reset(slowWorker);
        try
        {
            pool.Start(job, 2);
            job.RunCallerPart();
            int part;
            while ((part = pool.ClaimNext()) > 0)
            {
                job.Execute(part);
            }
        }
        finally
        {
            pool.End();
        }
    }

    private sealed class Job : ParallelWork
    {
        private readonly ManualResetEventSlim _workerStarted = new(false);
        private bool _slowWorker;
        private long _startTicks;

        public void Reset(bool slowWorker)
        {
            _slowWorker = slowWorker;
            _workerStarted.Reset();
            _startTicks = Stopwatch.GetTimestamp();
        }

        public void RunCallerPart()
        {
            if (_slowWorker)
            {
                _workerStarted.Wait(TimeSpan.FromSeconds(20)).Should().BeTrue("the pool's worker starts part 1 within 20 s");
            }
            else
            {
                Thread.Sleep(40);
            }
        }

        internal override bool Execute(int part)
        {
            if (_slowWorker)
            {
                // At least three times as long as the worker took to start (the caller's own share), however slowly a
                // loaded machine wakes it.
                long started = Stopwatch.GetTimestamp();
                TimeSpan length = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(40).Ticks, 3 * Stopwatch.GetElapsedTime(_startTicks, started).Ticks));
                _workerStarted.Set();
                while (Stopwatch.GetElapsedTime(started) < length)
                {
                    Thread.SpinWait(100);
                }
            }

            return true;
        }
    }
}
