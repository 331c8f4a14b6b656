using System.Globalization;
using Backprop;

namespace FashionMnist;

/// <summary>Prints one line per epoch: loss, training accuracy and throughput.</summary>
internal sealed class EpochPrinter(int epochs, int samples) : ITrainingObserver
{
    public void OnEpochEnd(EpochResult result) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"epoch {result.Epoch}/{epochs}: loss {result.Loss:F4}, training accuracy {result.Accuracy:F4}, {result.Duration.TotalSeconds:F1} s, {samples / result.Duration.TotalSeconds:F0} samples/s"));
}
