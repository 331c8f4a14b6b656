namespace Backprop.Distributed.Tests;

/// <summary>The data-parallel trainer across real processes: samples/Distributed under <c>mpiexec</c> with 1, 2 and 3
/// processes on this machine (oversubscribed, loopback).</summary>
public class MpiTrainingTests : IDisposable
{
    /// <summary>Six steps per epoch of the 1,438 training digits (20 rows per shard): every path, few synchronisations.</summary>
    private const string Batch = "240";

    private readonly string _folder = Directory.CreateTempSubdirectory("backprop-mpi-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [MpiFact]
    public void One_two_and_three_processes_give_bit_identical_weights_to_one_process()
    {
        var runs = new[] { 1, 2, 3 }.Select(n => MpiRun.Run(n, "--epochs", "2", "--batch", Batch)).ToArray();

        foreach (var run in runs)
        {
            run.ExitCode.Should().Be(0, run.Describe());
            run.Lines.Should().Contain($"all {run.Processes} ranks hold the same weights: True", run.Describe());
            run.LastLine.Should().Be($"distributed: {run.Processes} processes, weights identical to one process: True", run.Describe());
        }

        runs.Select(r => r.Digest).Distinct().Should().ContainSingle("the weights after 1, 2 and 3 processes are the same bits");
        var epochs = runs.Select(r => string.Join('\n', r.Lines.Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)))).ToArray();
        epochs[0].Should().Contain("epoch 2: loss ");
        epochs.Distinct().Should().ContainSingle("every epoch's loss and accuracy, gathered from the shards, are one process's");
    }

    [MpiFact]
    public void A_process_that_builds_another_network_fails_every_process_at_the_start_naming_its_rank()
    {
        var run = MpiRun.Run(3, "--mismatch-rank", "2", "--no-compare", "--batch", Batch);

        run.ExitCode.Should().NotBe(0, run.Describe());
        run.Error.Should().Contain("The processes did not build the same training; unlike rank 0's: rank 2's network", run.Describe());
        run.Error.Should().NotContain("rank 1's", "rank 1 built the same network as rank 0");
        run.Lines.Should().NotContain(l => l.StartsWith("epoch ", StringComparison.Ordinal), "no step may run");
    }

    [MpiFact]
    public void A_process_that_throws_ends_every_process_within_seconds_and_leaves_the_last_whole_checkpoint()
    {
        string checkpoint = Path.Combine(_folder, "digits.ckpt");

        var run = MpiRun.Run(3, "--epochs", "3", "--fail-rank", "1", "--fail-epoch", "2", "--fail-batch", "3", "--checkpoint", checkpoint, "--no-compare", "--batch", Batch);

        run.ExitCode.Should().NotBe(0, run.Describe());
        run.Error.Should().Contain("Backprop.Distributed: rank 1 of 3 failed; ending every process.", run.Describe());
        run.Error.Should().Contain("rank 1 fails on purpose at epoch 2, batch 3.");
        run.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "MPI_Abort ends the waiting processes");
        Trainer<float>.LoadCheckpoint(checkpoint).EpochsCompleted.Should().Be(1, "rank 0 wrote the checkpoint of epoch 1 whole, and none after");
        Directory.GetFiles(_folder).Should().ContainSingle("no half-written file is left beside the checkpoint");
    }

    [MpiFact]
    public void A_checkpoint_written_by_rank_0_of_three_resumes_on_two_processes_as_one_uninterrupted_process()
    {
        string checkpoint = Path.Combine(_folder, "digits.ckpt");

        var first = MpiRun.Run(3, "--epochs", "2", "--checkpoint", checkpoint, "--no-compare", "--batch", Batch);
        first.ExitCode.Should().Be(0, first.Describe());
        var resumed = MpiRun.Run(2, "--epochs", "2", "--resume", checkpoint, "--batch", Batch);
        var straight = MpiRun.Run(1, "--epochs", "4", "--no-compare", "--batch", Batch);

        resumed.ExitCode.Should().Be(0, resumed.Describe());
        resumed.Lines.Should().Contain(l => l.EndsWith($"resumed from {checkpoint} after 2 epochs", StringComparison.Ordinal), resumed.Describe());
        resumed.LastLine.Should().Be("distributed: 2 processes, weights identical to one process: True", resumed.Describe());
        straight.ExitCode.Should().Be(0, straight.Describe());
        resumed.Digest.Should().Be(straight.Digest, "2 epochs on 3 processes, then 2 on 2 processes, equal 4 epochs on one");
    }
}
