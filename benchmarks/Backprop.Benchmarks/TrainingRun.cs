using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Benchmarks;

/// <summary>What the training benchmarks (<c>train</c>, <c>train-cnn</c>) share: one measured <c>Fit</c> with its epoch
/// durations, losses and allocations per step, and the median of the durations.</summary>
internal static class TrainingRun
{
    /// <summary>Trains with cross-entropy and the given optimizer, recording every epoch's duration and the bytes
    /// allocated per step.</summary>
    public static Measurement Fit(Network<float> network, IOptimizer optimizer, Matrix<float> x, int[] y, int batch, int epochs, int seed)
    {
        var observer = new Recorder();
        var trainer = new Trainer<float>(network, Losses.CrossEntropy, optimizer);
        var history = trainer.Fit(x, y, new FitOptions { Epochs = epochs, BatchSize = batch, Seed = seed, Observers = [observer] });
        return new Measurement(observer.Durations.ToArray(), history.Loss.ToArray(), observer.AllocatedBytesPerStep);
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public sealed record Measurement(double[] Durations, double[] Losses, double AllocatedBytesPerStep);

    /// <summary>Records epoch durations, and the bytes allocated on the training thread between batch 100 and 900 of the last epoch.</summary>
    private sealed class Recorder : ITrainingObserver
    {
        private const int FirstBatch = 100;
        private const int LastBatch = 900;
        private long _allocatedAtFirst;

        public List<double> Durations { get; } = [];

        public double AllocatedBytesPerStep { get; private set; } = double.NaN;

        public void OnBatchEnd(int epoch, int batch, double loss)
        {
            if (batch == FirstBatch)
            {
                _allocatedAtFirst = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (batch == LastBatch)
            {
                AllocatedBytesPerStep = (GC.GetAllocatedBytesForCurrentThread() - _allocatedAtFirst) / (double)(LastBatch - FirstBatch);
            }
        }

        public void OnEpochEnd(EpochResult result) => Durations.Add(result.Duration.TotalSeconds);
    }
}
