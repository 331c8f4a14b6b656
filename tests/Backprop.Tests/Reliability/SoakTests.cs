using System.Diagnostics;
using Xunit.Abstractions;

namespace Backprop.Tests.Reliability;

/// <summary>Two hundred epochs of <see cref="Trainer{T}.Fit(MathNet.Numerics.LinearAlgebra.Matrix{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/>
/// on the digits data: once warmed up, training neither keeps memory (the managed heap stays flat) nor allocates more
/// per epoch as it goes.</summary>
[Collection(nameof(RunsAlone))]
[Trait("Category", "Soak")]
public class SoakTests(ITestOutputHelper output)
{
    private const int Epochs = 200;
    private const int WarmUpEpochs = 10;

    [Fact]
    public void Two_hundred_epochs_on_digits_keep_the_heap_flat_and_per_epoch_allocations_constant()
    {
        var data = Csv.ReadClassification<float>(Path.Combine(AppContext.BaseDirectory, "Data", "digits.csv.gz"));
        data.Count.Should().Be(1797);
        var x = new MinMaxScaler().FitTransform(data.Features);
        var network = new Network<float>(64, seed: 1,
            new Dense<float>(24, Activations.ReLU, Initializers.HeUniform),
            new Dropout<float>(0.1, seed: 2),
            new Dense<float>(10, Activations.Softmax));
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9));
        var monitor = new MemoryMonitor(WarmUpEpochs);
        var clock = Stopwatch.StartNew();

        var history = trainer.Fit(x, data.Labels, new FitOptions
        {
            Epochs = Epochs,
            BatchSize = 64,
            Seed = 3,
            ValidationFraction = 0.1,
            Observers = [monitor],
        });

        double[] perEpoch = monitor.Allocated.Select(b => (double)b).ToArray();
        double early = Median(perEpoch[WarmUpEpochs..(WarmUpEpochs + 20)]), late = Median(perEpoch[^20..]);
        long growth = monitor.HeapAtEnd - monitor.HeapAfterWarmUp;
        output.WriteLine($"{Epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s; managed heap {monitor.HeapAfterWarmUp / 1024} KiB after epoch {WarmUpEpochs}, " +
            $"{monitor.HeapAtEnd / 1024} KiB after epoch {Epochs} ({growth / 1024.0:F1} KiB more); allocated per epoch: median {early:F0} B over epochs " +
            $"{WarmUpEpochs + 1}-{WarmUpEpochs + 20}, {late:F0} B over the last 20, at most {perEpoch[WarmUpEpochs..].Max():F0} B; " +
            $"final accuracy {history.Epochs[^1].Accuracy:F3}, validation {history.Epochs[^1].ValidationAccuracy:F3}");

        history.Epochs.Should().HaveCount(Epochs);
        history.Epochs[^1].ValidationAccuracy.Should().BeGreaterThan(0.9, "the soak must be real training");
        growth.Should().BeLessThan(1 << 20, "the managed heap must stay flat once training is warmed up");
        late.Should().BeLessThanOrEqualTo(early + 256, "an epoch late in training must allocate no more than one early on");
        // An epoch allocates its history entry and little else (160 B median when measured): the training steps allocate
        // nothing and the validation pass is kept from epoch to epoch (it used to be made anew, 220 KB an epoch here).
        perEpoch[WarmUpEpochs..].Max().Should().BeLessThan(16 << 10, "an epoch allocates its record of the epoch, not buffers");
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Records the bytes each epoch allocates on the training thread, and the managed heap after a full
    /// collection once warmed up and after the last epoch.</summary>
    private sealed class MemoryMonitor(int warmUpEpochs) : ITrainingObserver
    {
        private long _allocatedAtStart;

        public List<long> Allocated { get; } = new(Epochs);

        public long HeapAfterWarmUp { get; private set; }

        public long HeapAtEnd { get; private set; }

        public void OnEpochBegin(int epoch) => _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();

        public void OnEpochEnd(EpochResult result)
        {
            Allocated.Add(GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart);
            if (result.Epoch == warmUpEpochs)
            {
                HeapAfterWarmUp = GC.GetTotalMemory(forceFullCollection: true);
            }
            else if (result.Epoch == Epochs)
            {
                HeapAtEnd = GC.GetTotalMemory(forceFullCollection: true);
            }
        }
    }
}
